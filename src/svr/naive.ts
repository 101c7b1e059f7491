/**
 * Naive fusion, the SVR baseline: every stack voxel is splatted trilinearly into the output grid
 * at its nominal (scanner) position, the weights accumulated and the sums divided by them. No
 * motion correction and no deconvolution of the slice profile; voxels no splat reached are 0.
 *
 * Footprints: 'point' splats each voxel at its centre only (the textbook scattered-data average;
 * with 4 mm slices on a 1 mm grid the planes between slices get nothing from that stack), 'slab'
 * (default) spreads it evenly over its slice thickness (points spaced at most one output voxel
 * apart through the plane), since a thick-slice voxel stands for that whole slab.
 */
import { MedfieldError } from '../core/errors.js';
import { invert3, type Volume } from '../core/volume.js';
import type { SliceStack } from '../geometry/slice-stack.js';

export const NAIVE_FOOTPRINTS = ['slab', 'point'] as const;
export type NaiveFootprint = (typeof NAIVE_FOOTPRINTS)[number];

export interface NaiveFusionOptions {
  /** 'slab' (default) or 'point'; see the module comment. */
  footprint?: NaiveFootprint;
  /** Called after each stack with (stacks done, stacks total). */
  onProgress?: (done: number, total: number) => void;
}

/** Result of {@link naiveFusion}: the fused volume and the accumulated splat weight per voxel. */
export interface NaiveFusionResult {
  volume: Volume<Float32Array>;
  /** Sum of splat weights per output voxel (0 = not covered). */
  weight: Float32Array;
  /** Output voxels with a nonzero weight. */
  covered: number;
}

/**
 * Splats `stacks` onto `grid` (any dims, spacing, direction; its data is not read) and returns a
 * new volume on that grid.
 */
export function naiveFusion(stacks: readonly SliceStack[], grid: Volume, opts: NaiveFusionOptions = {}): NaiveFusionResult {
  const footprint = opts.footprint ?? 'slab';
  if (!NAIVE_FOOTPRINTS.includes(footprint)) throw new MedfieldError('bad-option', 'footprint', `expected one of ${NAIVE_FOOTPRINTS.join(', ')}, got ${String(footprint)}`);
  const [gx, gy, gz] = grid.dims;
  const gxy = gx * gy;
  const n = gxy * gz;
  const sum = new Float32Array(n), weight = new Float32Array(n);
  const inv = invert3(grid.direction);
  // world -> grid index: G (x - origin), G = diag(1/spacing) inv(direction)
  const G = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) G[3 * r + c] = inv[3 * r + c]! / grid.spacingMm[r]!;
  const hMin = Math.min(grid.spacingMm[0], grid.spacingMm[1], grid.spacingMm[2]);
  const go = grid.originMm;
  let done = 0;
  for (const st of stacks) {
    const v = st.volume;
    const [nx, ny, nz] = v.dims;
    const d = v.direction, s = v.spacingMm, o = v.originMm;
    // stack index -> grid index is affine: g = M [i, j, k] + b
    const M = new Float64Array(9), b = new Float64Array(3);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        let x = 0;
        for (let q = 0; q < 3; q++) x += G[3 * r + q]! * d[3 * q + c]! * s[c]!;
        M[3 * r + c] = x;
      }
      b[r] = G[3 * r]! * (o[0] - go[0]) + G[3 * r + 1]! * (o[1] - go[1]) + G[3 * r + 2]! * (o[2] - go[2]);
    }
    // through-plane sub-points, in units of the slice spacing (k offsets), equal weights
    const m = footprint === 'point' ? 1 : Math.max(1, Math.ceil(st.sliceThicknessMm / hMin - 1e-9));
    const kOff = new Float64Array(m);
    for (let q = 0; q < m; q++) kOff[q] = m === 1 ? 0 : (((q + 0.5) / m - 0.5) * st.sliceThicknessMm) / s[2];
    const wSub = 1 / m;
    const data = v.data;
    for (let k = 0; k < nz; k++) for (let q = 0; q < m; q++) {
      const kk = k + kOff[q]!;
      for (let j = 0; j < ny; j++) {
        const row = nx * (j + ny * k);
        const px0 = M[1]! * j + M[2]! * kk + b[0]!, py0 = M[4]! * j + M[5]! * kk + b[1]!, pz0 = M[7]! * j + M[8]! * kk + b[2]!;
        for (let i = 0; i < nx; i++) {
          const val = data[row + i]!;
          const x = px0 + M[0]! * i, y = py0 + M[3]! * i, z = pz0 + M[6]! * i;
          const x0 = Math.floor(x), y0 = Math.floor(y), z0 = Math.floor(z);
          if (x0 < -1 || y0 < -1 || z0 < -1 || x0 >= gx || y0 >= gy || z0 >= gz) continue;
          const fx = x - x0, fy = y - y0, fz = z - z0;
          for (let c = 0; c < 8; c++) {
            const xi = x0 + (c & 1), yi = y0 + ((c >> 1) & 1), zi = z0 + (c >> 2);
            if (xi < 0 || yi < 0 || zi < 0 || xi >= gx || yi >= gy || zi >= gz) continue;
            const w = wSub * (c & 1 ? fx : 1 - fx) * ((c >> 1) & 1 ? fy : 1 - fy) * (c >> 2 ? fz : 1 - fz);
            if (w === 0) continue;
            const p = xi + gx * yi + gxy * zi;
            sum[p] = sum[p]! + w * val;
            weight[p] = weight[p]! + w;
          }
        }
      }
    }
    opts.onProgress?.(++done, stacks.length);
  }
  let covered = 0;
  // weights below 1e-6 of a full splat are rounding dust from float32 accumulation
  for (let p = 0; p < n; p++) {
    if (weight[p]! > 1e-6) { sum[p] = sum[p]! / weight[p]!; covered++; } else sum[p] = 0;
  }
  return {
    volume: { data: sum, dims: [gx, gy, gz], spacingMm: [...grid.spacingMm], originMm: [...grid.originMm], direction: new Float64Array(grid.direction) },
    weight, covered,
  };
}
