/**
 * Exact Siddon projector: the line integral of a piecewise-constant voxel volume along each
 * detector ray, as the sum over the voxels the ray crosses of (intersection length mm) x (voxel
 * value). Siddon (Med. Phys. 12(2), 1985) parametrises the ray by its crossings of the voxel
 * boundary planes; Jacobs et al. (Proc. ECSB 1998, "A fast algorithm to calculate the exact
 * radiological path") walk those crossings incrementally instead of merging sorted lists, which
 * is what `siddonSetup` + `siddonSum` / `siddonAdd` / `siddonMax` do (one comparison chain and one
 * flat-index update per crossing).
 *
 * Geometry (docs/coordinate-systems.md, "X-ray geometry"): rays come from `viewFrame` /
 * `pixelRay` conventions, the grid spans offOrigin -/+ nVoxel*dVoxel/2 with voxel (i, j, k) at
 * x[i + nx*(j + ny*k)] (src/physics/operator.ts). Ray parameters t are mm because directions are
 * unit vectors, so a projection value is (volume value) x mm. Geometry and t in Float64; volume and
 * projections Float32.
 *
 * The back-projector (`siddonBackprojectRays`) runs the same traversal with the same weights and
 * adds w * y into the voxels, so it is the exact adjoint of the forward projector.
 */
import type { XrayGeometry } from '../geometry/xray.js';
import { viewFrame } from '../geometry/xray.js';

/**
 * The reconstruction grid packed for the kernels (Float64Array(16)): box min xyz (0-2), box max
 * xyz (3-5), voxel size xyz (6-8), voxel counts (9-11), centre of voxel (0,0,0) xyz (12-14), and
 * the ray start parameter tStart (15): 0 for cone beam (integrate from the source), -Infinity
 * for parallel beam (the whole line).
 */
export type GridPack = Float64Array;

/** Packs the grid of `geo` (docs/coordinate-systems.md: centred on offOrigin). */
export function packGrid(geo: XrayGeometry, out: Float64Array = new Float64Array(16)): GridPack {
  for (let a = 0; a < 3; a++) {
    const n = geo.nVoxel[a]!, d = geo.dVoxel[a]!, half = (n * d) / 2, c = geo.offOrigin[a]!;
    out[a] = c - half;
    out[a + 3] = c + half;
    out[a + 6] = d;
    out[a + 9] = n;
    out[a + 12] = c - half + d / 2;
  }
  out[15] = geo.mode === 'cone' ? 0 : -Infinity;
  return out;
}

/** Values per ray in a ray buffer: origin xyz (mm), unit direction xyz. */
export const RAY_STRIDE = 6;

/**
 * Writes the rays of every pixel of the view at `angleRad` into `out` (nu*nv*6 Float64, pixel
 * order row-major with row 0 = top, as the projection layout). Same formulas as `pixelRay`
 * (src/geometry/xray.ts), inlined so a view costs no call per pixel. `frame` is scratch (15).
 */
export function computeViewRays(geo: XrayGeometry, angleRad: number, out: Float64Array,
  frame: Float64Array = new Float64Array(15)): Float64Array {
  viewFrame(geo, angleRad, frame);
  const nu = geo.nDetector[0], nv = geo.nDetector[1], du = geo.dDetector[0], dv = geo.dDetector[1];
  const sx = frame[0]!, sy = frame[1]!, sz = frame[2]!;
  const cx = frame[3]!, cy = frame[4]!, cz = frame[5]!;
  const ux = frame[6]!, uy = frame[7]!, uz = frame[8]!;
  const vx = frame[9]!, vy = frame[10]!, vz = frame[11]!;
  const rx = frame[12]!, ry = frame[13]!, rz = frame[14]!;
  const cone = geo.mode === 'cone', back = geo.DSD;
  let o = 0;
  for (let r = 0; r < nv; r++) {
    const v = ((nv - 1) / 2 - r) * dv;
    const rowx = cx + v * vx, rowy = cy + v * vy, rowz = cz + v * vz;
    for (let c = 0; c < nu; c++) {
      const u = (c - (nu - 1) / 2) * du;
      const px = rowx + u * ux, py = rowy + u * uy, pz = rowz + u * uz;
      if (cone) {
        const dx = px - sx, dy = py - sy, dz = pz - sz;
        const inv = 1 / Math.sqrt(dx * dx + dy * dy + dz * dz);
        out[o] = sx; out[o + 1] = sy; out[o + 2] = sz;
        out[o + 3] = dx * inv; out[o + 4] = dy * inv; out[o + 5] = dz * inv;
      } else {
        out[o] = px - back * rx; out[o + 1] = py - back * ry; out[o + 2] = pz - back * rz;
        out[o + 3] = rx; out[o + 4] = ry; out[o + 5] = rz;
      }
      o += RAY_STRIDE;
    }
  }
  return out;
}

