/**
 * The 'volume-fit' task: fits a FieldModel (src/engine/field.ts) to a voxel volume by sampling
 * uniform random points of the grid's box and regressing the volume's trilinear interpolant
 * there (MSE). Uses: warm-starting a field from an FDK volume, exporting a volume as a
 * continuous field, an upper bound for neural reconstruction (fit the ground truth itself), and
 * a real (cheap, deterministic) model for the trainer's tests.
 *
 * Coordinates: the field's input is the unit cube [0,1]^3 mapped onto the grid's box (outer
 * voxel faces, gridAabb): u = (x - boxMin) / boxExtent. Voxel (i,j,k)'s centre is at
 * u = ((i + 0.5)/nx, (j + 0.5)/ny, (k + 0.5)/nz). Values are learned divided by `valueScale`
 * (1 / max|volume|) so the field's outputs are O(1) whatever the volume's units; sampleGrid
 * multiplies back.
 *
 * Views: with an XrayGeometry, renderViews/renderAngles project the field sampled on the
 * geometry's grid — Siddon line integrals (render 'line-integral') or emission-absorption views
 * (render 'ea', transfer from the target volume's min/max, as `simulate` renders views-72).
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';
import { createRng, type Rng } from '../core/rng.js';
import type { Backend } from '../engine/backend.js';
import { FIELD_PRESETS, resolveFieldConfig, type FieldConfig, type FieldConfigInput } from '../engine/config.js';
import { FieldModel } from '../engine/field.js';
import { gridAabb, type GridFields } from '../geometry/grid.js';
import type { XrayGeometry } from '../geometry/xray.js';
import { createProjectorKernel } from '../physics/projectors.js';
import { renderViews as renderEaViews } from '../physics/render-views.js';
import type { TaskStepResult, TrainTask } from './task.js';

const presetNames = Object.keys(FIELD_PRESETS) as [keyof typeof FIELD_PRESETS, ...(keyof typeof FIELD_PRESETS)[]];

export const volumeFitConfigSchema = z.strictObject({
  kind: z.literal('volume-fit').default('volume-fit'),
  /** A field preset name ('naf', 'dense-128', ...) or a full field config (src/engine/config.ts). */
  field: z.union([z.enum(presetNames), z.custom<FieldConfigInput>((v) => typeof v === 'object' && v !== null)]).default('naf'),
  /** Points per step. */
  batchSize: z.number().int().min(1).max(1 << 20).default(8192),
  /** Seed of the point sampler (the field's own seed is in its config). */
  seed: z.number().int().default(0),
  /** How views are rendered from the sampled volume. */
  render: z.enum(['line-integral', 'ea']).default('line-integral'),
});
export type VolumeFitConfig = Omit<z.infer<typeof volumeFitConfigSchema>, 'field'> & { field: FieldConfig };
export type VolumeFitConfigInput = z.input<typeof volumeFitConfigSchema>;

/** Validates a volume-fit config; errors name the key (`volume-fit config batchSize: ...`). */
export function resolveVolumeFitConfig(input: unknown): VolumeFitConfig {
  const r = volumeFitConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    throw new MedfieldError('bad-option', `volume-fit config ${issue.path.join('.') || '(root)'}${keys}`, issue.message);
  }
  const field = resolveFieldConfig(r.data.field as FieldConfigInput);
  if (field.encoding.inputDim !== 3) throw new MedfieldError('bad-option', 'volume-fit config field.encoding.inputDim', `a volume field needs 3 inputs, got ${field.encoding.inputDim}`);
  const out = field.mlp ? field.mlp.outputDim : field.encoding.kind === 'frequency' ? 0 : field.encoding.featuresPerLevel * field.encoding.levels;
  if (out !== 1) throw new MedfieldError('bad-option', 'volume-fit config field', `a volume field needs exactly 1 output, this config gives ${out}`);
  return { ...r.data, field };
}

