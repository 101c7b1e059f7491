/**
 * Attenuation field mu(x) (1/mm) for X-ray reconstruction (NAF, Zha et al. MICCAI 2022; NeAT,
 * Rueckert et al. SIGGRAPH 2022): an engine FieldModel whose outputs are summed and scaled,
 *
 *   mu(x) = muScale * sum_c y_c(x),
 *
 * so an MLP field (one output) gives mu = muScale * y, and a dense multiresolution grid without
 * an MLP (one output per level) is a sum of trilinear grids (a Laplacian-pyramid-like field whose
 * coarse levels can be trained first: coarse-to-fine). Inputs are the unit cube of the grid's
 * voxel-centre box (src/render/xray-rays.ts unitMapOfGrid).
 *
 * The zod config holds the field, the sampler, the regularisers and the warm start; presets by
 * name (GUIDE.md section 3). Why these presets: GUIDE.md section 7 (a hash-grid NAF is ~40x too
 * slow on this CPU for minutes-long reconstructions; dense grids are the CPU path).
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';
import type { Backend } from '../engine/backend.js';
import { FIELD_PRESETS, fieldConfigSchema, resolveFieldConfig, type FieldConfig, type FieldConfigInput } from '../engine/config.js';
import { FieldModel } from '../engine/field.js';
import type { GridFields } from '../geometry/grid.js';

const int = z.number().int();

export const attenuationConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  /** The engine field (encoding, MLP or none, optimiser with the base learning rate, seed). */
  field: fieldConfigSchema,
  /**
   * Dense-grid fields: set the finest level's resolution to (max voxels per axis - 1) so its
   * vertices lie on the voxel centres (coarser levels keep the growth ratio); baseResolution is
   * then derived. Ignored for other encodings.
   */
  fitGrid: z.boolean().default(true),
  /** mu = muScale * (sum of field outputs), 1/mm; 'auto': 2 x (largest training line integral) / (mean box side). */
  muScale: z.union([z.number().positive(), z.literal('auto')]).default('auto'),
  /** Rays per training step (random pixels of random training views). */
  raysPerStep: int.min(1).max(1 << 20).default(1024),
  /** Sample spacing along training rays, in units of the smallest voxel size (strata of equal length, jittered). */
  stepVoxels: z.number().positive().max(16).default(0.5),
  /** Sample spacing (midpoint rule) for rendering views, in voxels. */
  renderStepVoxels: z.number().positive().max(16).default(0.5),
  /**
   * Coarse-to-fine for fields without an MLP: level l (0 = coarsest) receives gradients from
   * step l * stepsPerLevel on (finer levels start at zero, so they add nothing before). null: all at once.
   */
  coarseToFine: z.strictObject({ stepsPerLevel: int.min(1) }).nullable().default(null),
  /**
   * Total variation of mu on random points (isotropic, one-voxel forward differences, smoothed by
   * epsilon in 1/mm), added to the loss with `weight`; evaluated every `every` steps.
   */
  tv: z.strictObject({
    /** 'points': TV of mu at random points (any field); 'grid': TV of every dense level's table (exact, all vertices; dense grids without an MLP). */
    mode: z.enum(['points', 'grid']).default('points'),
    weight: z.number().min(0).default(0),
    points: int.min(1).default(4096),
    epsilon: z.number().positive().default(1e-3),
    every: int.min(1).default(1),
  }).default({ mode: 'points', weight: 0, points: 4096, epsilon: 1e-3, every: 1 }),
  /**
   * Warm start: 'fdk' fits the field to the FDK reconstruction of the training views first (a
   * regression on grid points, or an exact copy when a dense level lies on the voxel centres);
   * 'volume' fits it to a volume the caller passes (createAttenuationTask's initialVolume);
   * 'sart' to `sartEpochs` epochs of SART of the training views, which the caller computes and
   * passes as initialVolume (`medfield train` does; the task itself stays synchronous).
   */
  warmStart: z.strictObject({
    kind: z.enum(['none', 'fdk', 'sart', 'volume']).default('none'),
    /** SART epochs of the 'sart' warm start. */
    sartEpochs: int.min(1).max(1000).default(5),
    /** Regression steps (fields that cannot take the volume directly). */
    steps: int.min(0).default(300),
    pointsPerStep: int.min(1).default(32768),
  }).prefault({}),
  /**
   * Project onto mu >= 0 after every step by clamping the tables (a single dense level without an
   * MLP, where that is exactly the constraint; SART's `nonneg` does the same to its volume).
   */
  nonNegative: z.boolean().default(false),
  /** Pixel loss on the line integrals: 'mse' (the Gaussian/Poisson-noise estimator) or 'l1' (robust to outlier pixels). */
  loss: z.enum(['mse', 'l1']).default('mse'),
  /**
   * SSIM term on detector patches, weight * (1 - mean SSIM) added to the loss (src/train/losses.ts;
   * data range = the largest training line integral). With weight > 0 the training rays are
   * floor(raysPerStep / patchSize^2) (at least 1) blocks of patchSize x patchSize neighbouring pixels.
   */
  ssim: z.strictObject({
    weight: z.number().min(0).default(0),
    patchSize: int.min(2).max(64).default(8),
  }).prefault({}),
  /** Clamp mu >= 0 in sampleGrid (attenuation is non-negative). */
  clampNonNegative: z.boolean().default(true),
  /** Seed of the ray sampler. */
  seed: int.default(0),
});
export type AttenuationConfig = z.infer<typeof attenuationConfigSchema>;
export type AttenuationConfigInput = z.input<typeof attenuationConfigSchema>;

