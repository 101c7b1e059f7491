import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { createCpuBackend } from '../../src/engine/index.js';
import { gridAabb, rayAabb, type GridFields } from '../../src/geometry/index.js';
import { createInlineProjector } from '../../src/physics/projectors.js';
import {
  ATTENUATION_PRESET_NAMES, ATTENUATION_PRESETS, AttenuationField, fieldConfigForGrid, resolveAttenuationConfig,
} from '../../src/field/attenuation.js';
import {
  appendRay, clipRayToBox, createRayBatch, createRayScratch, lineIntegralBackward, lineIntegralForward,
  sampleTrainingRays, unitMapOfGrid, viewFrames,
} from '../../src/render/xray-rays.js';
import { createAttenuationTask, gridTvStep } from '../../src/train/attenuation-task.js';
import { tinyDataset } from '../helpers/attenuation-data.js';
import {
  ATTEN_FD_REL, ATTEN_RENDER_VS_SIDDON_REL, ATTEN_RENDER_VS_TRILINEAR_REL, ATTEN_LOSS_DROP, ATTEN_COPY_ABS, ATTEN_WARM_REGRESSION_REL,
} from '../tolerances.js';

const grid: GridFields = { nVoxel: [8, 10, 12], dVoxel: [1.5, 1, 0.75], offOrigin: [2, -1, 3] };

test('clipRayToBox agrees with rayAabb, and a constant field integrates to mu x chord length', () => {
  const rng = createRng(3);
  const box = gridAabb(grid);
  const a = new Float64Array(2), b = new Float64Array(2);
  const map = unitMapOfGrid(grid);
  const batch = createRayBatch(1, 1000);
  let hits = 0;
  for (let i = 0; i < 300; i++) {
    const o = [0, 1, 2].map(() => (rng.next() - 0.5) * 60);
    // aim at a random point near the box so most rays hit it
    const d = [0, 1, 2].map((q) => grid.offOrigin[q]! + (rng.next() - 0.5) * 16 - o[q]!);
    const n = Math.hypot(d[0]!, d[1]!, d[2]!);
    const h1 = clipRayToBox(o[0]!, o[1]!, o[2]!, d[0]! / n, d[1]! / n, d[2]! / n, box, a);
    const h2 = rayAabb(o[0]!, o[1]!, o[2]!, d[0]! / n, d[1]! / n, d[2]! / n, box, b);
    assert.equal(h1, h2);
    if (!h1) continue;
    hits++;
    assert.ok(Math.abs(a[0]! - b[0]!) < 1e-12 && Math.abs(a[1]! - b[1]!) < 1e-12);
    batch.nRays = 0; batch.nSamples = 0;
    assert.ok(appendRay(batch, o[0]!, o[1]!, o[2]!, d[0]! / n, d[1]! / n, d[2]! / n, a[0]!, a[1]!, 0.37, map, rng));
    const mu = new Float32Array(batch.nSamples).fill(0.25);
    const L = new Float64Array(1);
    lineIntegralForward(batch, mu, L);
    assert.ok(Math.abs(L[0]! - 0.25 * (a[1]! - a[0]!)) < 1e-5, `constant field: ${L[0]} vs ${0.25 * (a[1]! - a[0]!)}`);
    // samples lie inside the unit cube of the voxel-centre box, up to half a voxel outside
    for (let s = 0; s < batch.nSamples; s++) for (let q = 0; q < 3; q++) {
      const u = batch.points[3 * s + q]!, half = 0.5 / (grid.nVoxel[q]! - 1) + 1e-6;
      assert.ok(u >= -half && u <= 1 + half, `sample ${s} axis ${q}: ${u}`);
    }
  }
  assert.ok(hits > 50);
});

