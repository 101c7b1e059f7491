/**
 * What SVR is scored on: a brain (foreground) mask from the ground truth, PSNR / SSIM inside it
 * with the data range stated (max of the ground truth inside the mask, as docs/svr.md says), and
 * the error of estimated slice motion against the truth.
 */
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import { rotationMatrix, type SliceMotion } from '../geometry/slice-stack.js';
import { psnr } from '../metrics/psnr.js';
import { ssim3d } from '../metrics/ssim.js';

export interface BrainMaskOptions {
  /** Threshold as a fraction of the volume's maximum (default 0.02: skull-stripped data has exact zeros outside the brain). */
  threshold?: number;
  /** Keep only the largest 6-connected component (default true). */
  largestComponent?: boolean;
  /** Fill enclosed holes: background not 6-connected to the grid border (default true; ventricles, dark lesions). */
  fillHoles?: boolean;
}

/**
 * Foreground mask of a ground-truth volume (same grid, Uint8 0/1): value > threshold * max, the
 * largest 6-connected component, enclosed holes filled.
 */
export function brainMask(gt: Volume, opts: BrainMaskOptions = {}): Volume<Uint8Array> {
  const thr = opts.threshold ?? 0.02;
  if (!(thr >= 0 && thr < 1)) throw new MedfieldError('bad-option', 'threshold', `expected a fraction in [0, 1), got ${thr}`);
  const d = gt.data, n = d.length;
  let max = -Infinity;
  for (let p = 0; p < n; p++) if (d[p]! > max) max = d[p]!;
  if (!(max > 0)) throw new MedfieldError('bad-data', 'ground truth', 'has no positive voxel; cannot make a foreground mask');
  const t = thr * max;
  const m = new Uint8Array(n);
  for (let p = 0; p < n; p++) m[p] = d[p]! > t ? 1 : 0;
  const [nx, ny, nz] = gt.dims;
  const label = new Int32Array(n);
  const queue = new Int32Array(n);
  // flood fill from `seed` over voxels whose mask value equals `value`, tagging them `tag`
  const fill = (seed: number, value: number, tag: number): number => {
    let head = 0, tail = 0, count = 0;
    queue[tail++] = seed; label[seed] = tag;
    while (head < tail) {
      const p = queue[head++]!;
      count++;
      const i = p % nx, j = Math.floor(p / nx) % ny, k = Math.floor(p / (nx * ny));
      for (let e = 0; e < 6; e++) {
        let q = -1;
        switch (e) {
          case 0: if (i > 0) q = p - 1; break;
          case 1: if (i < nx - 1) q = p + 1; break;
          case 2: if (j > 0) q = p - nx; break;
          case 3: if (j < ny - 1) q = p + nx; break;
          case 4: if (k > 0) q = p - nx * ny; break;
          default: if (k < nz - 1) q = p + nx * ny;
        }
        if (q >= 0 && label[q] === 0 && m[q] === value) { label[q] = tag; queue[tail++] = q; }
      }
    }
    return count;
  };
  if (opts.largestComponent ?? true) {
    let best = 0, bestTag = 0, tag = 0;
    for (let p = 0; p < n; p++) {
      if (m[p] === 1 && label[p] === 0) { const c = fill(p, 1, ++tag); if (c > best) { best = c; bestTag = tag; } }
    }
    for (let p = 0; p < n; p++) m[p] = label[p] === bestTag ? 1 : 0;
    label.fill(0);
  }
  if (opts.fillHoles ?? true) {
    // background reachable from the border stays background; the rest is a hole
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      if (i > 0 && i < nx - 1 && j > 0 && j < ny - 1 && k > 0 && k < nz - 1) continue;
      const p = i + nx * (j + ny * k);
      if (m[p] === 0 && label[p] === 0) fill(p, 0, 1);
    }
    for (let p = 0; p < n; p++) if (m[p] === 0 && label[p] === 0) m[p] = 1;
  }
  return { data: m, dims: [nx, ny, nz], spacingMm: [...gt.spacingMm], originMm: [...gt.originMm], direction: new Float64Array(gt.direction) };
}

/** Quality of a reconstruction inside a mask. */
export interface MaskedQuality {
  psnr: number;
  ssim: number;
  /** Data range used by both (max of the ground truth inside the mask; the minimum is taken as 0). */
  dataRange: number;
  dataRangeSource: 'max of the ground truth inside the mask';
  /** Voxels inside the mask. */
  voxels: number;
}

/**
 * PSNR and 3D SSIM (scikit-image definitions, src/metrics) of `test` against `gt` over the voxels
 * where `mask` is nonzero, both on the same grid. SSIM statistics use the full images (windows
 * cross the mask edge), its mean is over the masked voxels.
 */
