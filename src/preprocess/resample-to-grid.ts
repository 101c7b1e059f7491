/**
 * General resampling onto any target grid (dims, spacing, origin, direction): each target voxel
 * centre is mapped to world (RAS mm) and back into the input's continuous voxel index, where the
 * input is interpolated. Used for putting volumes on a common grid (e.g. a reconstruction on a
 * dataset's grid, or applying a rigid transform's grid).
 */
import { check, MedfieldError } from '../core/errors.js';
import { allocate, createVolume, dtypeOf, invert3, type Volume, type VoxelArray } from '../core/volume.js';
import { INTERPOLATIONS, keysW0, keysW1, keysW2, keysW3, type Interpolation } from './interpolation.js';
import { checkVolume } from './validate.js';
import type { GridGeometry } from './resample.js';

export interface ResampleToGridOptions {
  /**
   * Value for target voxels whose centre falls outside the input's field of view, i.e. outside
   * continuous index [-0.5, n-0.5] on some axis (the outer voxel edges). Default 0. With
   * 'nearest' it is stored in the input dtype (so it is truncated/wrapped like any cast).
   */
  fillValue?: number;
}

/** Slack (in voxels) on the FOV test so grids that share an edge are not lost to rounding. */
const INSIDE_EPS = 1e-6;

/**
 * Samples `v` at the world positions of the voxel centres of `grid`.
 *
 * Inside the FOV, samples between the outermost voxel centres and the FOV edge use
 * clamp-to-edge; outside it they get `fillValue`. The direction matrices need not be
 * orthonormal (they are inverted in general).
 * @param interpolation 'nearest' keeps the input dtype; 'linear' (trilinear, 8 taps) and 'cubic'
 *   (tricubic Keys a=-0.5, 64 taps) give Float32. Not separable here: O(taps) per target voxel.
 * @returns a new volume with `grid`'s geometry.
 * @throws MedfieldError 'bad-option' for a bad grid or interpolation.
 */
export function resampleToGrid(v: Volume, grid: GridGeometry, interpolation: Interpolation, opts: ResampleToGridOptions = {}): Volume {
  checkVolume(v);
  check((INTERPOLATIONS as readonly string[]).includes(interpolation), 'interpolation',
    `expected one of ${INTERPOLATIONS.join(', ')}, got ${String(interpolation)}`);
  check(grid.dims.length === 3 && grid.dims.every((d) => Number.isInteger(d) && d > 0), 'grid.dims',
    `expected three positive integers, got [${grid.dims.join(', ')}]`);
  check(grid.spacingMm.every((s) => Number.isFinite(s) && s > 0), 'grid.spacingMm',
    `expected three finite values > 0 mm, got [${grid.spacingMm.join(', ')}]`);
  check(grid.originMm.length === 3 && grid.originMm.every(Number.isFinite), 'grid.originMm', 'expected three finite values (mm)');
  check(grid.direction.length === 9 && Array.from(grid.direction).every(Number.isFinite), 'grid.direction', 'expected 9 finite values (row-major 3x3)');
  const fill = opts.fillValue ?? 0;
  check(!Number.isNaN(fill) || interpolation !== 'nearest' || v.data instanceof Float32Array || v.data instanceof Float64Array,
    'fillValue', 'NaN cannot be stored in an integer volume; use a number or linear/cubic interpolation');

  // Affine map target voxel index -> input continuous index: idx = L * o + b with
  // L = S_in^-1 D_in^-1 D_out S_out and b = S_in^-1 D_in^-1 (O_out - O_in).
  let inv: Float64Array;
  try { inv = invert3(v.direction); } catch (e) {
    throw new MedfieldError('bad-option', 'volume.direction', 'direction matrix is singular', { cause: e });
  }
  const L = new Float64Array(9), b = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let acc = 0;
      for (let t = 0; t < 3; t++) acc += inv[r * 3 + t] * grid.direction[t * 3 + c];
      L[r * 3 + c] = (acc * grid.spacingMm[c]) / v.spacingMm[r];
    }
    let acc = 0;
    for (let t = 0; t < 3; t++) acc += inv[r * 3 + t] * (grid.originMm[t] - v.originMm[t]);
    b[r] = acc / v.spacingMm[r];
  }

  const [mx, my, mz] = grid.dims;
  const out: VoxelArray = interpolation === 'nearest' ? allocate(dtypeOf(v.data), mx * my * mz) : new Float32Array(mx * my * mz);
  const box: Box = { nx: v.dims[0], ny: v.dims[1], nz: v.dims[2], fill };
  // One row function per kernel keeps each inner loop monomorphic (and the tricubic one inlined).
  const row = interpolation === 'nearest' ? rowNearest : interpolation === 'linear' ? rowLinear : rowCubic;
  const src = interpolation === 'nearest' || v.data instanceof Float32Array ? v.data : new Float32Array(v.data);
  const scratch = new Float64Array(8), scratchI = new Int32Array(8);
  for (let k = 0; k < mz; k++) {
    for (let j = 0; j < my; j++) {
      const x0 = b[0] + L[1] * j + L[2] * k, y0 = b[1] + L[4] * j + L[5] * k, z0 = b[2] + L[7] * j + L[8] * k;
      row(src, out, mx * (j + my * k), mx, x0, y0, z0, L[0], L[3], L[6], box, scratch, scratchI);
    }
  }
  return createVolume([mx, my, mz], { data: out, spacingMm: grid.spacingMm, originMm: grid.originMm, direction: grid.direction });
}

