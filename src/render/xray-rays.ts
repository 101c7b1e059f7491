/**
 * X-ray rays for attenuation fields (NAF, Zha et al. 2022; NeAT, Rueckert et al. 2022): detector
 * pixel rays from the dataset geometry (src/geometry/xray.ts viewFrame/pixelRay), clipped to the
 * reconstruction grid's box, sampled only inside it (stratified, jittered when training), and the
 * discrete Beer-Lambert line integral  L = sum_i mu_i dt_i  with its exact gradient dL/dmu_i = dt_i.
 *
 * Units: positions and dt in mm, mu in 1/mm, so L is dimensionless like the dataset's projections
 * (docs/coordinate-systems.md "X-ray geometry"). Field inputs are the unit cube of the grid's
 * voxel-centre box (see `unitMapOfGrid`). Float64 geometry; Float32 sample buffers; no per-sample
 * allocation.
 */
import type { Rng } from '../core/rng.js';
import { MedfieldError } from '../core/errors.js';
import { gridAabb, gridOriginMm, type GridFields } from '../geometry/grid.js';
import { pixelRay, viewFrame, type XrayGeometry } from '../geometry/xray.js';

/**
 * World mm -> field input in [0,1]^3: u_a = (p_a - lo_a) * scale_a. For a grid this is the box of
 * the voxel *centres*, so a dense level of resolution n-1 has its vertices exactly on the voxels.
 */
export interface UnitMap {
  readonly lo: Float64Array;
  readonly scale: Float64Array;
}

/** The unit map of a grid: voxel centre (0,0,0) -> 0, voxel centre (n-1) -> 1 on each axis (an axis of one voxel maps to 0.5). */
export function unitMapOfGrid(g: GridFields): UnitMap {
  const o = gridOriginMm(g);
  const lo = new Float64Array(3), scale = new Float64Array(3);
  for (let a = 0; a < 3; a++) {
    const span = (g.nVoxel[a]! - 1) * g.dVoxel[a]!;
    if (span > 0) { lo[a] = o[a]!; scale[a] = 1 / span; } else { lo[a] = o[a]! - 1; scale[a] = 0.5; }
  }
  return { lo, scale };
}

/**
 * A packed batch of rays and their samples. Ray r owns samples rayStart[r] .. rayStart[r+1]-1;
 * `points` are field inputs AoS [sample, 3]; `dt` the path length (mm) each sample stands for.
 */
export interface XrayRayBatch {
  readonly maxRays: number;
  readonly maxSamples: number;
  nRays: number;
  nSamples: number;
  readonly rayStart: Int32Array;
  readonly points: Float32Array;
  readonly dt: Float32Array;
  /** Flat index of the ray's pixel in the projections [views, rows, cols] (training batches). */
  readonly pixel: Int32Array;
}

export function createRayBatch(maxRays: number, maxSamples: number): XrayRayBatch {
  if (!(maxRays >= 1 && maxSamples >= 1)) throw new MedfieldError('bad-option', 'ray batch', `maxRays (${maxRays}) and maxSamples (${maxSamples}) must be >= 1`);
  return {
    maxRays, maxSamples, nRays: 0, nSamples: 0,
    rayStart: new Int32Array(maxRays + 1),
    points: new Float32Array(maxSamples * 3),
    dt: new Float32Array(maxSamples),
    pixel: new Int32Array(maxRays),
  };
}

/** Most samples one ray through the grid box can take at step `stepMm` (the box diagonal / step, rounded up). */
export function maxSamplesPerRay(g: GridFields, stepMm: number): number {
  let d2 = 0;
  for (let a = 0; a < 3; a++) d2 += (g.nVoxel[a]! * g.dVoxel[a]!) ** 2;
  return Math.max(1, Math.ceil(Math.sqrt(d2) / stepMm) + 1);
}

