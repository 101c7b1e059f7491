import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { createCpuBackend } from '../../src/engine/index.js';
import { ATTENUATION_PRESETS } from '../../src/field/attenuation.js';
import { createRayBatch, createRayScratch, samplePatchRays, unitMapOfGrid, viewFrames } from '../../src/render/xray-rays.js';
import { createAttenuationTask } from '../../src/train/attenuation-task.js';
import { tinyDataset } from '../helpers/attenuation-data.js';
import { ATTEN_LOSS_DROP } from '../tolerances.js';

test('samplePatchRays: K x K blocks of neighbouring pixels of one training view, row-major', async () => {
  const ds = await tinyDataset();
  const geo = ds.geometry, nu = geo.nDetector[0], nv = geo.nDetector[1];
  const K = 4;
  const b = createRayBatch(3 * K * K, 3 * K * K * 400);
  const train = Int32Array.from(ds.meta.splits.train);
  const n = samplePatchRays(b, geo, viewFrames(geo, ds.anglesRad), train, 3, K, 0.5, unitMapOfGrid(geo), createRayScratch(geo), createRng(1));
  assert.equal(n, 3);
  assert.equal(b.nRays, 3 * K * K);
  for (let p = 0; p < 3; p++) {
    const first = b.pixel[p * K * K]!;
    const view = Math.floor(first / (nu * nv));
    assert.ok(train.includes(view));
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) assert.equal(b.pixel[p * K * K + i * K + j], first + i * nu + j);
  }
});

test('L1 loss and the SSIM patch term train: the render MSE on the training views falls', async () => {
  const ds = await tinyDataset();
  const vs = ds.projections.length / ds.anglesRad.length;
  for (const extra of [{ loss: 'l1' as const }, { ssim: { weight: 0.5, patchSize: 8 } }, { loss: 'l1' as const, ssim: { weight: 1, patchSize: 4 } }]) {
    const backend = createCpuBackend();
    const task = createAttenuationTask(ds, { ...structuredClone(ATTENUATION_PRESETS.dense), raysPerStep: 512, ...extra }, backend);
    const evalMse = (): number => {
      const r = task.renderViews(ds.meta.splits.train);
      let s = 0;
      ds.meta.splits.train.forEach((v, k) => { for (let i = 0; i < vs; i++) s += (r[k * vs + i]! - ds.projections[v * vs + i]!) ** 2; });
      return s / r.length;
    };
    const before = evalMse();
    let last = 0;
    // 40 steps: the L1 gradient (sign / n) is smaller than MSE's on these line integrals (up to ~10)
    for (let s = 0; s < 40; s++) {
      const r = task.step(s, 1);
      assert.ok(Number.isFinite(r.loss) && Number.isFinite(r.totalLoss ?? r.loss));
      last = r.loss;
    }
    const after = evalMse();
    assert.ok(after < ATTEN_LOSS_DROP * before, `${JSON.stringify(extra)}: render MSE ${before} -> ${after} (last loss ${last})`);
    backend.dispose();
  }
});

test('an SSIM patch larger than the detector is refused, naming the key', async () => {
  const ds = await tinyDataset();
  const backend = createCpuBackend();
  assert.throws(() => createAttenuationTask(ds, { ...structuredClone(ATTENUATION_PRESETS.dense), ssim: { weight: 1, patchSize: 64 } }, backend),
    (e: unknown) => e instanceof MedfieldError && /ssim\.patchSize/.test(e.message));
  backend.dispose();
});
