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

// --- preprocess ---
/** Resampling an exactly representable signal (e.g. linear ramp with trilinear). */
export const RESAMPLE_EXACT_ABS = 1e-5;
