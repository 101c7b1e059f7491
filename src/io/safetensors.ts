/**
 * safetensors codec (Hugging Face's tensor file format, readable from Python with
 * `safetensors.numpy.load_file`). Layout:
 *
 *   [8 bytes: N, unsigned 64-bit little-endian]
 *   [N bytes: UTF-8 JSON header, padded with spaces (0x20) so that 8 + N is a multiple of 8]
 *   [data section: every tensor's bytes, little-endian, C order, back to back]
 *
 * The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (byte
 * offsets relative to the start of the data section) and may hold "__metadata__", a flat
 * string -> string map. Like the reference implementation, the reader requires the tensors to
 * tile the data section exactly (no overlap, no gap, no trailing bytes), and the writer orders
 * tensors by element size (largest first) so that every tensor starts at a multiple of its own
 * element size when the data section starts at a multiple of 8.
 *
 * Platform-neutral: bytes in, plain typed arrays out. Host must be little-endian (every platform
 * Node and browsers run on is).
 */
import { MedfieldError } from '../core/errors.js';

/** The dtypes this codec reads and writes (safetensors names). F16/BF16 are held as raw bits. */
export const SAFETENSORS_DTYPES = ['F64', 'F32', 'F16', 'BF16', 'I64', 'U64', 'I32', 'U32', 'I16', 'U16', 'I8', 'U8', 'BOOL'] as const;
export type SafetensorsDtype = (typeof SAFETENSORS_DTYPES)[number];

/**
 * Array type per dtype: F16 and BF16 are Uint16Array of raw bits (see `float16BitsToFloat32`,
 * `float32ToFloat16Bits`, `safetensorsToFloat32`), I64/U64 are BigInt64Array/BigUint64Array,
 * BOOL is a Uint8Array of 0/1.
 */
export type SafetensorsArray =
  | Float64Array | Float32Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array
  | Int16Array | Uint16Array | Int8Array | Uint8Array;

export interface SafetensorsTensor {
  readonly dtype: SafetensorsDtype;
  /** Row-major (C order) shape; [] for a scalar. */
  readonly shape: readonly number[];
  readonly data: SafetensorsArray;
}

export interface SafetensorsFile {
  /** Tensors in data-section order. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The `__metadata__` string map ({} when absent). */
  readonly metadata: Record<string, string>;
}

/** Header entry of one tensor, offsets relative to the data section. */
export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly entries: readonly SafetensorsEntry[];
  readonly metadata: Record<string, string>;
  /** Absolute byte offset of the data section (8 + N). */
  readonly dataStart: number;
}

type ArrayCtor = { new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): SafetensorsArray; readonly BYTES_PER_ELEMENT: number };

const CTOR: Record<SafetensorsDtype, ArrayCtor> = {
  F64: Float64Array, F32: Float32Array, F16: Uint16Array, BF16: Uint16Array, I64: BigInt64Array, U64: BigUint64Array,
  I32: Int32Array, U32: Uint32Array, I16: Int16Array, U16: Uint16Array, I8: Int8Array, U8: Uint8Array, BOOL: Uint8Array,
};

/** Bytes per element of a dtype. */
export function safetensorsDtypeSize(dtype: SafetensorsDtype): number {
  return CTOR[dtype].BYTES_PER_ELEMENT;
}

/** The reference implementation refuses headers above 100 MB; so do we (guards against garbage lengths). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bad(subject: string, msg: string): never {
  throw new MedfieldError('bad-file', subject, msg);
}

function checkHost(subject: string): void {
  if (!LITTLE_ENDIAN_HOST) throw new MedfieldError('unsupported', subject, 'safetensors needs a little-endian host');
}

function isDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && (SAFETENSORS_DTYPES as readonly string[]).includes(s);
}

function shapeProduct(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The dtype an array is written as by default (Uint16Array -> U16; pass dtype 'F16' for half bits). */
function defaultDtype(data: SafetensorsArray): SafetensorsDtype {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof BigUint64Array) return 'U64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Uint32Array) return 'U32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Uint16Array) return 'U16';
  if (data instanceof Int8Array) return 'I8';
  return 'U8';
}

/** A tensor to write: dtype defaults from the array type. */
export interface SafetensorsInput {
  readonly data: SafetensorsArray;
  readonly shape?: readonly number[];
  readonly dtype?: SafetensorsDtype;
}

