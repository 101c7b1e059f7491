/**
 * Argument checks shared by the metrics. Every metric validates before computing so a user
 * error (wrong length, missing data range, empty mask) ends in one clear MedfieldError instead
 * of a silent NaN.
 */
import { MedfieldError } from '../core/errors.js';
import type { Vec3, Volume } from '../core/volume.js';

/**
 * A voxel mask: any numeric array the same length as the images; a nonzero entry means the
 * voxel is inside. Uint8Array is the usual choice.
 */
export type MetricMask = ArrayLike<number>;

/** Throws unless `a` and `b` hold the same, nonzero number of values. */
export function checkPair(a: ArrayLike<number>, b: ArrayLike<number>, what = 'images'): void {
  if (a == null || b == null || typeof a.length !== 'number' || typeof b.length !== 'number') {
    throw new MedfieldError('bad-data', what, 'expected two numeric arrays');
  }
  if (a.length !== b.length) {
    throw new MedfieldError('bad-data', what, `length mismatch: ${a.length} values vs ${b.length}`);
  }
  if (a.length === 0) throw new MedfieldError('bad-data', what, 'arrays are empty');
}

/** Throws unless the mask matches the image length; returns how many voxels it selects (> 0). */
export function checkMask(mask: MetricMask, n: number): number {
  if (mask.length !== n) {
    throw new MedfieldError('bad-data', 'mask', `mask has ${mask.length} values, images have ${n}`);
  }
  let count = 0;
  for (let i = 0; i < n; i++) if (mask[i] !== 0) count++;
  if (count === 0) throw new MedfieldError('bad-data', 'mask', 'mask selects no voxels (all zero)');
  return count;
}

/**
 * Throws 'bad-option' unless the data range is a finite positive number. The range is never
 * guessed from the data: PSNR and SSIM depend on it directly, and a range inferred from each
 * image would make scores of different images incomparable.
 */
export function checkDataRange(dataRange: unknown): number {
  if (typeof dataRange !== 'number' || !Number.isFinite(dataRange) || dataRange <= 0) {
    throw new MedfieldError(
      'bad-option',
      'dataRange',
      `a finite positive data range is required (got ${String(dataRange)}); pass e.g. max - min of the reference's valid intensities`,
    );
  }
  return dataRange;
}

/** Throws unless `dims` are positive integers whose product is `n`. */
export function checkDims(dims: readonly number[], n: number, subject = 'dims'): void {
  let prod = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d <= 0) throw new MedfieldError('bad-option', subject, `dimensions must be positive integers, got [${dims.join(', ')}]`);
    prod *= d;
  }
  if (prod !== n) throw new MedfieldError('bad-data', subject, `dimensions ${dims.join('x')} need ${prod} values, got ${n}`);
}

/** True for a Volume-shaped object (data + dims), used to tell overloads apart. */
export function isVolume(x: unknown): x is Volume {
  return typeof x === 'object' && x !== null && 'data' in x && 'dims' in x && Array.isArray((x as Volume).dims);
}

/** Throws unless two volumes share the same grid dimensions. */
export function checkSameDims(a: Vec3, b: Vec3): void {
  if (a[0] !== b[0] || a[1] !== b[1] || a[2] !== b[2]) {
    throw new MedfieldError('bad-data', 'volumes', `dimension mismatch: ${a.join('x')} vs ${b.join('x')}`);
  }
}

/** Throws unless all three voxel sizes are finite and > 0. */
export function checkSpacing(spacingMm: readonly number[]): void {
  if (!Array.isArray(spacingMm) || spacingMm.length !== 3 || spacingMm.some((s) => typeof s !== 'number' || !Number.isFinite(s) || s <= 0)) {
    throw new MedfieldError('bad-option', 'spacingMm', `expected three finite positive voxel sizes in mm, got ${String(spacingMm)}`);
  }
}