/** Input dims and the fill value; a sample is inside when its index is within [-0.5, n-0.5] (+ slack). */
interface Box { nx: number; ny: number; nz: number; fill: number }

/** Fills out[p .. p+m) with samples at (x0 + i dx, y0 + i dy, z0 + i dz), i < m. */
type RowSampler = (
  src: VoxelArray, out: VoxelArray, p: number, m: number, x0: number, y0: number, z0: number,
  dx: number, dy: number, dz: number, box: Box, w: Float64Array, ix: Int32Array,
) => void;

const clampI = (i: number, n: number): number => (i < 0 ? 0 : i >= n ? n - 1 : i);

function outside(x: number, y: number, z: number, b: Box): boolean {
  return x < -0.5 - INSIDE_EPS || x > b.nx - 0.5 + INSIDE_EPS || y < -0.5 - INSIDE_EPS || y > b.ny - 0.5 + INSIDE_EPS
    || z < -0.5 - INSIDE_EPS || z > b.nz - 0.5 + INSIDE_EPS;
}

const rowNearest: RowSampler = (src, out, p, m, x0, y0, z0, dx, dy, dz, box) => {
  const { nx, ny, nz } = box;
  for (let i = 0; i < m; i++) {
    const x = x0 + dx * i, y = y0 + dy * i, z = z0 + dz * i;
    out[p + i] = outside(x, y, z, box) ? box.fill
      : src[clampI(Math.floor(x + 0.5), nx) + nx * (clampI(Math.floor(y + 0.5), ny) + ny * clampI(Math.floor(z + 0.5), nz))];
  }
};

const rowLinear: RowSampler = (src, out, p, m, x0, y0, z0, dx, dy, dz, box) => {
  const { nx, ny, nz } = box, nxy = nx * ny;
  for (let i = 0; i < m; i++) {
    const x = x0 + dx * i, y = y0 + dy * i, z = z0 + dz * i;
    if (outside(x, y, z, box)) { out[p + i] = box.fill; continue; }
    const i0 = Math.floor(x), j0 = Math.floor(y), k0 = Math.floor(z);
    const fx = x - i0, fy = y - j0, fz = z - k0;
    const xa = clampI(i0, nx), xb = clampI(i0 + 1, nx);
    const ya = nx * clampI(j0, ny), yb = nx * clampI(j0 + 1, ny);
    const za = nxy * clampI(k0, nz), zb = nxy * clampI(k0 + 1, nz);
    const c00 = src[xa + ya + za] * (1 - fx) + src[xb + ya + za] * fx;
    const c10 = src[xa + yb + za] * (1 - fx) + src[xb + yb + za] * fx;
    const c01 = src[xa + ya + zb] * (1 - fx) + src[xb + ya + zb] * fx;
    const c11 = src[xa + yb + zb] * (1 - fx) + src[xb + yb + zb] * fx;
    out[p + i] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
  }
};

/** Tricubic Keys convolution; `w`/`ix` hold the y (0..3) and z (4..7) weights and offsets. */
const rowCubic: RowSampler = (src, out, p, m, x0, y0, z0, dx, dy, dz, box, w, ix) => {
  const { nx, ny, nz } = box, nxy = nx * ny;
  for (let i = 0; i < m; i++) {
    const x = x0 + dx * i, y = y0 + dy * i, z = z0 + dz * i;
    if (outside(x, y, z, box)) { out[p + i] = box.fill; continue; }
    const i0 = Math.floor(x), fx = x - i0;
    const wx0 = keysW0(fx), wx1 = keysW1(fx), wx2 = keysW2(fx), wx3 = keysW3(fx);
    const xi0 = clampI(i0 - 1, nx), xi1 = clampI(i0, nx), xi2 = clampI(i0 + 1, nx), xi3 = clampI(i0 + 2, nx);
    cubicAxis(w, ix, 0, y, ny, nx);
    cubicAxis(w, ix, 4, z, nz, nxy);
    let acc = 0;
    for (let c = 4; c < 8; c++) {
      let accY = 0;
      for (let r = 0; r < 4; r++) {
        const q = ix[c] + ix[r];
        accY += w[r] * (wx0 * src[q + xi0] + wx1 * src[q + xi1] + wx2 * src[q + xi2] + wx3 * src[q + xi3]);
      }
      acc += w[c] * accY;
    }
    out[p + i] = acc;
  }
};

/** Fills the 4 Keys weights and clamped, stride-scaled offsets of one axis at w/ix[at..at+3]. */
function cubicAxis(w: Float64Array, ix: Int32Array, at: number, pos: number, n: number, stride: number): void {
  const i0 = Math.floor(pos), f = pos - i0;
  w[at] = keysW0(f); w[at + 1] = keysW1(f); w[at + 2] = keysW2(f); w[at + 3] = keysW3(f);
  ix[at] = clampI(i0 - 1, n) * stride; ix[at + 1] = clampI(i0, n) * stride;
  ix[at + 2] = clampI(i0 + 1, n) * stride; ix[at + 3] = clampI(i0 + 2, n) * stride;
}
