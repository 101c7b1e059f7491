import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { clipGradNorm, clipGradValue, gradGlobalNorm } from '../../src/engine/clip.js';
import { assertFiniteLoss, assertFiniteParams, firstNonFinite } from '../../src/engine/finite.js';
import { createParam, type ParamTensor } from '../../src/engine/params.js';
import { addL2Gradient, decayWeights } from '../../src/engine/weight-decay.js';
import { CLIP_NORM_REL } from '../tolerances.js';

function model(seed: number): ParamTensor[] {
  const rng = createRng(seed);
  const w = createParam('mlp.layer0.weight', [8, 4]);
  const b = createParam('mlp.layer0.bias', [8]);
  const t = createParam('encoding.level00.table', [32, 2], { sparseRows: true });
  for (const p of [w, b]) for (let i = 0; i < p.grad.length; i++) { p.grad[i] = rng.normal(); p.data[i] = rng.normal(); }
  for (const r of [3, 7, 20]) { t.touched![r] = 1; t.grad[2 * r] = rng.normal() * 10; t.grad[2 * r + 1] = rng.normal(); }
  for (let i = 0; i < t.data.length; i++) t.data[i] = rng.normal();
  return [w, b, t];
}

function bruteNorm(params: ParamTensor[]): number {
  let s = 0;
  for (const p of params) for (const v of p.grad) s += v * v;
  return Math.sqrt(s);
}

test('clip: global norm equals the brute-force norm; after clipping it equals maxNorm and the direction is kept', () => {
  const ps = model(1);
  const n0 = bruteNorm(ps);
  assert.ok(Math.abs(gradGlobalNorm(ps) - n0) <= 1e-12 * n0);
  const before = ps.map((p) => Float64Array.from(p.grad));
  const maxNorm = n0 / 3;
  const r = clipGradNorm(ps, maxNorm);
  assert.equal(r.clipped, true);
  assert.ok(Math.abs(r.norm - n0) <= 1e-12 * n0);
  const n1 = bruteNorm(ps);
  assert.ok(Math.abs(n1 - maxNorm) <= CLIP_NORM_REL * maxNorm, `${n1} vs ${maxNorm}`);
  ps.forEach((p, k) => p.grad.forEach((v, i) => assert.equal(v, Math.fround(before[k]![i]! * r.scale))));
  // Below the threshold nothing changes.
  const snapshot = ps.map((p) => Float32Array.from(p.grad));
  const r2 = clipGradNorm(ps, maxNorm * 2);
  assert.deepEqual({ clipped: r2.clipped, scale: r2.scale }, { clipped: false, scale: 1 });
  ps.forEach((p, k) => assert.deepEqual(p.grad, snapshot[k]));
});

test('clip: sparse tensors count only touched rows (untouched rows are zero by contract)', () => {
  const t = createParam('table', [4, 2], { sparseRows: true });
  t.touched![1] = 1;
  t.grad.set([0, 0, 3, 4, 0, 0, 0, 0]);
  assert.equal(gradGlobalNorm([t]), 5);
  clipGradNorm([t], 1);
  assert.deepEqual([...t.grad], [0, 0, Math.fround(0.6), Math.fround(0.8), 0, 0, 0, 0]);
});

test('clip: a NaN gradient makes clipGradNorm throw naming the tensor instead of spreading NaN', () => {
  const ps = model(2);
  ps[0]!.grad[13] = NaN;
  assert.throws(() => clipGradNorm(ps, 1), (e: unknown) => e instanceof MedfieldError && /mlp\.layer0\.weight/.test(e.message) && /index 13/.test(e.message));
  assert.ok(!Number.isNaN(ps[1]!.grad[0]));
});

test('clip: value clipping clamps to exactly ±maxAbs and counts', () => {
  const p = createParam('w', [5]);
  p.grad.set([-3, -0.5, 0, 0.1, 2]);
  assert.equal(clipGradValue([p], 0.3), 3);
  assert.deepEqual([...p.grad], [-0.3, -0.3, 0, 0.1, 0.3].map(Math.fround));
  assert.throws(() => clipGradValue([p], 0), MedfieldError);
});

test('finite: NaN and Inf are caught in values, gradients and the loss, naming tensor and first bad index', () => {
  assert.equal(firstNonFinite(new Float32Array([0, 1, -2])), -1);
  assert.equal(firstNonFinite(new Float32Array([0, Infinity, NaN])), 1);
  assert.equal(firstNonFinite(new Float64Array([0, 1, -Infinity])), 2);
  const ps = model(3);
  assert.doesNotThrow(() => assertFiniteParams(ps));
  ps[0]!.data[9] = Infinity; // row 2, col 1 of [8, 4]
  ps[0]!.data[11] = NaN;
  assert.throws(() => assertFiniteParams(ps, { step: 41 }), (e: unknown) => e instanceof MedfieldError
    && e.code === 'bad-data' && e.subject === 'mlp.layer0.weight' && /value is \+Infinity at index 9 \(\[2, 1\]/.test(e.message) && /step 41/.test(e.message));
  assert.doesNotThrow(() => assertFiniteParams(ps, { values: false }));
  ps[0]!.data.fill(0);
  ps[2]!.grad[41] = NaN; // row 20 is touched
  assert.throws(() => assertFiniteParams(ps), (e: unknown) => e instanceof MedfieldError && e.subject === 'encoding.level00.table' && /gradient is NaN at index 41/.test(e.message));
  ps[2]!.grad[41] = 0;
  ps[1]!.grad[7] = -Infinity;
  assert.throws(() => assertFiniteParams(ps), /mlp\.layer0\.bias: gradient is -Infinity at index 7/);
  assert.doesNotThrow(() => assertFiniteLoss(0.25));
  assert.throws(() => assertFiniteLoss(NaN, 12), /loss: is NaN at step 12/);
  assert.throws(() => assertFiniteLoss(Infinity, undefined, 'loss.mse'), /loss\.mse: is \+Infinity/);
});

test('weight decay: coupled L2 adds lambda*w to gradients, decoupled scales weights by 1 - lr*lambda; biases and untouched rows skipped', () => {
  const ps = model(4);
  const [w, b, t] = ps as [ParamTensor, ParamTensor, ParamTensor];
  const g0 = Float32Array.from(w.grad), bg0 = Float32Array.from(b.grad), tg0 = Float32Array.from(t.grad);
  addL2Gradient(ps, 0.01);
  w.grad.forEach((v, i) => assert.equal(v, Math.fround(g0[i]! + 0.01 * w.data[i]!)));
  assert.deepEqual(b.grad, bg0);
  t.grad.forEach((v, i) => assert.equal(v, t.touched![i >> 1] ? Math.fround(tg0[i]! + 0.01 * t.data[i]!) : tg0[i]));
  const w0 = Float32Array.from(w.data), td0 = Float32Array.from(t.data);
  decayWeights(ps, 0.1, 0.5);
  w.data.forEach((v, i) => assert.equal(v, Math.fround(w0[i]! * 0.95)));
  t.data.forEach((v, i) => assert.equal(v, t.touched![i >> 1] ? Math.fround(td0[i]! * 0.95) : td0[i]));
  assert.throws(() => decayWeights(ps, 0.1, -1), /weightDecay/);
});
