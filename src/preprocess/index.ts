/**
 * Preprocessing: resampling (to a spacing, size, per-slice, or any grid), intensity transforms
 * (percentile clipping, min-max, z-score, HU <-> attenuation), histogram equalisation and CLAHE.
 * All functions are pure (new volumes out, inputs untouched) and platform-neutral.
 */
export { INTERPOLATIONS, KEYS_A, keysKernel, type Interpolation } from './interpolation.js';
export {
  resampledGrid, resampleVolume, resampleSlices,
  type GridGeometry, type ResampleTarget, type SliceTarget, type ResampleOptions,
} from './resample.js';
export { resampleToGrid, type ResampleToGridOptions } from './resample-to-grid.js';
export {
  MU_WATER_PER_MM, MU_WATER_ENERGY_KEV, percentiles, percentile, clipIntensity, clipPercentiles,
  normalizeMinMax, normalizeZScore, maskedMoments, huToMu, muToHu,
  type PercentileClipOptions, type MinMaxOptions, type ZScoreOptions, type AttenuationOptions,
} from './intensity.js';
export {
  OUTSIDE_MASK, quantizeLevel, intensityHistogram, equalizeHistogram,
  type OutsideMask, type HistogramEqualizationOptions,
} from './histogram.js';
export { clahe, clipHistogram, type ClaheOptions } from './clahe.js';
export type { Mask } from './validate.js';
// Registration needs elastix (WebAssembly run through Node's filesystem), so it lives in
// src/platform/register.ts and is exported from 'medfield/node'.
