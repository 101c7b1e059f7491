/**
 * Simulated slice-to-volume acquisitions (the `svr` protocol of GUIDE.md section 6): a ground-truth
 * volume -> N stacks of thick slices with a random rigid motion per slice, the slice profile (PSF)
 * and noise. Frames and the motion convention are those of src/geometry/slice-stack.ts:
 * x = R(r)(p - c_s) + c_s + t maps the nominal position p of a slice pixel to where the anatomy
 * it images lies in the ground truth's world frame.
 *
 * Per pixel the value is sum_q w_q * gt(x(p + o_q)): the Gaussian PSF of psfSigmasMm integrated by
 * a fixed set of offsets o_q in the slice frame (see psfNodes), gt sampled trilinearly (0 outside
 * its grid). Everything per slice is folded into one affine map pixel -> gt voxel index, so the
 * inner loop is a trilinear fetch per node, with no allocation.
 */
import { MedfieldError } from '../core/errors.js';
import { gaussHermite1d } from './psf-sampling.js';
import { createRng, type Rng } from '../core/rng.js';
import { invert3, type Vec3, type Volume } from '../core/volume.js';
import { psfSigmasMm, rotationMatrix, sliceAffine, sliceCentreMm, type SliceMotion, type SliceStack } from '../geometry/slice-stack.js';

export const STACK_ORIENTATIONS = ['axial', 'coronal', 'sagittal'] as const;
export type StackOrientation = (typeof STACK_ORIENTATIONS)[number];

/**
 * Direction (row-major; column c = world direction of voxel axis c) of each stack orientation.
 * All right-handed: axial i->R j->A k->S; coronal i->R j->S k->P; sagittal i->A j->S k->R.
 */
export const ORIENTATION_DIRECTIONS: Readonly<Record<StackOrientation, readonly number[]>> = {
  axial: [1, 0, 0, 0, 1, 0, 0, 0, 1],
  coronal: [1, 0, 0, 0, 0, -1, 0, 1, 0],
  sagittal: [0, 0, 1, 1, 0, 0, 0, 1, 0],
};

export const MOTION_DISTRIBUTIONS = ['uniform', 'gaussian'] as const;
export type MotionDistribution = (typeof MOTION_DISTRIBUTIONS)[number];
export const NOISE_MODELS = ['rician', 'gaussian'] as const;
export type NoiseModel = (typeof NOISE_MODELS)[number];

/** Options of {@link simulateSvr}; every field has a default. */
export interface SvrSimulationOptions {
  /** Number of stacks (default 3). Stack s is axial/coronal/sagittal for s mod 3; repeats are shifted through the plane by a fraction of the slice spacing. */
  stacks?: number;
  /** In-plane pixel size, mm (default 1). */
  inPlaneMm?: number;
  /** Slice spacing centre to centre, mm (default 4). */
  sliceSpacingMm?: number;
  /** Slice thickness (PSF FWHM through the plane), mm (default = slice spacing). */
  sliceThicknessMm?: number;
  /** Largest rotation of a slice, degrees (default 5; 0 = none). */
  maxRotationDeg?: number;
  /** Largest translation of a slice, mm (default 5; 0 = none). */
  maxTranslationMm?: number;
  /**
   * 'uniform' (default): rotation axis uniform on the sphere and angle uniform in [0, max];
   * translation uniform in the ball of radius max. 'gaussian': each of the three components
   * N(0, (max / 3)^2), the vector then shortened to length max if longer.
   */
  motion?: MotionDistribution;
  /** Noise standard deviation as a fraction of the ground truth's maximum (default 0.02; 0 = none). */
  noise?: number;
  /** 'rician' (default; magnitude of complex Gaussian noise, as MR magnitude images) or 'gaussian' (additive). */
  noiseModel?: NoiseModel;
  /** Seed of the motion and the noise (default 1). */
  seed?: number;
  /**
   * PSF nodes per slice-frame axis [i, j, through-plane] (odd). 1, 3, 5 = Gauss-Hermite rules
   * (src/svr/psf-sampling.ts; 3 nodes: offsets 0, +-sqrt(3) sigma, weights 2/3, 1/6, 1/6, the
   * Gaussian's variance exactly); >= 7 = evenly spaced over +-3 sigma with Gaussian weights. Default in-plane 1 when that sigma is at
   * most h / 2, else 3; through-plane 2 ceil(3 sigma / h) + 1; h = the ground truth's smallest
   * spacing (so [1, 1, 13] for 1 mm pixels and 4 mm slices from a 1 mm volume).
   */
  psfNodes?: readonly [number, number, number];
  /** Called after each stack with (stacks done, stacks total). */
  onProgress?: (done: number, total: number) => void;
}

