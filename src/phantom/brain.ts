/**
 * A procedural brain MRI phantom: scalp, skull, CSF, folded cortex, white matter, deep grey
 * nuclei, lateral ventricles and a glioma-like tumour (necrotic core, enhancing rim, oedema),
 * as a label map plus one MR-like contrast. Geometry: brain-model.ts. Grid: grid.ts (a cube of
 * edge fovMm centred at the origin, RAS+ mm, identity direction, so voxel axes run left->right,
 * posterior->anterior, inferior->superior and viewers show it upright).
 */
import { check } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { createVolume, identityDirection, type Vec3, type Volume } from '../core/volume.js';
import { BRAIN_LABEL_COUNT, brainLabelAt, createBrainModel, headDistanceMm } from './brain-model.js';
import { checkSupersample, phantomGrid, subSamplePositions } from './grid.js';
import { smoothNoiseAt } from './smooth-noise.js';

export const BRAIN_CONTRASTS = ['t1', 't1c', 't2', 'flair'] as const;
export type BrainContrast = (typeof BRAIN_CONTRASTS)[number];

/**
 * Intensity of each label (index = label value, see BRAIN_LABELS) per contrast, on a [0, 1]
 * scale. Relative values follow the usual appearance at 1.5-3 T: T1 WM > GM > CSF (dark), fat
 * in the scalp bright, cortical bone dark; T1c as T1 with the tumour rim enhancing; T2 CSF and
 * oedema bright, WM darker than GM; FLAIR as T2 with free water (CSF) suppressed, so oedema is
 * the brightest tissue. Necrosis is fluid-like (T1 dark, T2 bright, FLAIR intermediate).
 */
export const BRAIN_INTENSITIES: Readonly<Record<BrainContrast, readonly number[]>> = {
  //       bg  scalp skull  CSF   GM    WM   vent  oed   rim  core
  t1:    [0, 0.55, 0.12, 0.10, 0.45, 0.70, 0.08, 0.38, 0.42, 0.15],
  t1c:   [0, 0.58, 0.12, 0.10, 0.47, 0.70, 0.08, 0.38, 0.92, 0.15],
  t2:    [0, 0.40, 0.06, 1.00, 0.55, 0.35, 1.00, 0.80, 0.55, 0.88],
  flair: [0, 0.45, 0.05, 0.10, 0.50, 0.35, 0.06, 0.90, 0.60, 0.30],
};

export const BRAIN_NOISE_KINDS = ['rician', 'gaussian'] as const;
export type BrainNoiseKind = (typeof BRAIN_NOISE_KINDS)[number];

/** Acquisition noise (off unless given). */
export interface BrainNoiseOptions {
  /** 'rician' (default: magnitude of complex Gaussian noise, as in magnitude MR images) or 'gaussian'. */
  kind?: BrainNoiseKind;
  /** Standard deviation per real channel, in intensity units of the [0, 1] scale (e.g. 0.02). */
  sigma: number;
  /** Seed of the noise stream (default derived from the phantom seed). */
  seed?: number;
}

/** Options of `brainPhantom`. */
export interface BrainPhantomOptions {
  /** Voxels per axis: N for N^3 or [nx, ny, nz] (spacing fovMm / n per axis). */
  size: number | Vec3;
  /** Seed of folding, tumour and bias field (default 1). */
  seed?: number;
  /** Contrast of `volume` (default 't1'). */
  contrast?: BrainContrast;
  /** Edge (mm) of the cube the grid covers, centred at the origin (default 256; the head is ~192 mm long). */
  fovMm?: number;
  /** Acquisition noise; default none. */
  noise?: BrainNoiseOptions;
  /**
   * Strength of the smooth multiplicative bias field: intensities are multiplied by
   * exp(biasField * g), g a unit-variance field clamped to +-2.5 (default 0.05, i.e. mostly within
   * +-10 %; 0 turns it off).
   */
  biasField?: number;
  /** Sub-samples per axis for partial-volume intensities (1..16, default 1). Labels are always taken at voxel centres. */
  supersample?: number;
}

/** A brain phantom: one contrast and the label map on the same grid. */
export interface BrainPhantom {
  /** Intensities on a [0, 1]-ish scale (noise may exceed it), Float32. */
  volume: Volume<Float32Array>;
  /** Tissue labels, see BRAIN_LABELS. */
  labels: Volume<Uint8Array>;
}

/**
 * Builds the brain phantom. Deterministic: the same options give identical arrays. Cost is one
 * label evaluation per voxel (times supersample^3 for the intensities).
 */