/**
 * Slab clipping of o + t d against the packed grid box for t >= tStart (Kay & Kajiya 1986).
 * Writes [tNear, tFar] to clip[0..1] and returns true when tFar > tNear. A zero direction
 * component keeps the ray only if its origin lies in that slab (boundary included). No allocation.
 */
export function clipToGrid(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number,
  g: GridPack, clip: Float64Array): boolean {
  let t0 = g[15]!, t1 = Infinity;
  if (dx !== 0) {
    const inv = 1 / dx;
    let ta = (g[0]! - ox) * inv, tb = (g[3]! - ox) * inv;
    if (ta > tb) { const s = ta; ta = tb; tb = s; }
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
  } else if (ox < g[0]! || ox > g[3]!) return false;
  if (dy !== 0) {
    const inv = 1 / dy;
    let ta = (g[1]! - oy) * inv, tb = (g[4]! - oy) * inv;
    if (ta > tb) { const s = ta; ta = tb; tb = s; }
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
  } else if (oy < g[1]! || oy > g[4]!) return false;
  if (dz !== 0) {
    const inv = 1 / dz;
    let ta = (g[2]! - oz) * inv, tb = (g[5]! - oz) * inv;
    if (ta > tb) { const s = ta; ta = tb; tb = s; }
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
  } else if (oz < g[2]! || oz > g[5]!) return false;
  clip[0] = t0;
  clip[1] = t1;
  return t1 > t0;
}

/** Length of the traversal state written by `siddonSetup`. */
export const SIDDON_STATE = 16;

/**
 * Voxel crossings visited by the kernels of this module since the last `takeSiddonCount()`
 * (per thread: module state). Used by the benchmark to report ray-samples per second.
 */
let crossings = 0;

/** Returns and resets the number of voxel crossings traversed so far on this thread. */
export function takeSiddonCount(): number {
  const c = crossings;
  crossings = 0;
  return c;
}

/**
 * Sets up the traversal of o + t d (unit d) through the grid (Jacobs et al. 1998): clips the
 * ray, finds the entry voxel from the entry point (clamped into the grid, since the point lies on
 * the box surface), and per axis the t of the next boundary plane, the t between planes, the flat
 * index step and the number of planes left before the ray leaves the grid. Writes them to `st`
 * (SIDDON_STATE Float64): [t0, t1, tx, ty, tz, ddx, ddy, ddz, idx, fx, fy, fz, rx, ry, rz].
 * Returns false when the ray misses. Every traversal kernel starts here, so the forward
 * projector, its adjoint and the MIP see exactly the same crossings and lengths.
 */
