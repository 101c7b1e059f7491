/**
 * Ray / axis-aligned box clipping (the slab method, Kay & Kajiya 1986), Float64, no allocation.
 */
import type { Aabb } from './grid.js';

/**
 * Intersects the ray o + t d with `box`. Writes [tNear, tFar] into out and returns true when
 * the ray meets the box with tFar > max(tNear, tMin). tNear is clamped to tMin (default 0), so
 * a ray starting inside the box starts at tMin. Components of d equal to 0 are handled: the
 * ray then hits only if its origin lies within that slab.
 */
export function rayAabb(
  ox: number, oy: number, oz: number,
  dx: number, dy: number, dz: number,
  box: Aabb, out: Float64Array, tMin = 0,
): boolean {
  let t0 = tMin;
  let t1 = Infinity;
  const o = [ox, oy, oz];
  const d = [dx, dy, dz];
  for (let a = 0; a < 3; a++) {
    const lo = box[a]!, hi = box[a + 3]!, oa = o[a]!, da = d[a]!;
    if (da === 0) {
      if (oa < lo || oa > hi) return false;
      continue;
    }
    const inv = 1 / da;
    let ta = (lo - oa) * inv;
    let tb = (hi - oa) * inv;
    if (ta > tb) { const t = ta; ta = tb; tb = t; }
    if (ta > t0) t0 = ta;
    if (tb < t1) t1 = tb;
    if (t1 <= t0) return false;
  }
  out[0] = t0;
  out[1] = t1;
  return true;
}
