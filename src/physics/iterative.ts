/**
 * Iterative reconstruction against any ProjectionOperator (src/physics/operator.ts): SIRT,
 * OS-SART / SART, CGLS, and an ASD-POCS-style total-variation step.
 *
 * Notation: A the operator (volume -> projections), y the measured line integrals, x the volume
 * (1/mm). R = diag(1 / A 1) (inverse ray lengths through the grid, "row sums") and
 * C = diag(1 / A^T 1) ("column sums"), each guarded: a row or column whose sum is <= 1e-9 times
 * the largest one (a ray that misses the grid, a voxel no ray sees) gets weight 0, not infinity.
 *
 * - SIRT (Gilbert 1972; the form of TIGRE and ASTRA): x <- x + lambda C A^T R (y - A x). It is
 *   gradient descent on ||y - A x||^2_R in the C^{-1} metric, so for 0 < lambda <= 1 the
 *   R-weighted residual decreases monotonically (reported as `weightedResidualNorms`).
 * - OS-SART (Wang & Jiang 2004; SART of Andersen & Kak 1984 when every subset is one view): the
 *   same update with A restricted to one subset of views at a time and C_s = diag(1 / A_s^T 1).
 * - CGLS (Hestenes & Stiefel 1952; Bjorck 1996, alg. 7.4.1): conjugate gradients on the normal
 *   equations A^T A x = A^T y without forming them; ||y - A x_k|| decreases monotonically and
 *   x_k converges to the least-squares solution (the minimum-norm one from x0 = 0).
 * - TV (Sidky & Pan 2008, ASD-POCS): after each data pass, `tv.iterations` steps of gradient
 *   descent on the isotropic total variation, each of length alpha * ||x_k - x_{k-1}|| (the
 *   size of the data update) along the normalised TV gradient; alpha shrinks by alphaReduction
 *   whenever the TV steps moved x further than maxRatio times the data update.
 *
 * Non-negativity (`nonneg`, default true for SIRT/SART) projects x onto x >= 0 after every
 * update. All dot products and norms are accumulated in Float64.
 */
import { MedfieldError } from '../core/errors.js';
import type { ProjectionOperator } from './operator.js';

/** Called after iteration k (1-based) with the current volume (do not keep a reference). */
export type IterationCallback = (iteration: number, x: Float32Array) => void | Promise<void>;

/** ASD-POCS-style TV step after each data pass. */
export interface TvStepOptions {
  /** Gradient steps on TV per data pass (default 20, as ASD-POCS). */
  iterations?: number;
  /**
   * Step length of each TV step as a fraction of the norm of the last data update (default
   * 0.02; TIGRE's ASD-POCS uses 0.002 with its own normalisation).
   */
  alpha?: number;
  /** Factor applied to alpha whenever the TV steps moved x by more than `maxRatio` x the data update (default 0.95). */
  alphaReduction?: number;
  /** Largest allowed ratio of TV change to data change before alpha is reduced (default 0.95). */
  maxRatio?: number;
  /** Smoothing of |grad x| = sqrt(dx^2 + dy^2 + dz^2 + eps^2), in volume units (default 1e-8). */
  epsilon?: number;
}

/** Options shared by SIRT and OS-SART. */
export interface SirtOptions {
  /** Iterations (SIRT) or epochs over all subsets (OS-SART); >= 1. */
  iterations: number;
  /** Relaxation lambda in (0, 2) (default 1). */
  lambda?: number;
  /** Clamp x >= 0 after every update (default true). */
  nonneg?: boolean;
  /** Initial volume (default zeros); copied, not modified. */
  x0?: Float32Array;
  onIteration?: IterationCallback;
  /** Optional TV step after each iteration/epoch. */
  tv?: TvStepOptions;
}

/** Options of OS-SART. */
export interface OsSartOptions extends SirtOptions {
  /** Number of ordered subsets of views (default 1 view per subset = SART); 1 = SIRT-like. */
  subsets?: number;
  /** Compute ||y - A x|| after every epoch (one extra forward projection each; default false). */
  trackResidual?: boolean;
  /**
   * Keep the per-subset column sums C_S in memory (default: when they fit in 256 MiB); false
   * recomputes them (one extra adjoint per subset and epoch) to save memory.
   */
  cacheColumnWeights?: boolean;
}