const denseLevels = (levels: number, base: number, growth: number, lr: number): FieldConfigInput => ({
  encoding: { kind: 'dense-grid', inputDim: 3, levels, featuresPerLevel: 1, baseResolution: base, growthFactor: growth },
  mlp: null,
  optimizer: { kind: 'adam', lr },
});

/**
 * Named presets. Measured on ct-50 in docs/neural-ct.md.
 * - 'naf': the GUIDE.md section 6 NAF (hash grid 16 x 2, 2^19, MLP 64-64, Adam 1e-2), 1024 rays, 1-voxel steps.
 * - 'dense': one dense grid on the voxel centres (a voxel grid with trilinear interpolation), no regularisers.
 * - 'dense-fdk-tv': the dense grid warm-started from FDK, grid TV, mu >= 0 (the CPU preset for ct-50).
 * - 'dense-multires': 4 dense levels summed (16..127), coarse-to-fine, TV.
 */
export const ATTENUATION_PRESETS = {
  naf: {
    field: structuredClone(FIELD_PRESETS.naf) as FieldConfigInput,
    raysPerStep: 1024, stepVoxels: 1, renderStepVoxels: 0.5,
  },
  dense: {
    field: denseLevels(1, 127, 2, 1e-2),
    raysPerStep: 2048, stepVoxels: 0.5,
  },
  'dense-fdk-tv': {
    // docs/neural-ct.md: on ct-50 (2 min) grid TV 120 every 4 steps + non-negativity + lr 5e-3
    // took the FDK warm start from 27.4 to 35.1 dB; TV 1200 over-smooths (32.3), no TV 31.9.
    // 1-voxel jittered steps: twice the rays per second, +0.5 dB at 90 s over 0.5-voxel steps.
    field: denseLevels(1, 127, 2, 5e-3),
    raysPerStep: 2048, stepVoxels: 1,
    tv: { mode: 'grid', weight: 120, points: 8192, epsilon: 1e-3, every: 4 },
    nonNegative: true,
    warmStart: { kind: 'fdk', steps: 300, pointsPerStep: 32768 },
  },
  'dense-multires': {
    field: denseLevels(4, 16, 2, 1e-2),
    raysPerStep: 2048, stepVoxels: 0.5,
    coarseToFine: { stepsPerLevel: 150 },
    tv: { weight: 2e-2, points: 8192, epsilon: 1e-3, every: 1 },
  },
} as const satisfies Record<string, AttenuationConfigInput>;
export type AttenuationPreset = keyof typeof ATTENUATION_PRESETS;
export const ATTENUATION_PRESET_NAMES = Object.keys(ATTENUATION_PRESETS) as AttenuationPreset[];

