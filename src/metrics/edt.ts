/**
 * Exact Euclidean distance transform in millimetres on an anisotropic voxel grid, by the
 * separable lower-envelope-of-parabolas algorithm of Felzenszwalb & Huttenlocher,
 * "Distance Transforms of Sampled Functions", Theory of Computing 8 (2012), alg. 1,
 * with sample positions scaled by the per-axis spacing. Exact (not chamfer): the squared
 * distance separates over axes, so three 1D passes give the true nearest-feature distance.
 */
import { checkDims, checkSpacing } from './validate.js';

/** 1D squared-distance transform of f (Infinity = no feature) at positions q * spacing. */
function edt1d(
  f: Float64Array, n: number, spacing: number, out: Float64Array,
  v: Int32Array, z: Float64Array,
): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue; // an infinite parabola never lies on the envelope
    if (k < 0) { k = 0; v[0] = q; z[0] = -Infinity; z[1] = Infinity; continue; }
    const xq = q * spacing, hq = fq + xq * xq;
    let s: number;
    for (;;) {
      const p = v[k], xp = p * spacing;
      // Abscissa where the parabolas rooted at p and q intersect (F&H eq. in sec. 2.1).
      s = (hq - (f[p] + xp * xp)) / (2 * (xq - xp));
      if (s > z[k]) break;
      k--; // z[0] = -Infinity, so this stops at k = 0
    }
    k++;
    v[k] = q; z[k] = s; z[k + 1] = Infinity;
  }
  if (k < 0) { out.fill(Infinity, 0, n); return; }
  k = 0;
  for (let q = 0; q < n; q++) {
    const xq = q * spacing;
    while (z[k + 1] < xq) k++;
    const d = xq - v[k] * spacing;
    out[q] = d * d + f[v[k]];
  }
}

/**
 * Squared Euclidean distance (mm^2) from every voxel to the nearest feature voxel.
 * @param feature - Nonzero = feature voxel; x fastest: (i, j, k) at i + nx * (j + ny * k).
 * @param dims - [nx, ny, nz].
 * @param spacingMm - Voxel size along i, j, k in mm (> 0).
 * @returns Float64Array of squared distances; 0 on features, Infinity everywhere when there
 *   is no feature at all.
 */
export function squaredDistanceMm(
  feature: ArrayLike<number>, dims: readonly [number, number, number], spacingMm: readonly [number, number, number],
): Float64Array {
  checkDims(dims, feature.length);
  checkSpacing(spacingMm);
  const [nx, ny, nz] = dims;
  const d = new Float64Array(feature.length);
  for (let i = 0; i < d.length; i++) d[i] = feature[i] !== 0 ? 0 : Infinity;
  const maxN = Math.max(nx, ny, nz);
  const f = new Float64Array(maxN), out = new Float64Array(maxN);
  const v = new Int32Array(maxN), z = new Float64Array(maxN + 1);
  // x: lines are contiguous.
  if (nx > 1) {
    for (let start = 0; start < d.length; start += nx) {
      for (let q = 0; q < nx; q++) f[q] = d[start + q];
      edt1d(f, nx, spacingMm[0], out, v, z);
      for (let q = 0; q < nx; q++) d[start + q] = out[q];
    }
  }
  // y and z: lines are strided, so each pass works on panels of nx neighbouring lines,
  // transposed into a small buffer with contiguous rows read, instead of one cache miss per sample.
  const panel = new Float64Array(nx * Math.max(ny, nz));
  const panelPass = (n: number, stride: number, base: number, spacing: number): void => {
    for (let q = 0; q < n; q++) {
      const row = base + q * stride;
      for (let i = 0; i < nx; i++) panel[i * n + q] = d[row + i];
    }
    for (let i = 0; i < nx; i++) {
      const off = i * n;
      for (let q = 0; q < n; q++) f[q] = panel[off + q];
      edt1d(f, n, spacing, out, v, z);
      for (let q = 0; q < n; q++) panel[off + q] = out[q];
    }
    for (let q = 0; q < n; q++) {
      const row = base + q * stride;
      for (let i = 0; i < nx; i++) d[row + i] = panel[i * n + q];
    }
  };
  if (ny > 1) for (let k = 0; k < nz; k++) panelPass(ny, nx, k * nx * ny, spacingMm[1]);
  if (nz > 1) for (let j = 0; j < ny; j++) panelPass(nz, nx * ny, j * nx, spacingMm[2]);
  return d;
}

/** Euclidean distance (mm) to the nearest feature voxel; see {@link squaredDistanceMm}. */
export function distanceMm(
  feature: ArrayLike<number>, dims: readonly [number, number, number], spacingMm: readonly [number, number, number],
): Float64Array {
  const d = squaredDistanceMm(feature, dims, spacingMm);
  for (let i = 0; i < d.length; i++) d[i] = Math.sqrt(d[i]);
  return d;
}
