/**
 * MATLAB Level 5 MAT-file reader (formats v5, v6 and v7; MathWorks, "MAT-File Format", 2023):
 * bytes in, plain data out, no node:* imports.
 *
 * Layout: a 128-byte header (116 bytes of text, 8-byte subsystem offset, version 0x0100, the
 * endian indicator 'IM' for little- or 'MI' for big-endian), then data elements. Each element
 * is a tag (type, byte count) and its data padded to 8 bytes; a "small" element packs a count
 * < 5 bytes into the tag itself. miCOMPRESSED (v7) holds one zlib-compressed element.
 * A variable is an miMATRIX: array flags (class, complex, logical), dimensions, name, then
 * per class the real/imaginary data, characters, struct fields or cell elements.
 *
 * Arrays keep MATLAB's column-major order: element (i, j) of an m x n array is at i + m * j.
 * v7.3 files are HDF5 containers and v4 files have another layout: both are detected and
 * rejected here with a clear message (src/platform/xray-data.ts `readMatFile` reads v7.3
 * through h5wasm).
 */
import { unzlibSync } from 'fflate';
import { MedfieldError } from '../core/errors.js';

/** MATLAB numeric classes (mxClassID names without the mx/_CLASS affixes). */
export type MatNumericClass = 'double' | 'single' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

/** Storage of a numeric class: Float64Array for double, Float32Array for single, BigInt64Array / BigUint64Array for 64-bit integers. */
export type MatNumericData =
  | Float64Array | Float32Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A numeric (or logical) array, column-major. */
export interface MatNumeric {
  kind: 'numeric';
  class: MatNumericClass;
  dims: number[];
  /** True for MATLAB `logical` arrays (stored as uint8). */
  logical: boolean;
  real: MatNumericData;
  imag?: MatNumericData;
}
/** A char array; `text` is the characters in column-major order (the string itself for a 1 x N row). */
export interface MatChar { kind: 'char'; dims: number[]; text: string }
/** A struct array: `elements[k]` (column-major) maps each field name to its value. */
export interface MatStruct { kind: 'struct'; dims: number[]; fieldNames: string[]; elements: Array<Record<string, MatValue>>; className?: string }
/** A cell array, column-major. */
export interface MatCell { kind: 'cell'; dims: number[]; elements: MatValue[] }
/** A class this reader does not decode (sparse, function handles, opaque objects); kept so other variables still load. */
export interface MatUnsupported { kind: 'unsupported'; className: string; dims: number[] }
export type MatValue = MatNumeric | MatChar | MatStruct | MatCell | MatUnsupported;

/** A parsed MAT-file: the header text and the variables in file order. */
export interface MatFile {
  header: string;
  littleEndian: boolean;
  variables: Map<string, MatValue>;
}

// data types (miXXX)
const MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6, MI_SINGLE = 7, MI_DOUBLE = 9;
const MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15, MI_UTF8 = 16, MI_UTF16 = 17, MI_UTF32 = 18;
const MI_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4 };

// array classes (mxXXX_CLASS)
const CLASS_NAMES: Record<number, string> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8',
  10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64', 16: 'function', 17: 'opaque',
};
const NUMERIC_CTOR = {
  double: Float64Array, single: Float32Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
} as const;

interface Element { type: number; view: DataView; offset: number; length: number }

class Reader {
  constructor(readonly subject: string, readonly le: boolean) {}

  fail(message: string): never {
    throw new MedfieldError('bad-file', this.subject, message);
  }

  /** Reads the element tag at `pos` of `view` (bounded by `end`); returns it and the position after its padded data. */
  element(view: DataView, pos: number, end: number, topLevel: boolean): { el: Element; next: number } {
    if (pos + 8 > end) this.fail(`truncated data element tag at byte ${pos}`);
    const first = view.getUint32(pos, this.le);
    if (first >>> 16 !== 0) {
      // small data element: count in the upper 16 bits, data in the next 4 bytes
      const length = first >>> 16;
      if (length > 4) this.fail(`bad small data element at byte ${pos} (${length} bytes)`);
      return { el: { type: first & 0xffff, view, offset: pos + 4, length }, next: pos + 8 };
    }
    const length = view.getUint32(pos + 4, this.le);
    const offset = pos + 8;
    if (offset + length > end) this.fail(`data element at byte ${pos} claims ${length} bytes, only ${end - offset} remain (truncated file?)`);
    // compressed elements are not padded (they end where the zlib stream ends) at the top level
    const padded = first === MI_COMPRESSED && topLevel ? length : (length + 7) & ~7;
    return { el: { type: first, view, offset, length }, next: Math.min(end, offset + padded) };
  }

