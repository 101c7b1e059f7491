/**
 * Trilinear ray-marching projector and its exact adjoint (trilinear splatting with the same
 * weights).
 *
 * Each ray o + t d (unit d, t in mm) is clipped to the grid box [tNear, tFar] (length L); the
 * segment is cut into N = ceil(L / stepMm) equal steps of h = L / N <= stepMm and sampled at the
 * step midpoints t_k = tNear + (k + 1/2) h (midpoint rule), so a constant volume c projects to
 * exactly c * L. The value at a point is the trilinear interpolation of the voxel centres
 * (docs/coordinate-systems.md: voxel (i,j,k) centre at gridOrigin + (i,j,k) * dVoxel), with the
 * volume extended by its edge values between the outermost centres and the box faces (clamped
 * index), so it matches the Siddon projector on constant volumes. Projection = sum_k h * f(t_k).
 *
 * The adjoint adds h * y * w_c to each of the 8 corner voxels c of every sample with the same
 * weights w_c, so <A x, y> = <x, A^T y> up to float rounding.
 */
import { clipToGrid, RAY_STRIDE, type GridPack } from './siddon.js';

/** Default step: half the smallest voxel size (mm). */
export function defaultStepMm(dVoxel: readonly number[]): number {
  return Math.min(dVoxel[0]!, dVoxel[1]!, dVoxel[2]!) / 2;
}

let samples = 0;

/** Returns and resets the number of trilinear samples taken so far on this thread (for benchmarks). */
export function takeTrilinearCount(): number {
  const c = samples;
  samples = 0;
  return c;
}

/** Length of the per-ray state written by `trilinearSetup`. */
export const TRILINEAR_STATE = 16;

/**
 * Sets up the samples of one ray: clips o + t d (unit d) to the grid and writes to `st`
 * (TRILINEAR_STATE Float64) [h, ax, bx, ay, by, az, bz, lo, hi]: step h (mm), the continuous
 * voxel index of sample k along each axis, a + k b (voxel centres at integers), and the range
 * [lo, hi) of samples whose three indices all lie in [0, n-1) so that they need no clamping.
 * Returns the number of samples N (0 when the ray misses). The forward and adjoint loops both start
 * here, so they use identical samples and weights.
 */
export function trilinearSetup(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number,
  g: GridPack, stepMm: number, st: Float64Array): number {
  if (!clipToGrid(ox, oy, oz, dx, dy, dz, g, st)) return 0;
  const t0 = st[0]!, len = st[1]! - t0;
  const n = Math.max(1, Math.ceil(len / stepMm - 1e-9));
  const h = len / n;
  const isx = 1 / g[6]!, isy = 1 / g[7]!, isz = 1 / g[8]!;
  const ax = (ox + (t0 + 0.5 * h) * dx - g[12]!) * isx, bx = h * dx * isx;
  const ay = (oy + (t0 + 0.5 * h) * dy - g[13]!) * isy, by = h * dy * isy;
  const az = (oz + (t0 + 0.5 * h) * dz - g[14]!) * isz, bz = h * dz * isz;
  const mx = g[9]! - 1, my = g[10]! - 1, mz = g[11]! - 1;
  // Interior range: each index a + k b is linear (and monotone in float arithmetic) in k, so the
  // set of k with all three in [0, m) is an interval; estimate it, then fix its ends exactly.
  let lo = 0, hi = n;
  if (mx <= 0 || my <= 0 || mz <= 0) hi = 0; // an axis of one voxel: every sample takes the clamped path
  if (bx > 0) { lo = Math.max(lo, Math.ceil(-ax / bx)); hi = Math.min(hi, Math.ceil((mx - ax) / bx)); }
  else if (bx < 0) { lo = Math.max(lo, Math.floor((mx - ax) / bx) + 1); hi = Math.min(hi, Math.floor(-ax / bx) + 1); }
  else if (!(ax >= 0 && ax < mx)) hi = 0;
  if (by > 0) { lo = Math.max(lo, Math.ceil(-ay / by)); hi = Math.min(hi, Math.ceil((my - ay) / by)); }
  else if (by < 0) { lo = Math.max(lo, Math.floor((my - ay) / by) + 1); hi = Math.min(hi, Math.floor(-ay / by) + 1); }
  else if (!(ay >= 0 && ay < my)) hi = 0;
  if (bz > 0) { lo = Math.max(lo, Math.ceil(-az / bz)); hi = Math.min(hi, Math.ceil((mz - az) / bz)); }
  else if (bz < 0) { lo = Math.max(lo, Math.floor((mz - az) / bz) + 1); hi = Math.min(hi, Math.floor(-az / bz) + 1); }
  else if (!(az >= 0 && az < mz)) hi = 0;
  if (lo < 0) lo = 0; else if (lo > n) lo = n;
  if (hi > n) hi = n;
  // exact ends: the estimate can be off by one sample through rounding
  for (; lo < hi; lo++) {
    const fx = ax + lo * bx, fy = ay + lo * by, fz = az + lo * bz;
    if (fx >= 0 && fx < mx && fy >= 0 && fy < my && fz >= 0 && fz < mz) break;
  }
  for (; hi > lo; hi--) {
    const k = hi - 1, fx = ax + k * bx, fy = ay + k * by, fz = az + k * bz;
    if (fx >= 0 && fx < mx && fy >= 0 && fy < my && fz >= 0 && fz < mz) break;
  }
  if (hi < lo) hi = lo;
  st[0] = h; st[1] = ax; st[2] = bx; st[3] = ay; st[4] = by; st[5] = az; st[6] = bz; st[7] = lo; st[8] = hi;
  return n;
}

