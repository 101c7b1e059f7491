/**
 * Structural similarity (SSIM; Wang, Bovik, Sheikh, Simoncelli 2004) of 2D images and 3D
 * volumes, matching scikit-image's
 * `structural_similarity(a, b, data_range=R, gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False)` to about 1e-12 on Float64 inputs (see ssim-core.ts for the exact
 * definition). All arithmetic is Float64, whatever the input type; note that scikit-image
 * computes in float32 when handed float32 arrays, so compare against it with float64 inputs.
 *
 * Mean SSIM without a mask is the mean of the SSIM map after cropping a border of
 * r = (window - 1) / 2 voxels (5 for sigma 1.5) from every filtered axis, as scikit-image does,
 * because the reflected border values are not real image content. With a mask the mean is
 * over the masked voxels of the uncropped map (a mask is deliberate, so we trust it to the edge).
 */
import { MedfieldError } from '../core/errors.js';
import type { Vec3, Volume } from '../core/volume.js';
import { gaussianTaps, streamSsimMap, type SsimKernel } from './ssim-core.js';
import { checkDataRange, checkDims, checkMask, checkPair, checkSameDims, isVolume, type MetricMask } from './validate.js';

/** Options of the SSIM functions. Only `dataRange` is required. */
export interface SsimOptions {
  /**
   * Dynamic range R of the intensities (1 for [0, 1] images, 255 for 8-bit, max - min of the
   * reference for CT/MRI). Required and never inferred from the data; finite and > 0.
   */
  dataRange: number;
  /** Nonzero = inside; same length as the images. Mean over masked voxels of the uncropped map. */
  mask?: MetricMask;
  /** Gaussian window sigma in voxels (default 1.5; window radius int(3.5 * sigma + 0.5)). */
  sigma?: number;
  /** Luminance stabiliser K1 (default 0.01). */
  k1?: number;
  /** Contrast stabiliser K2 (default 0.03). */
  k2?: number;
  /** If given (same length as the images), receives the full, uncropped SSIM map. */
  map?: Float32Array | Float64Array;
}

/** Checks the options and returns the resolved kernel. @internal */
export function resolveKernel(options: SsimOptions): SsimKernel {
  const opts = (options ?? {}) as Partial<SsimOptions>;
  const range = checkDataRange(opts.dataRange);
  const sigma = opts.sigma ?? 1.5, k1 = opts.k1 ?? 0.01, k2 = opts.k2 ?? 0.03;
  for (const [name, v] of [['sigma', sigma], ['k1', k1], ['k2', k2]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new MedfieldError('bad-option', name, `must be a finite positive number, got ${String(v)}`);
    }
  }
  const weights = gaussianTaps(sigma);
  return { weights, radius: (weights.length - 1) / 2, c1: (k1 * range) ** 2, c2: (k2 * range) ** 2 };
}

/** Throws unless every filtered extent holds a full window (scikit-image raises too). @internal */
export function checkWindowFits(extents: readonly number[], radius: number, subject: string): void {
  const win = 2 * radius + 1;
  if (extents.some((e) => e < win)) {
    throw new MedfieldError('bad-data', subject, `every SSIM axis needs at least ${win} voxels (Gaussian window), got ${extents.join('x')}`);
  }
}

/**
 * Mean of a streamed SSIM map: over the masked voxels when a mask is given, else over the
 * cropped interior (x, y always cropped; z cropped when `cropZ`). Optionally copies the map out.
 */
function meanOfMap(
  a: ArrayLike<number>, b: ArrayLike<number>, nx: number, ny: number, nz: number,
  filterZ: boolean, kernel: SsimKernel, options: SsimOptions,
): number {
  const { mask, map } = options;
  const n = a.length;
  if (mask !== undefined) checkMask(mask, n);
  if (map !== undefined && map.length !== n) {
    throw new MedfieldError('bad-option', 'map', `map has ${map.length} values, images have ${n}`);
  }
  const r = kernel.radius, nxy = nx * ny;
  const zLo = filterZ ? r : 0, zHi = filterZ ? nz - r : nz;
  let sum = 0, count = 0;
  streamSsimMap(a, b, nx, ny, nz, filterZ, kernel, (z, s) => {
    if (map !== undefined) map.set(s, z * nxy);
    if (mask !== undefined) {
      const base = z * nxy;
      for (let p = 0; p < nxy; p++) if (mask[base + p] !== 0) { sum += s[p]; count++; }
      return;
    }
    if (z < zLo || z >= zHi) return;
    for (let y = r; y < ny - r; y++) {
      for (let x = r, p = y * nx + r; x < nx - r; x++, p++) sum += s[p];
      count += nx - 2 * r;
    }
  });
  return sum / count;
}