export interface ResolvedSvrSimulationOptions {
  stacks: number; inPlaneMm: number; sliceSpacingMm: number; sliceThicknessMm: number;
  maxRotationDeg: number; maxTranslationMm: number; motion: MotionDistribution;
  noise: number; noiseModel: NoiseModel; seed: number;
}

/** The simulated acquisition. */
export interface SvrSimulation {
  stacks: SliceStack[];
  /** True motion per stack (Float64Array(6 * slices), see slice-stack.ts). */
  motions: SliceMotion[];
  orientations: StackOrientation[];
  /** PSF nodes used [i, j, through-plane]. */
  psfNodes: [number, number, number];
  /** Absolute noise standard deviation (intensity units). */
  noiseSigma: number;
  options: ResolvedSvrSimulationOptions;
}

function positive(name: string, v: number, allowZero = false): number {
  if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new MedfieldError('bad-option', name, `expected a finite ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`);
  }
  return v;
}

/** Fills in the defaults and checks every option. */
export function resolveSvrSimulationOptions(o: SvrSimulationOptions = {}): ResolvedSvrSimulationOptions {
  const stacks = o.stacks ?? 3;
  if (!Number.isInteger(stacks) || stacks < 1 || stacks > 64) throw new MedfieldError('bad-option', 'stacks', `expected an integer in [1, 64], got ${stacks}`);
  const sliceSpacingMm = positive('sliceSpacingMm', o.sliceSpacingMm ?? 4);
  const r: ResolvedSvrSimulationOptions = {
    stacks,
    inPlaneMm: positive('inPlaneMm', o.inPlaneMm ?? 1),
    sliceSpacingMm,
    sliceThicknessMm: positive('sliceThicknessMm', o.sliceThicknessMm ?? sliceSpacingMm),
    maxRotationDeg: positive('maxRotationDeg', o.maxRotationDeg ?? 5, true),
    maxTranslationMm: positive('maxTranslationMm', o.maxTranslationMm ?? 5, true),
    motion: o.motion ?? 'uniform',
    noise: positive('noise', o.noise ?? 0.02, true),
    noiseModel: o.noiseModel ?? 'rician',
    seed: o.seed ?? 1,
  };
  if (!MOTION_DISTRIBUTIONS.includes(r.motion)) throw new MedfieldError('bad-option', 'motion', `expected one of ${MOTION_DISTRIBUTIONS.join(', ')}, got ${String(r.motion)}`);
  if (!NOISE_MODELS.includes(r.noiseModel)) throw new MedfieldError('bad-option', 'noiseModel', `expected one of ${NOISE_MODELS.join(', ')}, got ${String(r.noiseModel)}`);
  if (r.maxRotationDeg > 90) throw new MedfieldError('bad-option', 'maxRotationDeg', `expected at most 90 degrees, got ${r.maxRotationDeg}`);
  return r;
}

/** World bounding box [min, max] (mm) of a volume's voxel boxes (indices -0.5 .. n - 0.5). */
export function volumeBoundsMm(v: Volume): { min: Vec3; max: Vec3 } {
  const min: Vec3 = [Infinity, Infinity, Infinity], max: Vec3 = [-Infinity, -Infinity, -Infinity];
  const d = v.direction, s = v.spacingMm, o = v.originMm;
  for (let c = 0; c < 8; c++) {
    const ijk = [c & 1 ? v.dims[0] - 0.5 : -0.5, c & 2 ? v.dims[1] - 0.5 : -0.5, c & 4 ? v.dims[2] - 0.5 : -0.5];
    for (let r = 0; r < 3; r++) {
      const w = o[r]! + d[3 * r]! * s[0] * ijk[0]! + d[3 * r + 1]! * s[1] * ijk[1]! + d[3 * r + 2]! * s[2] * ijk[2]!;
      if (w < min[r]!) min[r] = w;
      if (w > max[r]!) max[r] = w;
    }
  }
  return { min, max };
}

