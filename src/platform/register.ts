/**
 * Rigid / affine registration of two volumes with elastix (@itk-wasm/elastix), single-threaded
 * wasm on the CPU.
 *
 * Frames: volumes are RAS+ mm; elastix works in ITK's LPS. Images cross the boundary through
 * io/itk-image.ts, and the found transform is converted back with F = diag(-1, -1, 1):
 * M_RAS = F * M_LPS * F. Like elastix, the transform maps **fixed** world points to **moving**
 * world points (it is the pull-back used to resample the moving image onto the fixed grid).
 */
import type { Image, JsonCompatible } from 'itk-wasm';
import { elastixNode } from '@itk-wasm/elastix';
import { MedfieldError } from '../core/errors.js';
import { voxelCount, type Volume } from '../core/volume.js';
import { itkImageToVolume, volumeToItkImage } from '../io/itk-image.js';
import { writeFileAtomic } from './fs.js';
import { runItkQuietly } from './itk-io.js';

export const REGISTRATION_TRANSFORMS = ['rigid', 'affine'] as const;
export type RegistrationTransform = (typeof REGISTRATION_TRANSFORMS)[number];
export const REGISTRATION_METRICS = ['mattes', 'ncc', 'mse'] as const;
/** mattes: Mattes mutual information (any contrast pair); ncc: normalised cross-correlation
 *  (same contrast, linear intensity change); mse: mean squared difference (same intensities). */
export type RegistrationMetric = (typeof REGISTRATION_METRICS)[number];

export interface RegisterOptions {
  transform: RegistrationTransform;
  /** Optimiser iterations per resolution (elastix MaximumNumberOfIterations). Default 256. */
  iterations?: number;
  /** Pyramid levels (elastix NumberOfResolutions). Default 3. */
  resolutions?: number;
  /** Similarity metric. Default 'mattes'. */
  metric?: RegistrationMetric;
  /** Seed of elastix's random sampler, for repeatable results. Default 121212. */
  seed?: number;
  /** Random samples per iteration (elastix NumberOfSpatialSamples). Default 2048. */
  samples?: number;
  /** B-spline order used to resample the result (0 nearest, 1 linear, 3 cubic). Default 3. */
  resampleOrder?: 0 | 1 | 3;
}

export interface RegistrationTransformResult {
  kind: RegistrationTransform;
  /** elastix TransformParameters as found, in elastix's (LPS) frame: rigid = Euler angles
   *  [rx, ry, rz] (rad) then translation [tx, ty, tz] (mm); affine = 3x3 matrix row-major then
   *  translation (mm); both about `centerLpsMm`. */
  parameters: number[];
  /** elastix CenterOfRotationPoint (LPS mm). */
  centerLpsMm: number[];
  /** 4x4 row-major matrix mapping fixed RAS mm -> moving RAS mm. */
  fixedToMovingRas: Float64Array;
  /** The transform as an elastix TransformParameters file (usable with transformix). */
  elastixText: string;
}

export interface RegistrationResult {
  /** The moving volume resampled onto the fixed grid (Float32, fixed geometry). */
  registered: Volume<Float32Array>;
  transform: RegistrationTransformResult;
  /** Wall time of the elastix run (s). */
  seconds: number;
}

const METRIC_NAMES: Record<RegistrationMetric, string> = {
  mattes: 'AdvancedMattesMutualInformation', ncc: 'AdvancedNormalizedCorrelation', mse: 'AdvancedMeanSquares',
};

type ParameterMap = Record<string, string[]>;

