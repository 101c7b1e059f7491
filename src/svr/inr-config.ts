/**
 * Configuration of the INR slice-to-volume reconstruction (src/svr/inr.ts): zod schema with
 * defaults, named presets ('default' for the brain benchmark in CPU minutes, 'fast' for tests),
 * resolved to plain JSON (GUIDE.md section 3).
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';
import { resolveFieldConfig, type FieldConfig, type FieldConfigInput } from '../engine/config.js';

const int = z.number().int();
const frac = z.number().min(0).max(1);

export const svrInrConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  /**
   * The intensity field (src/engine/config.ts): 3 inputs; 1 output (intensity) or 2 (intensity
   * and the pixel log-variance head, needed by variance.pixel).
   */
  field: z.custom<FieldConfigInput>((v) => typeof v === 'object' && v !== null),
  /** Optimisation steps. */
  steps: int.min(1).default(1500),
  /** Slice pixels per step. */
  batchPixels: int.min(1).max(1 << 18).default(4096),
  /**
   * How a pixel's PSF integral is estimated in training: 'gauss-hermite' (the deterministic tensor
   * rule psfNodes; no sampling variance) or 'monte-carlo' (psfSamples standard-normal draws). The
   * squared residual of a Monte-Carlo estimate carries its variance, which depends on the motion
   * (a PSF straddling an edge has more) and biases the motion estimate, hence the default.
   */
  psfRule: z.enum(['gauss-hermite', 'monte-carlo']).default('gauss-hermite'),
  /** Gauss-Hermite nodes per slice axis (i, j, through-plane) for psfRule 'gauss-hermite'. */
  psfNodes: z.tuple([int.min(1).max(5), int.min(1).max(5), int.min(1).max(5)]).default([1, 1, 5]),
  /** Monte-Carlo PSF samples per pixel (psfRule 'monte-carlo'). */
  psfSamples: int.min(1).max(64).default(8),
  /** Monte-Carlo: redraw the PSF samples every step (true) or draw them once (false). */
  resamplePsf: z.boolean().default(true),
  /** Field learning rate decays exponentially to lr * fieldLrFinal over the run. */
  fieldLrFinal: z.number().positive().max(1).default(0.1),
  /**
   * Coarse-to-fine (BARF-style, Lin et al. 2021): only the first `startLevels` grid levels learn at
   * first, the others join one by one until all learn at fraction `fullAt` of the run, so the
   * motion is fitted against a smooth field that cannot absorb it. 0 = off.
   */
  coarseToFine: z.strictObject({ startLevels: int.min(0).default(0), fullAt: frac.default(0.7) }).prefault({}),
  /** Pixels (those whose nominal centre is inside the output grid) are drawn from those above threshold * (intensity scale), plus this fraction uniformly from all. */
  sampling: z.strictObject({
    threshold: frac.default(0.02),
    backgroundFraction: frac.default(0.1),
  }).prefault({}),
  motion: z.strictObject({
    enabled: z.boolean().default(true),
    /** Fraction of the run after which stack-level rigid alignment starts (the field has a coarse fit). */
    stackStart: frac.default(0.1),
    /** Fraction of the run after which every slice gets its own motion. */
    sliceStart: frac.default(0.3),
    /** Fraction of the run after which motion is frozen (the field refines at the end). */
    stop: frac.default(0.9),
    /**
     * 'adam-shared': Adam whose second moment is shared by all slices per parameter kind (steps
     * proportional to each slice's gradient); 'adam': per-parameter Adam.
     */
    optimizer: z.enum(['adam-shared', 'adam']).default('adam-shared'),
    /** Adam step sizes (per step, before warm-up): rotation rad, translation mm. */
    lrRotRad: z.number().positive().default(2e-3),
    lrTransMm: z.number().positive().default(0.05),
    /**
     * The motion learning rates decay exponentially to lr * lrFinal at `stop` (Adam on noisy
     * per-slice gradients otherwise random-walks by ~lr per step).
     */
    lrFinal: z.number().positive().max(1).default(0.05),
    /** Linear warm-up of the motion learning rates at the start of each stage, steps. */
    warmupSteps: int.min(0).default(50),
  }).prefault({}),
  /** Per-slice intensity scale c_s = exp(b_s) (gauge: mean b_s = 0). */
  sliceScale: z.strictObject({ enabled: z.boolean().default(true), lr: z.number().positive().default(5e-3) }).prefault({}),
  /**
   * Gaussian likelihood variance of a pixel: var = exp(a_s) (slice) + exp(v(x) + log(initStd^2))
   * (pixel head, PSF-averaged second field output) + floorStd^2; values in units of the intensity scale.
   */
  variance: z.strictObject({
    slice: z.boolean().default(true),
    pixel: z.boolean().default(true),
    initStd: z.number().positive().default(0.05),
    floorStd: z.number().positive().default(0.005),
    lr: z.number().positive().default(1e-2),
  }).prefault({}),
  /** Regularisation of the intensity by finite differences at random points (one output voxel apart). */
  regularization: z.strictObject({
    kind: z.enum(['none', 'tv', 'edge']).default('edge'),
    weight: z.number().min(0).default(0.002),
    /**
     * Scale of the differences g (intensity-scale units per output voxel): edge-preserving
     * phi(g) = sqrt(1 + g^2/delta^2) - 1 (quadratic below delta, linear above); TV phi = |g|/delta.
     */
    delta: z.number().positive().default(0.05),
    points: int.min(0).default(2048),
  }).prefault({}),
  /** Gauss-Hermite nodes per slice axis (i, j, through-plane) for the simulated slices. */
  simulateNodes: z.tuple([int.min(1).max(5), int.min(1).max(5), int.min(1).max(5)]).default([1, 1, 5]),
  /** Loss recorded in history every this many steps. */
  logEvery: int.min(1).default(25),
  seed: int.default(0),
});

