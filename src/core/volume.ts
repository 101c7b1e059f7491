/**
 * The Volume data model. See docs/coordinate-systems.md, the single source of truth for frames.
 *
 * - Voxel (i, j, k) is stored at `data[i + nx * (j + ny * k)]` (i fastest; NIfTI/ITK order).
 * - World coordinates are **RAS+ millimetres** (NIfTI scanner space: +x Right, +y Anterior,
 *   +z Superior). Readers of LPS formats (ITK: NRRD, MetaImage, DICOM) convert on load.
 * - world = originMm + direction * diag(spacingMm) * [i, j, k]^T, where `direction` is a 3x3
 *   matrix stored row-major whose column c is the unit world direction of voxel axis c.
 *   `originMm` is the world position of the centre of voxel (0, 0, 0).
 */
export type VoxelArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export const DTYPES = ['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32'] as const;
export type DType = (typeof DTYPES)[number];

export type Vec3 = [number, number, number];

export interface Volume<T extends VoxelArray = VoxelArray> {
  data: T;
  /** Voxel counts [nx, ny, nz]. */
  dims: Vec3;
  /** Voxel size in mm along each voxel axis (always > 0). */
  spacingMm: Vec3;
  /** RAS+ world position (mm) of the centre of voxel (0,0,0). */
  originMm: Vec3;
  /** 3x3 direction cosines, row-major, column c = world direction of voxel axis c (Float64). */
  direction: Float64Array;
}

/**
 * A series of volumes on one grid (e.g. the time points of an fMRI / 4D NIfTI, or several
 * co-registered contrasts). Frame t is `data.subarray(t * nvox, (t + 1) * nvox)`.
 */
export interface VolumeSeries<T extends VoxelArray = VoxelArray> extends Volume<T> {
  /** Number of volumes (4th dimension). */
  frames: number;
  /** Spacing of the 4th dimension in its stated unit (seconds for fMRI), 0 when unknown. */
  frameSpacing: number;
}

/** A stack of 2D images (views, slices or projections), each with `channels` interleaved values. */
export interface ImageStack<T extends VoxelArray = Float32Array> {
  /** Pixel data, index = ((image * rows + row) * cols + col) * channels + channel. */
  data: T;
  count: number;
  rows: number;
  cols: number;
  channels: number;
  /** Pixel size [row spacing, column spacing] in mm, when known. */
  pixelSpacingMm?: [number, number];
}

export function identityDirection(): Float64Array {
  return new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
}

export function voxelCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function dtypeOf(a: VoxelArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  return 'uint32';
}

export function allocate(dtype: DType, n: number): VoxelArray {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
  }
}

/** Creates a volume; data defaults to zeros of Float32. Geometry defaults: 1 mm, origin 0, identity. */
export function createVolume<T extends VoxelArray = Float32Array>(
  dims: Vec3,
  opts: { data?: T; spacingMm?: Vec3; originMm?: Vec3; direction?: Float64Array } = {},
): Volume<T> {
  const n = voxelCount(dims);
  const data = opts.data ?? (new Float32Array(n) as unknown as T);
  if (data.length !== n) throw new RangeError(`volume data has ${data.length} values, dims ${dims.join('x')} need ${n}`);
  return {
    data,
    dims: [dims[0], dims[1], dims[2]],
    spacingMm: opts.spacingMm ? [...opts.spacingMm] : [1, 1, 1],
    originMm: opts.originMm ? [...opts.originMm] : [0, 0, 0],
    direction: opts.direction ? new Float64Array(opts.direction) : identityDirection(),
  };
}

/** Same geometry, new data (Float32 unless given). */
export function withData<T extends VoxelArray>(v: Volume, data: T): Volume<T> {
  return createVolume(v.dims, { data, spacingMm: v.spacingMm, originMm: v.originMm, direction: v.direction });
}

