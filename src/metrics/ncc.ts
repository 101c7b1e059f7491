/**
 * Normalised cross-correlation (Pearson correlation of intensities), the usual similarity
 * for images whose intensity scales differ (e.g. a reconstruction in arbitrary units).
 */
import { checkMask, checkPair } from './validate.js';
import type { ErrorMetricOptions } from './psnr.js';

/**
 * Global normalised cross-correlation in [-1, 1]:
 * sum((a - mean a)(b - mean b)) / sqrt(sum((a - mean a)^2) * sum((b - mean b)^2)),
 * over all voxels or the masked ones. Invariant to affine intensity changes b -> s*b + t (s > 0).
 * Means are taken in a first pass so large offsets do not cancel catastrophically.
 * @returns NaN when either image is constant over the voxels considered (correlation undefined).
 * @throws MedfieldError 'bad-data' on mismatched lengths, empty arrays or an empty mask.
 */
export function ncc(a: ArrayLike<number>, b: ArrayLike<number>, options: ErrorMetricOptions = {}): number {
  checkPair(a, b);
  const n = a.length;
  const mask = options.mask;
  const count = mask === undefined ? n : checkMask(mask, n);
  let sa = 0, sb = 0;
  for (let i = 0; i < n; i++) {
    if (mask !== undefined && mask[i] === 0) continue;
    sa += a[i];
    sb += b[i];
  }
  const ma = sa / count, mb = sb / count;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    if (mask !== undefined && mask[i] === 0) continue;
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return NaN;
  // Clamp: rounding can push |r| a hair above 1 for (anti)identical images.
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}
