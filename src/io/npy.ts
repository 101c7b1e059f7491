/**
 * NumPy .npy (format 1.0/2.0/3.0) codec for interchange with Python: C-order arrays of
 * float32, float64, int8, uint8, int16, uint16, int32, uint32, either endianness on read;
 * always little-endian, version 1.0 (2.0 when the header needs it) on write.
 */
import { MedfieldError } from '../core/errors.js';
import { allocate, dtypeOf, voxelCount, type DType, type VoxelArray } from '../core/volume.js';

export interface NpyArray<T extends VoxelArray = VoxelArray> {
  data: T;
  /** NumPy shape, slowest axis first (C order): data[((a*s1 + b)*s2 + c)]. */
  shape: number[];
}

const DESCR_OF: Record<DType, string> = {
  float32: '<f4', float64: '<f8', int8: '|i1', uint8: '|u1', int16: '<i2', uint16: '<u2', int32: '<i4', uint32: '<u4',
};
const DTYPE_OF_KIND: Record<string, DType> = {
  f4: 'float32', f8: 'float64', i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16', i4: 'int32', u4: 'uint32', b1: 'uint8',
};
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function bad(subject: string, msg: string): never {
  throw new MedfieldError('bad-file', subject, msg);
}

/** Decodes .npy bytes. Fortran-order arrays are rejected with a clear error. */
export function decodeNpy(bytes: Uint8Array, subject = ''): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) bad(subject, 'not a .npy file (missing \\x93NUMPY magic)');
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hlen: number, hstart: number;
  if (major === 1) { hlen = view.getUint16(8, true); hstart = 10; } else if (major === 2 || major === 3) {
    if (bytes.length < 12) bad(subject, 'truncated .npy header');
    hlen = view.getUint32(8, true); hstart = 12;
  } else bad(subject, `unsupported .npy format version ${major}`);
  if (hstart + hlen > bytes.length) bad(subject, 'truncated .npy header');
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeStr = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeStr === undefined) bad(subject, `malformed .npy header: ${header.trim()}`);
  if (fortran === 'True') bad(subject, 'Fortran-order .npy arrays are not supported; save with numpy.ascontiguousarray');
  const shape = shapeStr.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) bad(subject, `bad shape (${shapeStr}) in .npy header`);
  const endian = descr[0];
  const dtype = DTYPE_OF_KIND[descr.slice(1)];
  if (!dtype || !['<', '>', '|', '='].includes(endian)) bad(subject, `unsupported dtype '${descr}'; expected float32/64, (u)int8/16/32`);
  const n = voxelCount(shape);
  const bpv = Number(descr.slice(2));
  const off = hstart + hlen;
  if (bytes.length < off + n * bpv) bad(subject, `truncated: shape (${shape.join(', ')}) needs ${n * bpv} data bytes, file has ${bytes.length - off}`);
  // a fresh copy: Buffer.slice (Node) returns a view into a shared pool, not a copy
  const buf = new Uint8Array(n * bpv);
  buf.set(bytes.subarray(off, off + n * bpv));
  if (endian === '>' && bpv > 1) for (let i = 0; i < buf.length; i += bpv) buf.subarray(i, i + bpv).reverse();
  const Ctor = allocate(dtype, 0).constructor as new (b: ArrayBuffer) => VoxelArray;
  return { data: new Ctor(buf.buffer), shape };
}

/** Encodes a C-order array as .npy bytes (little-endian). */
export function encodeNpy(arr: NpyArray): Uint8Array {
  const n = voxelCount(arr.shape);
  if (arr.data.length !== n) throw new MedfieldError('bad-data', 'npy', `data has ${arr.data.length} values, shape (${arr.shape.join(', ')}) needs ${n}`);
  const shapeStr = arr.shape.length === 1 ? `(${arr.shape[0]},)` : `(${arr.shape.join(', ')})`;
  let header = `{'descr': '${DESCR_OF[dtypeOf(arr.data)]}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  const v2 = header.length + 11 > 65535;
  const pre = v2 ? 12 : 10;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  header = header.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + arr.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = v2 ? 2 : 1; out[7] = 0;
  const view = new DataView(out.buffer);
  if (v2) view.setUint32(8, header.length, true); else view.setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(new Uint8Array(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength), total);
  return out;
}
