/**
 * Every named preset of both neural tasks learns on a tiny phantom: the mean squared error of its
 * renders of three training views (deterministic, all pixels) falls after a few steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCpuBackend } from '../../src/engine/index.js';
import { ATTENUATION_PRESET_NAMES } from '../../src/field/attenuation.js';
import { createAttenuationTask } from '../../src/train/attenuation-task.js';
import { createRadianceTask, RADIANCE_TASK_PRESETS } from '../../src/train/radiance-task.js';
import type { TrainTask } from '../../src/train/task.js';
import { tinyDataset } from '../helpers/attenuation-data.js';
import { tinyViews72 } from '../helpers/radiance-data.js';
import { PRESET_LEARN_MSE_FALL } from '../tolerances.js';

function trainViewMse(task: TrainTask, ds: { projections: Float32Array; meta: { splits: { train: readonly number[] } } }, viewSize: number): number {
  const train = ds.meta.splits.train.slice(0, 3);
  const r = task.renderViews(train);
  let s = 0;
  train.forEach((v, k) => { for (let i = 0; i < viewSize; i++) s += (r[k * viewSize + i]! - ds.projections[v * viewSize + i]!) ** 2; });
  return s / r.length;
}

test('every attenuation preset lowers the render error of the training views in 30 steps', async () => {
  const ds = await tinyDataset({ size: 16, detector: 20, views: 8 });
  for (const name of ATTENUATION_PRESET_NAMES) {
    const backend = createCpuBackend();
    try {
      const task = createAttenuationTask(ds, name, backend);
      const before = trainViewMse(task, ds, 20 * 20);
      for (let s = 0; s < 30; s++) task.step(s, 1);
      const after = trainViewMse(task, ds, 20 * 20);
      assert.ok(after < PRESET_LEARN_MSE_FALL * before, `${name}: training-view render MSE ${before} -> ${after}`);
    } finally { backend.dispose(); }
  }
});

test('every radiance preset lowers the render error of the training views in 30 steps', async () => {
  const ds = await tinyViews72('ea');
  for (const name of Object.keys(RADIANCE_TASK_PRESETS)) {
    const backend = createCpuBackend();
    try {
      const task = createRadianceTask(ds, { ...RADIANCE_TASK_PRESETS[name as 'hash'], raysPerStep: 256 }, backend);
      const before = trainViewMse(task, ds, 32 * 32);
      for (let s = 0; s < 30; s++) task.step(s, 1);
      const after = trainViewMse(task, ds, 32 * 32);
      assert.ok(after < PRESET_LEARN_MSE_FALL * before, `${name}: training-view render MSE ${before} -> ${after}`);
    } finally { backend.dispose(); }
  }
});
