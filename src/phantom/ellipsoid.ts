/**
 * Analytic phantoms made of additive ellipsoids, in world RAS+ millimetres
 * (docs/coordinate-systems.md). A point's value is the sum of the densities of every ellipsoid
 * that contains it (boundary included), so line integrals are sums of chord lengths times
 * densities and can be computed exactly: the oracle that projectors and reconstructions are
 * tested against.
 *
 * Units: positions and lengths in mm; `density` is whatever the caller's table says (for X-ray
 * use, an attenuation coefficient per mm makes line integrals dimensionless); line integrals are
 * density x mm.
 */
import { check } from '../core/errors.js';
import type { Vec3 } from '../core/volume.js';

/** One ellipsoid of an analytic phantom (plain data, JSON- and worker-safe). */
export interface PhantomEllipsoid {
  /** Additive density added inside the ellipsoid (boundary included). */
  density: number;
  /** World RAS+ position (mm) of the centre. */
  centreMm: Vec3;
  /** Semi-axis lengths (mm) along the ellipsoid's local x, y, z axes; all > 0. */
  semiAxesMm: Vec3;
  /**
   * 3x3 rotation, row-major, taking world offsets into the local frame:
   * `local = worldToLocal * (p - centreMm)`. Row r is the world direction of local axis r.
   */
  worldToLocal: number[];
}

/** A phantom of additive ellipsoids plus the cubic field of view a voxel grid should cover. */
export interface EllipsoidPhantom {
  kind: 'ellipsoids';
  /** Human-readable name, e.g. 'shepp-logan-modified'. */
  name: string;
  /** Edge length (mm) of the cube, centred at the world origin, that `voxelizePhantom` covers. */
  fovMm: number;
  ellipsoids: PhantomEllipsoid[];
}

/**
 * Passive ZXZ Euler rotation (world -> local) as in Goldstein, Classical Mechanics, eq. 4-46,
 * which is the matrix MATLAB `phantom3d` (Schabel 2005) builds from its (phi, theta, psi)
 * columns: phi about z, then theta about the new x, then psi about the new z. Angles in degrees.
 * A rotation by phi alone turns the ellipsoid's x semi-axis towards +y (counter-clockwise seen
 * from +z). Row-major.
 */
export function eulerZxzDeg(phiDeg: number, thetaDeg: number, psiDeg: number): number[] {
  const d = Math.PI / 180;
  const cf = Math.cos(phiDeg * d), sf = Math.sin(phiDeg * d);
  const ct = Math.cos(thetaDeg * d), st = Math.sin(thetaDeg * d);
  const cp = Math.cos(psiDeg * d), sp = Math.sin(psiDeg * d);
  return [
    cp * cf - ct * sf * sp, cp * sf + ct * cf * sp, sp * st,
    -sp * cf - ct * sf * cp, -sp * sf + ct * cf * cp, cp * st,
    st * sf, -st * cf, ct,
  ];
}

/**
 * Builds one ellipsoid rotated about its own centre. `eulerDeg` = [phi, theta, psi] in degrees,
 * the `eulerZxzDeg` convention (default no rotation).
 */
