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

// --- xdata ---
/**
 * Monte-Carlo checks of the noise model use this many standard errors as the bound: a correct
 * sampler fails about once in 16,000 runs per check; a biased one (e.g. missing the electronic
 * noise term, +16 % variance at I0 = 1e3) is off by tens of standard errors.
 */
export const NOISE_STAT_SIGMAS = 4;
/** Relative bound on a sample variance from n = 2e5 draws (standard error sqrt(2/n) = 0.32 %, so ~6 SE). */
export const NOISE_VAR_REL = 0.02;
/** Zero-noise limit (I0 = 1e15, sigma 0): float32 rounding of line integrals <= 4 plus ~1e-7 noise. */
export const NOISE_ZERO_LIMIT_ABS = 1e-5;
/** Flat/dark correction vs hand values: float32 rounding of -log of ratios near 1. */
export const FLAT_DARK_ABS = 1e-6;
/** Values read from .mat/.h5 vs values written/known (float64 -> float32 where the reader converts). */
export const XDATA_READ_ABS = 1e-6;
/** Rotation-centre estimate on a synthetic sinogram with a known axis: a tenth of a pixel. */
export const ROTATION_CENTRE_PX = 0.1;