/** Options of CGLS. */
export interface CglsOptions {
  iterations: number;
  x0?: Float32Array;
  onIteration?: IterationCallback;
}

/** Result of an iterative solver. */
export interface IterativeResult {
  /** Reconstructed volume, Float32 [nz, ny, nx] on the operator's grid. */
  x: Float32Array;
  /** ||y - A x_k||_2 for k = 0 (initial volume) .. iterations (SIRT, CGLS; OS-SART with trackResidual). */
  residualNorms: number[];
  /** SIRT only: ||y - A x_k||_R = sqrt(sum_i R_i r_i^2), the quantity SIRT decreases monotonically. */
  weightedResidualNorms?: number[];
}

function checkProblem(op: ProjectionOperator, y: Float32Array, x0: Float32Array | undefined, iterations: number): void {
  const m = op.anglesRad.length * op.viewSize;
  if (!(y instanceof Float32Array) || y.length !== m) {
    throw new MedfieldError('bad-data', 'projections', `expected a Float32Array of ${m} values ([${op.anglesRad.length} views, ${op.viewSize} pixels]), got ${y instanceof Float32Array ? y.length : typeof y}`);
  }
  if (x0 !== undefined && (!(x0 instanceof Float32Array) || x0.length !== op.volumeSize)) {
    throw new MedfieldError('bad-option', 'options.x0', `expected a Float32Array of ${op.volumeSize} values`);
  }
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new MedfieldError('bad-option', 'options.iterations', `expected an integer >= 1, got ${iterations}`);
  }
}

function checkLambda(lambda: number): void {
  if (!(Number.isFinite(lambda) && lambda > 0 && lambda < 2)) {
    throw new MedfieldError('bad-option', 'options.lambda', `expected a relaxation in (0, 2), got ${lambda}`);
  }
}

/** In place: w_i <- 1 / w_i, or 0 where w_i <= 1e-9 max(w) (rays missing the grid, unseen voxels). */
function invertGuarded(w: Float32Array): void {
  let max = 0;
  for (let i = 0; i < w.length; i++) if (w[i]! > max) max = w[i]!;
  const floor = max * 1e-9;
  for (let i = 0; i < w.length; i++) w[i] = w[i]! > floor && max > 0 ? 1 / w[i]! : 0;
}