/**
 * Slab clipping of o + t d (t >= 0) to the box [xmin, ymin, zmin, xmax, ymax, zmax]; writes
 * [tNear, tFar] into out and returns true when the ray meets the box with positive length.
 */
export function clipRayToBox(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, box: Float64Array, out: Float64Array): boolean {
  let t0 = 0, t1 = Infinity;
  for (let a = 0; a < 3; a++) {
    const oa = a === 0 ? ox : a === 1 ? oy : oz;
    const da = a === 0 ? dx : a === 1 ? dy : dz;
    const lo = box[a]!, hi = box[a + 3]!;
    if (da === 0) { if (oa < lo || oa > hi) return false; continue; }
    let ta = (lo - oa) / da, tb = (hi - oa) / da;
    if (ta > tb) { const t = ta; ta = tb; tb = t; }
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
    if (t1 <= t0) return false;
  }
  out[0] = t0; out[1] = t1;
  return true;
}

/**
 * Appends one ray to the batch with n = ceil((tFar - tNear) / stepMm) equal strata of length
 * dt = (tFar - tNear) / n, one sample per stratum at t = tNear + (k + u) dt with u ~ U(0,1) when
 * `jitter` is given (stratified sampling: an unbiased estimate of the integral) or u = 1/2 (the
 * midpoint rule). tFar <= tNear adds a ray with no samples (its integral is 0).
 * Returns false (adding nothing) when the batch has no room.
 */
export function appendRay(
  b: XrayRayBatch, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number,
  tNear: number, tFar: number, stepMm: number, map: UnitMap, jitter: Rng | null, pixel = -1,
): boolean {
  const len = tFar - tNear;
  const n = len > 0 ? Math.max(1, Math.ceil(len / stepMm - 1e-9)) : 0;
  if (b.nRays >= b.maxRays || b.nSamples + n > b.maxSamples) return false;
  const r = b.nRays;
  let s = b.nSamples;
  b.rayStart[r] = s;
  b.pixel[r] = pixel;
  if (n > 0) {
    const dt = len / n;
    const lx = map.lo[0]!, ly = map.lo[1]!, lz = map.lo[2]!, sx = map.scale[0]!, sy = map.scale[1]!, sz = map.scale[2]!;
    const P = b.points, D = b.dt;
    for (let k = 0; k < n; k++, s++) {
      const t = tNear + (k + (jitter ? jitter.next() : 0.5)) * dt;
      P[3 * s] = (ox + t * dx - lx) * sx;
      P[3 * s + 1] = (oy + t * dy - ly) * sy;
      P[3 * s + 2] = (oz + t * dz - lz) * sz;
      D[s] = dt;
    }
  }
  b.nRays = r + 1;
  b.nSamples = s;
  b.rayStart[r + 1] = s;
  return true;
}

/** View frames of all angles, Float64 [views, 15] (see viewFrame). */
export function viewFrames(geo: XrayGeometry, anglesRad: ArrayLike<number>): Float64Array {
  const out = new Float64Array(anglesRad.length * 15);
  for (let v = 0; v < anglesRad.length; v++) viewFrame(geo, anglesRad[v]!, out.subarray(15 * v, 15 * v + 15));
  return out;
}

/** Scratch for ray generation (no allocation per ray). */
export interface RayScratch { ray: Float64Array; clip: Float64Array; box: Float64Array }
export function createRayScratch(g: GridFields): RayScratch {
  return { ray: new Float64Array(6), clip: new Float64Array(2), box: gridAabb(g) };
}

/** Adds the ray of pixel (row, col) of the view with `frame` to the batch (clipped to the grid box). */
export function appendPixelRay(
  b: XrayRayBatch, geo: XrayGeometry, frame: Float64Array, row: number, col: number, stepMm: number,
  map: UnitMap, scratch: RayScratch, jitter: Rng | null, pixel = -1,
): boolean {
  const o = pixelRay(geo, frame, row, col, scratch.ray);
  const c = scratch.clip;
  const hit = clipRayToBox(o[0]!, o[1]!, o[2]!, o[3]!, o[4]!, o[5]!, scratch.box, c);
  return appendRay(b, o[0]!, o[1]!, o[2]!, o[3]!, o[4]!, o[5]!, hit ? c[0]! : 0, hit ? c[1]! : 0, stepMm, map, jitter, pixel);
}

