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

/**
 * One ray: adjoint = false returns sum_k h f(t_k); adjoint = true adds h * value * w to the
 * corner voxels of every sample and returns 0. `clip` is Float64 scratch of length >= 2.
 */
export function trilinearTrace(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number,
  g: GridPack, stepMm: number, x: Float32Array, adjoint: boolean, value: number, clip: Float64Array): number {
  if (!clipToGrid(ox, oy, oz, dx, dy, dz, g, clip)) return 0;
  const t0 = clip[0]!, len = clip[1]! - t0;
  const n = Math.max(1, Math.ceil(len / stepMm - 1e-9));
  const h = len / n;
  const nx = g[9]!, ny = g[10]!, nz = g[11]!;
  const isx = 1 / g[6]!, isy = 1 / g[7]!, isz = 1 / g[8]!;
  // continuous voxel index along the ray: f(t) = a + t b, a at the first sample
  const ax = (ox + (t0 + 0.5 * h) * dx - g[12]!) * isx, bx = h * dx * isx;
  const ay = (oy + (t0 + 0.5 * h) * dy - g[13]!) * isy, by = h * dy * isy;
  const az = (oz + (t0 + 0.5 * h) * dz - g[14]!) * isz, bz = h * dz * isz;
  const mx = nx - 1, my = ny - 1, mz = nz - 1;
  // Lower corner index is clamped to n-2 so the upper corner n-1 exists; n = 1 reads one voxel.
  const lx = nx > 1 ? nx - 2 : 0, ly = ny > 1 ? ny - 2 : 0, lz = nz > 1 ? nz - 2 : 0;
  const ox1 = nx > 1 ? 1 : 0, oy1 = ny > 1 ? nx : 0, oz1 = nz > 1 ? nx * ny : 0;
  const hv = h * value;
  let acc = 0;
  for (let k = 0; k < n; k++) {
    let fx = ax + k * bx, fy = ay + k * by, fz = az + k * bz;
    if (fx < 0) fx = 0; else if (fx > mx) fx = mx;
    if (fy < 0) fy = 0; else if (fy > my) fy = my;
    if (fz < 0) fz = 0; else if (fz > mz) fz = mz;
    let i = fx | 0, j = fy | 0, l = fz | 0;
    if (i > lx) i = lx;
    if (j > ly) j = ly;
    if (l > lz) l = lz;
    const rx = fx - i, ry = fy - j, rz = fz - l;
    const qx = 1 - rx, qy = 1 - ry, qz = 1 - rz;
    const b = i + nx * (j + ny * l);
    const w00 = qy * qz, w10 = ry * qz, w01 = qy * rz, w11 = ry * rz;
    if (adjoint) {
      const s00 = hv * w00, s10 = hv * w10, s01 = hv * w01, s11 = hv * w11;
      x[b] += qx * s00; x[b + ox1] += rx * s00;
      x[b + oy1] += qx * s10; x[b + oy1 + ox1] += rx * s10;
      x[b + oz1] += qx * s01; x[b + oz1 + ox1] += rx * s01;
      x[b + oz1 + oy1] += qx * s11; x[b + oz1 + oy1 + ox1] += rx * s11;
    } else {
      acc += w00 * (qx * x[b]! + rx * x[b + ox1]!)
        + w10 * (qx * x[b + oy1]! + rx * x[b + oy1 + ox1]!)
        + w01 * (qx * x[b + oz1]! + rx * x[b + oz1 + ox1]!)
        + w11 * (qx * x[b + oz1 + oy1]! + rx * x[b + oz1 + oy1 + ox1]!);
    }
  }
  samples += n;
  return adjoint ? 0 : acc * h;
}

/** Forward projection of `nRays` rays: y[yOffset + r] = sum_k h f(t_k) (value x mm). */
export function trilinearProjectRays(rays: Float64Array, nRays: number, g: GridPack, stepMm: number,
  x: Float32Array, y: Float32Array, yOffset: number, clip: Float64Array): void {
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    y[yOffset + r] = trilinearTrace(rays[o]!, rays[o + 1]!, rays[o + 2]!, rays[o + 3]!, rays[o + 4]!, rays[o + 5]!,
      g, stepMm, x, false, 0, clip);
  }
}

/** Exact adjoint of `trilinearProjectRays` (adds into x). */
export function trilinearBackprojectRays(rays: Float64Array, nRays: number, g: GridPack, stepMm: number,
  y: Float32Array, yOffset: number, x: Float32Array, clip: Float64Array): void {
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    const v = y[yOffset + r]!;
    if (v === 0) continue;
    trilinearTrace(rays[o]!, rays[o + 1]!, rays[o + 2]!, rays[o + 3]!, rays[o + 4]!, rays[o + 5]!,
      g, stepMm, x, true, v, clip);
  }
}