  /** Sub-elements of a matrix, in order. */
  children(el: Element): Element[] {
    const out: Element[] = [];
    let pos = el.offset;
    const end = el.offset + el.length;
    while (pos < end) {
      if (end - pos < 8) break; // trailing padding
      const { el: c, next } = this.element(el.view, pos, end, false);
      out.push(c);
      pos = next;
    }
    return out;
  }

  /** Numbers of an element of any numeric mi type, as float64 (for dims, flags). */
  numbers(el: Element): number[] {
    const size = MI_SIZE[el.type];
    if (size === undefined || el.type === MI_UTF8 || el.type === MI_UTF16 || el.type === MI_UTF32) this.fail(`expected a numeric data element, got type ${el.type}`);
    const n = Math.floor(el.length / size);
    const out = new Array<number>(n);
    for (let i = 0; i < n; i++) out[i] = this.scalar(el, i);
    return out;
  }

  scalar(el: Element, i: number): number {
    const v = el.view, o = el.offset, le = this.le;
    switch (el.type) {
      case MI_INT8: return v.getInt8(o + i);
      case MI_UINT8: case MI_UTF8: return v.getUint8(o + i);
      case MI_INT16: return v.getInt16(o + 2 * i, le);
      case MI_UINT16: case MI_UTF16: return v.getUint16(o + 2 * i, le);
      case MI_INT32: return v.getInt32(o + 4 * i, le);
      case MI_UINT32: case MI_UTF32: return v.getUint32(o + 4 * i, le);
      case MI_SINGLE: return v.getFloat32(o + 4 * i, le);
      case MI_DOUBLE: return v.getFloat64(o + 8 * i, le);
      case MI_INT64: return Number(v.getBigInt64(o + 8 * i, le));
      case MI_UINT64: return Number(v.getBigUint64(o + 8 * i, le));
      default: return this.fail(`unsupported data type ${el.type} at byte ${o}`);
    }
  }

  /** Converts an element's data (stored in any mi type, e.g. a double array saved as miUINT8) to the class's array. */
  numericData(el: Element, cls: MatNumericClass, count: number, what: string): MatNumericData {
    const size = MI_SIZE[el.type];
    if (size === undefined) this.fail(`${what}: unsupported storage type ${el.type}`);
    if (Math.floor(el.length / size) !== count) this.fail(`${what}: expected ${count} values, the data element holds ${Math.floor(el.length / size)}`);
    if (cls === 'int64' || cls === 'uint64') {
      const out = cls === 'int64' ? new BigInt64Array(count) : new BigUint64Array(count);
      const big = el.type === MI_INT64 || el.type === MI_UINT64;
      for (let i = 0; i < count; i++) {
        if (big) out[i] = el.type === MI_INT64 ? el.view.getBigInt64(el.offset + 8 * i, this.le) : el.view.getBigUint64(el.offset + 8 * i, this.le);
        else out[i] = BigInt(this.scalar(el, i));
      }
      return out;
    }
    const out = new NUMERIC_CTOR[cls](count);
    for (let i = 0; i < count; i++) out[i] = this.scalar(el, i);
    return out;
  }

  text(el: Element): string {
    const bytes = new Uint8Array(el.view.buffer, el.view.byteOffset + el.offset, el.length);
    if (el.type === MI_UTF8 || el.type === MI_INT8 || el.type === MI_UINT8) return new TextDecoder('utf-8').decode(bytes);
    const size = MI_SIZE[el.type];
    if (size === undefined || size === 8) this.fail(`expected character data, got data type ${el.type}`);
    const n: number[] = [];
    for (let i = 0; i < Math.floor(el.length / size); i++) n.push(this.scalar(el, i));
    if (size === 4) return String.fromCodePoint(...n); // miUTF32 / miUINT32: code points
    // miUINT16 / miUTF16 (MATLAB's usual char storage): UTF-16 code units
    let s = '';
    for (let i = 0; i < n.length; i += 4096) s += String.fromCharCode(...n.slice(i, i + 4096));
    return s;
  }