test('line-integral renderer: dL/dmu matches central differences', () => {
  const ds = { nVoxel: [6, 6, 6], dVoxel: [2, 2, 2], offOrigin: [0, 0, 0] } as GridFields;
  const map = unitMapOfGrid(ds);
  const b = createRayBatch(4, 400);
  const rng = createRng(1);
  for (let r = 0; r < 4; r++) appendRay(b, -20, rng.next() * 4 - 2, rng.next() * 4 - 2, 1, 0, 0, 14, 26, 0.7, map, rng);
  const mu = Float64Array.from({ length: b.nSamples }, () => rng.next());
  const target = [1, 2, 3, 4];
  const loss = (m: Float64Array): number => {
    const L = new Float64Array(4);
    lineIntegralForward(b, m, L);
    let s = 0;
    for (let r = 0; r < 4; r++) s += (L[r]! - target[r]!) ** 2;
    return s;
  };
  const L = new Float64Array(4);
  lineIntegralForward(b, mu, L);
  const g = Float64Array.from(L, (v, r) => 2 * (v - target[r]!));
  const dmu = new Float64Array(b.nSamples);
  lineIntegralBackward(b, g, dmu);
  const h = 1e-6;
  for (const i of [0, 5, 17, b.nSamples - 1]) {
    const p = mu.slice(), m = mu.slice();
    p[i]! += h; m[i]! -= h;
    const fd = (loss(p) - loss(m)) / (2 * h);
    assert.ok(Math.abs(fd - dmu[i]!) <= 1e-6 * Math.max(1, Math.abs(fd)), `sample ${i}: fd ${fd} vs ${dmu[i]}`);
  }
});

for (const kind of ['dense-multires', 'hash-mlp'] as const) {
  test(`line-integral loss through the field (${kind}): parameter gradients match central differences`, async () => {
    const ds = await tinyDataset({ size: 12, detector: 12, views: 6 });
    const g: GridFields = ds.geometry;
    const cfg = resolveAttenuationConfig(kind === 'dense-multires'
      ? { field: { encoding: { kind: 'dense-grid', levels: 2, baseResolution: 5, growthFactor: 2, initScale: 0.3 }, mlp: null } }
      : { field: { encoding: { kind: 'hash-grid', levels: 4, log2TableSize: 8, baseResolution: 4, growthFactor: 1.5, initScale: 0.3 }, mlp: { hidden: [16], activation: 'softplus' } } });
    const backend = createCpuBackend();
    const field = new AttenuationField(backend, fieldConfigForGrid(cfg, g), 0.5, 20000);
    const b = createRayBatch(24, 20000);
    const map = unitMapOfGrid(g);
    sampleTrainingRays(b, ds.geometry, viewFrames(ds.geometry, ds.anglesRad), Int32Array.from([0, 2, 4]), 24, 1, map, createRayScratch(g), createRng(5));
    const mu = new Float32Array(b.nSamples), L = new Float64Array(b.nRays);
    const loss = (): number => {
      field.forward(b.points, b.nSamples, mu);
      lineIntegralForward(b, mu, L);
      let s = 0;
      for (let r = 0; r < b.nRays; r++) s += (L[r]! - ds.projections[b.pixel[r]!]!) ** 2;
      return s;
    };
    loss();
    const dL = Float64Array.from(L, (v, r) => 2 * (v - ds.projections[b.pixel[r]!]!));
    const dmu = new Float32Array(b.nSamples);
    lineIntegralBackward(b, dL, dmu);
    for (const p of field.model.params) p.grad.fill(0);
    field.backward(dmu, b.nSamples);
    let checked = 0;
    for (const p of field.model.params) {
      // the 3 entries with the largest gradient of each tensor
      const idx = Array.from(p.grad.keys()).sort((x, y) => Math.abs(p.grad[y]!) - Math.abs(p.grad[x]!)).slice(0, 3);
      let gmax = 0;
      for (let i = 0; i < p.grad.length; i++) gmax = Math.max(gmax, Math.abs(p.grad[i]!));
      for (const i of idx) {
        const v = p.data[i]!, h = 1e-2;
        p.data[i] = v + h; const lp = loss();
        p.data[i] = v - h; const lm = loss();
        p.data[i] = v;
        const fd = (lp - lm) / (2 * h);
        assert.ok(Math.abs(fd - p.grad[i]!) <= ATTEN_FD_REL * gmax, `${p.name}[${i}]: fd ${fd} vs analytic ${p.grad[i]}`);
        checked++;
      }
    }
    assert.ok(checked >= 6);
    backend.dispose();
  });
}

