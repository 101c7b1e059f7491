/**
 * NIfTI-1 and NIfTI-2 single-file (.nii) codec: bytes in, plain Volume out, and back.
 * No node:* imports: gzip is handled by the caller (platform/) or by `gunzipIfNeeded` below.
 *
 * Geometry (see docs/coordinate-systems.md): NIfTI's world is RAS+ mm, the same as medfield's,
 * so no axis flips happen here. The voxel->world map is taken from, in order of preference:
 * sform (sform_code > 0), qform (qform_code > 0), else pixdim alone ("method 1", ANALYZE).
 * Spacing is the column norms of the chosen affine and `direction` its normalised columns.
 * xyzt_units in metres or micrometres are converted to mm (stated in the header, so not hidden).
 * Scaling: when scl_slope is non-zero and not the identity (1, 0), values are returned as
 * float32 (float64 for float64 input) = stored * scl_slope + scl_inter.
 */
import { gunzipSync } from 'fflate';
import { MedfieldError } from '../core/errors.js';
import {
  allocate, dtypeOf, identityDirection, voxelCount,
  type DType, type Vec3, type Volume, type VolumeSeries, type VoxelArray,
} from '../core/volume.js';

/** NIfTI datatype codes (nifti1.h) for the types medfield stores. */
const CODE_OF: Record<DType, number> = {
  uint8: 2, int16: 4, int32: 8, float32: 16, float64: 64, int8: 256, uint16: 512, uint32: 768,
};
const DTYPE_OF_CODE: Record<number, DType | 'int64' | 'uint64'> = {
  2: 'uint8', 4: 'int16', 8: 'int32', 16: 'float32', 64: 'float64', 256: 'int8', 512: 'uint16',
  768: 'uint32', 1024: 'int64', 1280: 'uint64',
};
const UNSUPPORTED_CODES: Record<number, string> = {
  1: 'binary (1 bit)', 32: 'complex64', 128: 'RGB24', 1536: 'float128', 1792: 'complex128',
  2048: 'complex256', 2304: 'RGBA32',
};
const BYTES: Record<DType | 'int64' | 'uint64', number> = {
  uint8: 1, int8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8, int64: 8, uint64: 8,
};

/** The most voxels one image may hold (typed-array and sanity limit). */
export const MAX_VOXELS = 2 ** 31 - 1;

export interface NiftiHeaderInfo {
  version: 1 | 2;
  littleEndian: boolean;
  /** dim[1..dim[0]] */
  dims: number[];
  datatype: number;
  storedDtype: string;
  pixdim: number[];
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  qformCode: number;
  sformCode: number;
  /** Which transform defined the geometry. */
  geometrySource: 'sform' | 'qform' | 'pixdim';
  /** Unit multiplier applied to get mm (1 for mm). */
  spatialUnitToMm: number;
  descrip: string;
}

export interface NiftiDecoded {
  volume: Volume | VolumeSeries;
  header: NiftiHeaderInfo;
}

/** True when the bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips (pure JS, fflate) when the bytes are gzip, else returns them unchanged. */
export function gunzipIfNeeded(bytes: Uint8Array, subject = ''): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new MedfieldError('bad-file', subject, `corrupt or truncated gzip stream (${(e as Error).message})`);
  }
}

function bad(subject: string, msg: string): never {
  throw new MedfieldError('bad-file', subject, msg);
}

function readString(bytes: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len && bytes[off + i] !== 0; i++) s += String.fromCharCode(bytes[off + i]);
  return s;
}

/** Rotation matrix (row-major) from the NIfTI quaternion (b, c, d); a is implied. */
export function quaternToRotation(b: number, c: number, d: number): number[] {
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // nifti1_io: treat as a 180-degree rotation and renormalise (b, c, d).
    a = 0;
    const n = Math.hypot(b, c, d);
    b /= n; c /= n; d /= n;
  } else {
    a = Math.sqrt(a);
  }
  return [
    a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c),
    2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b),
    2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b,
  ];
}

/**
 * Quaternion (b, c, d) and qfac of an orthonormal direction (row-major), following the
 * algorithm of nifti_mat44_to_quatern (a reflection goes into qfac = -1, third column negated).
 * Returns null when the matrix is not orthonormal (sheared), in which case only sform is written.
 */
