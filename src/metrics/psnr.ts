/**
 * Pointwise error metrics: MSE, RMSE, MAE and PSNR. Sums are accumulated in Float64 whatever
 * the input type. PSNR follows scikit-image's `peak_signal_noise_ratio` with `data_range`
 * given explicitly: 10 log10(R^2 / MSE).
 */
import { checkDataRange, checkMask, checkPair, type MetricMask } from './validate.js';

/** Options of the pointwise error metrics. */
export interface ErrorMetricOptions {
  /** Only voxels where the mask is nonzero count; same length as the images. */
  mask?: MetricMask;
}

/** Options of {@link psnr}: the data range is required. */
export interface PsnrOptions extends ErrorMetricOptions {
  /**
   * Dynamic range R of the intensities (e.g. 1 for [0, 1] images, 255 for 8-bit, max - min of
   * the reference for CT/MRI). Required and never inferred; must be finite and > 0.
   */
  dataRange: number;
}

/** Sum of f(a - b) over the (masked) voxels, and how many voxels were summed. */
function reduceDiff(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  mask: MetricMask | undefined,
  squared: boolean,
): { sum: number; count: number } {
  checkPair(a, b);
  const n = a.length;
  let sum = 0;
  if (mask === undefined) {
    for (let i = 0; i < n; i++) {
      const d = a[i] - b[i];
      sum += squared ? d * d : Math.abs(d);
    }
    return { sum, count: n };
  }
  const count = checkMask(mask, n);
  for (let i = 0; i < n; i++) {
    if (mask[i] === 0) continue;
    const d = a[i] - b[i];
    sum += squared ? d * d : Math.abs(d);
  }
  return { sum, count };
}

/**
 * Mean squared error, mean((a - b)^2), over all voxels or the masked ones.
 * @param reference - Reference image, any shape, flattened.
 * @param test - Image to score, same length.
 * @throws MedfieldError 'bad-data' on mismatched lengths, empty arrays or an empty mask.
 */
export function mse(reference: ArrayLike<number>, test: ArrayLike<number>, options: ErrorMetricOptions = {}): number {
  const { sum, count } = reduceDiff(reference, test, options.mask, true);
  return sum / count;
}

/** Root mean squared error, sqrt(MSE), in the images' intensity units. See {@link mse}. */
export function rmse(reference: ArrayLike<number>, test: ArrayLike<number>, options: ErrorMetricOptions = {}): number {
  return Math.sqrt(mse(reference, test, options));
}

/** Mean absolute error, mean(|a - b|), in the images' intensity units. See {@link mse}. */
export function mae(reference: ArrayLike<number>, test: ArrayLike<number>, options: ErrorMetricOptions = {}): number {
  const { sum, count } = reduceDiff(reference, test, options.mask, false);
  return sum / count;
}

/**
 * Peak signal-to-noise ratio in dB: 10 log10(dataRange^2 / MSE). Identical images give
 * +Infinity (as scikit-image does).
 * @param options.dataRange - Required dynamic range R (> 0); see {@link PsnrOptions}.
 * @throws MedfieldError 'bad-option' (subject 'dataRange') when the range is missing, not
 *   finite or not positive; 'bad-data' as for {@link mse}.
 */
export function psnr(reference: ArrayLike<number>, test: ArrayLike<number>, options: PsnrOptions): number {
  const range = checkDataRange((options as Partial<PsnrOptions> | undefined)?.dataRange);
  const err = mse(reference, test, options);
  if (err === 0) return Infinity;
  return 10 * Math.log10((range * range) / err);
}