/**
 * An empty stack (zeros) of one orientation covering a world box: pixels of `inPlaneMm`, slices
 * `sliceSpacingMm` apart, centred on the box, shifted through the plane by `shiftFraction` slice spacings.
 */
export function stackGrid(bounds: { min: Vec3; max: Vec3 }, orientation: StackOrientation, inPlaneMm: number, sliceSpacingMm: number, shiftFraction = 0): Volume<Float32Array> {
  const dir = ORIENTATION_DIRECTIONS[orientation];
  const spacingMm: Vec3 = [inPlaneMm, inPlaneMm, sliceSpacingMm];
  const dims: Vec3 = [1, 1, 1];
  const centre: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) centre[r] = (bounds.min[r]! + bounds.max[r]!) / 2;
  for (let c = 0; c < 3; c++) {
    // the stack axes are world axes: find which one voxel axis c runs along
    let a = 0;
    for (let r = 1; r < 3; r++) if (Math.abs(dir[3 * r + c]!) > Math.abs(dir[3 * a + c]!)) a = r;
    dims[c] = Math.max(1, Math.ceil((bounds.max[a]! - bounds.min[a]!) / spacingMm[c]! - 1e-9));
  }
  const originMm: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    let o = centre[r]!;
    for (let c = 0; c < 3; c++) o -= dir[3 * r + c]! * spacingMm[c]! * (dims[c]! - 1) / 2;
    o += dir[3 * r + 2]! * sliceSpacingMm * shiftFraction;
    originMm[r] = o;
  }
  return { data: new Float32Array(dims[0] * dims[1] * dims[2]), dims, spacingMm, originMm, direction: new Float64Array(dir) };
}

/** Offsets (in units of sigma) and weights of the PSF nodes along one axis; see SvrSimulationOptions.psfNodes. */
export function psfAxisNodes(n: number): { offsetsSigma: Float64Array; weights: Float64Array } {
  if (!Number.isInteger(n) || n < 1 || n % 2 === 0 || n > 101) throw new MedfieldError('bad-option', 'psfNodes', `expected an odd integer in [1, 101], got ${n}`);
  // up to 5 nodes: Gauss-Hermite (exact for polynomials of degree < 2n); more: a Gaussian-weighted
  // uniform grid over +-3 sigma
  const gh = gaussHermite1d(n);
  if (gh) return { offsetsSigma: Float64Array.from(gh.nodes), weights: Float64Array.from(gh.weights) };
  const offsetsSigma = new Float64Array(n), weights = new Float64Array(n);
  let sum = 0;
  for (let q = 0; q < n; q++) {
    const o = -3 + (6 * q) / (n - 1);
    offsetsSigma[q] = o;
    weights[q] = Math.exp(-0.5 * o * o);
    sum += weights[q]!;
  }
  for (let q = 0; q < n; q++) weights[q]! /= sum;
  return { offsetsSigma, weights };
}

/** Default node counts for a stack acquired from a volume whose smallest spacing is `hMm`. */
export function defaultPsfNodes(stack: SliceStack, hMm: number): [number, number, number] {
  const sig = psfSigmasMm(stack);
  // An in-plane profile narrower than half a ground-truth voxel is below what the ground truth
  // resolves (trilinear interpolation itself smooths at that scale), so one node suffices there;
  // this keeps 1 mm stacks of a 1 mm volume at 13 fetches per pixel instead of 117.
  const inPlane = (s: number) => (s <= 0.5 * hMm ? 1 : 3);
  return [inPlane(sig[0]), inPlane(sig[1]), Math.min(41, Math.max(3, 2 * Math.ceil((3 * sig[2]) / hMm) + 1))];
}

/**
 * Draws the motion of `slices` slices (Float64Array(6 slices), radians and mm) from `rng`.
 * Two normals per unit direction, so the sequence of draws is fixed for a seed.
 */