/**
 * Encodes tensors as a list of byte chunks: the length+header chunk, then one view per tensor
 * (no copy of the tensor data), so large files can be streamed to disk without a second buffer.
 * Concatenating the chunks gives the file (`encodeSafetensors`). `shape` defaults to [length].
 */
export function encodeSafetensorsChunks(
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array<ArrayBufferLike>[] {
  checkHost('safetensors');
  const list = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)) as [string, SafetensorsInput][];
  const items = list.map(([name, t], order) => {
    if (name === '__metadata__' || name.length === 0) throw new MedfieldError('bad-data', `tensor '${name}'`, 'reserved or empty tensor name');
    const dtype = t.dtype ?? defaultDtype(t.data);
    if (!isDtype(dtype)) throw new MedfieldError('bad-data', `tensor '${name}'`, `unknown dtype ${String(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}`);
    const size = safetensorsDtypeSize(dtype);
    if (size !== t.data.BYTES_PER_ELEMENT) {
      throw new MedfieldError('bad-data', `tensor '${name}'`, `dtype ${dtype} needs ${size}-byte elements, got a ${t.data.constructor.name}`);
    }
    const shape = t.shape ? [...t.shape] : [t.data.length];
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new MedfieldError('bad-data', `tensor '${name}'`, `bad shape [${shape.join(', ')}]`);
    if (shapeProduct(shape) !== t.data.length) {
      throw new MedfieldError('bad-data', `tensor '${name}'`, `shape [${shape.join(', ')}] needs ${shapeProduct(shape)} values, data has ${t.data.length}`);
    }
    return { name, dtype, shape, size, order, data: t.data };
  });
  // Largest elements first keeps every tensor naturally aligned (the data section starts at a multiple of 8).
  items.sort((a, b) => b.size - a.size || a.order - b.order);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new MedfieldError('bad-data', `metadata '${k}'`, `safetensors metadata values must be strings, got ${typeof v}`);
  }
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = { ...metadata };
  let offset = 0;
  for (const it of items) {
    const bytes = it.data.length * it.size;
    header[it.name] = { dtype: it.dtype, shape: it.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil((8 + json.length) / 8) * 8;
  const head = new Uint8Array(padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded - 8), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.length);
  const chunks: Uint8Array<ArrayBufferLike>[] = [head];
  for (const it of items) chunks.push(new Uint8Array(it.data.buffer, it.data.byteOffset, it.data.byteLength));
  return chunks;
}

/** Encodes tensors (and optional `__metadata__` strings) as one safetensors byte array. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, SafetensorsInput> | Readonly<Record<string, SafetensorsInput>>,
  metadata: Readonly<Record<string, string>> = {},
): Uint8Array {
  const chunks = encodeSafetensorsChunks(tensors, metadata);
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

/**
 * Parses and validates the header against the file length: every entry's dtype, shape, offsets
 * and byte count, and that the tensors tile the data section exactly. Errors name the tensor.
 */