test('grid TV: value and gradient match central differences', () => {
  const backend = createCpuBackend();
  const cfg = resolveAttenuationConfig({ field: { encoding: { kind: 'dense-grid', levels: 2, baseResolution: 3, growthFactor: 2, initScale: 0.5 }, mlp: null }, fitGrid: false });
  const field = new AttenuationField(backend, cfg.field, 0.7, 64);
  const w = 0.3, eps = 0.05;
  for (const p of field.model.params) p.grad.fill(0);
  gridTvStep(field, w, eps);
  const value = (): number => { const saved = field.model.params.map((p) => p.grad.slice()); const v = gridTvStep(field, w, eps); field.model.params.forEach((p, k) => p.grad.set(saved[k]!)); return v; };
  for (const p of field.model.params) {
    for (const i of [0, 5, p.data.length - 1, Math.floor(p.data.length / 2)]) {
      const v = p.data[i]!, h = 1e-3;
      p.data[i] = v + h; const a = value();
      p.data[i] = v - h; const b = value();
      p.data[i] = v;
      const fd = (a - b) / (2 * h);
      assert.ok(Math.abs(fd - p.grad[i]!) < 1e-3 * Math.max(1e-2, Math.abs(fd)) + 1e-6, `${p.name}[${i}]: fd ${fd} vs ${p.grad[i]}`);
    }
  }
  backend.dispose();
});

test('a tiny attenuation task (dense) reduces its loss over 20 steps on a Shepp-Logan dataset', async () => {
  const ds = await tinyDataset();
  const backend = createCpuBackend();
  const task = createAttenuationTask(ds, { ...structuredClone(ATTENUATION_PRESETS.dense), raysPerStep: 512 }, backend);
  const evalLoss = (): number => {
    const r = task.renderViews(ds.meta.splits.train);
    let s = 0;
    ds.meta.splits.train.forEach((v, k) => {
      const vs = r.length / ds.meta.splits.train.length;
      for (let i = 0; i < vs; i++) s += (r[k * vs + i]! - ds.projections[v * vs + i]!) ** 2;
    });
    return s / r.length;
  };
  const before = evalLoss();
  const losses: number[] = [];
  for (let s = 0; s < 20; s++) losses.push(task.step(s, 1).loss);
  const after = evalLoss();
  assert.ok(after < ATTEN_LOSS_DROP * before, `render MSE on the training views ${before} -> ${after}`);
  assert.ok(losses[19]! < losses[0]!, `step losses ${losses[0]} -> ${losses[19]}`);
  backend.dispose();
});

test('sampleGrid returns the dataset grid layout [nz, ny, nx] (warm-start copy of the ground truth)', async () => {
  const ds = await tinyDataset({ size: 16, kind: 'blob' });
  const backend = createCpuBackend();
  const task = createAttenuationTask(ds, 'dense-fdk-tv', backend, { initialVolume: ds.groundTruth });
  assert.equal(task.warmStart.kind, 'copy');
  const v = task.sampleGrid(ds.geometry);
  assert.equal(v.length, ds.groundTruth.length);
  let e = 0;
  for (let i = 0; i < v.length; i++) e = Math.max(e, Math.abs(v[i]! - ds.groundTruth[i]!));
  assert.ok(e < ATTEN_COPY_ABS, `max |sampleGrid - gt| = ${e}`);
  backend.dispose();
});

test('renderViews matches Siddon projections of the sampled grid in the dataset layout [n, rows, cols]', async () => {
  for (const mode of ['cone', 'parallel'] as const) {
    const ds = await tinyDataset({ size: 20, detector: 24, views: 8, kind: 'blob', mode });
    const backend = createCpuBackend();
    const task = createAttenuationTask(ds, 'dense-fdk-tv', backend, { initialVolume: ds.groundTruth });
    const test = ds.meta.splits.test;
    const r = task.renderViews(test);
    const vs = 24 * 24;
    assert.equal(r.length, test.length * vs);
    const vol = task.sampleGrid(ds.geometry);
    for (const method of ['siddon', 'trilinear'] as const) {
      const op = createInlineProjector(ds.geometry, ds.anglesRad, { method });
      const y = new Float32Array(ds.anglesRad.length * vs);
      await op.forward(vol, y, Int32Array.from(test));
      let e = 0, n = 0;
      test.forEach((v, k) => { for (let i = 0; i < vs; i++) { e += (r[k * vs + i]! - y[v * vs + i]!) ** 2; n += y[v * vs + i]! ** 2; } });
      const rel = Math.sqrt(e / n);
      const tol = method === 'siddon' ? ATTEN_RENDER_VS_SIDDON_REL : ATTEN_RENDER_VS_TRILINEAR_REL;
      assert.ok(rel < tol, `${mode}: relative L2 render vs ${method} projector ${rel}`);
    }
    // the same views by angle
    const ra = task.renderAngles(test.map((v) => ds.anglesRad[v]!));
    assert.deepEqual(ra, r);
    backend.dispose();
  }
});

