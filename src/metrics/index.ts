/**
 * Image-quality and segmentation metrics: pure functions over typed arrays (no node:* imports),
 * checked against scikit-image / scipy references (scripts/metrics-reference.py).
 */
export { mse, rmse, mae, psnr, type ErrorMetricOptions, type PsnrOptions } from './psnr.js';
export { ncc } from './ncc.js';
export { ssim2d, ssim3d, type SsimOptions } from './ssim.js';
export { sliceSsim, meanSliceSsim, type SliceSsimOptions, type VoxelAxis } from './ssim-slices.js';
export { gaussianTaps } from './ssim-core.js';
export { dice, dicePerLabel, meanDice, type LabelDice } from './dice.js';
export {
  normalizedSurfaceDice, surfaceDiceCounts, surfaceVoxels,
  type SurfaceDiceOptions, type SurfaceDiceResult,
} from './surface-dice.js';
export { distanceMm, squaredDistanceMm } from './edt.js';
export type { MetricMask } from './validate.js';
