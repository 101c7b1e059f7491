/** Small real models and datasets for the trainer tests (no mocks: a FieldModel fits a phantom). */
import { createCpuBackend } from '../../src/engine/cpu/backend.js';
import type { Backend } from '../../src/engine/backend.js';
import { gridOfVolume, type GridFields } from '../../src/geometry/grid.js';
import { sheppLogan3d } from '../../src/phantom/shepp-logan.js';
import { voxelizePhantom } from '../../src/phantom/voxelize.js';
import type { TrainTask } from '../../src/train/task.js';
import { createVolumeFitTask } from '../../src/train/volume-fit-task.js';
import type { Volume } from '../../src/core/volume.js';

/** A tiny hash-grid field (4 levels, 2^10 entries, 16-wide MLP): trains in milliseconds per step. */
export const TINY_FIELD = {
  encoding: { kind: 'hash-grid', inputDim: 3, levels: 4, featuresPerLevel: 2, log2TableSize: 10, baseResolution: 4, growthFactor: 1.6 },
  mlp: { hidden: [16], outputDim: 1, activation: 'relu', outputActivation: 'none' },
  optimizer: { kind: 'adam', lr: 1e-2 },
} as const;

export function sheppVolume(size = 16): { volume: Volume<Float32Array>; grid: GridFields } {
  const volume = voxelizePhantom(sheppLogan3d(), { size });
  return { volume, grid: gridOfVolume(volume)! };
}

export function tinyTask(opts: { size?: number; batchSize?: number; seed?: number; backend?: Backend } = {}): { task: TrainTask; backend: Backend; volume: Volume<Float32Array>; grid: GridFields } {
  const { volume, grid } = sheppVolume(opts.size ?? 16);
  const backend = opts.backend ?? createCpuBackend();
  const task = createVolumeFitTask({ data: volume.data, grid }, { field: TINY_FIELD, batchSize: opts.batchSize ?? 512, seed: opts.seed ?? 0 }, backend);
  return { task, backend, volume, grid };
}
