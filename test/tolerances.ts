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

// --- optim (checkpoints, schedules, clipping) ---
/** Schedules evaluated with pow/cos in float64 vs hand-written closed forms: a few ulps, relative. */
export const SCHEDULE_ABS = 1e-12;
/** Global norm after clipping vs maxNorm: the scaled gradients are rounded to float32 (2^-24 relative each), so the norm moves by ~1e-7 relative. */
export const CLIP_NORM_REL = 1e-6;

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

// --- simulate / recon CLI ---
/** FDK of the 32^3 ct-50 Shepp-Logan (48^2 detector, noisy, 50 views over 180 deg) vs gt, data range 1: measured 23.4 dB. */
export const CLI_FDK_MIN_PSNR_DB = 18;
/** SART (3 epochs) must beat FDK on that protocol (limited arc + noise): measured +4.2 dB. */
export const CLI_SART_OVER_FDK_DB = 2;
/** SIRT (30), CGLS (10), OS-SART (5 epochs) must each beat FDK on that protocol: measured +1.0, +0.9, +0.6 dB. */
export const CLI_ITERATIVE_OVER_FDK_DB = 0.25;

// --- engine ---
/** Float64 central differences (h = 1e-6) of smooth kernels vs analytic gradients: truncation ~h^2, rounding ~1e-16/h. */
export const ENGINE_FD64_REL = 1e-6;
/** Float32 kernels (inline JS, WASM SIMD, threaded) vs the float64 reference path: sums of <= ~100 products of O(1) values. */
export const ENGINE_F32_ABS = 2e-5;
/** Whole-stack float32 finite differences (h = 1e-2 on a smooth softplus stack, loss in float64): relative to the gradient's max-norm. */
export const ENGINE_FD32_REL = 2e-2;
/** views-72 with fit 'foreground': fraction of view 0's columns the Shepp-Logan covers (measured 0.94; with --fit fov 0.56). */
export const VIEWS_FOREGROUND_MIN_WIDTH = 0.75;


// --- fdk-wasm ---
/**
 * WebAssembly SIMD back-projection (Float32 inner arithmetic) vs the Float64 TypeScript
 * reference, max abs difference / max |reference|: row coordinates r0 - k dr rounded to Float32
 * (ulp of ~300 rows is 3e-5 row) and Float32 weights give ~5e-6 measured; 3e-5 leaves margin
 * while still failing on any indexing or weighting error (those are >= 1e-2).
 */
export const FDK_WASM_VS_JS_REL = 3e-5;

// --- attenuation field ---
/** Float32 field + float64 loss, central differences with h = 1e-2 on the parameters: relative to the tensor's largest gradient (dense grids are linear in their tables, so only rounding remains; the softplus MLP adds O(h^2)). */
export const ATTEN_FD_REL = 2e-2;
/** 20 steps of the dense preset (512 rays, Adam 1e-2) on the 24^3 Shepp-Logan: the render MSE on the training views must at least halve. */
export const ATTEN_LOSS_DROP = 0.5;
/** Warm-start copy of the ground truth then sampleGrid at the voxel centres: mu / muScale * muScale in float32. */
export const ATTEN_COPY_ABS = 1e-5;
/**
 * renderViews (trilinear field, midpoint rule at half-voxel steps) vs Siddon (piecewise-constant
 * voxels) of the same grid, smooth blob (sigma ~3.6 voxels), relative L2: a discretisation
 * difference, measured 0.6-1.6% cone, 5-7.5% parallel (its pixels sample the blob's peak at
 * other offsets; linear interpolation under-estimates a concave peak). A constant volume agrees exactly.
 */
export const ATTEN_RENDER_VS_SIDDON_REL = 0.1;
/** renderViews vs the src/physics trilinear ray-march projector (same interpolation, same half-voxel step): measured 4e-8 to 8e-8. */
export const ATTEN_RENDER_VS_TRILINEAR_REL = 1e-5;

// --- radiance field / volume rendering ---
/** Float64 central differences (h = 1e-6) of the EA compositing vs its analytic backward: truncation ~h^2, rounding ~1e-16/h. */
export const RENDER_FD64_REL = 1e-6;
/** Tiny radiance task (hash-small, 24^3 Shepp-Logan, 32^2 views): test-view PSNR gain after 40 steps (measured 17.0 -> 28.1 dB). */
export const RADIANCE_TINY_MIN_GAIN_DB = 5;
/** Same run: the training loss must fall by at least this factor (measured 0.024 -> 0.0015). */
export const RADIANCE_TINY_LOSS_FALL = 4;

// --- trainer ---
/** volume-fit of the 16^3 Shepp-Logan by the tiny hash-grid field after 300 steps of 512 points, data range 1: measured 14.2 dB at init -> 20.8 dB. */
export const TRAIN_FIT_MIN_PSNR_DB = 18;
/** kill -9 + --resume vs an uninterrupted run (1 thread, step-scheduled evaluation): bit-exact by design, measured 0 difference. */
export const TRAIN_RESUME_LOSS_REL = 1e-6;
/** Test-view PSNR of the tiny 16^3 noiseless ct-50 dataset after 200 volume-fit steps (data range: max train view; measured 31.7 dB; the same field rendered 0.5 rad off gives 24.8 dB, 90 deg off 21.4 dB: the phantom is nearly round). */
export const TRAIN_TINY_VIEW_MIN_PSNR_DB = 28;