/**
 * Fills the batch with `nRays` training rays: each a uniformly random pixel of a uniformly random
 * view among `views` (indices into `frames`), jittered stratified samples inside the grid box.
 * `pixel` records view * rows * cols + row * cols + col for the target lookup.
 */
export function sampleTrainingRays(
  b: XrayRayBatch, geo: XrayGeometry, frames: Float64Array, views: Int32Array, nRays: number, stepMm: number,
  map: UnitMap, scratch: RayScratch, rng: Rng,
): void {
  const nu = geo.nDetector[0], nv = geo.nDetector[1];
  b.nRays = 0; b.nSamples = 0; b.rayStart[0] = 0;
  for (let i = 0; i < nRays; i++) {
    const v = views[rng.int(views.length)]!;
    const row = rng.int(nv), col = rng.int(nu);
    const frame = frames.subarray(15 * v, 15 * v + 15);
    if (!appendPixelRay(b, geo, frame, row, col, stepMm, map, scratch, rng, v * nu * nv + row * nu + col)) break;
  }
}

/**
 * Fills the batch with `nPatches` K x K blocks of neighbouring detector pixels (unit pixel stride,
 * row-major inside a block, blocks one after another), each on a random training view at a random
 * position inside the detector: the rays of patch-based losses (SSIM). Needs K <= both detector
 * sides; stops early (whole patches only) when the batch is full.
 */
export function samplePatchRays(
  b: XrayRayBatch, geo: XrayGeometry, frames: Float64Array, views: Int32Array, nPatches: number, K: number, stepMm: number,
  map: UnitMap, scratch: RayScratch, rng: Rng,
): number {
  const nu = geo.nDetector[0], nv = geo.nDetector[1];
  b.nRays = 0; b.nSamples = 0; b.rayStart[0] = 0;
  for (let p = 0; p < nPatches; p++) {
    const v = views[rng.int(views.length)]!;
    const r0 = rng.int(nv - K + 1), c0 = rng.int(nu - K + 1);
    const frame = frames.subarray(15 * v, 15 * v + 15);
    const mark = b.nRays, markS = b.nSamples;
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const row = r0 + i, col = c0 + j;
        if (!appendPixelRay(b, geo, frame, row, col, stepMm, map, scratch, rng, v * nu * nv + row * nu + col)) {
          b.nRays = mark; b.nSamples = markS;
          return p;
        }
      }
    }
  }
  return nPatches;
}

/** L_r = sum_{i in ray r} mu_i dt_i for each ray of the batch (mu: one value per sample). */
export function lineIntegralForward(b: XrayRayBatch, mu: ArrayLike<number>, out: Float64Array): void {
  const st = b.rayStart, dt = b.dt;
  for (let r = 0; r < b.nRays; r++) {
    let s = 0;
    for (let i = st[r]!, e = st[r + 1]!; i < e; i++) s += mu[i]! * dt[i]!;
    out[r] = s;
  }
}

/** dL/dmu_i = dL/dL_r * dt_i for every sample i of ray r (written, not added). */
export function lineIntegralBackward(b: XrayRayBatch, dLdL: ArrayLike<number>, dLdmu: Float32Array | Float64Array): void {
  const st = b.rayStart, dt = b.dt;
  for (let r = 0; r < b.nRays; r++) {
    const g = dLdL[r]!;
    for (let i = st[r]!, e = st[r + 1]!; i < e; i++) dLdmu[i] = g * dt[i]!;
  }
}
