/**
 * Radiance field: density sigma(x) >= 0 and a single-channel radiance c(x) in (0, 1) at points
 * x of the unit cube, for emission-absorption volume rendering (NeRF / MedNeRF). The network is
 * an engine `FieldModel` with two raw outputs (outputActivation 'none'); this module applies
 *   sigma = densityScale * softplus(raw0 + densityBias)   (or exp(raw0 + densityBias), clamped)
 *   c     = sigmoid(raw1)
 * and back-propagates through them. The radiance does not depend on the view direction: the
 * simulated views are Lambertian by construction (radiance = intensity), so no direction input.
 *
 * Presets (RADIANCE_FIELD_PRESETS): 'hash' (instant-NGP hash grid, tiny MLP), 'hash-small' (fewer
 * levels, smaller tables: tests and quick runs), 'nerf' (classic NeRF positional encoding + MLP
 * with a skip), 'dense' (Plenoxels-like dense grid of two raw channels, no MLP).
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';
import type { Backend } from '../engine/backend.js';
import { resolveFieldConfig, type FieldConfig, type FieldConfigInput } from '../engine/config.js';
import { FieldModel } from '../engine/field.js';

export const RADIANCE_FIELD_PRESETS = {
  hash: {
    encoding: { kind: 'hash-grid', inputDim: 3, levels: 12, featuresPerLevel: 2, log2TableSize: 19, baseResolution: 16, growthFactor: 1.32 },
    mlp: { hidden: [64, 64], outputDim: 2, activation: 'relu', outputActivation: 'none' },
    optimizer: { kind: 'adam', lr: 1e-2 },
  },
  'hash-small': {
    encoding: { kind: 'hash-grid', inputDim: 3, levels: 6, featuresPerLevel: 2, log2TableSize: 14, baseResolution: 4, growthFactor: 1.5 },
    mlp: { hidden: [32], outputDim: 2, activation: 'relu', outputActivation: 'none' },
    optimizer: { kind: 'adam', lr: 1e-2 },
  },
  nerf: {
    encoding: { kind: 'frequency', inputDim: 3, octaves: 8, includeInput: true },
    mlp: { hidden: [128, 128, 128, 128], outputDim: 2, activation: 'relu', outputActivation: 'none', skips: [3] },
    optimizer: { kind: 'adam', lr: 1e-3 },
  },
  dense: {
    encoding: { kind: 'dense-grid', inputDim: 3, levels: 1, featuresPerLevel: 2, baseResolution: 127, initScale: 0 },
    mlp: null,
    optimizer: { kind: 'adam', lr: 5e-2 },
  },
} as const satisfies Record<string, FieldConfigInput>;
export type RadianceFieldPreset = keyof typeof RADIANCE_FIELD_PRESETS;
export const RADIANCE_FIELD_PRESET_NAMES = Object.keys(RADIANCE_FIELD_PRESETS) as RadianceFieldPreset[];

/** How the raw density output becomes sigma. */
export const densitySchema = z.strictObject({
  activation: z.enum(['softplus', 'exp']).default('softplus'),
  /** Added to the raw output before the activation (negative: start nearly empty). */
  bias: z.number().default(0),
  /** sigma = scale * activation(raw + bias); sigma is per unit of the box's largest side. */
  scale: z.number().positive().default(1),
});
export type DensityConfig = z.infer<typeof densitySchema>;

/** Resolves a preset name or a full field config and checks it has 2 outputs. */
export function resolveRadianceFieldConfig(input: RadianceFieldPreset | FieldConfigInput): FieldConfig {
  let raw: FieldConfigInput;
  if (typeof input === 'string') {
    const p = (RADIANCE_FIELD_PRESETS as Record<string, FieldConfigInput>)[input];
    if (!p) throw new MedfieldError('bad-option', 'field', `unknown radiance field preset '${input}'; expected one of ${RADIANCE_FIELD_PRESET_NAMES.join(', ')}`);
    raw = structuredClone(p) as FieldConfigInput;
  } else raw = input;
  const cfg = resolveFieldConfig(raw);
  if (cfg.encoding.inputDim !== 3) throw new MedfieldError('bad-option', 'field encoding.inputDim', `a radiance field takes 3D points, got inputDim ${cfg.encoding.inputDim}`);
  const outDim = cfg.mlp ? cfg.mlp.outputDim : cfg.encoding.kind === 'frequency' ? -1 : cfg.encoding.levels * cfg.encoding.featuresPerLevel;
  if (outDim !== 2) throw new MedfieldError('bad-option', cfg.mlp ? 'field mlp.outputDim' : 'field encoding', `a radiance field needs exactly 2 raw outputs (density, radiance), got ${outDim}`);
  if (cfg.mlp && cfg.mlp.outputActivation !== 'none') {
    throw new MedfieldError('bad-option', 'field mlp.outputActivation', `must be 'none' (the radiance field applies softplus/exp to density and sigmoid to radiance), got '${cfg.mlp.outputActivation}'`);
  }
  return cfg;
}

const EXP_CLAMP = 15;

/** A FieldModel with the density / radiance activations and their backward. */
export class RadianceField {
  readonly model: FieldModel;
  readonly config: FieldConfig;
  readonly density: DensityConfig;
  private raw: Float32Array;
  private dRaw: Float32Array;
  private lastN = 0;

  constructor(backend: Backend, field: RadianceFieldPreset | FieldConfigInput, density: Partial<DensityConfig>, maxBatch: number) {
    this.config = resolveRadianceFieldConfig(field);
    this.density = densitySchema.parse(density);
    this.model = new FieldModel(backend, this.config, { maxBatch });
    this.raw = new Float32Array(maxBatch * 2);
    this.dRaw = new Float32Array(maxBatch * 2);
  }

  get maxBatch(): number { return this.model.maxBatch; }

  /**
   * Evaluates n points (AoS [n,3] in [0,1]^3): sigma[i] (per unit length of the box's largest
   * side) and c[i] in (0,1). Keeps what `backward` needs.
   */
  forward(x: Float32Array, n: number, sigma: Float32Array | Float64Array, c: Float32Array | Float64Array): void {
    const raw = this.raw;
    this.model.forward(x, n, raw);
    this.lastN = n;
    const { activation, bias, scale } = this.density;
    for (let i = 0; i < n; i++) {
      const a = raw[2 * i]! + bias;
      let s: number;
      if (activation === 'softplus') s = a > 20 ? a : Math.log1p(Math.exp(a));
      else s = Math.exp(a > EXP_CLAMP ? EXP_CLAMP : a);
      sigma[i] = scale * s;
      c[i] = 1 / (1 + Math.exp(-raw[2 * i + 1]!));
    }
  }

  /**
   * Back-propagates dL/dsigma and dL/dc of the last forward into the parameter gradients (the
   * optimiser step is the caller's: `model.optimizer.step(lr)`).
   */
  backward(dSigma: ArrayLike<number>, dC: ArrayLike<number>): void {
    const n = this.lastN, raw = this.raw, dRaw = this.dRaw;
    const { activation, bias, scale } = this.density;
    for (let i = 0; i < n; i++) {
      const a = raw[2 * i]! + bias;
      const ds = activation === 'softplus' ? 1 / (1 + Math.exp(-a)) : a > EXP_CLAMP ? 0 : Math.exp(a);
      dRaw[2 * i] = dSigma[i]! * scale * ds;
      const cc = 1 / (1 + Math.exp(-raw[2 * i + 1]!));
      dRaw[2 * i + 1] = dC[i]! * cc * (1 - cc);
    }
    this.model.backward(dRaw.subarray(0, 2 * n));
  }
}