/**
 * Mean SSIM of two 2D images with a 2D Gaussian window.
 * @param a - Reference image, row-major: pixel (row, col) at a[row * cols + col].
 * @param b - Test image, same layout.
 * @param rows - Image height (>= 11 with the default sigma).
 * @param cols - Image width (>= 11 with the default sigma).
 * @param options - `dataRange` required; see {@link SsimOptions}.
 * @returns Mean SSIM in [-1, 1]; 1 for identical images.
 * @throws MedfieldError 'bad-option' for a missing/invalid data range, sigma or K; 'bad-data'
 *   for mismatched lengths/dimensions, an image smaller than the window, or an empty mask.
 */
export function ssim2d(a: ArrayLike<number>, b: ArrayLike<number>, rows: number, cols: number, options: SsimOptions): number {
  const kernel = resolveKernel(options);
  checkPair(a, b);
  checkDims([rows, cols], a.length, 'rows x cols');
  checkWindowFits([rows, cols], kernel.radius, 'rows x cols');
  return meanOfMap(a, b, cols, rows, 1, false, kernel, options);
}

/**
 * Mean SSIM of two volumes with a 3D Gaussian window (what scikit-image does on a 3D array).
 * Voxel spacing is ignored: the window is isotropic in voxels, as in scikit-image.
 * About 1.5 s for 240x240x155 on one core of the 2-core dev machine; memory ~ 11 slices x 5
 * channels of Float64 (25 MB at 240x240), not five full-volume buffers.
 * @param a - Reference volume (or its data, with `dims`).
 * @param b - Test volume on the same grid.
 * @param options - `dataRange` required; see {@link SsimOptions}.
 * @returns Mean SSIM in [-1, 1]; 1 for identical volumes.
 * @throws As {@link ssim2d}; every dimension must be >= 11 with the default sigma.
 */
export function ssim3d(a: Volume, b: Volume, options: SsimOptions): number;
/**
 * Mean SSIM of two volumes given as flat arrays.
 * @param a - Reference data, x fastest: voxel (i, j, k) at a[i + nx * (j + ny * k)].
 * @param b - Test data, same layout.
 * @param dims - [nx, ny, nz].
 */
export function ssim3d(a: ArrayLike<number>, b: ArrayLike<number>, dims: readonly [number, number, number], options: SsimOptions): number;
export function ssim3d(
  a: Volume | ArrayLike<number>,
  b: Volume | ArrayLike<number>,
  dimsOrOptions: readonly [number, number, number] | SsimOptions,
  maybeOptions?: SsimOptions,
): number {
  const { da, db, dims, options } = unpackVolumes(a, b, dimsOrOptions, maybeOptions);
  const kernel = resolveKernel(options);
  checkWindowFits(dims, kernel.radius, 'dims');
  return meanOfMap(da, db, dims[0], dims[1], dims[2], true, kernel, options);
}

/** Resolves the (Volume, Volume, options) and (data, data, dims, options) call forms. @internal */
export function unpackVolumes<O>(
  a: Volume | ArrayLike<number>,
  b: Volume | ArrayLike<number>,
  dimsOrOptions: readonly [number, number, number] | O,
  maybeOptions: O | undefined,
): { da: ArrayLike<number>; db: ArrayLike<number>; dims: Vec3; options: O } {
  if (isVolume(a) || isVolume(b)) {
    if (!isVolume(a) || !isVolume(b)) throw new MedfieldError('bad-data', 'volumes', 'pass two Volumes, or two arrays plus dims');
    checkSameDims(a.dims, b.dims);
    checkPair(a.data, b.data);
    checkDims(a.dims, a.data.length);
    return { da: a.data, db: b.data, dims: [a.dims[0], a.dims[1], a.dims[2]], options: dimsOrOptions as O };
  }
  const dims = dimsOrOptions as readonly number[];
  if (!Array.isArray(dims) || dims.length !== 3) throw new MedfieldError('bad-option', 'dims', 'expected [nx, ny, nz]');
  checkPair(a, b);
  checkDims(dims, a.length);
  return { da: a, db: b, dims: [dims[0], dims[1], dims[2]], options: maybeOptions as O };
}