function norm2(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** R = 1 / (A 1) over all views (guarded). */
async function rowWeights(op: ProjectionOperator): Promise<Float32Array> {
  const R = new Float32Array(op.anglesRad.length * op.viewSize);
  await op.forward(new Float32Array(op.volumeSize).fill(1), R);
  invertGuarded(R);
  return R;
}

/** The ASD-POCS TV stage with its adaptive alpha (Sidky & Pan 2008, table I). */
function createTvStage(opts: TvStepOptions | undefined, op: ProjectionOperator): ((x: Float32Array, prev: Float32Array) => void) | undefined {
  if (!opts) return undefined;
  let alpha = opts.alpha ?? 0.02;
  const red = opts.alphaReduction ?? 0.95, rmax = opts.maxRatio ?? 0.95;
  const iterations = opts.iterations ?? 20;
  if (!(Number.isFinite(alpha) && alpha >= 0)) throw new MedfieldError('bad-option', 'options.tv.alpha', `expected a number >= 0, got ${alpha}`);
  const before = new Float32Array(op.volumeSize);
  return (x, prev) => {
    let dp = 0;
    for (let i = 0; i < x.length; i++) { const t = x[i]! - prev[i]!; dp += t * t; }
    dp = Math.sqrt(dp);
    if (!(dp > 0) || alpha === 0) return;
    before.set(x);
    tvDenoiseSteps(x, op.geometry.nVoxel, { iterations, stepSize: alpha * dp, epsilon: opts.epsilon });
    let dg = 0;
    for (let i = 0; i < x.length; i++) { const t = x[i]! - before[i]!; dg += t * t; }
    if (Math.sqrt(dg) > rmax * dp) alpha *= red;
  };
}

/**
 * SIRT: `iterations` simultaneous updates x <- x + lambda C A^T R (y - A x).
 * Costs one forward and one adjoint projection per iteration, plus one forward and one adjoint
 * for the weights and one forward for the final residual.
 */
export async function sirt(op: ProjectionOperator, y: Float32Array, opts: SirtOptions): Promise<IterativeResult> {
  checkProblem(op, y, opts.x0, opts.iterations);
  const lambda = opts.lambda ?? 1;
  checkLambda(lambda);
  const nonneg = opts.nonneg ?? true;
  const m = y.length, n = op.volumeSize;
  const R = await rowWeights(op);
  const C = new Float32Array(n);
  await op.adjoint(new Float32Array(m).fill(1), C);
  invertGuarded(C);
  const x = opts.x0 ? opts.x0.slice() : new Float32Array(n);
  const tvStage = createTvStage(opts.tv, op);
  const prev = tvStage ? new Float32Array(n) : x;
  const r = new Float32Array(m), bp = new Float32Array(n);
  const residualNorms: number[] = [], weightedResidualNorms: number[] = [];
  const residual = async (): Promise<void> => {
    await op.forward(x, r);
    let s = 0, sw = 0;
    for (let i = 0; i < m; i++) { const d = y[i]! - r[i]!; r[i] = d; s += d * d; sw += R[i]! * d * d; }
    residualNorms.push(Math.sqrt(s));
    weightedResidualNorms.push(Math.sqrt(sw));
  };
  for (let it = 1; it <= opts.iterations; it++) {
    await residual();
    for (let i = 0; i < m; i++) r[i] = r[i]! * R[i]!;
    await op.adjoint(r, bp);
    if (tvStage) prev.set(x);
    for (let j = 0; j < n; j++) {
      let v = x[j]! + lambda * C[j]! * bp[j]!;
      if (nonneg && v < 0) v = 0;
      x[j] = v;
    }
    tvStage?.(x, prev);
    if (opts.onIteration) await opts.onIteration(it, x);
  }
  await residual();
  return { x, residualNorms, weightedResidualNorms };
}

/**
 * Ordered subsets of views: subset s holds views s, s + M, s + 2M, ... (interleaved, so each
 * subset spans the whole arc), and subsets are visited in bit-reversed order of s so that
 * consecutive subsets are far apart in angle.
 */
export function orderedSubsets(nViews: number, subsets: number): Int32Array[] {
  if (!Number.isInteger(subsets) || subsets < 1 || subsets > nViews) {
    throw new MedfieldError('bad-option', 'options.subsets', `expected an integer in [1, ${nViews}] (the number of views), got ${subsets}`);
  }
  let bits = 0;
  while (1 << bits < subsets) bits++;
  const rev = (s: number): number => { let r = 0; for (let b = 0; b < bits; b++) if (s & (1 << b)) r |= 1 << (bits - 1 - b); return r; };
  const order = Array.from({ length: subsets }, (_, s) => s).sort((a, b) => rev(a) - rev(b));
  return order.map((s) => {
    const v: number[] = [];
    for (let i = s; i < nViews; i += subsets) v.push(i);
    return Int32Array.from(v);
  });
}

/** Column-sum caches above this many floats (256 MiB) are recomputed per subset instead. */
const MAX_CACHED_WEIGHTS = 64 * 1024 * 1024;

/**
 * OS-SART: per epoch, for each ordered subset S of views,
 * x <- x + lambda C_S A_S^T R_S (y_S - A_S x). `subsets` = number of views gives SART.
 * The subset column sums C_S are cached when they fit in 256 MiB, else recomputed (one extra
 * adjoint per subset).
 */
export async function osSart(op: ProjectionOperator, y: Float32Array, opts: OsSartOptions): Promise<IterativeResult> {
  checkProblem(op, y, opts.x0, opts.iterations);
  const lambda = opts.lambda ?? 1;
  checkLambda(lambda);
  const nonneg = opts.nonneg ?? true;
  const nViews = op.anglesRad.length, vs = op.viewSize, n = op.volumeSize, m = y.length;
  const subsets = orderedSubsets(nViews, opts.subsets ?? nViews);
  const R = await rowWeights(op);
  const ones = new Float32Array(m).fill(1);
  const cache = opts.cacheColumnWeights ?? subsets.length * n <= MAX_CACHED_WEIGHTS;
  const colWeights: Float32Array[] = [];
  const colFor = async (s: number, out: Float32Array): Promise<Float32Array> => {
    if (cache && colWeights[s]) return colWeights[s];
    const c = cache ? new Float32Array(n) : out;
    await op.adjoint(ones, c, subsets[s]);
    invertGuarded(c);
    if (cache) colWeights[s] = c;
    return c;
  };
  const x = opts.x0 ? opts.x0.slice() : new Float32Array(n);
  const tvStage = createTvStage(opts.tv, op);
  const prev = tvStage ? new Float32Array(n) : x;
  const r = new Float32Array(m), bp = new Float32Array(n), cScratch = cache ? bp : new Float32Array(n);
  const residualNorms: number[] = [];
  const track = async (): Promise<void> => {
    if (!opts.trackResidual) return;
    await op.forward(x, r);
    let s = 0;
    for (let i = 0; i < m; i++) { const d = y[i]! - r[i]!; s += d * d; }
    residualNorms.push(Math.sqrt(s));
  };
  await track();
  for (let epoch = 1; epoch <= opts.iterations; epoch++) {
    if (tvStage) prev.set(x);
    for (let s = 0; s < subsets.length; s++) {
      const views = subsets[s]!;
      const C = await colFor(s, cScratch);
      await op.forward(x, r, views);
      for (const v of views) {
        for (let i = v * vs; i < (v + 1) * vs; i++) r[i] = (y[i]! - r[i]!) * R[i]!;
      }
      await op.adjoint(r, bp, views);
      for (let j = 0; j < n; j++) {
        let v = x[j]! + lambda * C[j]! * bp[j]!;
        if (nonneg && v < 0) v = 0;
        x[j] = v;
      }
    }
    tvStage?.(x, prev);
    if (opts.onIteration) await opts.onIteration(epoch, x);
    await track();
  }
  return { x, residualNorms };
}

/** SART (Andersen & Kak 1984): OS-SART with one view per subset. */
export function sart(op: ProjectionOperator, y: Float32Array, opts: SirtOptions & { trackResidual?: boolean }): Promise<IterativeResult> {
  return osSart(op, y, { ...opts, subsets: op.anglesRad.length });
}

/**
 * CGLS: minimises ||y - A x||_2 by conjugate gradients on the normal equations. One forward and
 * one adjoint projection per iteration. Stops early (returning fewer residuals) if the
 * gradient A^T r vanishes. No non-negativity (it would break the Krylov recurrences).
 */
export async function cgls(op: ProjectionOperator, y: Float32Array, opts: CglsOptions): Promise<IterativeResult> {
  checkProblem(op, y, opts.x0, opts.iterations);
  const n = op.volumeSize, m = y.length;
  const x = new Float64Array(n);
  if (opts.x0) x.set(opts.x0);
  const xf = Float32Array.from(x);
  const r = new Float64Array(m), q = new Float32Array(m), rf = new Float32Array(m);
  const s = new Float32Array(n), p = new Float64Array(n), pf = new Float32Array(n);
  await op.forward(xf, q);
  for (let i = 0; i < m; i++) { r[i] = y[i]! - q[i]!; rf[i] = r[i]!; }
  await op.adjoint(rf, s);
  p.set(s);
  let gamma = 0;
  for (let j = 0; j < n; j++) gamma += s[j]! * s[j]!;
  const residualNorms = [norm2(r)];
  for (let it = 1; it <= opts.iterations && gamma > 0; it++) {
    for (let j = 0; j < n; j++) pf[j] = p[j]!;
    await op.forward(pf, q);
    let delta = 0;
    for (let i = 0; i < m; i++) delta += q[i]! * q[i]!;
    if (!(delta > 0)) break;
    const alpha = gamma / delta;
    for (let j = 0; j < n; j++) x[j] += alpha * pf[j]!;
    let rr = 0;
    for (let i = 0; i < m; i++) { const v = r[i]! - alpha * q[i]!; r[i] = v; rf[i] = v; rr += v * v; }
    residualNorms.push(Math.sqrt(rr));
    await op.adjoint(rf, s);
    let gammaNew = 0;
    for (let j = 0; j < n; j++) gammaNew += s[j]! * s[j]!;
    const beta = gammaNew / gamma;
    gamma = gammaNew;
    for (let j = 0; j < n; j++) p[j] = s[j]! + beta * p[j]!;
    if (opts.onIteration) { for (let j = 0; j < n; j++) xf[j] = x[j]!; await opts.onIteration(it, xf); }
  }
  for (let j = 0; j < n; j++) xf[j] = x[j]!;
  return { x: xf, residualNorms };
}

/** Options of {@link tvDenoiseSteps}. */
export interface TvDenoiseOptions {
  /** Number of gradient steps (>= 0). */
  iterations: number;
  /** Length (Euclidean norm over the whole volume) of each step, in volume units (>= 0). */
  stepSize: number;
  /** Smoothing eps of sqrt(|grad|^2 + eps^2) (default 1e-8). */
  epsilon?: number;
}

/**
 * Isotropic total variation sum_v sqrt(dx^2 + dy^2 + dz^2 + eps^2) with forward differences and
 * zero difference across the far border (Neumann). Volume layout [nz, ny, nx], x fastest.
 */
export function totalVariation(x: ArrayLike<number>, dims: readonly [number, number, number], epsilon = 0): number {
  const [nx, ny, nz] = dims;
  const sxy = nx * ny, e2 = epsilon * epsilon;
  let tv = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    const v = i + nx * j + sxy * k, c = x[v]!;
    const dx = i < nx - 1 ? x[v + 1]! - c : 0;
    const dy = j < ny - 1 ? x[v + nx]! - c : 0;
    const dz = k < nz - 1 ? x[v + sxy]! - c : 0;
    tv += Math.sqrt(dx * dx + dy * dy + dz * dz + e2);
  }
  return tv;
}