export function rotationToQuatern(dir: ArrayLike<number>): { b: number; c: number; d: number; qfac: 1 | -1 } | null {
  const m = Array.from({ length: 9 }, (_, i) => dir[i]);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      let dot = 0;
      for (let r = 0; r < 3; r++) dot += m[r * 3 + i] * m[r * 3 + j];
      if (Math.abs(dot - (i === j ? 1 : 0)) > 1e-4) return null;
    }
  }
  const det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
  let qfac: 1 | -1 = 1;
  if (det < 0) { qfac = -1; m[2] = -m[2]; m[5] = -m[5]; m[8] = -m[8]; }
  const [r11, r12, r13, r21, r22, r23, r31, r32, r33] = m;
  let a = r11 + r22 + r33 + 1, b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = 0.25 * (r32 - r23) / a; c = 0.25 * (r13 - r31) / a; d = 0.25 * (r21 - r12) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33), yd = 1 + r22 - (r11 + r33), zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = 0.25 * (r12 + r21) / b; d = 0.25 * (r13 + r31) / b; a = 0.25 * (r32 - r23) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = 0.25 * (r12 + r21) / c; d = 0.25 * (r23 + r32) / c; a = 0.25 * (r13 - r31) / c;
    } else {
      d = 0.5 * Math.sqrt(zd); b = 0.25 * (r13 + r31) / d; c = 0.25 * (r23 + r32) / d; a = 0.25 * (r21 - r12) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { b, c, d, qfac };
}