/*
 * Sampling loops. Samples outside [lo, hi) clamp their index into [0, n-1] (edge extension) and
 * their lower corner to n-2 (so the upper corner n-1 exists; an axis with one voxel reads it with
 * weight 1 and offset 0); samples inside need neither. Weights: r = index - floor, q = 1 - r.
 */

/** sum_k h f(t_k) over samples [k0, k1) of the ray in `st`, clamping indices (edge extension). */
function sumClamped(st: Float64Array, k0: number, k1: number, g: GridPack, x: Float32Array): number {
  const ax = st[1]!, bx = st[2]!, ay = st[3]!, by = st[4]!, az = st[5]!, bz = st[6]!;
  const nx = g[9]!, ny = g[10]!, nz = g[11]!, mx = nx - 1, my = ny - 1, mz = nz - 1;
  const lx = nx > 1 ? nx - 2 : 0, ly = ny > 1 ? ny - 2 : 0, lz = nz > 1 ? nz - 2 : 0;
  const ox1 = nx > 1 ? 1 : 0, oy1 = ny > 1 ? nx : 0, oz1 = nz > 1 ? nx * ny : 0, nxy = nx * ny;
  let acc = 0;
  for (let k = k0; k < k1; k++) {
    let fx = ax + k * bx, fy = ay + k * by, fz = az + k * bz;
    if (fx < 0) fx = 0; else if (fx > mx) fx = mx;
    if (fy < 0) fy = 0; else if (fy > my) fy = my;
    if (fz < 0) fz = 0; else if (fz > mz) fz = mz;
    let i = fx | 0, j = fy | 0, l = fz | 0;
    if (i > lx) i = lx;
    if (j > ly) j = ly;
    if (l > lz) l = lz;
    const rx = fx - i, ry = fy - j, rz = fz - l, qx = 1 - rx, qy = 1 - ry, qz = 1 - rz;
    const b = i + nx * j + nxy * l;
    acc += qy * qz * (qx * x[b]! + rx * x[b + ox1]!) + ry * qz * (qx * x[b + oy1]! + rx * x[b + oy1 + ox1]!)
      + qy * rz * (qx * x[b + oz1]! + rx * x[b + oz1 + ox1]!) + ry * rz * (qx * x[b + oz1 + oy1]! + rx * x[b + oz1 + oy1 + ox1]!);
  }
  return acc;
}

/** Adjoint of `sumClamped`: x[corner] += value * w_corner for samples [k0, k1). */
function addClamped(st: Float64Array, k0: number, k1: number, g: GridPack, x: Float32Array, value: number): void {
  const ax = st[1]!, bx = st[2]!, ay = st[3]!, by = st[4]!, az = st[5]!, bz = st[6]!;
  const nx = g[9]!, ny = g[10]!, nz = g[11]!, mx = nx - 1, my = ny - 1, mz = nz - 1;
  const lx = nx > 1 ? nx - 2 : 0, ly = ny > 1 ? ny - 2 : 0, lz = nz > 1 ? nz - 2 : 0;
  const ox1 = nx > 1 ? 1 : 0, oy1 = ny > 1 ? nx : 0, oz1 = nz > 1 ? nx * ny : 0, nxy = nx * ny;
  for (let k = k0; k < k1; k++) {
    let fx = ax + k * bx, fy = ay + k * by, fz = az + k * bz;
    if (fx < 0) fx = 0; else if (fx > mx) fx = mx;
    if (fy < 0) fy = 0; else if (fy > my) fy = my;
    if (fz < 0) fz = 0; else if (fz > mz) fz = mz;
    let i = fx | 0, j = fy | 0, l = fz | 0;
    if (i > lx) i = lx;
    if (j > ly) j = ly;
    if (l > lz) l = lz;
    const rx = fx - i, ry = fy - j, rz = fz - l, qx = 1 - rx, qy = 1 - ry, qz = 1 - rz;
    const b = i + nx * j + nxy * l;
    const s00 = value * qy * qz, s10 = value * ry * qz, s01 = value * qy * rz, s11 = value * ry * rz;
    x[b] += qx * s00; x[b + ox1] += rx * s00;
    x[b + oy1] += qx * s10; x[b + oy1 + ox1] += rx * s10;
    x[b + oz1] += qx * s01; x[b + oz1 + ox1] += rx * s01;
    x[b + oz1 + oy1] += qx * s11; x[b + oz1 + oy1 + ox1] += rx * s11;
  }
}

