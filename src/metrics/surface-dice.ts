/**
 * Normalised surface Dice (NSD; Nikolov et al. 2018, "Deep learning to achieve clinically
 * applicable segmentation of head and neck anatomy for radiotherapy", arXiv:1809.04430):
 * the fraction of the two boundaries that lie within a tolerance of each other,
 *
 *   NSD = (|S_A within tol of S_B| + |S_B within tol of S_A|) / (|S_A| + |S_B|).
 *
 * Voxel version: a surface voxel is a foreground voxel with at least one 6-neighbour outside the
 * foreground, where neighbours beyond the grid count as outside (scipy's binary_erosion with
 * border_value=0). Each surface voxel has weight 1; the original paper weights surface elements
 * by area, which differs slightly on oblique surfaces but agrees for the usual use (ranking
 * segmentations at a clinical tolerance). Distances are exact Euclidean distances in mm between
 * voxel centres, honouring anisotropic spacing; "within" is inclusive (d <= tol).
 *
 * Edge cases: both surfaces empty -> 1 (nothing to find, nothing found); exactly one empty -> 0.
 */
import { MedfieldError } from '../core/errors.js';
import type { Vec3, Volume } from '../core/volume.js';
import { squaredDistanceMm } from './edt.js';
import { checkDims, checkPair, checkSameDims, checkSpacing, isVolume } from './validate.js';

/** Options of {@link normalizedSurfaceDice}. */
export interface SurfaceDiceOptions {
  /** Tolerance in mm (>= 0): surface points closer than this to the other surface count as matched. */
  toleranceMm: number;
  /** Foreground = voxels equal to this label; default: every nonzero voxel. */
  label?: number;
}

/** Counts behind an NSD value. */
export interface SurfaceDiceResult {
  /** The normalised surface Dice in [0, 1]. */
  nsd: number;
  /** Surface voxels of A and of B. */
  surfaceA: number;
  surfaceB: number;
  /** Surface voxels of A within tolerance of S_B, and of B within tolerance of S_A. */
  matchedA: number;
  matchedB: number;
}

/**
 * Surface voxels of a foreground: foreground voxels with a 6-neighbour that is background or
 * outside the grid.
 * @param labels - Label map or mask, x fastest, dims [nx, ny, nz].
 * @param label - Foreground label; default: nonzero.
 * @returns Uint8Array, 1 on surface voxels.
 */
export function surfaceVoxels(labels: ArrayLike<number>, dims: readonly [number, number, number], label?: number): Uint8Array {
  checkDims(dims, labels.length);
  const [nx, ny, nz] = dims;
  const n = labels.length, nxy = nx * ny;
  const fg = new Uint8Array(n);
  for (let i = 0; i < n; i++) fg[i] = (label === undefined ? labels[i] !== 0 : labels[i] === label) ? 1 : 0;
  const surf = new Uint8Array(n);
  for (let k = 0, o = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, o++) {
        if (fg[o] === 0) continue;
        const onSurface =
          i === 0 || fg[o - 1] === 0 || i === nx - 1 || fg[o + 1] === 0 ||
          j === 0 || fg[o - nx] === 0 || j === ny - 1 || fg[o + nx] === 0 ||
          k === 0 || fg[o - nxy] === 0 || k === nz - 1 || fg[o + nxy] === 0;
        if (onSurface) surf[o] = 1;
      }
    }
  }
  return surf;
}

/**
 * Foreground masks of A and B cropped to the bounding box of their union grown by one voxel
 * (clamped to the grid). Exact for NSD: every surface voxel, hence every EDT feature, lies in
 * the box, and the grown margin is background, so surface detection inside the box sees the
 * same neighbours (beyond-grid stays outside). Turns a 240x240x155 scan with a small lesion
 * into a small EDT. Null when neither map has foreground.
 */
function cropForeground(
  a: ArrayLike<number>, b: ArrayLike<number>, dims: Vec3, label: number | undefined,
): { fgA: Uint8Array; fgB: Uint8Array; dims: Vec3 } | null {
  const [nx, ny, nz] = dims;
  const isFg = (v: number): boolean => (label === undefined ? v !== 0 : v === label);
  let i0 = nx, i1 = -1, j0 = ny, j1 = -1, k0 = nz, k1 = -1;
  for (let k = 0, o = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, o++) {
        if (!isFg(a[o]) && !isFg(b[o])) continue;
        if (i < i0) i0 = i;
        if (i > i1) i1 = i;
        if (j < j0) j0 = j;
        if (j > j1) j1 = j;
        if (k < k0) k0 = k;
        if (k > k1) k1 = k;
      }
    }
  }
  if (i1 < 0) return null;
  i0 = Math.max(0, i0 - 1); j0 = Math.max(0, j0 - 1); k0 = Math.max(0, k0 - 1);
  i1 = Math.min(nx - 1, i1 + 1); j1 = Math.min(ny - 1, j1 + 1); k1 = Math.min(nz - 1, k1 + 1);
  const cd: Vec3 = [i1 - i0 + 1, j1 - j0 + 1, k1 - k0 + 1];
  const fgA = new Uint8Array(cd[0] * cd[1] * cd[2]), fgB = new Uint8Array(fgA.length);
  for (let k = k0, c = 0; k <= k1; k++) {
    for (let j = j0; j <= j1; j++) {
      for (let i = i0, o = i0 + nx * (j + ny * k); i <= i1; i++, o++, c++) {
        fgA[c] = isFg(a[o]) ? 1 : 0;
        fgB[c] = isFg(b[o]) ? 1 : 0;
      }
    }
  }
  return { fgA, fgB, dims: cd };
}

/** Slack on tol^2 so a distance equal to the tolerance is not lost to rounding. */
const REL_SLACK = 1e-9;