function parameterMap(opts: RegisterOptions): ParameterMap {
  const s = (x: number | string): string[] => [String(x)];
  // elastix's default rigid/affine maps (defaultParameterMap) with medfield's knobs set; built
  // here rather than fetched, which would cost one more wasm instantiation.
  return {
    Registration: s('MultiResolutionRegistration'),
    FixedImagePyramid: s('FixedSmoothingImagePyramid'), MovingImagePyramid: s('MovingSmoothingImagePyramid'),
    Interpolator: s('LinearInterpolator'), ResampleInterpolator: s('FinalBSplineInterpolator'),
    FinalBSplineInterpolationOrder: s(opts.resampleOrder ?? 3), Resampler: s('DefaultResampler'),
    Metric: s(METRIC_NAMES[opts.metric ?? 'mattes']), Optimizer: s('AdaptiveStochasticGradientDescent'),
    Transform: s(opts.transform === 'rigid' ? 'EulerTransform' : 'AffineTransform'),
    AutomaticParameterEstimation: s('true'), AutomaticScalesEstimation: s('true'),
    ImageSampler: s('RandomCoordinate'), NewSamplesEveryIteration: s('true'), CheckNumberOfSamples: s('true'),
    NumberOfSpatialSamples: s(opts.samples ?? 2048), MaximumNumberOfSamplingAttempts: s(8),
    NumberOfSamplesForExactGradient: s(4096), NumberOfResolutions: s(opts.resolutions ?? 3),
    MaximumNumberOfIterations: s(opts.iterations ?? 256), RandomSeed: s(opts.seed ?? 121212),
    HowToCombineTransforms: s('Compose'), DefaultPixelValue: s(0), WriteResultImage: s('true'),
    ResultImagePixelType: s('float'), ResultImageFormat: s('nii'), WriteIterationInfo: s('false'),
  };
}

function toFloat32Volume(v: Volume, name: string): Image {
  const f = v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>);
  return volumeToItkImage({ ...v, data: f }, name);
}

/** Formats one elastix parameter map as a parameter file: `(Key value ...)`, strings quoted. */
export function formatElastixParameterMap(map: Record<string, unknown>): string {
  const lines: string[] = [];
  for (const [key, raw] of Object.entries(map)) {
    const values = (Array.isArray(raw) ? raw : [raw]).map(String);
    const fmt = values.map((v) => (v !== '' && Number.isFinite(Number(v)) ? v : `"${v.replace(/"/g, '\\"')}"`));
    lines.push(`(${key} ${fmt.join(' ')})`);
  }
  return lines.join('\n') + '\n';
}

function numbers(map: Record<string, unknown>, key: string): number[] {
  const raw = map[key];
  const v = (Array.isArray(raw) ? raw : [raw]).map(Number);
  if (raw === undefined || !v.every(Number.isFinite)) throw new MedfieldError('bad-data', key, `elastix returned no usable ${key}`);
  return v;
}

/** Row-major 3x3 product. */
function mul3(a: number[], b: number[]): number[] {
  const o = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) o[r * 3 + c] += a[r * 3 + k] * b[k * 3 + c];
  return o;
}

/**
 * The fixed->moving map in LPS as (A, offset), x' = A x + offset, from elastix parameters.
 * Euler: ITK Euler3DTransform with ComputeZYX false composes R = Rz * Rx * Ry; both kinds act
 * as x' = A (x - c) + c + t about the centre of rotation c.
 */
function lpsMatrix(kind: RegistrationTransform, p: number[], c: number[], zyx: boolean): { a: number[]; offset: number[] } {
  let a: number[], t: number[];
  if (kind === 'rigid') {
    const [rx, ry, rz] = p;
    const cx = Math.cos(rx), sx = Math.sin(rx), cy = Math.cos(ry), sy = Math.sin(ry), cz = Math.cos(rz), sz = Math.sin(rz);
    const Rx = [1, 0, 0, 0, cx, -sx, 0, sx, cx], Ry = [cy, 0, sy, 0, 1, 0, -sy, 0, cy], Rz = [cz, -sz, 0, sz, cz, 0, 0, 0, 1];
    a = zyx ? mul3(Rz, mul3(Ry, Rx)) : mul3(Rz, mul3(Rx, Ry));
    t = p.slice(3, 6);
  } else {
    a = p.slice(0, 9);
    t = p.slice(9, 12);
  }
  const offset = [0, 1, 2].map((r) => t[r] + c[r] - (a[r * 3] * c[0] + a[r * 3 + 1] * c[1] + a[r * 3 + 2] * c[2]));
  return { a, offset };
}

