/**
 * The output grid of a slice-to-volume reconstruction: an isotropic grid over the stacks' union
 * bounding box (or a mask's), identity direction (RAS+: i -> R, j -> A, k -> S) by default, or
 * the first stack's orientation. See docs/svr.md.
 */
import { MedfieldError } from '../core/errors.js';
import { identityDirection, invert3, type Vec3, type Volume } from '../core/volume.js';
import type { SliceStack } from '../geometry/slice-stack.js';

export const SVR_GRID_FRAMES = ['ras', 'first-stack'] as const;
export type SvrGridFrame = (typeof SVR_GRID_FRAMES)[number];

export interface SvrGridOptions {
  /** Isotropic voxel size, mm (default: the smallest in-plane spacing of the stacks). */
  spacingMm?: number;
  /** Cover the nonzero voxels of this mask instead of the stacks' union box. */
  mask?: Volume;
  /** 'ras' (default): identity direction; 'first-stack': the direction of stacks[0]. */
  frame?: SvrGridFrame;
  /** Extra margin around the box on every side, mm (default 0). */
  marginMm?: number;
}

/** A box in the frame whose axes are the columns of `dir`: min/max of dir^T x. */
function accumulate(box: { min: Vec3; max: Vec3 }, dirT: Float64Array, x: number, y: number, z: number): void {
  for (let r = 0; r < 3; r++) {
    const u = dirT[3 * r]! * x + dirT[3 * r + 1]! * y + dirT[3 * r + 2]! * z;
    if (u < box.min[r]!) box.min[r] = u;
    if (u > box.max[r]!) box.max[r] = u;
  }
}

function emptyBox(): { min: Vec3; max: Vec3 } {
  return { min: [Infinity, Infinity, Infinity], max: [-Infinity, -Infinity, -Infinity] };
}

/**
 * Box (in the frame of `frameDir`, whose columns are the axes) covering the voxel boxes of a
 * volume; `halfExtent` gives each voxel axis's half-size in voxels (0.5 = the voxel box).
 */
function volumeBox(box: { min: Vec3; max: Vec3 }, v: Volume, frameT: Float64Array, halfExtent: Vec3, only?: ArrayLike<number>): void {
  const d = v.direction, s = v.spacingMm, o = v.originMm;
  const corner = (i: number, j: number, k: number) => {
    const a = i * s[0], b = j * s[1], c = k * s[2];
    accumulate(box, frameT, o[0] + d[0]! * a + d[1]! * b + d[2]! * c, o[1] + d[3]! * a + d[4]! * b + d[5]! * c, o[2] + d[6]! * a + d[7]! * b + d[8]! * c);
  };
  let lo: Vec3 = [0, 0, 0], hi: Vec3 = [v.dims[0] - 1, v.dims[1] - 1, v.dims[2] - 1];
  if (only) {
    // index box of the nonzero voxels
    lo = [Infinity, Infinity, Infinity]; hi = [-Infinity, -Infinity, -Infinity];
    const [nx, ny, nz] = v.dims;
    for (let k = 0, p = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, p++) {
      if (only[p] === 0) continue;
      if (i < lo[0]) lo[0] = i; if (i > hi[0]) hi[0] = i;
      if (j < lo[1]) lo[1] = j; if (j > hi[1]) hi[1] = j;
      if (k < lo[2]) lo[2] = k; if (k > hi[2]) hi[2] = k;
    }
    if (!Number.isFinite(lo[0])) throw new MedfieldError('bad-data', 'mask', 'mask has no nonzero voxel; expected a mask of the region to reconstruct');
  }
  for (let c = 0; c < 8; c++) {
    corner(c & 1 ? hi[0] + halfExtent[0] : lo[0] - halfExtent[0], c & 2 ? hi[1] + halfExtent[1] : lo[1] - halfExtent[1], c & 4 ? hi[2] + halfExtent[2] : lo[2] - halfExtent[2]);
  }
}

/**
 * World box of the stacks' nominal slices in the frame `dir` (columns = axes): every slice pixel
 * box, through the plane half the slice thickness or half the spacing, whichever is larger.
 */
export function stacksBox(stacks: readonly SliceStack[], dir: Float64Array = identityDirection()): { min: Vec3; max: Vec3 } {
  const dirT = transpose(dir);
  const box = emptyBox();
  for (const s of stacks) {
    const half = Math.max(0.5, (0.5 * s.sliceThicknessMm) / s.volume.spacingMm[2]);
    volumeBox(box, s.volume, dirT, [0.5, 0.5, half]);
  }
  return box;
}

function transpose(m: Float64Array): Float64Array {
  return new Float64Array([m[0]!, m[3]!, m[6]!, m[1]!, m[4]!, m[7]!, m[2]!, m[5]!, m[8]!]);
}

