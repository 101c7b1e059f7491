/**
 * Classical CT reconstruction: FFT and ramp filters, FDK / FBP (filtered back-projection), and
 * iterative solvers (SIRT, OS-SART / SART, CGLS, ASD-POCS-style TV) against a ProjectionOperator.
 * See docs/reconstruction.md. The threaded FDK lives in src/platform/recon-pool.ts (worker_threads).
 */
export { type FftPlan, createFftPlan, fftInPlace, realFft, convolveRealPair, isPowerOfTwo, nextPowerOfTwo } from './fft.js';
export {
  FILTER_WINDOWS, type FilterWindow, type RampFilterOptions, type RampFilter,
  checkRampFilterOptions, windowValue, rampKernel, createRampFilter, filterRows,
} from './filters.js';
export {
  type FdkOptions, type FdkPlan, type FilterScratch,
  fdk, fbp, planFdk, filteredViewSize, createFilterScratch,
  filterProjections, backprojectSlab, reconstructFiltered,
} from './fdk.js';
export { type ScanQuadrature, scanQuadrature, parkerWeight } from './scan-weights.js';
export {
  type IterationCallback, type TvStepOptions, type SirtOptions, type OsSartOptions, type CglsOptions,
  type IterativeResult, type TvDenoiseOptions,
  sirt, osSart, sart, cgls, orderedSubsets, totalVariation, tvDenoiseSteps,
} from './iterative.js';
export { wasmSimdAvailable, backprojectSlabWasm, wasmFdkLayout, createWasmFdkMemory, type FdkRegion, type WasmFdkLayout } from './fdk-wasm.js';
export { checkBackprojector } from './fdk.js';