export function drawSliceMotion(slices: number, maxRotationDeg: number, maxTranslationMm: number, dist: MotionDistribution, rng: Rng): SliceMotion {
  const m = new Float64Array(6 * slices);
  const maxRot = (maxRotationDeg * Math.PI) / 180;
  const v = [0, 0, 0];
  const draw = (max: number, ball: boolean, off: number) => {
    if (max === 0) { for (let r = 0; r < 3; r++) rng.normal(); rng.next(); return; }
    let n2 = 0;
    for (let r = 0; r < 3; r++) { v[r] = rng.normal(); n2 += v[r]! * v[r]!; }
    const u = rng.next();
    const n = Math.sqrt(n2) || 1;
    let len: number;
    if (dist === 'uniform') len = max * (ball ? Math.cbrt(u) : u);
    else len = Math.min(max, (max / 3) * n);
    for (let r = 0; r < 3; r++) m[off + r] = (v[r]! / n) * len;
  };
  for (let s = 0; s < slices; s++) {
    draw(maxRot, false, 6 * s);
    draw(maxTranslationMm, true, 6 * s + 3);
  }
  return m;
}

/** Inverse of the world -> voxel map of `v`: returns [M (3x3 row-major), b] with ijk = M (x - origin). */
function worldToIndexMatrix(v: Volume): Float64Array {
  const inv = invert3(v.direction);
  const M = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) M[3 * r + c] = inv[3 * r + c]! / v.spacingMm[r]!;
  return M;
}

/**
 * Trilinear value of `data` (dims nx, ny, nz) at continuous voxel index (x, y, z); corners outside
 * the grid count as 0.
 */
export function trilinearOrZero(data: ArrayLike<number>, nx: number, ny: number, nz: number, x: number, y: number, z: number): number {
  const x0 = Math.floor(x), y0 = Math.floor(y), z0 = Math.floor(z);
  const fx = x - x0, fy = y - y0, fz = z - z0;
  const nxy = nx * ny;
  if (x0 >= 0 && y0 >= 0 && z0 >= 0 && x0 < nx - 1 && y0 < ny - 1 && z0 < nz - 1) {
    const b = x0 + nx * y0 + nxy * z0;
    const c00 = data[b]! + fx * (data[b + 1]! - data[b]!);
    const c10 = data[b + nx]! + fx * (data[b + nx + 1]! - data[b + nx]!);
    const c01 = data[b + nxy]! + fx * (data[b + nxy + 1]! - data[b + nxy]!);
    const c11 = data[b + nxy + nx]! + fx * (data[b + nxy + nx + 1]! - data[b + nxy + nx]!);
    const c0 = c00 + fy * (c10 - c00), c1 = c01 + fy * (c11 - c01);
    return c0 + fz * (c1 - c0);
  }
  if (x0 < -1 || y0 < -1 || z0 < -1 || x0 >= nx || y0 >= ny || z0 >= nz) return 0;
  let v = 0;
  for (let c = 0; c < 8; c++) {
    const xi = x0 + (c & 1), yi = y0 + ((c >> 1) & 1), zi = z0 + (c >> 2);
    if (xi < 0 || yi < 0 || zi < 0 || xi >= nx || yi >= ny || zi >= nz) continue;
    const w = (c & 1 ? fx : 1 - fx) * ((c >> 1) & 1 ? fy : 1 - fy) * (c >> 2 ? fz : 1 - fz);
    v += w * data[xi + nx * yi + nxy * zi]!;
  }
  return v;
}

/**
 * Forward model of one stack: fills `stack.volume.data` with the PSF-weighted integral of `gt`
 * over each slice's moved pixel positions (no noise). `motion` = Float64Array(6 * slices) or
 * null for none. This is also how a reconstruction's slices are simulated for comparison.
 */