/** Validates (zod; the error names the bad key) and fills defaults. A string is a preset name. */
export function resolveAttenuationConfig(input: AttenuationConfigInput | string): AttenuationConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    const p = (ATTENUATION_PRESETS as Record<string, AttenuationConfigInput>)[input];
    if (!p) throw new MedfieldError('bad-option', 'attenuation preset', `unknown preset '${input}'; expected one of ${ATTENUATION_PRESET_NAMES.join(', ')}`);
    raw = structuredClone(p);
  }
  const r = attenuationConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new MedfieldError('bad-option', `attenuation config ${issue.path.join('.') || '(root)'}`, issue.message);
  }
  const cfg = r.data;
  resolveFieldConfig(cfg.field); // cross-field checks of the engine config
  if (cfg.tv.mode === 'grid' && (cfg.field.mlp || cfg.field.encoding.kind !== 'dense-grid')) throw new MedfieldError('bad-option', 'attenuation config tv.mode', "'grid' TV needs a dense-grid field without an MLP; use 'points'");
  if (cfg.nonNegative && (cfg.field.mlp || cfg.field.encoding.kind !== 'dense-grid' || cfg.field.encoding.levels !== 1)) {
    throw new MedfieldError('bad-option', 'attenuation config nonNegative', 'clamping needs a single dense-grid level without an MLP');
  }
  if (cfg.coarseToFine && cfg.field.mlp) throw new MedfieldError('bad-option', 'attenuation config coarseToFine', 'coarse-to-fine needs a field without an MLP (mlp: null)');
  return cfg;
}

/** The engine config actually built for a grid: dense grids fitted to the voxel centres when `fitGrid`. */
export function fieldConfigForGrid(cfg: AttenuationConfig, grid: GridFields): FieldConfig {
  const f = structuredClone(cfg.field);
  const e = f.encoding;
  if (cfg.fitGrid && e.kind === 'dense-grid') {
    const finest = Math.max(1, Math.max(grid.nVoxel[0], grid.nVoxel[1], grid.nVoxel[2]) - 1);
    if (e.levels === 1) { e.baseResolution = finest; }
    else {
      // keep the coarse base (at most the finest); the growth that lands the last level exactly on `finest`
      e.baseResolution = Math.min(e.baseResolution, finest);
      e.growthFactor = Math.max(1, ((finest + 1e-6) / e.baseResolution) ** (1 / (e.levels - 1)));
    }
  }
  return resolveFieldConfig(f);
}

/**
 * The field as mu(x): owns the FieldModel, sums its outputs, applies muScale and the
 * coarse-to-fine level mask, and keeps per-batch buffers (no allocation per call).
 */
export class AttenuationField {
  readonly model: FieldModel;
  readonly outputs: number;
  /** Gradient mask per output channel (coarse-to-fine); 1 = trained. */
  readonly channelMask: Float32Array;
  private readonly y: Float32Array;
  private readonly dy: Float32Array;

  constructor(backend: Backend, readonly fieldConfig: FieldConfig, readonly muScale: number, readonly maxBatch: number) {
    this.model = new FieldModel(backend, fieldConfig, { maxBatch });
    this.outputs = this.model.outputDim;
    this.channelMask = new Float32Array(this.outputs).fill(1);
    this.y = new Float32Array(maxBatch * this.outputs);
    this.dy = new Float32Array(maxBatch * this.outputs);
  }

  /** mu at n points (unit-cube inputs AoS [n, 3]) into muOut[0..n). */
  forward(x: Float32Array, n: number, muOut: Float32Array): void {
    this.model.forward(x, n, this.y);
    const D = this.outputs, y = this.y, s = this.muScale;
    if (D === 1) { for (let i = 0; i < n; i++) muOut[i] = s * y[i]!; return; }
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let c = 0; c < D; c++) a += y[i * D + c]!;
      muOut[i] = s * a;
    }
  }

  /** Backpropagates dL/dmu (per point of the last forward) into the field's parameter gradients. */
  backward(dLdmu: Float32Array, n: number): void {
    const D = this.outputs, dy = this.dy, s = this.muScale, m = this.channelMask;
    for (let i = 0; i < n; i++) {
      const g = s * dLdmu[i]!;
      for (let c = 0; c < D; c++) dy[i * D + c] = g * m[c]!;
    }
    this.model.backward(dy);
  }

  /** Coarse-to-fine: channels of levels > `level` (0-based from the coarsest) get no gradient. */
  setTrainableLevels(maxLevel: number): void {
    const D = this.outputs;
    const e = this.fieldConfig.encoding;
    const F = this.fieldConfig.mlp || e.kind === 'frequency' ? D : e.featuresPerLevel;
    for (let c = 0; c < D; c++) this.channelMask[c] = Math.floor(c / F) <= maxLevel ? 1 : 0;
  }
}
