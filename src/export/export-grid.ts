/**
 * The grid a field is exported on: the same box as the dataset grid (outer voxel faces, centred
 * at offOrigin, identity direction), at a requested spacing or size.
 *  - spacing s (mm, per axis): n_a = max(1, round(extent_a / s_a)), spacing exactly s_a; the box
 *    is n_a * s_a wide, centred where the dataset box is (it differs from the extent by < s_a).
 *  - size N (voxels per axis): spacing_a = extent_a / N_a, so the box is exactly the dataset's.
 * Voxel (0,0,0)'s centre is at offOrigin - n*d/2 + d/2 (gridOriginMm).
 */
import { MedfieldError } from '../core/errors.js';
import type { GridFields } from '../geometry/grid.js';

export type Triple = readonly [number, number, number];

export function exportGrid(box: GridFields, want: { spacingMm?: Triple; size?: Triple }): GridFields {
  if ((want.spacingMm === undefined) === (want.size === undefined)) throw new MedfieldError('bad-option', '--spacing/--size', 'give exactly one of spacing or size');
  const nVoxel: [number, number, number] = [0, 0, 0];
  const dVoxel: [number, number, number] = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const extent = box.nVoxel[a]! * box.dVoxel[a]!;
    if (want.spacingMm) {
      const s = want.spacingMm[a]!;
      if (!(s > 0 && Number.isFinite(s))) throw new MedfieldError('bad-option', '--spacing', `expected positive mm, got ${s}`);
      nVoxel[a] = Math.max(1, Math.round(extent / s));
      dVoxel[a] = s;
    } else {
      const n = want.size![a]!;
      if (!(Number.isInteger(n) && n >= 1)) throw new MedfieldError('bad-option', '--size', `expected a positive integer, got ${n}`);
      nVoxel[a] = n;
      dVoxel[a] = extent / n;
    }
  }
  const total = nVoxel[0] * nVoxel[1] * nVoxel[2];
  if (total > 2 ** 31 - 1) throw new MedfieldError('bad-option', '--spacing/--size', `the grid ${nVoxel.join('x')} is too large (${total} voxels)`);
  return { nVoxel, dVoxel, offOrigin: [box.offOrigin[0], box.offOrigin[1], box.offOrigin[2]] };
}