/** Copy of the volume's values as Float32. */
export function toFloat32(v: Volume): Volume<Float32Array> {
  return withData(v, Float32Array.from(v.data as ArrayLike<number>));
}

/** The 4x4 voxel->world (RAS mm) affine, row-major, as Float64. */
export function voxelToWorldMatrix(v: Pick<Volume, 'spacingMm' | 'originMm' | 'direction'>): Float64Array {
  const m = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) m[r * 4 + c] = v.direction[r * 3 + c] * v.spacingMm[c];
    m[r * 4 + 3] = v.originMm[r];
  }
  m[15] = 1;
  return m;
}

/** World (RAS mm) of continuous voxel index (i, j, k). */
export function voxelToWorld(v: Pick<Volume, 'spacingMm' | 'originMm' | 'direction'>, ijk: readonly number[]): Vec3 {
  const d = v.direction, s = v.spacingMm, o = v.originMm;
  const a = ijk[0] * s[0], b = ijk[1] * s[1], c = ijk[2] * s[2];
  return [
    o[0] + d[0] * a + d[1] * b + d[2] * c,
    o[1] + d[3] * a + d[4] * b + d[5] * c,
    o[2] + d[6] * a + d[7] * b + d[8] * c,
  ];
}

/** Continuous voxel index of a world (RAS mm) point. Direction is inverted in general (not assumed orthonormal). */
export function worldToVoxel(v: Pick<Volume, 'spacingMm' | 'originMm' | 'direction'>, xyz: readonly number[]): Vec3 {
  const inv = invert3(v.direction);
  const x = xyz[0] - v.originMm[0], y = xyz[1] - v.originMm[1], z = xyz[2] - v.originMm[2];
  return [
    (inv[0] * x + inv[1] * y + inv[2] * z) / v.spacingMm[0],
    (inv[3] * x + inv[4] * y + inv[5] * z) / v.spacingMm[1],
    (inv[6] * x + inv[7] * y + inv[8] * z) / v.spacingMm[2],
  ];
}

/** Inverse of a row-major 3x3 matrix (throws on a singular one). */
export function invert3(m: ArrayLike<number>): Float64Array {
  const [a, b, c, d, e, f, g, h, i] = [m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]];
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) < 1e-12) throw new RangeError('direction matrix is singular');
  return new Float64Array([
    A / det, -(b * i - c * h) / det, (b * f - c * e) / det,
    B / det, (a * i - c * g) / det, -(a * f - c * d) / det,
    C / det, -(a * h - b * g) / det, (a * e - b * d) / det,
  ]);
}

/**
 * Orientation code of the voxel axes in the RAS+ convention used by NIfTI tools (e.g. 'RAS',
 * 'LPS', 'PSL'): letter c names the world direction that voxel axis c points *towards*.
 */
export function orientationCode(direction: ArrayLike<number>): string {
  const pos = ['R', 'A', 'S'], neg = ['L', 'P', 'I'];
  let out = '';
  for (let c = 0; c < 3; c++) {
    let best = 0;
    for (let r = 1; r < 3; r++) if (Math.abs(direction[r * 3 + c]) > Math.abs(direction[best * 3 + c])) best = r;
    out += direction[best * 3 + c] >= 0 ? pos[best] : neg[best];
  }
  return out;
}

export interface VolumeStats { min: number; max: number; mean: number; std: number; nonFinite: number }

/** Min, max, mean, std over finite values; counts NaN/Inf separately. */
export function volumeStats(data: ArrayLike<number>): VolumeStats {
  let min = Infinity, max = -Infinity, sum = 0, sum2 = 0, n = 0, bad = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i];
    if (!Number.isFinite(x)) { bad++; continue; }
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x; sum2 += x * x; n++;
  }
  const mean = n ? sum / n : NaN;
  const variance = n ? Math.max(0, sum2 / n - mean * mean) : NaN;
  return { min: n ? min : NaN, max: n ? max : NaN, mean, std: Math.sqrt(variance), nonFinite: bad };
}