function countWithin(surf: Uint8Array, d2: Float64Array, tol2: number): [number, number] {
  let total = 0, within = 0;
  for (let i = 0; i < surf.length; i++) {
    if (surf[i] === 0) continue;
    total++;
    if (d2[i] <= tol2) within++;
  }
  return [total, within];
}

/**
 * NSD with its counts; see {@link normalizedSurfaceDice}.
 */
export function surfaceDiceCounts(a: Volume, b: Volume, options: SurfaceDiceOptions): SurfaceDiceResult;
export function surfaceDiceCounts(
  a: ArrayLike<number>, b: ArrayLike<number>, dims: readonly [number, number, number],
  spacingMm: readonly [number, number, number], options: SurfaceDiceOptions,
): SurfaceDiceResult;
export function surfaceDiceCounts(
  a: Volume | ArrayLike<number>,
  b: Volume | ArrayLike<number>,
  dimsOrOptions: readonly [number, number, number] | SurfaceDiceOptions,
  spacing?: readonly [number, number, number],
  maybeOptions?: SurfaceDiceOptions,
): SurfaceDiceResult {
  let da: ArrayLike<number>, db: ArrayLike<number>, dims: Vec3, spacingMm: Vec3, options: SurfaceDiceOptions;
  if (isVolume(a) || isVolume(b)) {
    if (!isVolume(a) || !isVolume(b)) throw new MedfieldError('bad-data', 'volumes', 'pass two Volumes, or two arrays plus dims and spacing');
    checkSameDims(a.dims, b.dims);
    for (let c = 0; c < 3; c++) {
      if (Math.abs(a.spacingMm[c] - b.spacingMm[c]) > 1e-6 * a.spacingMm[c]) {
        throw new MedfieldError('bad-data', 'volumes', `spacing mismatch: ${a.spacingMm.join('x')} vs ${b.spacingMm.join('x')} mm`);
      }
    }
    [da, db, dims, spacingMm, options] = [a.data, b.data, [...a.dims], [...a.spacingMm], dimsOrOptions as SurfaceDiceOptions];
  } else {
    const d = dimsOrOptions as readonly number[];
    if (!Array.isArray(d) || d.length !== 3) throw new MedfieldError('bad-option', 'dims', 'expected [nx, ny, nz]');
    if (spacing === undefined) throw new MedfieldError('bad-option', 'spacingMm', 'voxel spacing in mm is required');
    [da, db, dims, spacingMm, options] = [a, b, [d[0], d[1], d[2]], [spacing[0], spacing[1], spacing[2]], maybeOptions as SurfaceDiceOptions];
  }
  checkPair(da, db, 'label maps');
  checkDims(dims, da.length);
  checkSpacing(spacingMm);
  const tol = (options as Partial<SurfaceDiceOptions> | undefined)?.toleranceMm;
  if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0) {
    throw new MedfieldError('bad-option', 'toleranceMm', `a finite tolerance >= 0 mm is required, got ${String(tol)}`);
  }
  const crop = cropForeground(da, db, dims, options.label);
  if (crop === null) return { nsd: 1, surfaceA: 0, surfaceB: 0, matchedA: 0, matchedB: 0 };
  const sA = surfaceVoxels(crop.fgA, crop.dims);
  const sB = surfaceVoxels(crop.fgB, crop.dims);
  const tol2 = tol * tol * (1 + REL_SLACK);
  const [surfaceA, matchedA] = countWithin(sA, squaredDistanceMm(sB, crop.dims, spacingMm), tol2);
  const [surfaceB, matchedB] = countWithin(sB, squaredDistanceMm(sA, crop.dims, spacingMm), tol2);
  const total = surfaceA + surfaceB;
  const nsd = total === 0 ? 1 : (matchedA + matchedB) / total;
  return { nsd, surfaceA, surfaceB, matchedA, matchedB };
}

/**
 * Normalised surface Dice of two segmentations at a tolerance in mm (see the file comment for
 * the definition, surface convention and edge cases).
 * @param a - Reference segmentation (label map or binary mask) as a Volume; its spacingMm is used.
 * @param b - Test segmentation on the same grid and spacing.
 * @param options - `toleranceMm` required (>= 0); `label` selects one label, default nonzero.
 * @returns NSD in [0, 1]: 1 when both surfaces are empty, 0 when only one is.
 * @throws MedfieldError 'bad-option' for a missing/invalid tolerance or spacing; 'bad-data' for
 *   mismatched grids.
 */
export function normalizedSurfaceDice(a: Volume, b: Volume, options: SurfaceDiceOptions): number;
/**
 * As above for flat arrays, x fastest: voxel (i, j, k) at i + nx * (j + ny * k).
 * @param dims - [nx, ny, nz].
 * @param spacingMm - Voxel size along i, j, k in mm.
 */
export function normalizedSurfaceDice(
  a: ArrayLike<number>, b: ArrayLike<number>, dims: readonly [number, number, number],
  spacingMm: readonly [number, number, number], options: SurfaceDiceOptions,
): number;
export function normalizedSurfaceDice(
  a: Volume | ArrayLike<number>,
  b: Volume | ArrayLike<number>,
  dimsOrOptions: readonly [number, number, number] | SurfaceDiceOptions,
  spacing?: readonly [number, number, number],
  maybeOptions?: SurfaceDiceOptions,
): number {
  return isVolume(a)
    ? surfaceDiceCounts(a, b as Volume, dimsOrOptions as SurfaceDiceOptions).nsd
    : surfaceDiceCounts(a, b as ArrayLike<number>, dimsOrOptions as readonly [number, number, number], spacing as readonly [number, number, number], maybeOptions as SurfaceDiceOptions).nsd;
}