export function siddonSetup(ox: number, oy: number, oz: number, dx: number, dy: number, dz: number,
  g: GridPack, st: Float64Array): boolean {
  if (!clipToGrid(ox, oy, oz, dx, dy, dz, g, st)) return false;
  const t0 = st[0]!;
  const nx = g[9]!, ny = g[10]!, nz = g[11]!;
  const bx = g[0]!, by = g[1]!, bz = g[2]!, sx = g[6]!, sy = g[7]!, sz = g[8]!;
  let ix = Math.floor((ox + t0 * dx - bx) / sx), iy = Math.floor((oy + t0 * dy - by) / sy), iz = Math.floor((oz + t0 * dz - bz) / sz);
  if (ix < 0) ix = 0; else if (ix >= nx) ix = nx - 1;
  if (iy < 0) iy = 0; else if (iy >= ny) iy = ny - 1;
  if (iz < 0) iz = 0; else if (iz >= nz) iz = nz - 1;
  const NEVER = 2147483647; // planes left on an axis the ray does not move along
  if (dx > 0) { st[2] = (bx + (ix + 1) * sx - ox) / dx; st[5] = sx / dx; st[9] = 1; st[12] = nx - 1 - ix; }
  else if (dx < 0) { st[2] = (bx + ix * sx - ox) / dx; st[5] = -sx / dx; st[9] = -1; st[12] = ix; }
  else { st[2] = Infinity; st[5] = 0; st[9] = 0; st[12] = NEVER; }
  if (dy > 0) { st[3] = (by + (iy + 1) * sy - oy) / dy; st[6] = sy / dy; st[10] = nx; st[13] = ny - 1 - iy; }
  else if (dy < 0) { st[3] = (by + iy * sy - oy) / dy; st[6] = -sy / dy; st[10] = -nx; st[13] = iy; }
  else { st[3] = Infinity; st[6] = 0; st[10] = 0; st[13] = NEVER; }
  if (dz > 0) { st[4] = (bz + (iz + 1) * sz - oz) / dz; st[7] = sz / dz; st[11] = nx * ny; st[14] = nz - 1 - iz; }
  else if (dz < 0) { st[4] = (bz + iz * sz - oz) / dz; st[7] = -sz / dz; st[11] = -nx * ny; st[14] = iz; }
  else { st[4] = Infinity; st[7] = 0; st[11] = 0; st[14] = NEVER; }
  st[8] = ix + nx * (iy + ny * iz);
  return true;
}

/*
 * The three traversal loops below are the same walk: at each step the nearest boundary plane
 * (smallest of tx, ty, tz) ends the current segment; the segment [t, t_plane] of length w lies in
 * voxel idx; crossing the last plane of an axis leaves the grid; a plane beyond t1 means the
 * segment ends at the exit t1. Only the use of (idx, w) differs. Lengths w <= 0 (a ray through an
 * edge or corner crosses two planes at the same t) are skipped.
 */

/** Line integral of x along the ray set up in `st`: sum over crossed voxels of w * x[voxel]. */
export function siddonSum(st: Float64Array, x: Float32Array): number {
  const t1 = st[1]!, ddx = st[5]!, ddy = st[6]!, ddz = st[7]!, fx = st[9]!, fy = st[10]!, fz = st[11]!;
  let t = st[0]!, tx = st[2]!, ty = st[3]!, tz = st[4]!, idx = st[8]!, rx = st[12]!, ry = st[13]!, rz = st[14]!;
  let acc = 0, n = 0;
  for (;;) {
    let tn: number;
    if (tx <= ty && tx <= tz) {
      tn = tx;
      if (tn >= t1) break;
      if (tn > t) { acc += (tn - t) * x[idx]!; n++; }
      t = tn;
      if (rx-- === 0) { crossings += n; return acc; }
      idx += fx; tx += ddx;
    } else if (ty <= tz) {
      tn = ty;
      if (tn >= t1) break;
      if (tn > t) { acc += (tn - t) * x[idx]!; n++; }
      t = tn;
      if (ry-- === 0) { crossings += n; return acc; }
      idx += fy; ty += ddy;
    } else {
      tn = tz;
      if (tn >= t1) break;
      if (tn > t) { acc += (tn - t) * x[idx]!; n++; }
      t = tn;
      if (rz-- === 0) { crossings += n; return acc; }
      idx += fz; tz += ddz;
    }
  }
  if (t1 > t) { acc += (t1 - t) * x[idx]!; n++; }
  crossings += n;
  return acc;
}

