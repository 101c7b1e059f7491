/**
 * Slice-to-volume reconstruction (SVR): simulated acquisitions, the reconstruction grid, the
 * naive-fusion baseline, the INR reconstruction (svrInr) and the metrics they are scored with.
 * Frames: src/geometry/slice-stack.ts.
 */
export {
  STACK_ORIENTATIONS, ORIENTATION_DIRECTIONS, MOTION_DISTRIBUTIONS, NOISE_MODELS,
  simulateSvr, resolveSvrSimulationOptions, acquireStack, addSliceNoise, drawSliceMotion, stackGrid, volumeBoundsMm,
  psfAxisNodes, defaultPsfNodes, trilinearOrZero,
  type StackOrientation, type MotionDistribution, type NoiseModel, type SvrSimulationOptions,
  type ResolvedSvrSimulationOptions, type SvrSimulation,
} from './simulate.js';
export { svrGrid, stacksBox, maskOnGrid, SVR_GRID_FRAMES, type SvrGridFrame, type SvrGridOptions } from './grid.js';
export { naiveFusion, NAIVE_FOOTPRINTS, type NaiveFootprint, type NaiveFusionOptions, type NaiveFusionResult } from './naive.js';
export { brainMask, maskedQuality, motionError, type BrainMaskOptions, type MaskedQuality, type MotionError } from './mask.js';
export { svrInr, robustIntensityScale, type SvrInrResult, type SvrInrOptions, type SvrInrConfigArg } from './inr.js';
export { resolveSvrInrConfig, svrInrConfigSchema, SVR_INR_PRESETS, type SvrInrConfig, type SvrInrConfigInput, type SvrInrPreset } from './inr-config.js';
export { leftJacobian, stackToSliceMotion, removeMeanMotion, rotationDistanceRad } from './motion.js';
export { gaussHermitePsfRule, type PsfRule } from './psf-sampling.js';