/** M_RAS = F M_LPS F with F = diag(-1,-1,1,1): entries whose row and column differ in "flipped-ness" change sign. */
function lpsToRas4(a: number[], offset: number[]): Float64Array {
  const f = [-1, -1, 1];
  const m = new Float64Array(16);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) m[r * 4 + c] = f[r] * a[r * 3 + c] * f[c];
    m[r * 4 + 3] = f[r] * offset[r];
  }
  m[15] = 1;
  return m;
}

/**
 * Registers `moving` to `fixed` (rigid or affine) with elastix and resamples `moving` onto the
 * fixed grid. Both volumes must be 3D; any dtype (converted to Float32 for elastix).
 * @throws MedfieldError 'bad-option' for bad options, 'bad-data' when elastix fails (e.g. images
 *   too small for the number of resolutions, or no overlap).
 */
export async function registerVolumes(fixed: Volume, moving: Volume, opts: RegisterOptions): Promise<RegistrationResult> {
  if (!REGISTRATION_TRANSFORMS.includes(opts.transform)) {
    throw new MedfieldError('bad-option', 'transform', `"${String(opts.transform)}"; expected one of ${REGISTRATION_TRANSFORMS.join(', ')}`);
  }
  if (opts.metric !== undefined && !REGISTRATION_METRICS.includes(opts.metric)) {
    throw new MedfieldError('bad-option', 'metric', `"${String(opts.metric)}"; expected one of ${REGISTRATION_METRICS.join(', ')}`);
  }
  for (const [k, v, lo] of [['iterations', opts.iterations, 1], ['resolutions', opts.resolutions, 1], ['samples', opts.samples, 16]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < lo)) throw new MedfieldError('bad-option', k, `must be an integer >= ${lo}, got ${v}`);
  }
  for (const [name, v] of [['fixed', fixed], ['moving', moving]] as const) {
    if ('frames' in v && (v as { frames: number }).frames > 1) throw new MedfieldError('bad-data', name, 'registration needs a 3D volume, got a series');
    if (v.data.length !== voxelCount(v.dims)) throw new MedfieldError('bad-data', name, 'data length does not match dims');
  }
  const start = performance.now();
  let out;
  try {
    out = await runItkQuietly(() => elastixNode([parameterMap(opts)] as JsonCompatible, {
      fixed: toFloat32Volume(fixed, 'fixed'), moving: toFloat32Volume(moving, 'moving'),
    }));
  } catch (e) {
    throw new MedfieldError('bad-data', 'registration', `elastix failed (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const seconds = (performance.now() - start) / 1000;
  const maps = out.transformParameterObject as unknown as Record<string, unknown>[];
  if (!Array.isArray(maps) || maps.length === 0 || !out.result) throw new MedfieldError('bad-data', 'registration', 'elastix returned no transform');
  const map = maps[maps.length - 1];
  const parameters = numbers(map, 'TransformParameters');
  const centerLpsMm = numbers(map, 'CenterOfRotationPoint');
  const zyx = String((Array.isArray(map.ComputeZYX) ? map.ComputeZYX[0] : map.ComputeZYX) ?? 'false') === 'true';
  const { a, offset } = lpsMatrix(opts.transform, parameters, centerLpsMm, zyx);
  const reg = itkImageToVolume(out.result, 'registered');
  if (reg.dims.some((d, i) => d !== fixed.dims[i])) throw new MedfieldError('bad-data', 'registration', `elastix result has dims ${reg.dims.join('x')}, fixed has ${fixed.dims.join('x')}`);
  const data = reg.data instanceof Float32Array ? reg.data : Float32Array.from(reg.data as ArrayLike<number>);
  return {
    // Elastix writes the result on the fixed grid; keep the fixed geometry bit-exact.
    registered: { data, dims: [...fixed.dims], spacingMm: [...fixed.spacingMm], originMm: [...fixed.originMm], direction: new Float64Array(fixed.direction) },
    transform: {
      kind: opts.transform, parameters, centerLpsMm, fixedToMovingRas: lpsToRas4(a, offset),
      elastixText: formatElastixParameterMap(map),
    },
    seconds,
  };
}

/** Writes the elastix TransformParameters text of a registration (atomically). */
export async function writeTransform(file: string, result: Pick<RegistrationResult, 'transform'>): Promise<void> {
  await writeFileAtomic(file, result.transform.elastixText);
}
