/**
 * Sampling the slice profile (PSF) of src/geometry/slice-stack.ts: a Gaussian in the slice frame
 * with sigmas psfSigmasMm(stack) = [in-plane i, in-plane j, through-plane]. A pixel's value is
 * the PSF-weighted integral of the intensity field (NeSVoR eq. 3); it is estimated
 *  - in training by Monte-Carlo: K standard-normal triples per pixel, scaled by the sigmas
 *    (an unbiased estimate of the integral, redrawn every step unless the config fixes them);
 *  - for the simulated slices by a Gauss-Hermite tensor rule (deterministic, exact for
 *    polynomials of degree < 2n along each axis).
 * Offsets are in units of the stack's voxel axes (i, j, k), so a pixel's sample sits at voxel
 * coordinate (i + oi, j + oj, k + ok) of the stack.
 */
import { MedfieldError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** Probabilists' Gauss-Hermite rules (nodes for N(0,1), weights summing to 1), n = 1..5. */
const GH: Record<number, { nodes: number[]; weights: number[] }> = {
  1: { nodes: [0], weights: [1] },
  2: { nodes: [-1, 1], weights: [0.5, 0.5] },
  3: { nodes: [-Math.sqrt(3), 0, Math.sqrt(3)], weights: [1 / 6, 2 / 3, 1 / 6] },
  4: {
    nodes: [-Math.sqrt(3 + Math.sqrt(6)), -Math.sqrt(3 - Math.sqrt(6)), Math.sqrt(3 - Math.sqrt(6)), Math.sqrt(3 + Math.sqrt(6))],
    weights: [(3 - Math.sqrt(6)) / 12, (3 + Math.sqrt(6)) / 12, (3 + Math.sqrt(6)) / 12, (3 - Math.sqrt(6)) / 12],
  },
  5: {
    nodes: [-Math.sqrt(5 + Math.sqrt(10)), -Math.sqrt(5 - Math.sqrt(10)), 0, Math.sqrt(5 - Math.sqrt(10)), Math.sqrt(5 + Math.sqrt(10))],
    weights: [(7 - 2 * Math.sqrt(10)) / 60, (7 + 2 * Math.sqrt(10)) / 60, 8 / 15, (7 + 2 * Math.sqrt(10)) / 60, (7 - 2 * Math.sqrt(10)) / 60],
  },
};

/** The 1D probabilists' Gauss-Hermite rule with n = 1..5 nodes, or undefined for other n. */
export function gaussHermite1d(n: number): { readonly nodes: readonly number[]; readonly weights: readonly number[] } | undefined {
  return GH[n];
}

/** A PSF rule: K standard-normal triples (AoS [K, 3]) and their weights (sum 1). */
export interface PsfRule {
  readonly count: number;
  readonly normals: Float64Array;
  readonly weights: Float64Array;
}

/** Gauss-Hermite tensor rule with n[a] nodes along slice axis a (each 1..5). */
export function gaussHermitePsfRule(n: readonly [number, number, number]): PsfRule {
  const rules = n.map((m, a) => {
    const r = GH[m];
    if (!r) throw new MedfieldError('bad-option', `psf rule nodes[${a}]`, `expected 1..5 Gauss-Hermite nodes, got ${m}`);
    return r;
  });
  const count = n[0] * n[1] * n[2];
  const normals = new Float64Array(3 * count), weights = new Float64Array(count);
  let q = 0;
  for (let c = 0; c < n[2]; c++) for (let b = 0; b < n[1]; b++) for (let a = 0; a < n[0]; a++) {
    normals[3 * q] = rules[0]!.nodes[a]!; normals[3 * q + 1] = rules[1]!.nodes[b]!; normals[3 * q + 2] = rules[2]!.nodes[c]!;
    weights[q] = rules[0]!.weights[a]! * rules[1]!.weights[b]! * rules[2]!.weights[c]!;
    q++;
  }
  return { count, normals, weights };
}

/** Fills `out` (length 3 * count) with standard-normal draws (Monte-Carlo PSF samples, equal weights). */
export function drawPsfNormals(rng: Rng, out: Float64Array): void {
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
}

/** Voxel-unit PSF scales of a stack: sigma_mm / spacing_mm per voxel axis. */
export function psfVoxelScales(sigmasMm: readonly number[], spacingMm: readonly number[]): [number, number, number] {
  return [sigmasMm[0]! / spacingMm[0]!, sigmasMm[1]! / spacingMm[1]!, sigmasMm[2]! / spacingMm[2]!];
}