/** Exact adjoint of `siddonSum` for one ray: x[voxel] += w * value over the same crossings. */
export function siddonAdd(st: Float64Array, x: Float32Array, value: number): void {
  const t1 = st[1]!, ddx = st[5]!, ddy = st[6]!, ddz = st[7]!, fx = st[9]!, fy = st[10]!, fz = st[11]!;
  let t = st[0]!, tx = st[2]!, ty = st[3]!, tz = st[4]!, idx = st[8]!, rx = st[12]!, ry = st[13]!, rz = st[14]!;
  let n = 0;
  for (;;) {
    let tn: number;
    if (tx <= ty && tx <= tz) {
      tn = tx;
      if (tn >= t1) break;
      if (tn > t) { x[idx] += (tn - t) * value; n++; }
      t = tn;
      if (rx-- === 0) { crossings += n; return; }
      idx += fx; tx += ddx;
    } else if (ty <= tz) {
      tn = ty;
      if (tn >= t1) break;
      if (tn > t) { x[idx] += (tn - t) * value; n++; }
      t = tn;
      if (ry-- === 0) { crossings += n; return; }
      idx += fy; ty += ddy;
    } else {
      tn = tz;
      if (tn >= t1) break;
      if (tn > t) { x[idx] += (tn - t) * value; n++; }
      t = tn;
      if (rz-- === 0) { crossings += n; return; }
      idx += fz; tz += ddz;
    }
  }
  if (t1 > t) { x[idx] += (t1 - t) * value; n++; }
  crossings += n;
}

/** Largest x[voxel] over the voxels crossed with positive length (-Infinity if none). */
export function siddonMax(st: Float64Array, x: Float32Array): number {
  const t1 = st[1]!, ddx = st[5]!, ddy = st[6]!, ddz = st[7]!, fx = st[9]!, fy = st[10]!, fz = st[11]!;
  let t = st[0]!, tx = st[2]!, ty = st[3]!, tz = st[4]!, idx = st[8]!, rx = st[12]!, ry = st[13]!, rz = st[14]!;
  let m = -Infinity;
  for (;;) {
    let tn: number;
    if (tx <= ty && tx <= tz) {
      tn = tx;
      if (tn >= t1) break;
      if (tn > t && x[idx]! > m) m = x[idx]!;
      t = tn;
      if (rx-- === 0) return m;
      idx += fx; tx += ddx;
    } else if (ty <= tz) {
      tn = ty;
      if (tn >= t1) break;
      if (tn > t && x[idx]! > m) m = x[idx]!;
      t = tn;
      if (ry-- === 0) return m;
      idx += fy; ty += ddy;
    } else {
      tn = tz;
      if (tn >= t1) break;
      if (tn > t && x[idx]! > m) m = x[idx]!;
      t = tn;
      if (rz-- === 0) return m;
      idx += fz; tz += ddz;
    }
  }
  if (t1 > t && x[idx]! > m) m = x[idx]!;
  return m;
}

/**
 * Forward projection of `nRays` rays of `rays` (RAY_STRIDE per ray): y[yOffset + r] = line
 * integral of x along ray r (value x mm), accumulated in Float64 and stored as Float32.
 */
export function siddonProjectRays(rays: Float64Array, nRays: number, g: GridPack, x: Float32Array,
  y: Float32Array, yOffset: number, st: Float64Array): void {
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    y[yOffset + r] = siddonSetup(rays[o]!, rays[o + 1]!, rays[o + 2]!, rays[o + 3]!, rays[o + 4]!, rays[o + 5]!, g, st)
      ? siddonSum(st, x) : 0;
  }
}

/** Exact adjoint of `siddonProjectRays`: x[voxel] += w * y[yOffset + r] for every crossing (adds). */
export function siddonBackprojectRays(rays: Float64Array, nRays: number, g: GridPack, y: Float32Array,
  yOffset: number, x: Float32Array, st: Float64Array): void {
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    const v = y[yOffset + r]!;
    if (v === 0) continue; // adds nothing: skipping keeps the result identical
    if (siddonSetup(rays[o]!, rays[o + 1]!, rays[o + 2]!, rays[o + 3]!, rays[o + 4]!, rays[o + 5]!, g, st)) siddonAdd(st, x, v);
  }
}

/**
 * Maximum of the voxel values crossed (with positive length) by each ray: a maximum intensity
 * projection of the piecewise-constant volume; `background` where a ray misses the grid.
 */
export function siddonMaxRays(rays: Float64Array, nRays: number, g: GridPack, x: Float32Array,
  y: Float32Array, yOffset: number, st: Float64Array, background = 0): void {
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    const m = siddonSetup(rays[o]!, rays[o + 1]!, rays[o + 2]!, rays[o + 3]!, rays[o + 4]!, rays[o + 5]!, g, st)
      ? siddonMax(st, x) : -Infinity;
    y[yOffset + r] = m === -Infinity ? background : m;
  }
}