  /** Parses one miMATRIX element; returns its name and value. */
  matrix(el: Element, path: string): { name: string; value: MatValue } {
    if (el.length === 0) return { name: '', value: { kind: 'numeric', class: 'double', dims: [0, 0], logical: false, real: new Float64Array(0) } };
    const parts = this.children(el);
    if (parts.length < 3) this.fail(`${path}: matrix with ${parts.length} sub-elements (expected flags, dimensions, name)`);
    const flagWord = this.scalar(parts[0]!, 0);
    const classId = flagWord & 0xff;
    const complex = (flagWord & 0x0800) !== 0;
    const logical = (flagWord & 0x0200) !== 0;
    const dims = this.numbers(parts[1]!);
    const name = this.text(parts[2]!);
    const here = path ? (name ? `${path}.${name}` : path) : name;
    const count = dims.reduce((a, b) => a * b, 1);
    const className = CLASS_NAMES[classId] ?? `class ${classId}`;
    const rest = parts.slice(3);
    switch (classId) {
      case 6: case 7: case 8: case 9: case 10: case 11: case 12: case 13: case 14: case 15: {
        const cls = className as MatNumericClass;
        if (rest.length < 1) this.fail(`${here}: numeric array without data`);
        const value: MatNumeric = { kind: 'numeric', class: cls, dims, logical, real: this.numericData(rest[0]!, cls, count, here) };
        if (complex) {
          if (rest.length < 2) this.fail(`${here}: complex array without an imaginary part`);
          value.imag = this.numericData(rest[1]!, cls, count, `${here} (imaginary part)`);
        }
        return { name, value };
      }
      case 4: {
        const text = rest.length > 0 ? this.text(rest[0]!) : '';
        return { name, value: { kind: 'char', dims, text } };
      }
      case 2: case 3: {
        let k = 0;
        let objectClass: string | undefined;
        if (classId === 3) objectClass = this.text(rest[k++]!);
        if (rest.length < k + 2) this.fail(`${here}: struct without field-name length and names`);
        const nameLen = this.scalar(rest[k++]!, 0);
        const namesEl = rest[k++]!;
        const nFields = nameLen > 0 ? Math.floor(namesEl.length / nameLen) : 0;
        const fieldNames: string[] = [];
        for (let f = 0; f < nFields; f++) {
          const raw = new Uint8Array(namesEl.view.buffer, namesEl.view.byteOffset + namesEl.offset + f * nameLen, nameLen);
          const z = raw.indexOf(0);
          fieldNames.push(new TextDecoder().decode(z >= 0 ? raw.subarray(0, z) : raw));
        }
        const elements: Array<Record<string, MatValue>> = [];
        for (let e = 0; e < count; e++) {
          const rec: Record<string, MatValue> = {};
          for (let f = 0; f < nFields; f++) {
            const sub = rest[k++];
            if (!sub) this.fail(`${here}: struct element ${e} is missing field '${fieldNames[f]}'`);
            if (sub.type !== MI_MATRIX) this.fail(`${here}.${fieldNames[f]}: expected a matrix element, got type ${sub.type}`);
            rec[fieldNames[f]!] = this.matrix(sub, `${here}.${fieldNames[f]}`).value;
          }
          elements.push(rec);
        }
        const value: MatStruct = { kind: 'struct', dims, fieldNames, elements };
        if (objectClass !== undefined) value.className = objectClass;
        return { name, value };
      }
      case 1: {
        if (rest.length < count) this.fail(`${here}: cell array of ${count} elements holds only ${rest.length}`);
        const elements = rest.slice(0, count).map((c, i) => this.matrix(c, `${here}{${i + 1}}`).value);
        return { name, value: { kind: 'cell', dims, elements } };
      }
      default:
        return { name, value: { kind: 'unsupported', className, dims } };
    }
  }
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when `bytes` is a MATLAB v7.3 file (an HDF5 container with a 512-byte MAT preamble). */
export function isMatV73(bytes: Uint8Array): boolean {
  if (bytes.length < 520) return false;
  for (let i = 0; i < 8; i++) if (bytes[512 + i] !== HDF5_SIGNATURE[i]) return false;
  return true;
}

/**
 * Parses a Level 5 MAT-file (v5/v6/v7, either byte order, compressed or not).
 * `subject` (the file name) prefixes every error. Throws 'unsupported' for v7.3 (HDF5) and v4.
 */
export function readMat(bytes: Uint8Array, subject = 'mat-file'): MatFile {
  if (isMatV73(bytes)) {
    throw new MedfieldError('unsupported', subject, 'this is a MATLAB v7.3 MAT-file (HDF5 container): read it with readMatFile (medfield/node), or save it with `save(..., \'-v7\')`');
  }
  if (bytes.length < 128) throw new MedfieldError('bad-file', subject, `expected a MAT-file of at least 128 bytes, got ${bytes.length}`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116)).replace(/[\s\0]+$/, '');
  const endian = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (endian !== 'IM' && endian !== 'MI') {
    throw new MedfieldError('bad-file', subject, header.startsWith('MATLAB')
      ? `bad endian indicator '${endian}' at byte 126 (expected 'IM' or 'MI')`
      : 'not a Level 5 MAT-file (no "MATLAB 5.0 MAT-file" header; v4 files are not supported)');
  }
  const le = endian === 'IM';
  const r = new Reader(subject, le);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(124, le);
  if (version !== 0x0100) r.fail(`unsupported MAT-file version 0x${version.toString(16)} (expected 0x0100)`);
  const variables = new Map<string, MatValue>();
  let pos = 128;
  while (pos + 8 <= bytes.length) {
    const { el, next } = r.element(view, pos, bytes.length, true);
    let mat = el;
    if (el.type === MI_COMPRESSED) {
      let inflated: Uint8Array;
      try {
        inflated = unzlibSync(new Uint8Array(bytes.buffer, bytes.byteOffset + el.offset, el.length));
      } catch (e) {
        return r.fail(`compressed variable at byte ${pos} does not inflate (${(e as Error).message})`);
      }
      const iv = new DataView(inflated.buffer, inflated.byteOffset, inflated.byteLength);
      mat = r.element(iv, 0, inflated.length, false).el;
    }
    if (mat.type === MI_MATRIX) {
      const { name, value } = r.matrix(mat, '');
      variables.set(name, value);
    }
    pos = next;
  }
  return { header, littleEndian: le, variables };
}