export function makeEllipsoid(e: {
  density: number; centreMm: Vec3; semiAxesMm: Vec3; eulerDeg?: Vec3;
}): PhantomEllipsoid {
  const r = e.eulerDeg ? eulerZxzDeg(e.eulerDeg[0], e.eulerDeg[1], e.eulerDeg[2]) : [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const el: PhantomEllipsoid = { density: e.density, centreMm: [...e.centreMm], semiAxesMm: [...e.semiAxesMm], worldToLocal: r };
  checkEllipsoid(el, 'ellipsoid');
  return el;
}

/** An ellipsoid phantom from a list of ellipsoids (checked); `fovMm` defaults to 256 mm. */
export function ellipsoidPhantom(ellipsoids: PhantomEllipsoid[], opts: { fovMm?: number; name?: string } = {}): EllipsoidPhantom {
  const p: EllipsoidPhantom = { kind: 'ellipsoids', name: opts.name ?? 'ellipsoids', fovMm: opts.fovMm ?? 256, ellipsoids };
  checkPhantom(p);
  return p;
}

/** Throws a 'bad-option' MedfieldError naming the field unless the phantom is well formed. */
export function checkPhantom(p: EllipsoidPhantom, subject = 'phantom'): void {
  check(Number.isFinite(p.fovMm) && p.fovMm > 0, `${subject}.fovMm`, `expected a finite length > 0 mm, got ${p.fovMm}`);
  check(Array.isArray(p.ellipsoids), `${subject}.ellipsoids`, 'expected an array of ellipsoids');
  p.ellipsoids.forEach((e, i) => checkEllipsoid(e, `${subject}.ellipsoids[${i}]`));
}

function checkEllipsoid(e: PhantomEllipsoid, subject: string): void {
  check(Number.isFinite(e.density), `${subject}.density`, `expected a finite number, got ${e.density}`);
  check(e.centreMm.length === 3 && e.centreMm.every(Number.isFinite), `${subject}.centreMm`, 'expected 3 finite mm values');
  check(e.semiAxesMm.length === 3 && e.semiAxesMm.every((a) => Number.isFinite(a) && a > 0), `${subject}.semiAxesMm`,
    `expected 3 finite lengths > 0 mm, got [${e.semiAxesMm.join(', ')}]`);
  check(e.worldToLocal.length === 9 && e.worldToLocal.every(Number.isFinite), `${subject}.worldToLocal`,
    'expected 9 finite numbers (row-major 3x3 rotation)');
}

/** Numbers per ellipsoid in the packed form: centre (3), M = diag(1/semiAxes) * worldToLocal (9), density. */
export const PACKED_STRIDE = 13;

let scratch = new Float64Array(PACKED_STRIDE * 16);

/**
 * Packs the ellipsoids into `out` (or a module scratch buffer) as PACKED_STRIDE numbers each, so
 * hot loops read one Float64Array. Every evaluator here uses this form, so the point test of
 * `phantomValueAt` and of `voxelizePhantom` round identically.
 */
export function packEllipsoids(p: EllipsoidPhantom, out?: Float64Array): Float64Array {
  const need = p.ellipsoids.length * PACKED_STRIDE;
  let buf = out;
  if (!buf) {
    if (scratch.length < need) scratch = new Float64Array(need);
    buf = scratch;
  }
  check(buf.length >= need, 'out', `packed buffer needs ${need} numbers, has ${buf.length}`);
  for (let e = 0; e < p.ellipsoids.length; e++) {
    const el = p.ellipsoids[e], o = e * PACKED_STRIDE, r = el.worldToLocal;
    buf[o] = el.centreMm[0]; buf[o + 1] = el.centreMm[1]; buf[o + 2] = el.centreMm[2];
    for (let row = 0; row < 3; row++) {
      const inv = 1 / el.semiAxesMm[row];
      for (let c = 0; c < 3; c++) buf[o + 3 + row * 3 + c] = r[row * 3 + c] * inv;
    }
    buf[o + 12] = el.density;
  }
  return buf;
}

/**
 * Value of the phantom at a world point (mm): the sum of the densities of the ellipsoids that
 * contain it, boundary included (as phantom3d's `<= 1`).
 */
export function phantomValueAt(p: EllipsoidPhantom, xyzMm: ArrayLike<number>): number {
  const P = packEllipsoids(p);
  const n = p.ellipsoids.length;
  let v = 0;
  for (let e = 0; e < n; e++) {
    const o = e * PACKED_STRIDE;
    const dx = xyzMm[0] - P[o], dy = xyzMm[1] - P[o + 1], dz = xyzMm[2] - P[o + 2];
    // Same association as the row loop of voxelizePhantom: M[r][0]*dx + (M[r][1]*dy + M[r][2]*dz).
    const u = P[o + 3] * dx + (P[o + 4] * dy + P[o + 5] * dz);
    const w = P[o + 6] * dx + (P[o + 7] * dy + P[o + 8] * dz);
    const s = P[o + 9] * dx + (P[o + 10] * dy + P[o + 11] * dz);
    if (u * u + w * w + s * s <= 1) v += P[o + 12];
  }
  return v;
}

/**
 * Values at many world points (mm), [x0, y0, z0, x1, ...]; the same sums as `phantomValueAt`.
 * Returns `out` (or a new Float32Array).
 */
export function phantomValuesAt(p: EllipsoidPhantom, pointsMm: ArrayLike<number>): Float32Array;
export function phantomValuesAt<T extends Float32Array | Float64Array>(p: EllipsoidPhantom, pointsMm: ArrayLike<number>, out: T): T;
export function phantomValuesAt(p: EllipsoidPhantom, pointsMm: ArrayLike<number>, out?: Float32Array | Float64Array): Float32Array | Float64Array {
  check(pointsMm.length % 3 === 0, 'pointsMm', `expected 3 numbers per point, got ${pointsMm.length} numbers`);
  const n = pointsMm.length / 3;
  const res = out ?? new Float32Array(n);
  check(res.length >= n, 'out', `expected room for ${n} values, got ${res.length}`);
  const P = packEllipsoids(p, new Float64Array(p.ellipsoids.length * PACKED_STRIDE));
  const ne = p.ellipsoids.length;
  for (let q = 0; q < n; q++) {
    const x = pointsMm[3 * q], y = pointsMm[3 * q + 1], z = pointsMm[3 * q + 2];
    let v = 0;
    for (let e = 0; e < ne; e++) {
      const o = e * PACKED_STRIDE;
      const dx = x - P[o], dy = y - P[o + 1], dz = z - P[o + 2];
      const u = P[o + 3] * dx + (P[o + 4] * dy + P[o + 5] * dz);
      const w = P[o + 6] * dx + (P[o + 7] * dy + P[o + 8] * dz);
      const s = P[o + 9] * dx + (P[o + 10] * dy + P[o + 11] * dz);
      if (u * u + w * w + s * s <= 1) v += P[o + 12];
    }
    res[q] = v;
  }
  return res;
}

/**
 * Exact integral of the packed phantom along p(t) = origin + t * dir for t in [tNear, tFar].
 * In each ellipsoid's scaled local frame the ray is w(t) = w0 + t v and the ellipsoid is the
 * unit ball, so |w0 + t v|^2 = 1 is a quadratic whose roots bound the chord.
 */
function integratePacked(P: Float64Array, n: number, ox: number, oy: number, oz: number,
  dx: number, dy: number, dz: number, tNear: number, tFar: number): number {
  let sum = 0;
  for (let e = 0; e < n; e++) {
    const o = e * PACKED_STRIDE;
    const qx = ox - P[o], qy = oy - P[o + 1], qz = oz - P[o + 2];
    const w0 = P[o + 3] * qx + P[o + 4] * qy + P[o + 5] * qz;
    const w1 = P[o + 6] * qx + P[o + 7] * qy + P[o + 8] * qz;
    const w2 = P[o + 9] * qx + P[o + 10] * qy + P[o + 11] * qz;
    const v0 = P[o + 3] * dx + P[o + 4] * dy + P[o + 5] * dz;
    const v1 = P[o + 6] * dx + P[o + 7] * dy + P[o + 8] * dz;
    const v2 = P[o + 9] * dx + P[o + 10] * dy + P[o + 11] * dz;
    const a = v0 * v0 + v1 * v1 + v2 * v2;
    const b = w0 * v0 + w1 * v1 + w2 * v2;
    const c = w0 * w0 + w1 * w1 + w2 * w2 - 1;
    const disc = b * b - a * c;
    if (!(disc > 0)) continue; // misses or grazes: chord of length 0
    const root = Math.sqrt(disc);
    // Stable roots (Numerical Recipes 5.6): avoid cancelling -b against root.
    const q = b >= 0 ? -(b + root) : -(b - root);
    let t1 = q / a, t2 = c / q; // q != 0 because disc > 0
    if (t1 > t2) { const t = t1; t1 = t2; t2 = t; }
    const lo = t1 > tNear ? t1 : tNear, hi = t2 < tFar ? t2 : tFar;
    if (hi > lo) sum += P[o + 12] * (hi - lo);
  }
  return sum;
}

/** Largest allowed deviation of |dir| from 1: the integral is in mm only for unit directions. */
const UNIT_TOL = 1e-6;

/**
 * Exact line integral (density x mm) of the phantom along the ray origin + t * dir, t in
 * [tNear, tFar] mm (default [0, +Infinity): the ray, not the whole line). `dirUnit` must have
 * length 1 (within 1e-6) so that t is in mm; anything else is rejected rather than rescaled.
 */
export function phantomLineIntegral(p: EllipsoidPhantom, originMm: ArrayLike<number>, dirUnit: ArrayLike<number>,
  tNear = 0, tFar = Infinity): number {
  const len2 = dirUnit[0] * dirUnit[0] + dirUnit[1] * dirUnit[1] + dirUnit[2] * dirUnit[2];
  check(Math.abs(Math.sqrt(len2) - 1) <= UNIT_TOL, 'dirUnit', `expected a unit vector, got length ${Math.sqrt(len2)}`);
  const P = packEllipsoids(p);
  return integratePacked(P, p.ellipsoids.length, originMm[0], originMm[1], originMm[2],
    dirUnit[0], dirUnit[1], dirUnit[2], tNear, tFar);
}

/** Rays for `phantomLineIntegrals`. */
export interface LineIntegralBatch {
  /** Ray origins, world mm, [x0, y0, z0, x1, ...] (3 per ray). */
  originsMm: Float64Array;
  /** Unit ray directions, 3 per ray. */
  dirsUnit: Float64Array;
  /** Start of each integral in mm along the ray: one value for all rays or one per ray (default 0). */
  tNear?: number | Float64Array;
  /** End of each integral in mm (default +Infinity). */
  tFar?: number | Float64Array;
  /** Output buffer, one value per ray (a new Float32Array when absent). */
  out?: Float32Array | Float64Array;
}

/**
 * Exact line integrals (density x mm) of many rays; no allocation per ray. Returns `out` (or a
 * new Float32Array). Directions must be unit length (within 1e-6); the first that is not is
 * reported by index.
 */
export function phantomLineIntegrals(p: EllipsoidPhantom, batch: LineIntegralBatch & { out?: undefined }): Float32Array;
export function phantomLineIntegrals<T extends Float32Array | Float64Array>(p: EllipsoidPhantom, batch: LineIntegralBatch & { out: T }): T;
export function phantomLineIntegrals(p: EllipsoidPhantom, batch: LineIntegralBatch): Float32Array | Float64Array {
  const { originsMm: O, dirsUnit: D } = batch;
  check(O.length % 3 === 0, 'originsMm', `expected 3 numbers per ray, got ${O.length} numbers`);
  const n = O.length / 3;
  check(D.length === O.length, 'dirsUnit', `expected ${O.length} numbers (3 per ray), got ${D.length}`);
  const out = batch.out ?? new Float32Array(n);
  check(out.length >= n, 'out', `expected room for ${n} rays, got ${out.length}`);
  const tn = batch.tNear ?? 0, tf = batch.tFar ?? Infinity;
  const tnA = typeof tn === 'number' ? null : tn, tfA = typeof tf === 'number' ? null : tf;
  if (tnA) check(tnA.length >= n, 'tNear', `expected ${n} values (one per ray), got ${tnA.length}`);
  if (tfA) check(tfA.length >= n, 'tFar', `expected ${n} values (one per ray), got ${tfA.length}`);
  // Own buffer: the scratch one could be replaced if a caller interleaves single-ray calls.
  const P = packEllipsoids(p, new Float64Array(p.ellipsoids.length * PACKED_STRIDE));
  const ne = p.ellipsoids.length;
  for (let r = 0; r < n; r++) {
    const i = 3 * r;
    const dx = D[i], dy = D[i + 1], dz = D[i + 2];
    const len = Math.sqrt(dx * dx + dy * dy + dz * dz);
    if (!(Math.abs(len - 1) <= UNIT_TOL)) check(false, `dirsUnit[ray ${r}]`, `expected a unit vector, got length ${len}`);
    out[r] = integratePacked(P, ne, O[i], O[i + 1], O[i + 2], dx, dy, dz,
      tnA ? tnA[r] : (tn as number), tfA ? tfA[r] : (tf as number));
  }
  return out;
}

/**
 * Half extents (mm) of the world-axis-aligned box around an ellipsoid: along world axis c it is
 * sqrt(sum_r (R[r][c] * a_r)^2), since p - centre = R^T u with |u / a| <= 1.
 */
export function ellipsoidHalfExtentsMm(e: PhantomEllipsoid): Vec3 {
  const r = e.worldToLocal, a = e.semiAxesMm;
  const h: Vec3 = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    let s = 0;
    for (let row = 0; row < 3; row++) s += (r[row * 3 + c] * a[row]) ** 2;
    h[c] = Math.sqrt(s);
  }
  return h;
}
