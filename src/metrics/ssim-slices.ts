/**
 * Slice-wise SSIM: 2D SSIM of every slice perpendicular to one voxel axis, the figure most
 * reconstruction papers report for volumes (e.g. the mean over axial slices).
 */
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import { streamSsimMap } from './ssim-core.js';
import { checkWindowFits, resolveKernel, unpackVolumes, type SsimOptions } from './ssim.js';
import { checkMask } from './validate.js';

/** Voxel axis index: 0 = i (x), 1 = j (y), 2 = k (z). */
export type VoxelAxis = 0 | 1 | 2;

/** Options of slice-wise SSIM: as {@link SsimOptions}, without the map output. */
export type SliceSsimOptions = Omit<SsimOptions, 'map'>;

/**
 * 2D SSIM of each slice perpendicular to voxel axis `axis` (slice s holds the voxels whose
 * index along `axis` is s). Each slice is scored like {@link ssim2d}: cropped mean without a
 * mask, or the mean over that slice's masked pixels (NaN for a slice with none) with one.
 * Slice orientation does not matter: the Gaussian window is symmetric.
 * @returns Float64Array with one value per slice (dims[axis] values).
 * @throws As {@link ssim2d}; the two in-slice dimensions must each be >= 11 (default sigma).
 */
export function sliceSsim(a: Volume, b: Volume, axis: VoxelAxis, options: SliceSsimOptions): Float64Array;
/** As above, for flat data x fastest with dims [nx, ny, nz]. */
export function sliceSsim(
  a: ArrayLike<number>, b: ArrayLike<number>, dims: readonly [number, number, number], axis: VoxelAxis, options: SliceSsimOptions,
): Float64Array;
export function sliceSsim(
  a: Volume | ArrayLike<number>,
  b: Volume | ArrayLike<number>,
  dimsOrAxis: readonly [number, number, number] | VoxelAxis,
  axisOrOptions: VoxelAxis | SliceSsimOptions,
  maybeOptions?: SliceSsimOptions,
): Float64Array {
  const volumeForm = typeof dimsOrAxis === 'number';
  const axis = (volumeForm ? dimsOrAxis : axisOrOptions) as VoxelAxis;
  const opts = (volumeForm ? axisOrOptions : maybeOptions) as SliceSsimOptions;
  const { da, db, dims, options } = volumeForm
    ? unpackVolumes<SliceSsimOptions>(a, b, opts, undefined)
    : unpackVolumes<SliceSsimOptions>(a, b, dimsOrAxis, opts);
  if (axis !== 0 && axis !== 1 && axis !== 2) throw new MedfieldError('bad-option', 'axis', `must be 0, 1 or 2, got ${String(axis)}`);
  const kernel = resolveKernel(options as SsimOptions);
  const [nx, ny, nz] = dims;
  // In-slice grid (cols fastest) and the strides that walk it in the volume.
  const [cols, rows, colStride, rowStride, sliceStride] =
    axis === 2 ? [nx, ny, 1, nx, nx * ny] : axis === 1 ? [nx, nz, 1, nx * ny, nx] : [ny, nz, nx, nx * ny, 1];
  checkWindowFits([rows, cols], kernel.radius, `slices along axis ${axis}`);
  const mask = options.mask;
  if (mask !== undefined) checkMask(mask, da.length);

  const nSlices = dims[axis], npix = rows * cols, r = kernel.radius;
  const sa = new Float64Array(npix), sb = new Float64Array(npix);
  const sm = mask !== undefined ? new Uint8Array(npix) : undefined;
  const result = new Float64Array(nSlices);
  for (let s = 0; s < nSlices; s++) {
    // Gather the slice into contiguous buffers so the 2D kernel sees an ordinary image.
    let inMask = 0;
    for (let row = 0, p = 0; row < rows; row++) {
      let v = s * sliceStride + row * rowStride;
      for (let col = 0; col < cols; col++, p++, v += colStride) {
        sa[p] = da[v];
        sb[p] = db[v];
        if (sm !== undefined && mask !== undefined) {
          const m = mask[v] !== 0 ? 1 : 0;
          sm[p] = m;
          inMask += m;
        }
      }
    }
    if (sm !== undefined && inMask === 0) { result[s] = NaN; continue; }
    let sum = 0, count = 0;
    streamSsimMap(sa, sb, cols, rows, 1, false, kernel, (_z, map) => {
      if (sm !== undefined) {
        for (let p = 0; p < npix; p++) if (sm[p] !== 0) { sum += map[p]; count++; }
        return;
      }
      for (let y = r; y < rows - r; y++) {
        for (let x = r, p = y * cols + r; x < cols - r; x++, p++) sum += map[p];
        count += cols - 2 * r;
      }
    });
    result[s] = sum / count;
  }
  return result;
}

/**
 * Mean over slices of {@link sliceSsim}. With a mask, slices holding no masked voxel are left
 * out of the mean (each remaining slice counts once, whatever its masked area).
 */
export function meanSliceSsim(a: Volume, b: Volume, axis: VoxelAxis, options: SliceSsimOptions): number;
/** As above, for flat data x fastest with dims [nx, ny, nz]. */
export function meanSliceSsim(
  a: ArrayLike<number>, b: ArrayLike<number>, dims: readonly [number, number, number], axis: VoxelAxis, options: SliceSsimOptions,
): number;
export function meanSliceSsim(
  a: Volume | ArrayLike<number>,
  b: Volume | ArrayLike<number>,
  dimsOrAxis: readonly [number, number, number] | VoxelAxis,
  axisOrOptions: VoxelAxis | SliceSsimOptions,
  maybeOptions?: SliceSsimOptions,
): number {
  const values = typeof dimsOrAxis === 'number'
    ? sliceSsim(a as Volume, b as Volume, dimsOrAxis, axisOrOptions as SliceSsimOptions)
    : sliceSsim(a as ArrayLike<number>, b as ArrayLike<number>, dimsOrAxis, axisOrOptions as VoxelAxis, maybeOptions as SliceSsimOptions);
  let sum = 0, count = 0;
  for (const v of values) if (!Number.isNaN(v)) { sum += v; count++; }
  return sum / count;
}