// --- demo ---
/** `medfield demo` at 24^3 / 20 views / 40 steps: FDK, SART (2 epochs) and the neural field each measured 21.5-22.7 dB (data range 1). */
export const DEMO_MIN_PSNR_DB = 18;

/** Warm start by regression (hash grid 4 levels + MLP 16, 150 Adam steps of 2048 voxel centres) on the 12^3 blob: squared error / variance of the volume: measured 4e-5. */
export const ATTEN_WARM_REGRESSION_REL = 1e-3;

// --- warm starts through `medfield train --warm` ---
/** 3D PSNR gain of a SART warm start over none after 3 steps on the tiny X-ray dataset (measured 16.1 vs 13.6 dB). */
export const TRAIN_WARM_SART_GAIN_DB = 1;
/** Every preset: training-view render MSE after 30 steps below this fraction of the start (measured 0.007-0.31; radiance dense 0.83). */
export const PRESET_LEARN_MSE_FALL = 0.9;

// --- svr (simulation, naive fusion) ---
/** Linear ground truth: trilinear interpolation and any symmetric PSF reproduce it exactly; float32 storage of values ~50 leaves ~1e-5. */
export const SVR_LINEAR_ABS = 1e-3;
/** Through-plane PSF variance vs sigma^2 of FWHM = thickness: +-3 sigma truncation (-2.7%) and node spacing; measured within 3%. */
export const SVR_PSF_VARIANCE_REL = 0.05;
/** Noise std / Rayleigh mean from 20,000 samples: standard error ~0.5%, so 3% is > 5 standard errors. */
export const SVR_NOISE_STD_REL = 0.03;
/** Naive fusion of a constant: float32 sums and weights, relative rounding ~1e-6. */
export const SVR_CONSTANT_REL = 1e-5;

// --- svr-inr ---
/** INR SVR gradients vs central differences of the float32 field's batch loss (motion, slice scale/variance), relative to the largest component: the piecewise-trilinear hash grid makes some PSF samples cross cell faces within the step. */
export const SVR_INR_FD_REL = 3e-2;
/** Zero-motion fit of the 32^3 / 2 mm textured phantom from 3 stacks of 2 mm pixels / 4 mm slices (fast preset): PSNR in the mask, data range = max in the mask; measured 23.2 dB. */
export const SVR_INR_ZERO_MOTION_MIN_PSNR_DB = 22;
/** Same run: INR minus naive fusion (mean of the trilinearly resampled stacks); measured +0.86 dB (2-mm pixels leave little to super-resolve at 2 mm). */
export const SVR_INR_ZERO_MOTION_MIN_GAIN_DB = 0.5;
/** 3 deg / 2 mm per-slice motion on a 48^3 / 2 mm textured phantom (fast preset): mean slice-centre translation error after correction (gauge-aligned); measured 0.55 mm, no correction 0.92 mm. */
export const SVR_INR_MOTION_MAX_MM = 0.7;
/** Same run: mean rotation error; measured 1.16 deg, no correction 1.50 deg (tilts of thick slices with 2-mm pixels are weakly determined by three stacks; see docs/svr-inr.md). The test also requires it to fall. */
export const SVR_INR_MOTION_MAX_DEG = 1.35;
/** Same run: PSNR with motion correction minus PSNR of the same fit with motion disabled; measured +0.74 dB. */
export const SVR_INR_MOTION_MIN_GAIN_DB = 0.4;
/** A corrupted slice's fitted std over the median of the other inner slices of its stack; measured 17x. */
export const SVR_INR_OUTLIER_STD_RATIO = 3;
/** Simulated vs acquired slices, relative RMS over a stack (noise 1% of max + model misfit at edges); measured 0.034. */
export const SVR_INR_SIMULATED_REL_RMS = 0.06;

// --- svr through the CLI (test/svr/inr-cli.test.ts) ---
/** simulate -> svr --method inr --preset fast on a 48^3 brain phantom at 2 mm (3 deg / 3 mm motion): mean translation error bound, mm (measured 0.61 mm / 0.76 deg against 2.17 mm / 1.52 deg uncorrected). */
export const SVR_CLI_INR_MOTION_MAX_MM = 1;
/** The same run: PSNR gain over naive fusion inside the mask, dB (measured 21.10 vs 16.88). */
export const SVR_CLI_INR_MIN_GAIN_DB = 1;

/** The zero-motion phantom reconstructed on a 16^3 / 4 mm grid over the same box vs the phantom block-averaged 2x2x2 (the data's 2 mm pixels determine a 4 mm volume well); measured 33.8 dB. */
export const SVR_INR_COARSE_GRID_MIN_PSNR_DB = 30;
