/**
 * Slice stacks for slice-to-volume reconstruction (SVR; NeSVoR, Xu et al. IEEE TMI 2023): the
 * acquisition geometry shared by the simulator, the naive fusion baseline and the INR
 * reconstruction. docs/coordinate-systems.md ("Slice stacks") is the reference for these frames.
 *
 * - A stack is a Volume whose voxel axis k is the slice axis: slice k holds the pixels
 *   (i = column, j = row) of `data[i + nx * (j + ny * k)]`, its nominal (scanner) position is
 *   the stack's NIfTI affine, and its thickness may exceed the slice spacing (gaps) or not.
 * - Each slice s has its own rigid motion, 6 numbers [rx, ry, rz, tx, ty, tz]: a rotation vector
 *   (axis * angle, radians, RAS world axes) and a translation in mm. The motion maps the slice's
 *   nominal world point p to where the anatomy it imaged lies in the reconstruction frame:
 *
 *     x = R(r) (p - c_s) + c_s + t,      c_s = nominal world centre of slice s,
 *
 *   so rotations are about the slice's own centre and the motion of one slice does not depend on
 *   where the stack's origin is. motion.json stores these with angles in degrees.
 * - The slice profile (PSF) is a Gaussian in the slice frame with FWHM = pixel spacing in-plane
 *   and FWHM = slice thickness through the plane (NeSVoR section III-B), sigma = FWHM / 2.3548.
 */
import type { Vec3, Volume } from '../core/volume.js';

/** One stack of thick slices. */
export interface SliceStack {
  /** Float32 voxels, slices along voxel axis k; spacingMm[2] is the slice spacing (centre to centre). */
  readonly volume: Volume<Float32Array>;
  /** Slice thickness (profile FWHM through the plane), mm; defaults to spacingMm[2] when the header says nothing else. */
  readonly sliceThicknessMm: number;
  /** A name for reports and motion.json (e.g. the file name). */
  readonly name: string;
}

/** FWHM -> sigma of a Gaussian. */
export const FWHM_TO_SIGMA = 1 / (2 * Math.sqrt(2 * Math.log(2)));

/** Rigid motion parameters of `n` slices: Float64Array(6 n), [rx, ry, rz (rad), tx, ty, tz (mm)] per slice. */
export type SliceMotion = Float64Array;

/**
 * Rotation matrix of a rotation vector r (axis * angle, rad), Rodrigues' formula, row-major
 * into out[0..8]. Exact for small angles too (series for |r| < 1e-8).
 */
export function rotationMatrix(rx: number, ry: number, rz: number, out: Float64Array = new Float64Array(9)): Float64Array {
  const th2 = rx * rx + ry * ry + rz * rz;
  const th = Math.sqrt(th2);
  // R = I + a [r]x + b [r]x^2 with a = sin(th)/th, b = (1 - cos(th))/th^2
  const a = th < 1e-8 ? 1 - th2 / 6 : Math.sin(th) / th;
  const b = th < 1e-8 ? 0.5 - th2 / 24 : (1 - Math.cos(th)) / th2;
  out[0] = 1 - b * (ry * ry + rz * rz); out[1] = -a * rz + b * rx * ry; out[2] = a * ry + b * rx * rz;
  out[3] = a * rz + b * rx * ry; out[4] = 1 - b * (rx * rx + rz * rz); out[5] = -a * rx + b * ry * rz;
  out[6] = -a * ry + b * rx * rz; out[7] = a * rx + b * ry * rz; out[8] = 1 - b * (rx * rx + ry * ry);
  return out;
}

/**
 * The nominal pixel -> world map of slice k of a stack as a 3x4 row-major affine (Float64Array(12)):
 * world = A[:, 0] * i + A[:, 1] * j + A[:, 3] for pixel (i = column, j = row) of that slice;
 * A[:, 2] is the unit slice normal times the slice spacing (voxel axis k), so adding z * A[:, 2]
 * moves z slice spacings through the plane.
 */
export function sliceAffine(v: Volume, k: number, out: Float64Array = new Float64Array(12)): Float64Array {
  const d = v.direction, s = v.spacingMm, o = v.originMm;
  for (let r = 0; r < 3; r++) {
    out[4 * r] = d[3 * r]! * s[0];
    out[4 * r + 1] = d[3 * r + 1]! * s[1];
    out[4 * r + 2] = d[3 * r + 2]! * s[2];
    out[4 * r + 3] = o[r]! + d[3 * r + 2]! * s[2] * k;
  }
  return out;
}

/** Nominal world centre (mm) of slice k (the centre of its pixel grid). */
export function sliceCentreMm(v: Volume, k: number): Vec3 {
  const A = sliceAffine(v, k);
  const ci = (v.dims[0] - 1) / 2, cj = (v.dims[1] - 1) / 2;
  return [0, 1, 2].map((r) => A[4 * r]! * ci + A[4 * r + 1]! * cj + A[4 * r + 3]!) as Vec3;
}

/**
 * Applies a slice's motion to a nominal world point: x = R(r)(p - c) + c + t. `m` holds the six
 * parameters at m[off..off+5]; `rot` is scratch for the rotation matrix (pass the result of
 * rotationMatrix for the same parameters to skip recomputing it).
 */
export function moveSlicePoint(p: ArrayLike<number>, c: ArrayLike<number>, m: ArrayLike<number>, off: number, rot: Float64Array, out: Float64Array): Float64Array {
  const x = p[0]! - c[0]!, y = p[1]! - c[1]!, z = p[2]! - c[2]!;
  out[0] = rot[0]! * x + rot[1]! * y + rot[2]! * z + c[0]! + m[off + 3]!;
  out[1] = rot[3]! * x + rot[4]! * y + rot[5]! * z + c[1]! + m[off + 4]!;
  out[2] = rot[6]! * x + rot[7]! * y + rot[8]! * z + c[2]! + m[off + 5]!;
  return out;
}

/** Gaussian PSF sigmas of a stack in its slice frame, mm: [in-plane along i, in-plane along j, through-plane]. */
export function psfSigmasMm(stack: SliceStack): Vec3 {
  const s = stack.volume.spacingMm;
  return [s[0] * FWHM_TO_SIGMA, s[1] * FWHM_TO_SIGMA, stack.sliceThicknessMm * FWHM_TO_SIGMA];
}