/**
 * Gradient descent on the isotropic TV of a volume, in place: `iterations` times,
 * x <- x - stepSize * g / ||g|| with g = d TV_eps / dx (ASD-POCS's normalised TV step). Returns x.
 */
export function tvDenoiseSteps(x: Float32Array, dims: readonly [number, number, number], opts: TvDenoiseOptions): Float32Array {
  const [nx, ny, nz] = dims;
  if (x.length !== nx * ny * nz) throw new MedfieldError('bad-data', 'volume', `expected ${nx * ny * nz} values for dims ${dims.join('x')}, got ${x.length}`);
  if (!(Number.isInteger(opts.iterations) && opts.iterations >= 0)) throw new MedfieldError('bad-option', 'tv.iterations', `expected an integer >= 0, got ${opts.iterations}`);
  if (!(Number.isFinite(opts.stepSize) && opts.stepSize >= 0)) throw new MedfieldError('bad-option', 'tv.stepSize', `expected a finite step >= 0, got ${opts.stepSize}`);
  const eps = opts.epsilon ?? 1e-8;
  const e2 = eps * eps, sxy = nx * ny;
  const g = new Float64Array(x.length);
  for (let it = 0; it < opts.iterations; it++) {
    g.fill(0);
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      const v = i + nx * j + sxy * k, c = x[v]!;
      const dx = i < nx - 1 ? x[v + 1]! - c : 0;
      const dy = j < ny - 1 ? x[v + nx]! - c : 0;
      const dz = k < nz - 1 ? x[v + sxy]! - c : 0;
      const inv = 1 / Math.sqrt(dx * dx + dy * dy + dz * dz + e2);
      g[v] -= (dx + dy + dz) * inv;
      if (i < nx - 1) g[v + 1] += dx * inv;
      if (j < ny - 1) g[v + nx] += dy * inv;
      if (k < nz - 1) g[v + sxy] += dz * inv;
    }
    const gn = norm2(g);
    if (!(gn > 0)) break;
    const f = opts.stepSize / gn;
    for (let v = 0; v < x.length; v++) x[v] = x[v]! - f * g[v]!;
  }
  return x;
}