export function maskedQuality(gt: Volume, test: Volume, mask: ArrayLike<number>): MaskedQuality {
  if (gt.dims.some((x, c) => x !== test.dims[c])) {
    throw new MedfieldError('bad-data', 'reconstruction', `grid ${test.dims.join('x')} differs from the ground truth's ${gt.dims.join('x')}; reconstruct onto the ground-truth grid`);
  }
  let range = 0, voxels = 0;
  for (let p = 0; p < gt.data.length; p++) if (mask[p] !== 0) { voxels++; if (gt.data[p]! > range) range = gt.data[p]!; }
  if (voxels === 0) throw new MedfieldError('bad-data', 'mask', 'mask selects no voxels');
  if (!(range > 0)) throw new MedfieldError('bad-data', 'ground truth', 'is not positive anywhere inside the mask');
  const small = gt.dims.some((x) => x < 11);
  return {
    psnr: psnr(gt.data, test.data, { dataRange: range, mask }),
    ssim: small ? NaN : ssim3d(gt, test, { dataRange: range, mask }),
    dataRange: range,
    dataRangeSource: 'max of the ground truth inside the mask',
    voxels,
  };
}

/** Motion error of an estimate against the truth, means over all slices of all stacks. */
export interface MotionError {
  /** Mean |t_est - t_true|, mm. */
  meanTranslationMm: number;
  /** Mean angle of R_est^T R_true, degrees. */
  meanRotationDeg: number;
  /** Mean |t_true| and mean true rotation angle: the error of assuming no motion. */
  meanTrueTranslationMm: number;
  meanTrueRotationDeg: number;
  slices: number;
}

/** Mean of each of the 6 motion parameters over all slices of all stacks. */
function meanMotion(m: readonly SliceMotion[]): Float64Array {
  const mean = new Float64Array(6);
  let n = 0;
  for (const M of m) for (let o = 0; o < M.length; o += 6, n++) for (let a = 0; a < 6; a++) mean[a]! += M[o + a]!;
  for (let a = 0; a < 6; a++) mean[a]! /= Math.max(1, n);
  return mean;
}

/**
 * Compares per-slice motions (slice-stack.ts convention: the same rotation centres, so the
 * parameters compare directly). `estimate` null = no motion estimated (all zero).
 *
 * Gauge: a reconstruction from the slices alone fixes its frame only up to one global rigid
 * motion; medfield's INR fixes it by a zero mean of every motion parameter over all slices. With
 * `removeMean` (default true) the mean of each parameter is removed from the truth and from the
 * estimate before comparing (exact for translations, first order for the small rotations of
 * the svr protocol), so both are compared in that same gauge; the "true" figures are then the
 * truth's deviations from its mean.
 */
export function motionError(truth: readonly SliceMotion[], estimate: readonly SliceMotion[] | null, opts: { removeMean?: boolean } = {}): MotionError {
  if (estimate && estimate.length !== truth.length) throw new MedfieldError('bad-data', 'motion', `estimate has ${estimate.length} stacks, truth ${truth.length}`);
  if (opts.removeMean ?? true) {
    const mt = meanMotion(truth), me = estimate ? meanMotion(estimate) : new Float64Array(6);
    truth = truth.map((M) => M.map((v, i) => v - mt[i % 6]!));
    if (estimate) estimate = estimate.map((M) => M.map((v, i) => v - me[i % 6]!));
  }
  const Rt = new Float64Array(9), Re = new Float64Array(9);
  let et = 0, er = 0, tt = 0, tr = 0, count = 0;
  for (let s = 0; s < truth.length; s++) {
    const T = truth[s]!, E = estimate ? estimate[s]! : new Float64Array(T.length);
    if (E.length !== T.length) throw new MedfieldError('bad-data', 'motion', `stack ${s + 1}: estimate has ${E.length / 6} slices, truth ${T.length / 6}`);
    for (let o = 0; o < T.length; o += 6) {
      rotationMatrix(T[o]!, T[o + 1]!, T[o + 2]!, Rt);
      rotationMatrix(E[o]!, E[o + 1]!, E[o + 2]!, Re);
      // trace(Re^T Rt) = sum of elementwise products
      let tr3 = 0;
      for (let q = 0; q < 9; q++) tr3 += Re[q]! * Rt[q]!;
      er += Math.acos(Math.max(-1, Math.min(1, (tr3 - 1) / 2)));
      et += Math.hypot(E[o + 3]! - T[o + 3]!, E[o + 4]! - T[o + 4]!, E[o + 5]! - T[o + 5]!);
      tt += Math.hypot(T[o + 3]!, T[o + 4]!, T[o + 5]!);
      tr += Math.hypot(T[o]!, T[o + 1]!, T[o + 2]!);
      count++;
    }
  }
  const deg = 180 / Math.PI;
  const c = Math.max(1, count);
  return { meanTranslationMm: et / c, meanRotationDeg: (er / c) * deg, meanTrueTranslationMm: tt / c, meanTrueRotationDeg: (tr / c) * deg, slices: count };
}