export function readSafetensorsHeader(bytes: Uint8Array, subject = 'safetensors'): SafetensorsHeader {
  if (bytes.length < 8) bad(subject, `truncated: ${bytes.length} bytes, a safetensors file starts with an 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) bad(subject, `header length ${n64} exceeds the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const n = Number(n64);
  if (8 + n > bytes.length) bad(subject, `truncated: header length is ${n} bytes but only ${bytes.length - 8} follow the length field`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    bad(subject, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) bad(subject, `header does not start with '{' (not a safetensors file?)`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    bad(subject, `header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) bad(subject, 'header must be a JSON object');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(subject, '__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') bad(subject, `__metadata__ key '${k}' must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad(subject, `${where}: entry must be an object with dtype, shape, data_offsets`);
    const { dtype, shape, data_offsets: offs } = raw as Record<string, unknown>;
    if (!isDtype(dtype)) bad(subject, `${where}: unsupported dtype ${JSON.stringify(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      bad(subject, `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offs) || offs.length !== 2 || offs.some((d) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      bad(subject, `${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end < begin) bad(subject, `${where}: data_offsets [${begin}, ${end}] end before begin`);
    const need = shapeProduct(shape as number[]) * safetensorsDtypeSize(dtype);
    if (end - begin !== need) {
      bad(subject, `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} shape [${(shape as number[]).join(', ')}] needs ${need}`);
    }
    if (end > dataLen) bad(subject, `${where}: truncated: needs bytes [${begin}, ${end}) of the data section, which has only ${dataLen} bytes`);
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: SafetensorsEntry | undefined;
  for (const e of sorted) {
    if (e.begin < pos) bad(subject, `tensor '${e.name}': data_offsets [${e.begin}, ${e.end}] overlap tensor '${prev!.name}' [${prev!.begin}, ${prev!.end}]`);
    if (e.begin > pos) {
      bad(subject, `tensor '${e.name}': data_offsets start at ${e.begin}, leaving a ${e.begin - pos}-byte gap after ${prev ? `tensor '${prev.name}'` : 'the header'}`);
    }
    pos = e.end;
    prev = e;
  }
  if (pos !== dataLen) bad(subject, `${dataLen - pos} unexpected trailing bytes after the last tensor (data section ${dataLen} bytes, tensors cover ${pos})`);
  return { entries: sorted, metadata, dataStart };
}

export interface DecodeSafetensorsOptions {
  /**
   * true (default): every tensor gets its own buffer. false: tensors whose bytes are aligned for
   * their type are views into `bytes` (no copy; they alias the input), the others are copied.
   */
  readonly copy?: boolean;
}

/** Decodes and validates safetensors bytes. Errors are 'bad-file' MedfieldErrors naming `subject` and the tensor. */
export function decodeSafetensors(bytes: Uint8Array, subject = 'safetensors', options: DecodeSafetensorsOptions = {}): SafetensorsFile {
  checkHost(subject);
  const header = readSafetensorsHeader(bytes, subject);
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of header.entries) {
    const Ctor = CTOR[e.dtype];
    const abs = bytes.byteOffset + header.dataStart + e.begin;
    const count = (e.end - e.begin) / Ctor.BYTES_PER_ELEMENT;
    let data: SafetensorsArray;
    if (options.copy === false && abs % Ctor.BYTES_PER_ELEMENT === 0) {
      data = new Ctor(bytes.buffer, abs, count);
    } else {
      const own = bytes.slice(header.dataStart + e.begin, header.dataStart + e.end);
      data = new Ctor(own.buffer, 0, count);
    }
    if (e.dtype === 'BOOL') {
      const b = data as Uint8Array;
      for (let i = 0; i < b.length; i++) if (b[i]! > 1) bad(subject, `tensor '${e.name}': BOOL value ${b[i]} at index ${i} (expected 0 or 1)`);
    }
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata: header.metadata };
}

/** IEEE 754 binary16 bits -> number (exact: every half is a float32). */
export function float16BitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24; // zero and subnormals
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** number -> IEEE 754 binary16 bits, rounding to nearest even (via float32, as numpy's astype does for float32 input). */
export function float32ToFloat16Bits(x: number): number {
  f32Scratch[0] = x;
  const f = u32Scratch[0]!;
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  let mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN (quiet)
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mant |= 0x800000; // implicit bit
    const shift = 14 - e; // 14..24
    const half = 1 << (shift - 1);
    let r = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (r & 1))) r++;
    return sign | r; // may carry into the smallest normal, which is the right bits
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1))) r++; // carry may reach Inf: correct
  return sign | r;
}

/** Any numeric tensor as Float32Array (F16/BF16 bits decoded; 64-bit integers converted, possibly inexactly). */
export function safetensorsToFloat32(t: SafetensorsTensor): Float32Array {
  const src = t.data;
  if (t.dtype === 'F32') return src as Float32Array;
  const out = new Float32Array(src.length);
  if (t.dtype === 'F16') {
    const b = src as Uint16Array;
    for (let i = 0; i < b.length; i++) out[i] = float16BitsToFloat32(b[i]!);
  } else if (t.dtype === 'BF16') {
    const b = src as Uint16Array;
    const u = new Uint32Array(out.buffer);
    for (let i = 0; i < b.length; i++) u[i] = b[i]! << 16;
  } else if (src instanceof BigInt64Array || src instanceof BigUint64Array) {
    for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
  } else {
    const s = src as Exclude<SafetensorsArray, BigInt64Array | BigUint64Array>;
    for (let i = 0; i < s.length; i++) out[i] = s[i]!;
  }
  return out;
}