test('every preset runs 2 steps with a finite, positive loss', async () => {
  const ds = await tinyDataset({ size: 16, detector: 20, views: 8 });
  for (const name of ATTENUATION_PRESET_NAMES) {
    const backend = createCpuBackend();
    const task = createAttenuationTask(ds, name, backend);
    for (let s = 0; s < 2; s++) {
      const r = task.step(s, 1);
      assert.ok(Number.isFinite(r.loss) && r.loss > 0, `${name} step ${s}: loss ${r.loss}`);
      assert.ok(Number.isFinite(r.totalLoss!) && r.totalLoss! >= r.loss);
    }
    const cfg = task.resolvedConfig();
    assert.equal(cfg.task, 'attenuation');
    assert.ok(JSON.parse(JSON.stringify(cfg)));
    assert.ok(task.params().length >= 1 && task.optimizers().field && task.rngs().rays);
    backend.dispose();
  }
});

test('nonNegative keeps the dense table >= 0; warmStart volume needs the volume', async () => {
  const ds = await tinyDataset({ size: 12, detector: 16, views: 6 });
  const backend = createCpuBackend();
  const task = createAttenuationTask(ds, { ...structuredClone(ATTENUATION_PRESETS.dense), raysPerStep: 256, nonNegative: true, field: { encoding: { kind: 'dense-grid', initScale: 0.5 }, mlp: null } }, backend);
  let neg0 = 0;
  for (const p of task.params()) for (const v of p.data) if (v < 0) neg0++;
  assert.ok(neg0 > 0, 'the random initialisation has negative values');
  for (let s = 0; s < 3; s++) task.step(s, 1);
  for (const p of task.params()) for (const v of p.data) assert.ok(v >= 0);
  assert.throws(() => createAttenuationTask(ds, { ...structuredClone(ATTENUATION_PRESETS.dense), warmStart: { kind: 'volume' } }, backend),
    (e: unknown) => e instanceof MedfieldError && /initialVolume/.test(e.message));
  assert.throws(() => resolveAttenuationConfig({ ...structuredClone(ATTENUATION_PRESETS['dense-multires']), nonNegative: true }),
    (e: unknown) => e instanceof MedfieldError && /nonNegative/.test(e.message));
  backend.dispose();
});

test('warm start by regression (a field that cannot take the volume directly) fits the volume', async () => {
  const ds = await tinyDataset({ size: 12, detector: 16, views: 6, kind: 'blob' });
  const backend = createCpuBackend();
  const task = createAttenuationTask(ds, {
    field: { encoding: { kind: 'hash-grid', levels: 4, log2TableSize: 12, baseResolution: 4, growthFactor: 1.6 }, mlp: { hidden: [16] }, optimizer: { kind: 'adam', lr: 1e-2 } },
    warmStart: { kind: 'volume', steps: 150, pointsPerStep: 2048 },
  }, backend, { initialVolume: ds.groundTruth });
  assert.equal(task.warmStart.kind, 'regression');
  let mean = 0;
  for (const v of ds.groundTruth) mean += v / ds.groundTruth.length;
  let variance = 0, err = 0;
  const got = task.sampleGrid(ds.geometry);
  for (let i = 0; i < got.length; i++) { variance += (ds.groundTruth[i]! - mean) ** 2; err += (got[i]! - ds.groundTruth[i]!) ** 2; }
  assert.ok(err < ATTEN_WARM_REGRESSION_REL * variance, `sampleGrid error ${err} vs variance ${variance}`);
  backend.dispose();
});

test('config errors name the bad key; unknown presets list the known ones', () => {
  assert.throws(() => resolveAttenuationConfig({ ...structuredClone(ATTENUATION_PRESETS.dense), raysPerStpe: 3 } as never),
    (e: unknown) => e instanceof MedfieldError && /raysPerStpe/.test(e.message));
  assert.throws(() => resolveAttenuationConfig({ ...structuredClone(ATTENUATION_PRESETS.dense), tv: { weight: -1 } }),
    (e: unknown) => e instanceof MedfieldError && /tv\.weight/.test(e.message));
  assert.throws(() => resolveAttenuationConfig('nerf'), (e: unknown) => e instanceof MedfieldError && /dense-fdk-tv/.test(e.message));
  assert.throws(() => resolveAttenuationConfig({ ...structuredClone(ATTENUATION_PRESETS.naf), coarseToFine: { stepsPerLevel: 5 } }),
    (e: unknown) => e instanceof MedfieldError && /coarseToFine/.test(e.message));
});