/** Orthonormalises a direction (Gram-Schmidt on its columns), keeping its handedness. */
function orthonormal(d: Float64Array): Float64Array {
  const cols = [0, 1, 2].map((c) => [d[c]!, d[3 + c]!, d[6 + c]!]);
  const out: number[][] = [];
  for (const v of cols) {
    const w = [...v];
    for (const u of out) { const p = u[0]! * w[0]! + u[1]! * w[1]! + u[2]! * w[2]!; for (let r = 0; r < 3; r++) w[r]! -= p * u[r]!; }
    const n = Math.hypot(w[0]!, w[1]!, w[2]!);
    out.push(w.map((x) => x / n));
  }
  const m = new Float64Array(9);
  for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) m[3 * r + c] = out[c]![r]!;
  invert3(m); // throws on a degenerate direction
  return m;
}

/**
 * The reconstruction grid (zeros, Float32): isotropic `spacingMm`, covering the stacks' union
 * box (or the mask's nonzero voxels) plus the margin, centred on that box.
 */
export function svrGrid(stacks: readonly SliceStack[], opts: SvrGridOptions = {}): Volume<Float32Array> {
  if (stacks.length === 0) throw new MedfieldError('bad-option', 'stacks', 'expected at least one stack');
  const frame = opts.frame ?? 'ras';
  const h = opts.spacingMm ?? Math.min(...stacks.flatMap((s) => [s.volume.spacingMm[0], s.volume.spacingMm[1]]));
  if (!(Number.isFinite(h) && h > 0)) throw new MedfieldError('bad-option', 'spacingMm', `expected a positive voxel size in mm, got ${h}`);
  const margin = opts.marginMm ?? 0;
  const dir = frame === 'ras' ? identityDirection() : orthonormal(stacks[0]!.volume.direction);
  const box = opts.mask ? emptyBox() : stacksBox(stacks, dir);
  if (opts.mask) volumeBox(box, opts.mask, transpose(dir), [0.5, 0.5, 0.5], opts.mask.data);
  const dims: Vec3 = [1, 1, 1];
  const centreF: Vec3 = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const ext = box.max[c]! - box.min[c]! + 2 * margin;
    dims[c] = Math.max(1, Math.ceil(ext / h - 1e-9));
    centreF[c] = (box.min[c]! + box.max[c]!) / 2;
  }
  const n = dims[0] * dims[1] * dims[2];
  if (n > 2 ** 30) throw new MedfieldError('bad-option', 'spacingMm', `a ${h} mm grid over this box needs ${dims.join('x')} voxels; choose a larger spacing`);
  // origin: the box centre (in frame coordinates) minus half the grid, mapped back to world
  const originMm: Vec3 = [0, 0, 0];
  for (let r = 0; r < 3; r++) {
    let x = 0;
    for (let c = 0; c < 3; c++) x += dir[3 * r + c]! * (centreF[c]! - (h * (dims[c]! - 1)) / 2);
    originMm[r] = x;
  }
  return { data: new Float32Array(n), dims, spacingMm: [h, h, h], originMm, direction: dir };
}

/** A mask looked up (nearest voxel) at the centres of `grid`'s voxels: 1 inside, 0 outside or beyond the mask's grid. */
export function maskOnGrid(mask: Volume, grid: Volume): Uint8Array {
  const [gx, gy, gz] = grid.dims;
  const [mx, my, mz] = mask.dims;
  const out = new Uint8Array(gx * gy * gz);
  // grid index -> mask index is affine: m = Mi^-1 (G g + og - om), with G = direction diag(spacing)
  const inv = invert3(mask.direction);
  const A = new Float64Array(9), b = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let x = 0;
      for (let q = 0; q < 3; q++) x += inv[3 * r + q]! * grid.direction[3 * q + c]! * grid.spacingMm[c]!;
      A[3 * r + c] = x / mask.spacingMm[r]!;
    }
    let y = 0;
    for (let q = 0; q < 3; q++) y += inv[3 * r + q]! * (grid.originMm[q]! - mask.originMm[q]!);
    b[r] = y / mask.spacingMm[r]!;
  }
  const d = mask.data;
  for (let k = 0, p = 0; k < gz; k++) for (let j = 0; j < gy; j++) for (let i = 0; i < gx; i++, p++) {
    const x = Math.round(A[0]! * i + A[1]! * j + A[2]! * k + b[0]!);
    const y = Math.round(A[3]! * i + A[4]! * j + A[5]! * k + b[1]!);
    const z = Math.round(A[6]! * i + A[7]! * j + A[8]! * k + b[2]!);
    if (x < 0 || y < 0 || z < 0 || x >= mx || y >= my || z >= mz) continue;
    out[p] = d[x + mx * (y + my * z)] !== 0 ? 1 : 0;
  }
  return out;
}
