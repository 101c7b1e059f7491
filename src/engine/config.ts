/**
 * Field configuration (GUIDE.md section 3: zod schemas, variants by `kind`, named presets,
 * defaults in the schema). A resolved config is plain JSON and fully determines a FieldModel
 * together with its seed.
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';

export const ACTIVATIONS = ['relu', 'leaky-relu', 'softplus', 'sigmoid', 'exp', 'none'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

const int = z.number().int();

/** NeRF positional encoding: [x?, sin(2^k pi x), cos(2^k pi x)] for k < octaves. */
export const frequencyEncodingSchema = z.strictObject({
  kind: z.literal('frequency'),
  inputDim: int.min(1).max(4).default(3),
  octaves: int.min(1).max(16).default(6),
  includeInput: z.boolean().default(true),
});

/** instant-NGP multiresolution hash grid (Mueller et al. 2022, section 3). Inputs in [0,1]^d. */
export const hashGridEncodingSchema = z.strictObject({
  kind: z.literal('hash-grid'),
  inputDim: int.min(2).max(3).default(3),
  levels: int.min(1).max(32).default(16),
  featuresPerLevel: int.min(1).max(8).default(2),
  /** log2 of the hash table entries per level (T = 2^log2TableSize). */
  log2TableSize: int.min(4).max(24).default(19),
  /** Coarsest grid resolution N_min (cells per axis). */
  baseResolution: int.min(1).default(16),
  /** Resolution growth b per level: N_l = floor(N_min * b^l). */
  growthFactor: z.number().min(1).max(4).default(1.38),
  /** Uniform initialisation range +-initScale (instant-NGP: 1e-4). */
  initScale: z.number().min(0).default(1e-4),
});

/** Dense multiresolution grid (Plenoxels-like): every level stored densely, (N_l+1)^d vertices. */
export const denseGridEncodingSchema = z.strictObject({
  kind: z.literal('dense-grid'),
  inputDim: int.min(2).max(3).default(3),
  levels: int.min(1).max(16).default(1),
  featuresPerLevel: int.min(1).max(8).default(1),
  baseResolution: int.min(1).default(127),
  growthFactor: z.number().min(1).max(4).default(2),
  initScale: z.number().min(0).default(0),
});

export const encodingSchema = z.discriminatedUnion('kind', [
  frequencyEncodingSchema,
  hashGridEncodingSchema,
  denseGridEncodingSchema,
]);
export type EncodingConfig = z.infer<typeof encodingSchema>;
export type FrequencyEncodingConfig = z.infer<typeof frequencyEncodingSchema>;
export type HashGridEncodingConfig = z.infer<typeof hashGridEncodingSchema>;
export type DenseGridEncodingConfig = z.infer<typeof denseGridEncodingSchema>;

export const mlpSchema = z.strictObject({
  /** Hidden layer widths (1-8 layers of 16-256). The input width comes from the encoding + latent. */
  hidden: z.array(int.min(1).max(256)).min(0).max(8).default([64, 64]),
  outputDim: int.min(1).max(16).default(1),
  activation: z.enum(ACTIVATIONS).default('relu'),
  outputActivation: z.enum(ACTIVATIONS).default('none'),
  /** Negative slope of leaky-relu. */
  leak: z.number().min(0).max(1).default(0.01),
  /** Layer indices (1..hidden.length) whose input gets the MLP input concatenated (NeRF skip). */
  skips: z.array(int.min(1)).default([]),
});
export type MlpConfig = z.infer<typeof mlpSchema>;

export const optimizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('adam'),
    lr: z.number().positive().default(1e-2),
    beta1: z.number().min(0).max(1).default(0.9),
    beta2: z.number().min(0).max(1).default(0.99),
    eps: z.number().positive().default(1e-15),
    weightDecay: z.number().min(0).default(0),
    /** Lazy Adam on hash/dense-grid tables: only rows touched this step are updated. */
    sparseTables: z.boolean().default(true),
  }),
  z.strictObject({
    kind: z.literal('sgd'),
    lr: z.number().positive().default(1e-1),
    momentum: z.number().min(0).max(1).default(0),
    weightDecay: z.number().min(0).default(0),
  }),
]);
export type OptimizerConfig = z.infer<typeof optimizerSchema>;

export const fieldConfigSchema = z.strictObject({
  version: z.literal(1).default(1),
  encoding: encodingSchema,
  /** null: the encoding output is the field output (e.g. a dense density grid). */
  mlp: mlpSchema.nullable(),
  /** Width of a per-point latent code concatenated to the encoding (0: unconditional). */
  latentDim: int.min(0).max(256).default(0),
  optimizer: optimizerSchema.default({ kind: 'adam', lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-15, weightDecay: 0, sparseTables: true }),
  seed: int.default(0),
});
export type FieldConfig = z.infer<typeof fieldConfigSchema>;
export type FieldConfigInput = z.input<typeof fieldConfigSchema>;

/** Named presets: 'naf' (GUIDE.md section 6), 'dense-128' (Plenoxels-like density grid), 'image-2d'. */
export const FIELD_PRESETS = {
  naf: {
    encoding: { kind: 'hash-grid', inputDim: 3, levels: 16, featuresPerLevel: 2, log2TableSize: 19, baseResolution: 16, growthFactor: 1.38 },
    mlp: { hidden: [64, 64], outputDim: 1, activation: 'relu', outputActivation: 'none' },
    // GUIDE.md section 6: on ct-50 a NAF-style field reached 25.2 dB in 10 min at lr 1e-3 but
    // 34.0 dB at 1e-2, so the CPU preset uses 1e-2.
    optimizer: { kind: 'adam', lr: 1e-2 },
  },
  'dense-128': {
    encoding: { kind: 'dense-grid', inputDim: 3, levels: 1, featuresPerLevel: 1, baseResolution: 127 },
    mlp: null,
    optimizer: { kind: 'adam', lr: 1e-2 },
  },
  'image-2d': {
    encoding: { kind: 'hash-grid', inputDim: 2, levels: 12, featuresPerLevel: 2, log2TableSize: 14, baseResolution: 8, growthFactor: 1.4 },
    mlp: { hidden: [32, 32], outputDim: 1, activation: 'relu', outputActivation: 'none' },
    optimizer: { kind: 'adam', lr: 1e-2 },
  },
} as const satisfies Record<string, FieldConfigInput>;
export type FieldPreset = keyof typeof FIELD_PRESETS;

/** Validates and fills defaults; throws a MedfieldError naming the offending field. */
export function resolveFieldConfig(input: FieldConfigInput | FieldPreset): FieldConfig {
  const raw = typeof input === 'string' ? presetConfig(input) : input;
  const r = fieldConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new MedfieldError('bad-option', `field config ${issue.path.join('.') || '(root)'}`, issue.message);
  }
  const cfg = r.data;
  if (cfg.mlp) {
    for (const s of cfg.mlp.skips) {
      if (s > cfg.mlp.hidden.length) throw new MedfieldError('bad-option', 'field config mlp.skips', `skip layer ${s} must be in 1..${cfg.mlp.hidden.length}`);
    }
  } else if (cfg.latentDim > 0) {
    throw new MedfieldError('bad-option', 'field config latentDim', 'a latent code needs an mlp');
  }
  return cfg;
}

function presetConfig(name: string): FieldConfigInput {
  const p = (FIELD_PRESETS as Record<string, FieldConfigInput>)[name];
  if (!p) throw new MedfieldError('bad-option', 'field preset', `unknown preset '${name}'; expected one of ${Object.keys(FIELD_PRESETS).join(', ')}`);
  return structuredClone(p) as FieldConfigInput;
}
