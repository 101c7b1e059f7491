/**
 * Whole-stack checks of FieldModel (encoding + latent + MLP with a skip connection): float32
 * finite differences against backward(), identical results inline vs threaded vs plain JS,
 * optimiser state round trips, config validation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCpuBackend } from '../../src/engine/cpu/backend.js';
import { createEnginePool } from '../../src/platform/engine-pool.js';
import { FieldModel } from '../../src/engine/field.js';
import { resolveFieldConfig, FIELD_PRESETS, type FieldConfigInput } from '../../src/engine/config.js';
import { hashGridLevels } from '../../src/engine/encodings/hash-grid.js';
import { createRng } from '../../src/core/rng.js';
import { MedfieldError } from '../../src/core/errors.js';
import { ENGINE_FD32_REL } from '../tolerances.js';

const STACK: FieldConfigInput = {
  encoding: { kind: 'hash-grid', inputDim: 3, levels: 4, featuresPerLevel: 2, log2TableSize: 8, baseResolution: 2, growthFactor: 2, initScale: 0.5 },
  mlp: { hidden: [16, 16], outputDim: 2, activation: 'softplus', outputActivation: 'none', skips: [1] },
  latentDim: 3,
  seed: 5,
};

test('field stack gradient (hash grid + latent + softplus MLP with skip): backward matches float32 central differences', () => {
  const be = createCpuBackend({ simd: true });
  const m = new FieldModel(be, STACK, { maxBatch: 16 });
  const rng = createRng(9);
  const n = 13;
  // Cell centres of the finest level (res 16) are >= 1/32 from every level's cell faces, so the
  // piecewise-trilinear field is smooth within the input finite-difference step.
  const x = new Float32Array(n * 3).map(() => (rng.int(16) + 0.5) / 16);
  const lat = new Float32Array(3 * n).map(() => rng.normal());
  const r = new Float64Array(n * 2).map(() => rng.normal());
  const out = new Float32Array(n * 2);
  const loss = (): number => { m.forward(x, n, out, lat); let s = 0; for (let i = 0; i < out.length; i++) s += out[i]! * r[i]!; return s; };
  loss();
  const dx = new Float32Array(n * 3), dlat = new Float32Array(3 * n);
  m.backward(Float32Array.from(r), { inputGrad: dx, latentGrad: dlat });
  let h = 1e-2;
  const fd = (arr: Float32Array, i: number): number => { const v = arr[i]!; arr[i] = v + h; const lp = loss(); arr[i] = v - h; const lm = loss(); arr[i] = v; return (lp - lm) / (2 * h); };
  const check = (what: string, arr: Float32Array, grad: ArrayLike<number>, idx: number[]): void => {
    let scale = 0; for (const i of idx) scale = Math.max(scale, Math.abs(grad[i]!));
    assert.ok(scale > 0, `${what}: gradient is zero`);
    for (const i of idx) { const num = fd(arr, i); assert.ok(Math.abs(grad[i]! - num) <= ENGINE_FD32_REL * scale, `${what}[${i}]: analytic ${grad[i]} vs numeric ${num}`); }
  };
  for (const p of m.params) {
    const idx: number[] = [];
    if (p.touched) { for (let row = 0; row < p.shape[0]! && idx.length < 6; row++) if (p.touched[row]) idx.push(row * 2, row * 2 + 1); }
    else for (let k = 0; k < 6; k++) idx.push(Math.floor((k * p.data.length) / 6));
    check(p.name, p.data, Float64Array.from(p.grad), idx);
  }
  h = 1e-3;
  check('x', x, Float64Array.from(dx), Array.from({ length: 12 }, (_, i) => i * 3 % (n * 3)));
  check('latent', lat, Float64Array.from(dlat), Array.from({ length: 9 }, (_, i) => i * 4));
  be.dispose();
});

test('training agrees inline (SIMD and plain JS) and on 2 threads with the same seed (up to float summation order)', async () => {
  const rng = createRng(2);
  const n = 500;
  const x = new Float32Array(n * 3).map(() => rng.next());
  const y = new Float32Array(n).map((_, i) => Math.sin(5 * x[3 * i]!) * x[3 * i + 1]!);
  const cfg: FieldConfigInput = { ...STACK, latentDim: 0, mlp: { hidden: [32, 32], outputDim: 1, activation: 'relu', outputActivation: 'none', skips: [] } };
  const run = async (make: () => Promise<ReturnType<typeof createCpuBackend>>): Promise<number[]> => {
    const be = await make();
    const m = new FieldModel(be, cfg, { maxBatch: n });
    const losses: number[] = [];
    for (let s = 0; s < 5; s++) losses.push(m.trainStep(x, y, n, 1e-2));
    be.dispose();
    return losses;
  };
  const inline = await run(async () => createCpuBackend({ simd: true }));
  const threaded = await run(() => createEnginePool({ threads: 2, simd: true }));
  const js = await run(async () => createCpuBackend({ simd: false }));
  assert.ok(inline[4]! < inline[0]!, 'loss decreases');
  // Threads split points for the products and levels for the table gradients; partial weight
  // gradients are summed in a fixed order, so only float summation order differs.
  for (let s = 0; s < 5; s++) {
    assert.ok(Math.abs(inline[s]! - threaded[s]!) <= 1e-4 * inline[0]!, `step ${s}: ${inline[s]} vs ${threaded[s]}`);
    assert.ok(Math.abs(inline[s]! - js[s]!) <= 1e-4 * inline[0]!, `step ${s}: ${inline[s]} vs js ${js[s]}`);
  }
});

test('optimizer state round trip resumes bit-exactly (adam with lazy tables, sgd)', () => {
  for (const opt of [{ kind: 'adam', lr: 1e-2 }, { kind: 'sgd', lr: 0.1, momentum: 0.9 }] as const) {
    const cfg: FieldConfigInput = { ...STACK, latentDim: 0, optimizer: opt };
    const rng = createRng(4);
    const n = 64;
    const x = new Float32Array(n * 3).map(() => rng.next()), y = new Float32Array(n * 2).map(() => rng.next());
    const a = new FieldModel(createCpuBackend(), cfg, { maxBatch: n });
    for (let s = 0; s < 3; s++) a.trainStep(x, y, n);
    const b = new FieldModel(createCpuBackend(), cfg, { maxBatch: n });
    a.params.forEach((p, i) => b.params[i]!.data.set(p.data));
    b.optimizer.loadState(a.optimizer.state());
    for (let s = 0; s < 2; s++) assert.equal(a.trainStep(x, y, n), b.trainStep(x, y, n), `${opt.kind} step ${s}`);
    a.params.forEach((p, i) => assert.deepEqual(p.data, b.params[i]!.data, p.name));
  }
});

test('lazy Adam leaves untouched hash rows (and their moments) unchanged', () => {
  const m = new FieldModel(createCpuBackend(), 'naf', { maxBatch: 8 });
  const table = m.params.find((p) => p.name === 'encoding.level15.table')!;
  const before = table.data.slice();
  const x = new Float32Array([0.1, 0.2, 0.3, 0.9, 0.8, 0.7]);
  m.trainStep(x, new Float32Array([1, 1]), 2);
  let changed = 0;
  for (let i = 0; i < before.length; i++) if (before[i] !== table.data[i]) changed++;
  assert.ok(changed > 0 && changed <= 2 * 8 * 2, `changed ${changed} values (at most 2 points x 8 corners x 2 features)`);
  const st = m.optimizer.state();
  let nonzero = 0; for (const v of st.tensors['adam.m.encoding.level15.table']!) if (v !== 0) nonzero++;
  assert.equal(nonzero, changed);
});

test('config: presets resolve; the NAF grid reaches ~2048 with dense coarse levels; errors name the field', () => {
  for (const name of Object.keys(FIELD_PRESETS)) assert.equal(resolveFieldConfig(name as keyof typeof FIELD_PRESETS).version, 1);
  const naf = resolveFieldConfig('naf');
  assert.equal(naf.encoding.kind, 'hash-grid');
  if (naf.encoding.kind !== 'hash-grid') return;
  const plan = hashGridLevels(naf.encoding);
  assert.equal(plan[0]!.res, 16);
  assert.ok(plan[15]!.res >= 1900 && plan[15]!.res <= 2100, `finest ${plan[15]!.res}`);
  assert.deepEqual(plan.map((l) => l.dense), plan.map((l) => (l.res + 1) ** 3 <= 2 ** 19));
  assert.ok(plan[0]!.dense && !plan[15]!.dense);
  assert.throws(() => resolveFieldConfig({ encoding: { kind: 'hash-grid', levels: 0 }, mlp: null }), (e: unknown) => e instanceof MedfieldError && /encoding\.levels/.test(e.message));
  assert.throws(() => resolveFieldConfig({ encoding: { kind: 'frequency' }, mlp: { hidden: [8], skips: [3] } }), /mlp\.skips/);
  assert.throws(() => resolveFieldConfig('nope' as 'naf'), /unknown preset/);
  const m = new FieldModel(createCpuBackend(), 'dense-128', { maxBatch: 8 });
  assert.throws(() => m.forward(new Float32Array(30), 10), /field batch/);
});

test('MLP training is bit-identical inline and on 2 or 3 threads (chunked partial sums reduced in chunk order)', async () => {
  const rng = createRng(6);
  const n = 3000;
  const x = new Float32Array(n * 3).map(() => rng.next());
  const y = new Float32Array(n).map((_, i) => Math.cos(4 * x[3 * i]!) + x[3 * i + 2]!);
  const cfg: FieldConfigInput = { encoding: { kind: 'frequency', inputDim: 3, octaves: 4 }, mlp: { hidden: [32, 32], outputDim: 1 }, optimizer: { kind: 'adam', lr: 1e-2 }, seed: 2 };
  const run = async (be: ReturnType<typeof createCpuBackend>): Promise<[number[], Float32Array[]]> => {
    const m = new FieldModel(be, cfg, { maxBatch: n });
    const losses: number[] = [];
    for (let s = 0; s < 4; s++) losses.push(m.trainStep(x, y, n));
    const params = m.params.map((p) => p.data.slice());
    be.dispose();
    return [losses, params];
  };
  const [l1, p1] = await run(createCpuBackend({ simd: true }));
  for (const T of [2, 3]) {
    const [lT, pT] = await run(await createEnginePool({ threads: T, simd: true }));
    assert.deepEqual(lT, l1, `losses with ${T} threads`);
    pT.forEach((p, i) => assert.deepEqual(p, p1[i], `param ${i} with ${T} threads`));
  }
});

test('a non-shared engine memory refuses to grow (it would detach earlier buffers) unless sized up front', () => {
  const be = createCpuBackend({ shared: false });
  be.allocF32(16);
  assert.throws(() => be.allocF32(1 << 20), /initialMb/);
  const sized = createCpuBackend({ shared: false, initialMb: 64 });
  const m = new FieldModel(sized, 'image-2d', { maxBatch: 256 });
  const x = new Float32Array(512).map((_, i) => (i % 97) / 97);
  const l0 = m.trainStep(x, new Float32Array(256).fill(0.5), 256);
  assert.ok(Number.isFinite(l0));
});

test('a threaded backend refuses kernels after dispose() instead of waiting for ended workers', async () => {
  const be = await createEnginePool({ threads: 2 });
  const m = new FieldModel(be, 'image-2d', { maxBatch: 64 });
  be.dispose();
  assert.throws(() => m.forward(new Float32Array(128), 64), /after dispose/);
});