export type SvrInrConfigInput = z.input<typeof svrInrConfigSchema>;
export type SvrInrConfig = Omit<z.infer<typeof svrInrConfigSchema>, 'field'> & { field: FieldConfig };

/** Named presets. */
export const SVR_INR_PRESETS = {
  /**
   * The svr benchmark (124x160x140 brain at 1 mm, 3 stacks of 4 mm slices) in CPU minutes: a
   * hash grid whose finest level (~190 cells) is near 1 mm, tiny MLP, 4096 pixels x 8 PSF samples.
   */
  default: {
    field: {
      encoding: { kind: 'hash-grid', inputDim: 3, levels: 10, featuresPerLevel: 2, log2TableSize: 18, baseResolution: 12, growthFactor: 1.33 },
      mlp: { hidden: [32], outputDim: 2, activation: 'relu', outputActivation: 'none' },
      optimizer: { kind: 'adam', lr: 1e-2 },
    },
    steps: 1500, batchPixels: 4096,
    // Measured on the svr bench (docs/svr-inr.md): starting with 4 of 10 levels learning gave
    // 24.6 dB / 0.92 deg / 0.85 mm vs 23.8 dB / 1.05 deg / 0.94 mm with all levels from the start.
    coarseToFine: { startLevels: 4, fullAt: 0.85 },
  },
  /**
   * Small field and batches for tests on ~32^3 volumes at 2 mm (finest level ~2 mm: a finer field
   * absorbs the misalignment of three thick-slice stacks instead of exposing it, see docs/svr-inr.md).
   */
  fast: {
    field: {
      encoding: { kind: 'hash-grid', inputDim: 3, levels: 6, featuresPerLevel: 2, log2TableSize: 16, baseResolution: 4, growthFactor: 1.5 },
      mlp: { hidden: [32], outputDim: 2, activation: 'relu', outputActivation: 'none' },
      optimizer: { kind: 'adam', lr: 2e-2 },
    },
    steps: 1000, batchPixels: 512, psfNodes: [1, 1, 3],
    motion: { warmupSteps: 20, lrRotRad: 4e-3, lrTransMm: 0.05 },
    regularization: { points: 256 },
    logEvery: 10,
  },
} as const satisfies Record<string, SvrInrConfigInput>;
export type SvrInrPreset = keyof typeof SVR_INR_PRESETS;

/**
 * Validates and fills defaults. A string is a preset name; an object may name a `preset` to start
 * from, whose top-level sections it overrides (e.g. { preset: 'fast', steps: 50 }).
 */
export function resolveSvrInrConfig(input: SvrInrConfigInput | SvrInrPreset | (Partial<SvrInrConfigInput> & { preset?: SvrInrPreset })): SvrInrConfig {
  let raw: Record<string, unknown>;
  if (typeof input === 'string') raw = presetConfig(input);
  else {
    const { preset, ...rest } = input as Record<string, unknown> & { preset?: string };
    raw = preset === undefined ? { ...rest } : mergeSections(presetConfig(preset), rest);
    if (raw['field'] === undefined) raw['field'] = structuredClone(SVR_INR_PRESETS.default.field);
  }
  const r = svrInrConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    throw new MedfieldError('bad-option', `svr-inr config ${issue.path.join('.') || '(root)'}${keys}`, issue.message);
  }
  const field = resolveFieldConfig(r.data.field);
  if (field.encoding.inputDim !== 3) throw new MedfieldError('bad-option', 'svr-inr config field.encoding.inputDim', `expected 3 inputs, got ${field.encoding.inputDim}`);
  const outDim = field.mlp ? field.mlp.outputDim : -1;
  if (outDim !== 1 && outDim !== 2) throw new MedfieldError('bad-option', 'svr-inr config field.mlp.outputDim', `expected an MLP with 1 or 2 outputs (intensity, pixel log-variance), got ${outDim < 0 ? 'no MLP' : outDim}`);
  if (r.data.variance.pixel && outDim !== 2) throw new MedfieldError('bad-option', 'svr-inr config variance.pixel', 'the pixel variance head needs field.mlp.outputDim = 2');
  const m = r.data.motion;
  if (!(m.stackStart <= m.sliceStart && m.sliceStart <= m.stop)) throw new MedfieldError('bad-option', 'svr-inr config motion', `expected stackStart <= sliceStart <= stop, got ${m.stackStart}, ${m.sliceStart}, ${m.stop}`);
  return { ...r.data, field };
}

function presetConfig(name: string): Record<string, unknown> {
  const p = (SVR_INR_PRESETS as Record<string, SvrInrConfigInput>)[name];
  if (!p) throw new MedfieldError('bad-option', 'svr-inr preset', `unknown preset '${name}'; expected one of ${Object.keys(SVR_INR_PRESETS).join(', ')}`);
  return structuredClone(p) as Record<string, unknown>;
}

/** Overrides of object sections merge one level deep; other keys replace. */
function mergeSections(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b) && k !== 'field'
      ? { ...(b as Record<string, unknown>), ...(v as Record<string, unknown>) } : v;
  }
  return out;
}