export function acquireStack(gt: Volume, stack: SliceStack, motion: SliceMotion | null, psfNodes?: readonly [number, number, number]): void {
  const sv = stack.volume;
  const [nx, ny, nz] = sv.dims;
  if (motion && motion.length !== 6 * nz) throw new MedfieldError('bad-data', stack.name, `motion has ${motion.length / 6} slices, the stack ${nz}`);
  const hMin = Math.min(gt.spacingMm[0], gt.spacingMm[1], gt.spacingMm[2]);
  const nodes = psfNodes ?? defaultPsfNodes(stack, hMin);
  const sig = psfSigmasMm(stack);
  const ax = [psfAxisNodes(nodes[0]), psfAxisNodes(nodes[1]), psfAxisNodes(nodes[2])];
  const Q = nodes[0] * nodes[1] * nodes[2];
  // slice-frame offsets (mm along the unit axes) and weights of every node
  const off = new Float64Array(3 * Q), wq = new Float64Array(Q);
  let q = 0;
  for (let c = 0; c < nodes[2]; c++) for (let b = 0; b < nodes[1]; b++) for (let a = 0; a < nodes[0]; a++, q++) {
    off[3 * q] = ax[0]!.offsetsSigma[a]! * sig[0];
    off[3 * q + 1] = ax[1]!.offsetsSigma[b]! * sig[1];
    off[3 * q + 2] = ax[2]!.offsetsSigma[c]! * sig[2];
    wq[q] = ax[0]!.weights[a]! * ax[1]!.weights[b]! * ax[2]!.weights[c]!;
  }
  const W = worldToIndexMatrix(gt);
  const go = gt.originMm, gd = gt.data;
  const [gx, gy, gz] = gt.dims;
  const A = new Float64Array(12), R = new Float64Array(9);
  const base = new Float64Array(3), di = new Float64Array(3), dj = new Float64Array(3);
  const qo = new Float64Array(3 * Q);
  const tmp = new Float64Array(3), tmp2 = new Float64Array(3);
  const dir = sv.direction;
  // world affine -> gt index: idx = W (x - go)
  const toIdx = (x: ArrayLike<number>, out: Float64Array, vector: boolean) => {
    const a = x[0]! - (vector ? 0 : go[0]), b = x[1]! - (vector ? 0 : go[1]), c = x[2]! - (vector ? 0 : go[2]);
    out[0] = W[0]! * a + W[1]! * b + W[2]! * c;
    out[1] = W[3]! * a + W[4]! * b + W[5]! * c;
    out[2] = W[6]! * a + W[7]! * b + W[8]! * c;
  };
  const rot = (x: ArrayLike<number>, out: Float64Array) => {
    const a = x[0]!, b = x[1]!, c = x[2]!;
    out[0] = R[0]! * a + R[1]! * b + R[2]! * c;
    out[1] = R[3]! * a + R[4]! * b + R[5]! * c;
    out[2] = R[6]! * a + R[7]! * b + R[8]! * c;
  };
  const out = sv.data;
  for (let k = 0; k < nz; k++) {
    sliceAffine(sv, k, A);
    const cen = sliceCentreMm(sv, k);
    const mo = 6 * k;
    if (motion) rotationMatrix(motion[mo]!, motion[mo + 1]!, motion[mo + 2]!, R);
    else rotationMatrix(0, 0, 0, R);
    // moved pixel (0, 0): R (A[:,3] - c) + c + t
    tmp[0] = A[3]! - cen[0]; tmp[1] = A[7]! - cen[1]; tmp[2] = A[11]! - cen[2];
    rot(tmp, tmp2);
    for (let r = 0; r < 3; r++) tmp2[r] = tmp2[r]! + cen[r]! + (motion ? motion[mo + 3 + r]! : 0);
    toIdx(tmp2, base, false);
    tmp[0] = A[0]!; tmp[1] = A[4]!; tmp[2] = A[8]!; rot(tmp, tmp2); toIdx(tmp2, di, true);
    tmp[0] = A[1]!; tmp[1] = A[5]!; tmp[2] = A[9]!; rot(tmp, tmp2); toIdx(tmp2, dj, true);
    for (let n = 0; n < Q; n++) {
      // node offset along the unit slice axes (columns of the stack direction), rotated
      for (let r = 0; r < 3; r++) tmp[r] = dir[3 * r]! * off[3 * n]! + dir[3 * r + 1]! * off[3 * n + 1]! + dir[3 * r + 2]! * off[3 * n + 2]!;
      rot(tmp, tmp2);
      toIdx(tmp2, tmp, true);
      qo[3 * n] = tmp[0]!; qo[3 * n + 1] = tmp[1]!; qo[3 * n + 2] = tmp[2]!;
    }
    const b0 = base[0]!, b1 = base[1]!, b2 = base[2]!;
    const di0 = di[0]!, di1 = di[1]!, di2 = di[2]!, dj0 = dj[0]!, dj1 = dj[1]!, dj2 = dj[2]!;
    for (let j = 0; j < ny; j++) {
      const rowOut = nx * (j + ny * k);
      for (let i = 0; i < nx; i++) {
        const px = b0 + i * di0 + j * dj0, py = b1 + i * di1 + j * dj1, pz = b2 + i * di2 + j * dj2;
        let acc = 0;
        for (let n = 0; n < Q; n++) {
          const w = wq[n]!;
          acc += w * trilinearOrZero(gd, gx, gy, gz, px + qo[3 * n]!, py + qo[3 * n + 1]!, pz + qo[3 * n + 2]!);
        }
        out[rowOut + i] = acc;
      }
    }
  }
}

