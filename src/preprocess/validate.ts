/**
 * Argument checks shared by the preprocessing functions, so every user error ends in one
 * MedfieldError naming the option at fault (GUIDE.md section 3).
 */
import { check } from '../core/errors.js';
import { voxelCount, type Volume } from '../core/volume.js';

/** A mask: a volume on the same grid or a flat array of the same voxel count; nonzero = inside. */
export type Mask = Volume | ArrayLike<number>;

/** Throws 'bad-option' unless the volume has positive integer dims, matching data and spacing > 0. */
export function checkVolume(v: Volume, subject = 'volume'): void {
  check(v.dims.length === 3 && v.dims.every((d) => Number.isInteger(d) && d > 0), `${subject}.dims`,
    `expected three positive integers, got [${v.dims.join(', ')}]`);
  check(v.data.length === voxelCount(v.dims), `${subject}.data`,
    `has ${v.data.length} values, dims ${v.dims.join('x')} need ${voxelCount(v.dims)}`);
  check(v.spacingMm.every((s) => Number.isFinite(s) && s > 0), `${subject}.spacingMm`,
    `expected three finite values > 0 mm, got [${v.spacingMm.join(', ')}]`);
}

/** Returns the mask's values as a flat array after checking it matches `v` voxel for voxel. */
export function maskValues(mask: Mask, v: Volume, subject = 'mask'): ArrayLike<number> {
  if (isVolume(mask)) {
    check(mask.dims[0] === v.dims[0] && mask.dims[1] === v.dims[1] && mask.dims[2] === v.dims[2], subject,
      `mask dims ${mask.dims.join('x')} differ from volume dims ${v.dims.join('x')}`);
    return mask.data;
  }
  check(mask.length === v.data.length, subject, `mask has ${mask.length} values, volume has ${v.data.length}`);
  return mask;
}

function isVolume(m: Mask): m is Volume {
  return typeof m === 'object' && m !== null && 'dims' in m && 'data' in m;
}

/** Throws 'bad-option' unless `x` is an integer in [lo, hi]. */
export function checkInt(x: number, lo: number, hi: number, subject: string): void {
  check(Number.isInteger(x) && x >= lo && x <= hi, subject, `expected an integer in [${lo}, ${hi}], got ${x}`);
}

/** Throws 'bad-option' unless `r` is a finite [low, high] with low < high. */
export function checkRange(r: readonly number[], subject: string): void {
  check(r.length === 2 && Number.isFinite(r[0]) && Number.isFinite(r[1]) && r[0] < r[1], subject,
    `expected [low, high] finite with low < high, got [${r.join(', ')}]`);
}