export interface VolumeFitInput {
  /** The target volume, Float32 on `grid`, x fastest (i + nx*(j + ny*k)). */
  readonly data: Float32Array;
  readonly grid: GridFields;
  /** X-ray geometry for renderViews/renderAngles (its grid should be `grid`). */
  readonly geometry?: XrayGeometry;
  /** Angles (rad) of the dataset's views, indexed by renderViews. */
  readonly anglesRad?: ArrayLike<number>;
  /** Data range of the views for 2D metrics (default: max of the target's rendered views is not computed; 1). */
  readonly viewDataRange?: number;
}

/** Trilinear interpolation of `data` (on nx x ny x nz, x fastest) at voxel coordinates (clamped). */
export function trilinearAt(data: Float32Array, nx: number, ny: number, nz: number, fx: number, fy: number, fz: number): number {
  fx = fx < 0 ? 0 : fx > nx - 1 ? nx - 1 : fx;
  fy = fy < 0 ? 0 : fy > ny - 1 ? ny - 1 : fy;
  fz = fz < 0 ? 0 : fz > nz - 1 ? nz - 1 : fz;
  let i0 = Math.floor(fx), j0 = Math.floor(fy), k0 = Math.floor(fz);
  if (i0 > nx - 2) i0 = Math.max(0, nx - 2);
  if (j0 > ny - 2) j0 = Math.max(0, ny - 2);
  if (k0 > nz - 2) k0 = Math.max(0, nz - 2);
  const tx = fx - i0, ty = fy - j0, tz = fz - k0;
  const i1 = Math.min(i0 + 1, nx - 1), j1 = Math.min(j0 + 1, ny - 1), k1 = Math.min(k0 + 1, nz - 1);
  const r00 = nx * (j0 + ny * k0), r10 = nx * (j1 + ny * k0), r01 = nx * (j0 + ny * k1), r11 = nx * (j1 + ny * k1);
  const c00 = data[r00 + i0]! * (1 - tx) + data[r00 + i1]! * tx;
  const c10 = data[r10 + i0]! * (1 - tx) + data[r10 + i1]! * tx;
  const c01 = data[r01 + i0]! * (1 - tx) + data[r01 + i1]! * tx;
  const c11 = data[r11 + i0]! * (1 - tx) + data[r11 + i1]! * tx;
  return (c00 * (1 - ty) + c10 * ty) * (1 - tz) + (c01 * (1 - ty) + c11 * ty) * tz;
}

/** Largest number of points sampleGrid evaluates per field call. */
const SAMPLE_CHUNK = 16384;