// ---- accessors (throw naming the path when the file does not hold what is expected) ----

/** Field `name` of element `index` of a struct; `subject` names the struct in errors. */
export function matField(value: MatValue | undefined, name: string, subject: string, index = 0): MatValue {
  if (!value || value.kind !== 'struct') throw new MedfieldError('bad-file', subject, `expected a struct, got ${value ? value.kind : 'nothing'}`);
  const el = value.elements[index];
  const v = el?.[name];
  if (!v) throw new MedfieldError('bad-file', `${subject}.${name}`, `missing field (the struct has ${value.fieldNames.join(', ') || 'no fields'})`);
  return v;
}

/** A real numeric array as Float64Array (column-major), any class. */
export function matToFloat64(value: MatValue, subject: string): Float64Array {
  if (value.kind !== 'numeric') throw new MedfieldError('bad-file', subject, `expected a numeric array, got ${value.kind === 'unsupported' ? value.className : value.kind}`);
  const out = new Float64Array(value.real.length);
  for (let i = 0; i < out.length; i++) out[i] = Number(value.real[i]!);
  return out;
}

/** A numeric scalar. */
export function matScalar(value: MatValue, subject: string): number {
  const a = matToFloat64(value, subject);
  if (a.length !== 1) throw new MedfieldError('bad-file', subject, `expected a scalar, got ${value.kind === 'numeric' ? value.dims.join('x') : ''} array`);
  return a[0]!;
}

/** A char array as a string. */
export function matString(value: MatValue, subject: string): string {
  if (value.kind !== 'char') throw new MedfieldError('bad-file', subject, `expected a char array, got ${value.kind}`);
  return value.text;
}
