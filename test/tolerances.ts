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

// --- recon ---
/** Band-limited spatial ramp vs the ideal |f| at mid frequencies: the truncation to N taps shifts it by ~1/(pi^2 N); 1 % covers N = 128. */
export const RAMP_MIDBAND_REL = 0.01;
/** FDK of the analytic Shepp-Logan (modified, range [0, 1]) 64^3, 100 views, whole volume vs the supersampled voxelisation: edges of the 1.0 skull dominate the error (measured 28.1 dB; 2 dB margin for platform float differences, a wrong orientation or scale loses > 10 dB). */
export const FDK_SHEPP_PSNR_DB = 26;
/** Same, central 16 slices (cone angle small: FDK near exact, only sampling/edge error; measured 26.3 dB). */
export const FDK_SHEPP_CENTRAL_PSNR_DB = 24;
/** Parker short scan (180 deg + fan, 80 views), central 16 slices (measured 26.5 dB; 23.0 dB without Parker weights). */
export const FDK_PARKER_CENTRAL_PSNR_DB = 24.5;
/** Mean of a reconstructed uniform sphere vs its attenuation: quadrature + filter DC errors (issue: ~1 %; measured 0.15 %). */
export const FDK_UNIFORM_REL = 0.01;
/** Centroid of a reconstructed off-centre sphere vs its centre, mm (voxels are 2 mm; a sign error in an offset moves it by >= 4 mm). */
export const FDK_CENTROID_MM = 0.2;
/** Parallel-beam FBP of Shepp-Logan 64x64x16, 120 views over 180 deg (measured 26.5 dB). */
export const FBP_PARALLEL_PSNR_DB = 24.5;
/** Fan-beam FBP of the central Shepp-Logan slice 64^2, 180 views over 360 deg (measured 28.3 dB). */
export const FBP_FAN_PSNR_DB = 26;
/** <Ax, y> vs <x, A^T y> for the test matrix operator: Float32 inputs/outputs, Float64 sums. */
export const ADJOINT_REL = 1e-5;
/** Slack on "monotonically decreasing" residuals: Float32 volumes round at ~6e-8 relative. */
export const MONOTONE_SLACK = 1e-6;
/** SIRT after 400 iterations on a consistent, overdetermined 128-unknown problem vs the true object. */
export const SIRT_CONSISTENT_REL = 0.02;
/** OS-SART (6 subsets, lambda 1) after 200 epochs on the same kind of problem. */
export const SART_CONSISTENT_REL = 0.01;
/** CGLS after 60 iterations vs the Cholesky least-squares solution (128 unknowns, Float32 operator I/O; measured 2e-7). */
export const CGLS_DIRECT_REL = 1e-5;