/** Creates the task. The field is built on `backend` (the caller disposes the backend). */
export function createVolumeFitTask(input: VolumeFitInput, configInput: unknown, backend: Backend): TrainTask {
  const cfg = resolveVolumeFitConfig(configInput);
  const { data, grid } = input;
  const [nx, ny, nz] = grid.nVoxel;
  if (data.length !== nx * ny * nz) throw new MedfieldError('bad-data', 'volume-fit volume', `expected ${nx * ny * nz} values (${nx}x${ny}x${nz}), got ${data.length}`);
  let maxAbs = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) throw new MedfieldError('bad-data', 'volume-fit volume', `value ${i} is ${v}; expected finite values`);
    if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const valueScale = maxAbs > 0 ? 1 / maxAbs : 1;
  const batch = cfg.batchSize;
  const field = new FieldModel(backend, cfg.field, { maxBatch: Math.max(batch, SAMPLE_CHUNK) });
  const rng = createRng(cfg.seed);
  const x = new Float32Array(batch * 3);
  const target = new Float32Array(batch);
  const out = new Float32Array(SAMPLE_CHUNK);
  const xs = new Float32Array(SAMPLE_CHUNK * 3);
  const box = gridAabb(grid);
  const trainRange = (hi - lo) * valueScale;

  function sampleGrid(g: GridFields): Float32Array {
    const [gx, gy, gz] = g.nVoxel;
    const res = new Float32Array(gx * gy * gz);
    const gb = gridAabb(g);
    // Unit-cube coordinate of voxel centre i on axis a: (gb.min + (i + 0.5) * d - box.min) / extent.
    const ax: Float64Array[] = [0, 1, 2].map((a) => {
      const n = g.nVoxel[a]!, ext = box[a + 3]! - box[a]!;
      const t = new Float64Array(n);
      for (let i = 0; i < n; i++) t[i] = (gb[a]! + (i + 0.5) * g.dVoxel[a]! - box[a]!) / ext;
      return t;
    });
    const total = gx * gy * gz;
    for (let start = 0; start < total; start += SAMPLE_CHUNK) {
      const n = Math.min(SAMPLE_CHUNK, total - start);
      for (let p = 0; p < n; p++) {
        const idx = start + p;
        const i = idx % gx, r = (idx - i) / gx, j = r % gy, k = (r - j) / gy;
        xs[3 * p] = ax[0]![i]!; xs[3 * p + 1] = ax[1]![j]!; xs[3 * p + 2] = ax[2]![k]!;
      }
      field.forward(xs, n, out);
      for (let p = 0; p < n; p++) res[start + p] = out[p]! / valueScale;
    }
    return res;
  }

  function render(angles: ArrayLike<number>): Float32Array {
    const geo = input.geometry;
    if (!geo) throw new MedfieldError('unsupported', 'volume-fit task', 'rendering views needs an X-ray geometry (the task was created from a bare volume)');
    const vol = sampleGrid(geo);
    if (cfg.render === 'ea') return renderEaViews(vol, geo, angles, { mode: 'ea', transfer: { low: lo, high: hi > lo ? hi : lo + 1 } });
    // The projector kernel is synchronous (the inline ProjectionOperator only wraps it in a Promise).
    const kernel = createProjectorKernel(geo, angles, { method: 'siddon' });
    const y = new Float32Array(angles.length * kernel.viewSize);
    const views = new Int32Array(angles.length);
    for (let i = 0; i < views.length; i++) views[i] = i;
    kernel.forwardViews(vol, y, views);
    return y;
  }

  return {
    kind: 'volume-fit',
    viewDataRange: input.viewDataRange ?? 1,
    step(_stepIndex: number, lrScale: number): TaskStepResult {
      for (let p = 0; p < batch; p++) {
        const u = rng.next(), v = rng.next(), w = rng.next();
        x[3 * p] = u; x[3 * p + 1] = v; x[3 * p + 2] = w;
        target[p] = valueScale * trilinearAt(data, nx, ny, nz, u * nx - 0.5, v * ny - 0.5, w * nz - 0.5);
      }
      const loss = field.trainStep(x, target, batch, cfg.field.optimizer.lr * lrScale);
      const psnr = trainRange > 0 && loss > 0 ? 10 * Math.log10((trainRange * trainRange) / loss) : undefined;
      return psnr === undefined ? { loss } : { loss, psnr };
    },
    renderViews(viewIndices: readonly number[]): Float32Array {
      const all = input.anglesRad;
      if (!all) throw new MedfieldError('unsupported', 'volume-fit task', 'rendering dataset views needs the dataset angles');
      const angles = viewIndices.map((i) => {
        if (!(Number.isInteger(i) && i >= 0 && i < all.length)) throw new MedfieldError('bad-option', 'view index', `${i} is outside 0..${all.length - 1}`);
        return all[i]!;
      });
      return render(angles);
    },
    renderAngles: (anglesRad) => render(anglesRad),
    sampleGrid,
    params: () => field.params,
    optimizers: () => ({ field: field.optimizer }),
    rngs: (): Record<string, Rng> => ({ sampler: rng }),
    resolvedConfig: () => ({ ...cfg, field: cfg.field as unknown as Record<string, unknown>, valueScale }),
    dispose() { /* the field's buffers belong to the backend */ },
  };
}
