/**
 * Config of the radiance-field task (src/train/radiance-task.ts): zod schema, presets and their
 * resolution with errors naming the bad key.
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';
import type { FieldConfigInput } from '../engine/config.js';
import { densitySchema, RADIANCE_FIELD_PRESET_NAMES, type RadianceFieldPreset } from '../field/radiance.js';

const int = z.number().int();

export const radianceTaskSchema = z.strictObject({
  /** A radiance field preset name or a full engine field config with 2 raw outputs. */
  field: z.union([z.enum(RADIANCE_FIELD_PRESET_NAMES as [RadianceFieldPreset, ...RadianceFieldPreset[]]),
    z.custom<FieldConfigInput>((v) => typeof v === 'object' && v !== null, { message: 'expected a preset name or a field config object' })]).default('hash'),
  density: densitySchema.prefault({}),
  /** 'auto': 'ea' for radiance datasets, 'line' for line-integral datasets. */
  rendering: z.enum(['auto', 'ea', 'line']).default('auto'),
  /** Rays per training step. */
  raysPerStep: int.min(1).max(1 << 16).default(1024),
  samples: z.strictObject({
    /** Stratified samples per ray inside the box. */
    coarse: int.min(2).max(1024).default(64),
    /** Hierarchical (importance) samples per ray from the coarse weights; 0 = off. */
    fine: int.min(0).max(1024).default(64),
  }).prefault({}),
  sampler: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('random') }),
    z.strictObject({
      kind: z.literal('patch'),
      /** GRAF patch side K (K x K rays per patch; raysPerStep / K^2 patches per step, at least 1). */
      size: int.min(2).max(256).default(16),
      minScale: z.number().gt(0).max(1).default(0.25),
      maxScale: z.number().gt(0).max(1).default(1),
    }),
  ]).prefault({ kind: 'random' }),
  /** Base learning rate (the trainer's lrScale multiplies it); default: the field config's. */
  lr: z.number().positive().optional(),
  loss: z.enum(['mse', 'l1']).default('mse'),
  /**
   * SSIM term weight * (1 - mean SSIM) over the patches of the 'patch' sampler (one uniform SSIM
   * window per K x K patch, src/train/losses.ts; data range = the training views' max). Needs
   * sampler.kind 'patch'.
   */
  ssim: z.strictObject({ weight: z.number().min(0).default(0) }).prefault({}),
  /** What sampleGrid returns: sigma per mm, or the radiance c. */
  volumeQuantity: z.enum(['density', 'radiance']).default('density'),
  /**
   * Visual hull of the training views (space carving on a res^3 grid): samples are placed only
   * on the part of each ray between the first and last occupied cells; rays missing the hull
   * render 0. threshold: fraction of the largest training value below which a pixel is empty.
   */
  hull: z.strictObject({
    enabled: z.boolean().default(true),
    resolution: int.min(2).max(256).default(64),
    threshold: z.number().min(0).max(1).default(1e-3),
  }).prefault({}),
  /** Rays per chunk when rendering (bounded by the batch the field was sized for). */
  renderChunkRays: int.min(1).default(4096),
  seed: int.default(0),
});
export type RadianceTaskConfig = z.infer<typeof radianceTaskSchema>;
export type RadianceTaskConfigInput = z.input<typeof radianceTaskSchema>;

/** Task presets (a preset name stands for { field: name }). */
export const RADIANCE_TASK_PRESETS: Record<RadianceFieldPreset, RadianceTaskConfigInput> = {
  // 48 stratified samples, no hierarchical pass: with the visual hull the segment is the head
  // only; on BraTS (3 min) 43.1 dB vs 42.8 with 32 + 32 and 39.4 with 64 + 64 (docs/neural-views.md)
  hash: { field: 'hash', samples: { coarse: 48, fine: 0 } },
  'hash-small': { field: 'hash-small', raysPerStep: 256, samples: { coarse: 24, fine: 16 } },
  nerf: { field: 'nerf', raysPerStep: 512, samples: { coarse: 48, fine: 32 } },
  dense: { field: 'dense', samples: { coarse: 96, fine: 0 } },
};

export function resolveRadianceTaskConfig(input: RadianceTaskConfigInput | RadianceFieldPreset = {}): RadianceTaskConfig {
  let raw: unknown = input;
  if (typeof input === 'string') {
    const p = RADIANCE_TASK_PRESETS[input];
    if (!p) throw new MedfieldError('bad-option', 'preset', `unknown radiance preset '${input}'; expected one of ${Object.keys(RADIANCE_TASK_PRESETS).join(', ')}`);
    raw = structuredClone(p);
  }
  const r = radianceTaskSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    throw new MedfieldError('bad-option', `radiance config ${issue.path.map(String).join('.') || '(root)'}${keys}`, issue.message);
  }
  if (r.data.ssim.weight > 0 && r.data.sampler.kind !== 'patch') {
    throw new MedfieldError('bad-option', 'radiance config ssim.weight', "the SSIM term works on patches: set sampler.kind 'patch' (or ssim.weight 0)");
  }
  return r.data;
}