/** Line integral sum_k h f(t_k) of the ray set up in `st` with `n` samples. */
export function trilinearSum(st: Float64Array, n: number, g: GridPack, x: Float32Array): number {
  const ax = st[1]!, bx = st[2]!, ay = st[3]!, by = st[4]!, az = st[5]!, bz = st[6]!, lo = st[7]!, hi = st[8]!;
  const nx = g[9]!, nxy = nx * g[10]!;
  let acc = lo > 0 ? sumClamped(st, 0, lo, g, x) : 0;
  for (let k = lo; k < hi; k++) {
    const fx = ax + k * bx, fy = ay + k * by, fz = az + k * bz;
    const i = fx | 0, j = fy | 0, l = fz | 0;
    const rx = fx - i, ry = fy - j, rz = fz - l, qx = 1 - rx, qy = 1 - ry, qz = 1 - rz;
    const b = i + nx * j + nxy * l;
    acc += qy * qz * (qx * x[b]! + rx * x[b + 1]!) + ry * qz * (qx * x[b + nx]! + rx * x[b + nx + 1]!)
      + qy * rz * (qx * x[b + nxy]! + rx * x[b + nxy + 1]!) + ry * rz * (qx * x[b + nxy + nx]! + rx * x[b + nxy + nx + 1]!);
  }
  if (hi < n) acc += sumClamped(st, hi, n, g, x);
  samples += n;
  return acc * st[0]!;
}

/** Exact adjoint of `trilinearSum`: adds h * value * w_corner to the 8 corners of every sample. */
export function trilinearAdd(st: Float64Array, n: number, g: GridPack, x: Float32Array, value: number): void {
  const ax = st[1]!, bx = st[2]!, ay = st[3]!, by = st[4]!, az = st[5]!, bz = st[6]!, lo = st[7]!, hi = st[8]!;
  const nx = g[9]!, nxy = nx * g[10]!;
  const hv = st[0]! * value;
  if (lo > 0) addClamped(st, 0, lo, g, x, hv);
  for (let k = lo; k < hi; k++) {
    const fx = ax + k * bx, fy = ay + k * by, fz = az + k * bz;
    const i = fx | 0, j = fy | 0, l = fz | 0;
    const rx = fx - i, ry = fy - j, rz = fz - l, qx = 1 - rx, qy = 1 - ry, qz = 1 - rz;
    const b = i + nx * j + nxy * l;
    const s00 = hv * qy * qz, s10 = hv * ry * qz, s01 = hv * qy * rz, s11 = hv * ry * rz;
    x[b] += qx * s00; x[b + 1] += rx * s00;
    x[b + nx] += qx * s10; x[b + nx + 1] += rx * s10;
    x[b + nxy] += qx * s01; x[b + nxy + 1] += rx * s01;
    x[b + nxy + nx] += qx * s11; x[b + nxy + nx + 1] += rx * s11;
  }
  if (hi < n) addClamped(st, hi, n, g, x, hv);
  samples += n;
}

/** Forward projection of `nRays` rays: y[yOffset + r] = sum_k h f(t_k) (value x mm). */
export function trilinearProjectRays(rays: Float64Array, nRays: number, g: GridPack, stepMm: number,
  x: Float32Array, y: Float32Array, yOffset: number, st: Float64Array): void {
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    const n = trilinearSetup(rays[o]!, rays[o + 1]!, rays[o + 2]!, rays[o + 3]!, rays[o + 4]!, rays[o + 5]!, g, stepMm, st);
    y[yOffset + r] = n > 0 ? trilinearSum(st, n, g, x) : 0;
  }
}

/** Exact adjoint of `trilinearProjectRays` (adds into x). */
export function trilinearBackprojectRays(rays: Float64Array, nRays: number, g: GridPack, stepMm: number,
  y: Float32Array, yOffset: number, x: Float32Array, st: Float64Array): void {
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    const v = y[yOffset + r]!;
    if (v === 0) continue;
    const n = trilinearSetup(rays[o]!, rays[o + 1]!, rays[o + 2]!, rays[o + 3]!, rays[o + 4]!, rays[o + 5]!, g, stepMm, st);
    if (n > 0) trilinearAdd(st, n, g, x, v);
  }
}