/** Adds noise of standard deviation `sigma` in place ('rician': |s + n1 + i n2|; 'gaussian': s + n1). */
export function addSliceNoise(data: Float32Array, sigma: number, model: NoiseModel, rng: Rng): void {
  if (sigma <= 0) return;
  for (let p = 0; p < data.length; p++) {
    const a = data[p]! + sigma * rng.normal();
    if (model === 'rician') {
      const b = sigma * rng.normal();
      data[p] = Math.sqrt(a * a + b * b);
    } else data[p] = a;
  }
}

/** Largest finite value of an array (0 when none is positive). */
function maxOf(d: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < d.length; i++) { const x = d[i]!; if (x > m) m = x; }
  return m;
}

/**
 * Simulates the svr protocol from `gt` (any grid and direction, RAS mm): stacks covering the
 * ground truth's world bounding box, one random rigid motion per slice, PSF, noise. Deterministic
 * for a seed. The motion stream (one Rng) is drawn first for all stacks, the noise (a second
 * Rng, seed + 1) after, so changing the noise level leaves the motion unchanged.
 */
export function simulateSvr(gt: Volume, options: SvrSimulationOptions = {}): SvrSimulation {
  const o = resolveSvrSimulationOptions(options);
  for (const s of gt.spacingMm) if (!(s > 0)) throw new MedfieldError('bad-data', 'ground truth', `spacing must be positive, got ${gt.spacingMm.join(', ')}`);
  const gmax = maxOf(gt.data);
  if (!(gmax > 0)) throw new MedfieldError('bad-data', 'ground truth', 'has no positive voxel; expected an MR intensity volume');
  const bounds = volumeBoundsMm(gt);
  const motionRng = createRng(o.seed), noiseRng = createRng(o.seed + 1);
  const perOrientation = Math.ceil(o.stacks / 3);
  const stacks: SliceStack[] = [], motions: SliceMotion[] = [], orientations: StackOrientation[] = [];
  for (let s = 0; s < o.stacks; s++) {
    const orientation = STACK_ORIENTATIONS[s % 3]!;
    const volume = stackGrid(bounds, orientation, o.inPlaneMm, o.sliceSpacingMm, Math.floor(s / 3) / perOrientation);
    stacks.push({ volume, sliceThicknessMm: o.sliceThicknessMm, name: `stack${s + 1}` });
    orientations.push(orientation);
    motions.push(drawSliceMotion(volume.dims[2], o.maxRotationDeg, o.maxTranslationMm, o.motion, motionRng));
  }
  const hMin = Math.min(gt.spacingMm[0], gt.spacingMm[1], gt.spacingMm[2]);
  const nodes = options.psfNodes ? ([...options.psfNodes] as [number, number, number]) : defaultPsfNodes(stacks[0]!, hMin);
  const noiseSigma = o.noise * gmax;
  for (let s = 0; s < o.stacks; s++) {
    acquireStack(gt, stacks[s]!, motions[s]!, nodes);
    addSliceNoise(stacks[s]!.volume.data, noiseSigma, o.noiseModel, noiseRng);
    options.onProgress?.(s + 1, o.stacks);
  }
  return { stacks, motions, orientations, psfNodes: nodes, noiseSigma, options: o };
}