export function brainPhantom(opts: BrainPhantomOptions): BrainPhantom {
  const seed = opts.seed ?? 1;
  check(Number.isInteger(seed), 'seed', `expected an integer, got ${seed}`);
  const contrast = opts.contrast ?? 't1';
  check((BRAIN_CONTRASTS as readonly string[]).includes(contrast), 'contrast',
    `expected one of ${BRAIN_CONTRASTS.join(', ')}, got ${String(contrast)}`);
  const bias = opts.biasField ?? 0.05;
  check(Number.isFinite(bias) && bias >= 0 && bias <= 1, 'biasField', `expected a number in [0, 1], got ${bias}`);
  const s = opts.supersample ?? 1;
  checkSupersample(s);
  const noise = opts.noise;
  const noiseKind = noise?.kind ?? 'rician';
  if (noise) {
    check(Number.isFinite(noise.sigma) && noise.sigma >= 0, 'noise.sigma', `expected a finite number >= 0, got ${noise.sigma}`);
    check((BRAIN_NOISE_KINDS as readonly string[]).includes(noiseKind), 'noise.kind',
      `expected one of ${BRAIN_NOISE_KINDS.join(', ')}, got ${String(noiseKind)}`);
  }
  const g = phantomGrid(opts.fovMm ?? 256, opts.size);
  const [nx, ny, nz] = g.dims;
  const model = createBrainModel(seed);
  const table = BRAIN_INTENSITIES[contrast];
  const labels = new Uint8Array(nx * ny * nz);
  const values = new Float32Array(nx * ny * nz);
  const cx = subSamplePositions(g.originMm[0], g.spacingMm[0], nx, 1);
  const cy = subSamplePositions(g.originMm[1], g.spacingMm[1], ny, 1);
  const cz = subSamplePositions(g.originMm[2], g.spacingMm[2], nz, 1);
  const sx = subSamplePositions(g.originMm[0], g.spacingMm[0], nx, s);
  const sy = subSamplePositions(g.originMm[1], g.spacingMm[1], ny, s);
  const sz = subSamplePositions(g.originMm[2], g.spacingMm[2], nz, s);
  const inv = 1 / (s * s * s);
  // Background voxels this far outside the head (approximate distance, Lipschitz ~1.05) have no
  // sub-sample inside it, so they skip the s^3 evaluations: most of the fov is air.
  const airMarginMm = Math.hypot(g.spacingMm[0], g.spacingMm[1], g.spacingMm[2]);
  let idx = 0;
  for (let k = 0; k < nz; k++) {
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++, idx++) {
        const x = cx[i], y = cy[j], z = cz[k];
        const label = brainLabelAt(model, x, y, z);
        labels[idx] = label;
        let v: number;
        if (s === 1 || (label === 0 && headDistanceMm(x, y, z) > airMarginMm)) {
          v = table[label];
        } else {
          v = 0;
          for (let c = k * s; c < (k + 1) * s; c++) {
            for (let b = j * s; b < (j + 1) * s; b++) {
              for (let a = i * s; a < (i + 1) * s; a++) v += table[brainLabelAt(model, sx[a], sy[b], sz[c])];
            }
          }
          v *= inv;
        }
        if (bias > 0 && v !== 0) {
          const f = smoothNoiseAt(model.bias, x, y, z);
          v *= Math.exp(bias * (f > 2.5 ? 2.5 : f < -2.5 ? -2.5 : f));
        }
        values[idx] = v;
      }
    }
  }
  if (noise && noise.sigma > 0) addNoise(values, noiseKind, noise.sigma, noise.seed ?? (seed ^ 0x68bc21eb) >>> 0);
  const geom = { spacingMm: g.spacingMm, originMm: g.originMm, direction: identityDirection() };
  return { volume: createVolume(g.dims, { data: values, ...geom }), labels: createVolume(g.dims, { data: labels, ...geom }) };
}

/**
 * Adds seeded noise in place. Rician: |v + n1 + i n2| with n1, n2 ~ N(0, sigma^2), the
 * magnitude of a complex image with Gaussian noise in both channels (Gudbjartsson & Patz 1995).
 */
function addNoise(values: Float32Array, kind: BrainNoiseKind, sigma: number, seed: number): void {
  const rng = createRng(seed);
  if (kind === 'gaussian') {
    for (let i = 0; i < values.length; i++) values[i] += sigma * rng.normal();
    return;
  }
  for (let i = 0; i < values.length; i++) {
    const re = values[i] + sigma * rng.normal(), im = sigma * rng.normal();
    values[i] = Math.sqrt(re * re + im * im);
  }
}

/** Number of voxels of each label in a label map (index = label). */
export function brainLabelCounts(labels: ArrayLike<number>): number[] {
  const counts = new Array<number>(BRAIN_LABEL_COUNT).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < counts.length) counts[l]++;
  }
  return counts;
}
