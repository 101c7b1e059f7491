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

// --- projectors ---
/**
 * Adjoint identity <A x, y> = <x, A^T y> (both sums in Float64), relative to sum |(A x)_i y_i|
 * (the rounding scale of the sums): A x is stored as Float32 and A^T y accumulates in a Float32
 * volume, so the sides differ by float32 rounding; measured 3e-9 .. 3e-8. A weight 1 % off on a
 * single voxel of the ~1000-voxel test grids already gives ~1e-5 (checked by mutation).
 */
export const PROJ_ADJOINT_REL = 1e-6;
/**
 * Siddon projection of Shepp-Logan voxelised at 64^3 (supersample 4, fov 256 mm) vs the analytic
 * line integrals: relative L2 over 6 views x 48x40 rays. Measured 0.078 (cone) and 0.084
 * (parallel); the error is the voxelisation itself (the 3.5 mm skull shell at 4 mm voxels), not
 * the projector, and halves with the voxel size (0.038 / 0.049 at 128^3).
 */
export const SL_SIDDON_REL_L2_64 = 0.1;
/** Error at 64^3 over error at 32^3: measured 0.57 (cone) and 0.56 (parallel); first order would be 0.5. */
export const SL_CONVERGENCE_RATIO = 0.7;
/**
 * Chord through the centre of a uniform ball (R = 40 mm) voxelised at 63^3 (2 mm voxels,
 * supersample 8): only the boundary voxels carry partial-volume error (< 1 voxel x value at each
 * end, far less after supersampling); measured up to 0.23 % (Siddon, oblique rays; 1e-8 along an
 * axis) and 0.055 % (trilinear); bound 0.5 %.
 */
export const BALL_CHORD_REL = 5e-3;
/** Threaded adjoint vs inline adjoint: same weights, different Float32 summation order. */
export const THREADED_ADJOINT_REL = 1e-5;
/** Emission-absorption of a uniform slab vs c (1 - exp(-sigma L)): Float64 compositing of ~100 steps, output Float32. */
export const EA_SLAB_REL = 1e-5;