/** Decodes a .nii (or gzipped .nii.gz) byte array. `subject` names the file in errors. */
export function decodeNifti(input: Uint8Array, subject = ''): NiftiDecoded {
  const bytes = gunzipIfNeeded(input, subject);
  if (bytes.length < 348) bad(subject, `file too short for a NIfTI header (${bytes.length} bytes, expected at least 348)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le = true;
  let version: 1 | 2;
  const s0 = view.getInt32(0, true);
  if (s0 === 348) version = 1;
  else if (s0 === 540) version = 2;
  else {
    const s1 = view.getInt32(0, false);
    if (s1 === 348) { version = 1; le = false; } else if (s1 === 540) { version = 2; le = false; } else {
      bad(subject, `not a NIfTI file (sizeof_hdr is ${s0}, expected 348 or 540)`);
    }
  }
  if (version === 2 && bytes.length < 540) bad(subject, 'file too short for a NIfTI-2 header');
  const i16 = (o: number) => view.getInt16(o, le);
  const i32 = (o: number) => view.getInt32(o, le);
  const f32 = (o: number) => view.getFloat32(o, le);
  const f64 = (o: number) => view.getFloat64(o, le);
  const i64 = (o: number) => Number(view.getBigInt64(o, le));

  const dim: number[] = [];
  const pixdim: number[] = [];
  let datatype: number, voxOffset: number, sclSlope: number, sclInter: number;
  let qformCode: number, sformCode: number, xyztUnits: number, descrip: string, magic: string;
  let quat: number[], srow: number[];
  if (version === 1) {
    for (let i = 0; i < 8; i++) { dim.push(i16(40 + 2 * i)); pixdim.push(f32(76 + 4 * i)); }
    datatype = i16(70);
    voxOffset = f32(108);
    sclSlope = f32(112); sclInter = f32(116);
    xyztUnits = bytes[123];
    descrip = readString(bytes, 148, 80);
    qformCode = i16(252); sformCode = i16(254);
    quat = [256, 260, 264, 268, 272, 276].map(f32);
    srow = Array.from({ length: 12 }, (_, i) => f32(280 + 4 * i));
    magic = readString(bytes, 344, 4);
    if (magic !== 'n+1') {
      if (magic === 'ni1') bad(subject, 'two-file NIfTI (.hdr/.img) is not supported; convert to .nii');
      bad(subject, `bad NIfTI-1 magic "${magic}" (expected "n+1")`);
    }
  } else {
    magic = readString(bytes, 4, 3);
    if (magic !== 'n+2') bad(subject, `bad NIfTI-2 magic "${magic}" (expected "n+2")`);
    datatype = i16(12);
    for (let i = 0; i < 8; i++) { dim.push(i64(16 + 8 * i)); pixdim.push(f64(104 + 8 * i)); }
    voxOffset = i64(168);
    sclSlope = f64(176); sclInter = f64(184);
    descrip = readString(bytes, 240, 80);
    qformCode = i32(344); sformCode = i32(348);
    quat = [352, 360, 368, 376, 384, 392].map(f64);
    srow = Array.from({ length: 12 }, (_, i) => f64(400 + 8 * i));
    xyztUnits = i32(500);
  }

  const ndim = dim[0];
  if (!(ndim >= 1 && ndim <= 7)) bad(subject, `header dim[0] = ${ndim}, expected 1..7 dimensions`);
  const dims = dim.slice(1, ndim + 1);
  for (let i = 0; i < dims.length; i++) {
    if (!Number.isInteger(dims[i]) || dims[i] < 1) bad(subject, `header dim[${i + 1}] = ${dims[i]}, expected a positive size`);
  }
  if (dims.length > 4 && dims.slice(4).some((d) => d > 1)) {
    bad(subject, `${dims.length}-D image (dims ${dims.join('x')}) is not supported; expected 3-D or 4-D`);
  }
  const nx = dims[0], ny = dims[1] ?? 1, nz = dims[2] ?? 1, nt = dims[3] ?? 1;
  const total = nx * ny * nz * nt;
  if (total > MAX_VOXELS) bad(subject, `header dims ${dims.join('x')} give ${total} voxels, more than the limit ${MAX_VOXELS}`);
  if (UNSUPPORTED_CODES[datatype]) bad(subject, `datatype ${UNSUPPORTED_CODES[datatype]} (code ${datatype}) is not supported; expected a scalar type`);
  const stored = DTYPE_OF_CODE[datatype];
  if (!stored) bad(subject, `unknown NIfTI datatype code ${datatype}`);
  const bpv = BYTES[stored];
  if (!Number.isFinite(voxOffset) || voxOffset < (version === 1 ? 348 : 540)) {
    bad(subject, `vox_offset ${voxOffset} is invalid (expected >= ${version === 1 ? 348 : 540})`);
  }
  const needed = voxOffset + total * bpv;
  if (bytes.length < needed) {
    bad(subject, `truncated: data needs ${needed} bytes (${dims.join('x')} ${stored} at offset ${voxOffset}), file has ${bytes.length}`);
  }

  // Spatial unit (xyzt_units & 7): 1 metre, 2 mm, 3 micron, 0 unknown (taken as mm, the NIfTI default).
  const spaceUnit = xyztUnits & 7;
  const toMm = spaceUnit === 1 ? 1000 : spaceUnit === 3 ? 1e-3 : 1;
  const timeUnit = xyztUnits & 0x38;
  const toSec = timeUnit === 16 ? 1e-3 : timeUnit === 24 ? 1e-6 : 1;

  let geometrySource: NiftiHeaderInfo['geometrySource'];
  const aff = new Float64Array(12);
  if (sformCode > 0) {
    geometrySource = 'sform';
    for (let i = 0; i < 12; i++) aff[i] = srow[i];
  } else if (qformCode > 0) {
    geometrySource = 'qform';
    const R = quaternToRotation(quat[0], quat[1], quat[2]);
    const qfac = pixdim[0] < 0 ? -1 : 1;
    const s = [pixdim[1], pixdim[2], pixdim[3] * qfac];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) aff[r * 4 + c] = R[r * 3 + c] * s[c];
      aff[r * 4 + 3] = quat[3 + r];
    }
  } else {
    geometrySource = 'pixdim';
    aff[0] = pixdim[1]; aff[5] = pixdim[2]; aff[10] = pixdim[3];
  }
  const spacing: Vec3 = [0, 0, 0];
  const direction = identityDirection();
  for (let c = 0; c < 3; c++) {
    let n = Math.hypot(aff[c], aff[4 + c], aff[8 + c]);
    if (!(n > 0) || !Number.isFinite(n)) {
      // A degenerate column (e.g. 2-D images with pixdim 0): fall back to 1 mm along the axis.
      if (dims.length <= c || (dims[c] ?? 1) === 1) n = 0;
      else bad(subject, `${geometrySource} gives zero or non-finite voxel size along axis ${c}`);
    }
    if (n === 0) { spacing[c] = 1 * toMm; continue; }
    spacing[c] = n * toMm;
    for (let r = 0; r < 3; r++) direction[r * 3 + c] = aff[r * 4 + c] / n;
  }
  const origin: Vec3 = [aff[3] * toMm, aff[7] * toMm, aff[11] * toMm];
  for (const v of [...origin, ...direction]) if (!Number.isFinite(v)) bad(subject, 'non-finite values in the orientation header');

  const raw = readTyped(bytes, voxOffset, total, stored, le);
  const scaled = sclSlope !== 0 && Number.isFinite(sclSlope) && (sclSlope !== 1 || (sclInter !== 0 && Number.isFinite(sclInter)));
  let data: VoxelArray;
  if (scaled) {
    const out = raw instanceof Float64Array ? new Float64Array(total) : new Float32Array(total);
    const inter = Number.isFinite(sclInter) ? sclInter : 0;
    for (let i = 0; i < total; i++) out[i] = raw[i] * sclSlope + inter;
    data = out;
  } else {
    data = raw;
  }

  const header: NiftiHeaderInfo = {
    version, littleEndian: le, dims, datatype, storedDtype: stored, pixdim, voxOffset, sclSlope,
    sclInter, qformCode, sformCode, geometrySource, spatialUnitToMm: toMm, descrip,
  };
  const base = { data, dims: [nx, ny, nz] as Vec3, spacingMm: spacing, originMm: origin, direction };
  if (nt > 1) {
    const frameSpacing = Number.isFinite(pixdim[4]) ? pixdim[4] * toSec : 0;
    const series: VolumeSeries = { ...base, frames: nt, frameSpacing };
    return { volume: series, header };
  }
  return { volume: base, header };
}

function readTyped(bytes: Uint8Array, off: number, n: number, t: DType | 'int64' | 'uint64', le: boolean): VoxelArray {
  const bpv = BYTES[t];
  // Copy into a fresh, aligned buffer (vox_offset need not be aligned), swapping bytes if needed.
  const buf = bytes.slice(off, off + n * bpv);
  const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (bpv > 1 && le !== hostLE) {
    for (let i = 0; i < buf.length; i += bpv) buf.subarray(i, i + bpv).reverse();
  }
  if (t === 'int64' || t === 'uint64') {
    // No 64-bit integer volumes in medfield: converted to float64 (exact below 2^53).
    const big = t === 'int64' ? new BigInt64Array(buf.buffer) : new BigUint64Array(buf.buffer);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Number(big[i]);
    return out;
  }
  const arr = allocate(t, 0);
  const Ctor = arr.constructor as new (b: ArrayBuffer) => VoxelArray;
  return new Ctor(buf.buffer);
}

export interface NiftiEncodeOptions {
  /** 1 (default, float32 geometry, the most widely read) or 2 (float64 geometry, 64-bit dims). */
  version?: 1 | 2;
  /** Free text (max 79 chars) for the header's descrip field. */
  description?: string;
}

/**
 * Encodes a Volume (or VolumeSeries) as an uncompressed single-file NIfTI, little-endian.
 * Writes both sform (code 1, scanner) and, when the direction is orthonormal, qform (code 1),
 * pixdim = spacing, xyzt_units = mm + s. Data keeps its dtype; scl_slope 1, scl_inter 0.
 * A NIfTI-1 header stores geometry in float32: values read from a NIfTI-1 file round-trip
 * bit-exactly; for arbitrary float64 geometry use version 2.
 */
export function encodeNifti(vol: Volume | VolumeSeries, opts: NiftiEncodeOptions = {}): Uint8Array {
  const version = opts.version ?? 1;
  const frames = 'frames' in vol ? vol.frames : 1;
  const nvox = voxelCount(vol.dims);
  if (vol.data.length !== nvox * frames) {
    throw new MedfieldError('bad-data', 'volume', `data has ${vol.data.length} values, dims ${vol.dims.join('x')}x${frames} need ${nvox * frames}`);
  }
  const dtype = dtypeOf(vol.data);
  const code = CODE_OF[dtype];
  const bpv = BYTES[dtype];
  const hdrSize = version === 1 ? 348 : 540;
  const voxOffset = hdrSize + 4;
  const out = new Uint8Array(voxOffset + vol.data.length * bpv);
  const view = new DataView(out.buffer);
  const ndim = frames > 1 ? 4 : 3;
  const dims = [ndim, vol.dims[0], vol.dims[1], vol.dims[2], frames, 1, 1, 1];
  const pixdim = [1, vol.spacingMm[0], vol.spacingMm[1], vol.spacingMm[2], 'frameSpacing' in vol ? vol.frameSpacing : 0, 0, 0, 0];
  const q = rotationToQuatern(vol.direction);
  if (q) pixdim[0] = q.qfac;
  const srow: number[] = [];
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) srow.push(vol.direction[r * 3 + c] * vol.spacingMm[c]);
    srow.push(vol.originMm[r]);
  }
  const desc = (opts.description ?? 'medfield').slice(0, 79);
  const xyztUnits = 2 | 8; // mm, seconds
  if (version === 1) {
    view.setInt32(0, 348, true);
    view.setUint8(38, 'r'.charCodeAt(0));
    for (let i = 0; i < 8; i++) { view.setInt16(40 + 2 * i, dims[i], true); view.setFloat32(76 + 4 * i, pixdim[i], true); }
    view.setInt16(70, code, true);
    view.setInt16(72, bpv * 8, true);
    view.setFloat32(108, voxOffset, true);
    view.setFloat32(112, 1, true);
    view.setFloat32(116, 0, true);
    view.setUint8(123, xyztUnits);
    for (let i = 0; i < desc.length; i++) out[148 + i] = desc.charCodeAt(i) & 0x7f;
    view.setInt16(252, q ? 1 : 0, true);
    view.setInt16(254, 1, true);
    if (q) {
      view.setFloat32(256, q.b, true); view.setFloat32(260, q.c, true); view.setFloat32(264, q.d, true);
    }
    for (let r = 0; r < 3; r++) view.setFloat32(268 + 4 * r, vol.originMm[r], true);
    for (let i = 0; i < 12; i++) view.setFloat32(280 + 4 * i, srow[i], true);
    out.set([0x6e, 0x2b, 0x31, 0x00], 344); // "n+1\0"
  } else {
    view.setInt32(0, 540, true);
    out.set([0x6e, 0x2b, 0x32, 0x00, 0x0d, 0x0a, 0x1a, 0x0a], 4); // "n+2\0\r\n\032\n"
    view.setInt16(12, code, true);
    view.setInt16(14, bpv * 8, true);
    for (let i = 0; i < 8; i++) { view.setBigInt64(16 + 8 * i, BigInt(dims[i]), true); view.setFloat64(104 + 8 * i, pixdim[i], true); }
    view.setBigInt64(168, BigInt(voxOffset), true);
    view.setFloat64(176, 1, true);
    view.setFloat64(184, 0, true);
    for (let i = 0; i < desc.length; i++) out[240 + i] = desc.charCodeAt(i) & 0x7f;
    view.setInt32(344, q ? 1 : 0, true);
    view.setInt32(348, 1, true);
    if (q) {
      view.setFloat64(352, q.b, true); view.setFloat64(360, q.c, true); view.setFloat64(368, q.d, true);
    }
    for (let r = 0; r < 3; r++) view.setFloat64(376 + 8 * r, vol.originMm[r], true);
    for (let i = 0; i < 12; i++) view.setFloat64(400 + 8 * i, srow[i], true);
    view.setInt32(500, xyztUnits, true);
  }
  const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  const src = new Uint8Array(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  out.set(src, voxOffset);
  if (!hostLE && bpv > 1) {
    for (let i = voxOffset; i < out.length; i += bpv) out.subarray(i, i + bpv).reverse();
  }
  return out;
}
