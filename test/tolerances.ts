/**
 * Every numeric tolerance used by the tests, in one place (GUIDE.md section 3). Each says why.
 * Helpers: add entries under your section only.
 */

// --- io ---
/** NIfTI round trips must be bit-exact. */
export const NIFTI_ROUNDTRIP_ABS = 0;
/** Geometry read by ITK vs our reader: float32 header fields -> about 1e-5 mm. */
export const GEOMETRY_MM = 1e-4;

// --- metrics ---
/** SSIM/PSNR vs scikit-image reference values (issue 2: 1e-4). */
export const SKIMAGE_METRIC_ABS = 1e-4;

// --- phantom ---
/** Analytic Shepp-Logan line integral self-consistency (closed form vs numeric quadrature). */
export const LINE_INTEGRAL_REL = 1e-6;
/** Closed-form chord vs a hand-computed chord (sphere, axis-aligned ray): float64 rounding only. */
export const PHANTOM_EXACT_REL = 1e-12;
/** Sums of about ten table densities in float64 (e.g. 1 - 0.8 = 0.19999999999999996). */
export const PHANTOM_TABLE_SUM_ABS = 1e-12;
/** A voxelised (Float32) value vs its float64 table sum: half an ulp of values <= 1 is 6e-8. */
export const PHANTOM_FLOAT32_ABS = 1e-7;
/** Supersampled (s=4) voxel mass vs the analytic sum of density x ellipsoid volume at 32^3. */
export const PHANTOM_MASS_REL = 0.01;
/** Noise statistics over >= 10^5 background voxels (standard error ~0.2 %; 3 % is far outside chance). */
export const PHANTOM_NOISE_STAT_REL = 0.03;

// --- preprocess ---
/** Resampling an exactly representable signal (e.g. linear ramp with trilinear). */
export const RESAMPLE_EXACT_ABS = 1e-5;
/** Float32 output of an exactly representable polynomial (Keys cubic reproduces quadratics): a few ulps of values <= ~50. */
export const RESAMPLE_POLY_ABS = 5e-5;
/** Cubic upsample x2 then downsample back, smooth signal (Gaussian, sigma 4 voxels): max error / peak (measured 2.9e-4; trilinear gives 2.3e-2). */
export const RESAMPLE_ROUNDTRIP_REL = 1e-3;
/** Histogram equalisation of a uniform ramp is the identity up to round() in T(r_k): 1 grey level. */
export const HISTEQ_IDENTITY_LEVELS = 1;
/** Equalised CDF at every attained output level t: |(L-1) F(t) - t| <= half a level (round() in T), plus float slack. */
export const HISTEQ_CDF_LEVELS = 0.5 + 1e-9;

// --- engine ---
/** Float64 central differences (h = 1e-6) of smooth kernels vs analytic gradients: truncation ~h^2, rounding ~1e-16/h. */
export const ENGINE_FD64_REL = 1e-6;
/** Float32 kernels (inline JS, WASM SIMD, threaded) vs the float64 reference path: sums of <= ~100 products of O(1) values. */
export const ENGINE_F32_ABS = 2e-5;
/** Whole-stack float32 finite differences (h = 1e-2 on a smooth softplus stack, loss in float64): relative to the gradient's max-norm. */
export const ENGINE_FD32_REL = 2e-2;
