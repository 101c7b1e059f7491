/**
 * Task kinds -> factories. `createTaskForDataset` picks the kind from the dataset (X-ray line
 * integrals -> 'attenuation', rendered views -> 'radiance') unless one is named, and fails
 * clearly when no factory is registered for it. 'volume-fit' (fit the dataset's ground-truth
 * volume; an upper bound and the trainer's test model) is registered here; the neural
 * reconstruction tasks register themselves from the application (cli/main.ts).
 */
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import type { Backend } from '../engine/backend.js';
import { gridOfVolume } from '../geometry/grid.js';
import type { XrayGeometry } from '../geometry/xray.js';
import type { DatasetMeta } from '../io/dataset.js';
import type { TrainTask } from './task.js';
import { createVolumeFitTask } from './volume-fit-task.js';

/** A dataset in memory (structurally the platform's `Dataset` plus its optional ground truth). */
export interface TaskDataset {
  readonly meta: DatasetMeta;
  readonly geometry: XrayGeometry;
  readonly anglesRad: Float64Array;
  /** Float32 [views, rows, cols]. */
  readonly projections: Float32Array;
  readonly groundTruth?: Volume;
}

export interface TaskOptions {
  /** A preset name of the task (e.g. a field preset 'naf', 'dense-128'). */
  readonly preset?: string;
  /** The task's config object (validated by the task's zod schema; unknown keys are errors). */
  readonly config?: Record<string, unknown>;
}

export type TaskFactory = (dataset: TaskDataset, options: TaskOptions, backend: Backend) => TrainTask | Promise<TrainTask>;

const factories = new Map<string, TaskFactory>();

/** Registers (or replaces) the factory of a task kind. */
export function registerTaskFactory(kind: string, factory: TaskFactory): void {
  factories.set(kind, factory);
}

/** Registered task kinds. */
export function taskKinds(): string[] {
  return [...factories.keys()].sort();
}

/** The task kind a dataset calls for: 'attenuation' for X-ray line integrals, 'radiance' for views. */
export function taskKindForDataset(meta: DatasetMeta): string {
  const q = meta.projections.quantity;
  if (q === 'radiance' || meta.modality === 'mri-views') return 'radiance';
  if (q === 'line-integral') return 'attenuation';
  throw new MedfieldError('unsupported', 'dataset.json: projections.quantity', `no neural reconstruction task trains on '${q}' views; expected 'line-integral' or 'radiance'`);
}

/** Largest value of the listed views (the 2D data range of a dataset). */
export function viewsMax(ds: TaskDataset, views: readonly number[]): number {
  const [, rows, cols] = ds.meta.projections.shape;
  const size = rows * cols;
  let m = -Infinity;
  for (const v of views) for (let i = v * size; i < (v + 1) * size; i++) if (ds.projections[i]! > m) m = ds.projections[i]!;
  return m;
}

/**
 * Creates the task for a dataset: `kind` explicit or from the dataset; refuses a dataset with no
 * training views and a kind no factory is registered for.
 */
export async function createTaskForDataset(dataset: TaskDataset, options: TaskOptions & { kind?: string }, backend: Backend): Promise<TrainTask> {
  if (dataset.meta.splits.train.length === 0) {
    throw new MedfieldError('bad-data', 'dataset.json: splits.train', 'the dataset has no training views; expected at least one view index in splits.train');
  }
  const kind = options.kind ?? taskKindForDataset(dataset.meta);
  const f = factories.get(kind);
  if (!f) {
    throw new MedfieldError('unsupported', `task '${kind}'`, `no task factory is registered for this kind (registered: ${taskKinds().join(', ') || 'none'})`
      + (options.kind ? '' : `; the dataset (${dataset.meta.modality}, ${dataset.meta.projections.quantity}) needs '${kind}'`));
  }
  return f(dataset, { ...(options.preset !== undefined ? { preset: options.preset } : {}), ...(options.config !== undefined ? { config: options.config } : {}) }, backend);
}

/** 'volume-fit' on a dataset: fits its ground truth (gt.nii.gz) on the dataset grid. */
export const volumeFitFactory: TaskFactory = (ds, options, backend) => {
  const gt = ds.groundTruth;
  if (!gt) throw new MedfieldError('bad-data', 'dataset', "task 'volume-fit' fits the dataset's ground truth, and this dataset has none (dataset.json groundTruth)");
  const grid = gridOfVolume(gt);
  const g = ds.geometry;
  const same = grid && [0, 1, 2].every((a) => grid.nVoxel[a] === g.nVoxel[a] && Math.abs(grid.dVoxel[a]! - g.dVoxel[a]!) < 1e-6 * g.dVoxel[a]! && Math.abs(grid.offOrigin[a]! - g.offOrigin[a]!) < 1e-4);
  if (!same) throw new MedfieldError('bad-data', 'gt.nii.gz', `expected the ground truth on the dataset grid (${g.nVoxel.join('x')} at ${g.dVoxel.join(', ')} mm)`);
  const data = gt.data instanceof Float32Array ? gt.data : Float32Array.from(gt.data as ArrayLike<number>);
  const config = { ...(options.config ?? {}) } as Record<string, unknown>;
  if (options.preset !== undefined) {
    if (config['field'] !== undefined) throw new MedfieldError('bad-option', '--preset', "give either --preset or the config's 'field', not both");
    config['field'] = options.preset;
  }
  if (config['render'] === undefined && ds.meta.projections.quantity === 'radiance') config['render'] = 'ea';
  return createVolumeFitTask({
    data, grid: g, geometry: g, anglesRad: ds.anglesRad,
    viewDataRange: Math.max(1e-12, viewsMax(ds, ds.meta.splits.train)),
  }, config, backend);
};

registerTaskFactory('volume-fit', volumeFitFactory);
