import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng, type Rng } from '../../src/core/rng.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../../src/engine/checkpoint-data.js';
import { createParam, zeroGrad, type Optimizer, type ParamTensor } from '../../src/engine/params.js';
import { createLrSchedule } from '../../src/engine/schedule.js';
import { clipGradNorm } from '../../src/engine/clip.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { loadCheckpoint, resumeFromCheckpoint, saveCheckpoint, writeChunkFully, type ChunkWriter } from '../../src/platform/checkpoint.js';
import { createToyAdam } from '../helpers/toy-adam.js';

const bitsOf = (a: Float32Array | Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

function tmp(): string {
  return mkdtempSync(path.join(tmpdir(), 'medfield-ckpt-'));
}

/** A small model shaped like the real one: a sparse hash table and a dense MLP (shared memory, as the CPU backend allocates). */
function makeModel(seed: number): ParamTensor[] {
  const rng = createRng(seed);
  const ps = [
    createParam('encoding.level00.table', [64, 2], { shared: true, sparseRows: true }),
    createParam('mlp.layer0.weight', [8, 2], { shared: true }),
    createParam('mlp.layer0.bias', [8]),
    createParam('mlp.layer1.weight', [1, 8]),
  ];
  for (const p of ps) for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() * 0.1;
  return ps;
}

const CONFIG = { model: { kind: 'hash-grid', levels: 1 }, optimizer: { kind: 'adam', lr: 0.01 }, schedule: { kind: 'cosine', lr: 0.01, totalSteps: 20 } };

interface Run { params: ParamTensor[]; opt: Optimizer; rng: Rng; step: number }

function newRun(): Run {
  const params = makeModel(5);
  return { params, opt: createToyAdam(params), rng: createRng(11), step: 0 };
}

/** One "training" step whose gradients depend on the RNG, the step and the parameters. */
function trainStep(run: Run, lr: (s: number) => number): void {
  zeroGrad(run.params);
  for (const p of run.params) {
    const rows = p.touched ? p.touched.length : 1, rs = p.data.length / rows;
    for (let i = 0; i < p.data.length; i++) {
      if (p.touched) { if (run.rng.next() < 0.3) p.touched[Math.floor(i / rs)] = 1; else continue; }
      p.grad[i] = p.data[i]! - 0.5 + run.rng.normal() * 0.1;
    }
  }
  clipGradNorm(run.params, 1);
  run.opt.step(lr(run.step));
  run.step++;
}

test('checkpoint: encode/decode round trip is bit-exact (params, optimiser tensors and scalars, RNG states, step, config)', () => {
  const params = makeModel(1);
  params[1]!.data[0] = -0;
  const opt = createToyAdam(params);
  params.forEach((p) => p.grad.fill(0.5));
  opt.step(0.1);
  const st = opt.state();
  const rng = createRng(9); rng.next(); rng.normal(); // leaves a cached spare
  const rng2 = createRng(10);
  const bytes = encodeCheckpoint({ step: 1234, params, optimizer: { ...st, scalars: { ...st.scalars, negZero: -0, tiny: 5e-324 } }, rngs: { sampler: rng.getState(), init: rng2.getState() }, config: CONFIG, metadata: { note: 'x' } });
  const back = decodeCheckpoint(bytes, 'mem');
  assert.equal(back.step, 1234);
  assert.deepEqual([...back.params.keys()], params.map((p) => p.name));
  for (const p of params) {
    assert.deepEqual(back.params.get(p.name)!.shape, p.shape);
    assert.deepEqual(bitsOf(back.params.get(p.name)!.data), bitsOf(p.data), p.name);
  }
  assert.equal(back.optimizer!.kind, 'adam');
  for (const [k, v] of Object.entries(st.tensors)) assert.deepEqual(bitsOf(back.optimizer!.tensors[k]!), bitsOf(v), k);
  assert.equal(back.optimizer!.scalars['t'], 1);
  assert.ok(Object.is(back.optimizer!.scalars['negZero'], -0));
  assert.equal(back.optimizer!.scalars['tiny'], 5e-324);
  assert.deepEqual(back.rngs, { sampler: rng.getState(), init: rng2.getState() });
  assert.notEqual(rng.getState().spare, null);
  assert.deepEqual(back.config, CONFIG);
  assert.equal(back.metadata['note'], 'x');
  // Reserved keys and duplicate tensor names are refused when packing.
  assert.throws(() => encodeCheckpoint({ step: 0, params, metadata: { step: '3' } }), /reserved/);
  assert.throws(() => encodeCheckpoint({ step: 0, params, optimizer: { kind: 'x', tensors: { 'mlp.layer0.bias': new Float32Array(8) }, scalars: {} } }),
    /tensor 'mlp\.layer0\.bias': name used twice in the checkpoint \(parameter and optimizer state \(x\)\)/);
  assert.throws(() => encodeCheckpoint({ step: -1, params }), /checkpoint\.step/);
});

test('checkpoint: save at step k, load into a fresh run and continue = the uninterrupted run, bit for bit', async () => {
  const dir = tmp();
  try {
    const lr = createLrSchedule(CONFIG.schedule);
    const straight = newRun();
    for (let i = 0; i < 12; i++) trainStep(straight, lr);

    const first = newRun();
    for (let i = 0; i < 5; i++) trainStep(first, lr);
    await saveCheckpoint(dir, { step: first.step, params: first.params, optimizer: first.opt.state(), rngs: { sampler: first.rng.getState() }, config: CONFIG });

    const resumed: Run = { params: makeModel(777), opt: undefined as unknown as Optimizer, rng: createRng(12345), step: 0 };
    resumed.opt = createToyAdam(resumed.params);
    resumed.step = await resumeFromCheckpoint(dir, { params: resumed.params, optimizer: resumed.opt, rngs: { sampler: resumed.rng } });
    assert.equal(resumed.step, 5);
    for (let i = 0; i < 7; i++) trainStep(resumed, lr);

    straight.params.forEach((p, k) => assert.deepEqual(bitsOf(resumed.params[k]!.data), bitsOf(p.data), p.name));
    const a = straight.opt.state(), b = resumed.opt.state();
    assert.deepEqual(b.scalars, a.scalars);
    for (const k of Object.keys(a.tensors)) assert.deepEqual(bitsOf(b.tensors[k]!), bitsOf(a.tensors[k]!), k);
    assert.equal(resumed.rng.next(), straight.rng.next());
    // The model must have actually moved, or the test proves nothing.
    assert.notDeepEqual(bitsOf(straight.params[1]!.data), bitsOf(makeModel(5)[1]!.data));
    // config.resolved.json beside the checkpoint.
    assert.deepEqual(JSON.parse(readFileSync(path.join(dir, 'config.resolved.json'), 'utf8')), CONFIG);
    assert.deepEqual((await loadCheckpoint(path.join(dir, 'checkpoint.safetensors'))).config, CONFIG);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint: restoring into a different model fails with the tensor named and leaves the model untouched', () => {
  const params = makeModel(1);
  const ckpt = decodeCheckpoint(encodeCheckpoint({ step: 3, params, optimizer: createToyAdam(params).state(), rngs: { a: createRng(1).getState() } }));
  const expectBad = (target: Parameters<typeof restoreCheckpoint>[1], re: RegExp) =>
    assert.throws(() => restoreCheckpoint(ckpt, target, 'run/checkpoint.safetensors'), (e: unknown) => e instanceof MedfieldError && /^run\/checkpoint\.safetensors: /.test(e.message) && re.test(e.message), String(re));

  const wider = makeModel(2);
  const w2 = createParam('mlp.layer0.weight', [8, 3]);
  const other = [wider[0]!, w2, wider[2]!, wider[3]!];
  const before = bitsOf(wider[0]!.data);
  expectBad({ params: other }, /tensor 'mlp\.layer0\.weight' has shape \[8, 2\] in the checkpoint, the model expects \[8, 3\]/);
  assert.deepEqual(bitsOf(wider[0]!.data), before, 'nothing copied before validation finished');
  expectBad({ params: [...makeModel(2), createParam('mlp.layer2.weight', [1, 1])] }, /has no tensor 'mlp\.layer2\.weight' \(shape \[1, 1\]\) that the model needs/);
  expectBad({ params: makeModel(2).slice(0, 3) }, /tensor 'mlp\.layer1\.weight' is not a parameter of this model/);
  const m = makeModel(2);
  expectBad({ params: m, rngs: { b: createRng(1) } }, /has no state for rng 'b'/);
  const sgdLike: Optimizer = { step() {}, state: () => ({ kind: 'sgd', tensors: {}, scalars: {} }), loadState() {} };
  expectBad({ params: m, optimizer: sgdLike }, /optimiser state is 'adam', the run uses 'sgd'/);
  const noOpt = decodeCheckpoint(encodeCheckpoint({ step: 3, params }));
  assert.throws(() => restoreCheckpoint(noOpt, { params: m, optimizer: createToyAdam(m) }), /holds no optimiser state/);
  // And the matching model restores.
  assert.equal(restoreCheckpoint(ckpt, { params: m, optimizer: createToyAdam(m), rngs: { a: createRng(2) } }), 3);
  params.forEach((p, k) => assert.deepEqual(bitsOf(m[k]!.data), bitsOf(p.data)));
});

test('checkpoint: files that are not medfield checkpoints, newer, or tampered with are refused clearly', () => {
  const plain = encodeSafetensors({ w: { data: new Float32Array(2) } });
  assert.throws(() => decodeCheckpoint(plain, 'x.safetensors'), /x\.safetensors: not a medfield checkpoint \(metadata format=null/);
  const params = makeModel(1);
  const good = encodeCheckpoint({ step: 1, params });
  const md = decodeCheckpoint(good).metadata;
  const tensors = Object.fromEntries(params.map((p) => [p.name, { data: p.data, shape: p.shape }]));
  assert.throws(() => decodeCheckpoint(encodeSafetensors(tensors, { ...md, format_version: '99' }), 'f'), (e: unknown) => e instanceof MedfieldError && e.code === 'unsupported' && /version 99 is newer/.test(e.message));
  assert.throws(() => decodeCheckpoint(encodeSafetensors({ ...tensors, stray: { data: new Float32Array(1) } }, md), 'f'), /tensor 'stray' is not listed/);
  const { ['mlp.layer1.weight']: _dropped, ...fewer } = tensors;
  assert.throws(() => decodeCheckpoint(encodeSafetensors(fewer, md), 'f'), /tensor 'mlp\.layer1\.weight' \(parameter\) is listed in the metadata but missing/);
  assert.throws(() => decodeCheckpoint(good.subarray(0, good.length - 10), 'f'), /f: tensor '.*': truncated/);
});

test('checkpoint: a failed save (write error midway) leaves the previous checkpoint intact and no temp files', async () => {
  const dir = tmp();
  try {
    const params = makeModel(1);
    await saveCheckpoint(dir, { step: 1, params, config: { v: 1 } });
    const file = path.join(dir, 'checkpoint.safetensors');
    const v1 = readFileSync(file);
    const v1Config = readFileSync(path.join(dir, 'config.resolved.json'));
    params[0]!.data.fill(7);
    let written = 0;
    const failing: ChunkWriter = async (fh, bytes, pos) => {
      // Write part of the file for real, then fail as a full disk would.
      const half = bytes.subarray(0, Math.ceil(bytes.length / 2));
      await writeChunkFully(fh, half, pos);
      written += half.length;
      if (written > 100) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      await writeChunkFully(fh, bytes.subarray(half.length), pos + half.length);
    };
    await assert.rejects(saveCheckpoint(dir, { step: 2, params, config: { v: 2 } }, { writeChunk: failing }),
      (e: unknown) => e instanceof MedfieldError && e.code === 'io' && e.subject === file && /disk full \(ENOSPC\)/.test(e.message) && /previous checkpoint/.test(e.message));
    assert.ok(written > 100, 'the failure happened after bytes reached the temp file');
    assert.deepEqual(readFileSync(file), v1);
    assert.deepEqual(readFileSync(path.join(dir, 'config.resolved.json')), v1Config);
    assert.deepEqual(readdirSync(dir).sort(), ['checkpoint.safetensors', 'config.resolved.json']);
    assert.equal((await loadCheckpoint(dir)).step, 1);
    // A successful save then replaces it.
    await saveCheckpoint(dir, { step: 2, params, config: { v: 2 } });
    const latest = await loadCheckpoint(dir);
    assert.equal(latest.step, 2);
    assert.equal(latest.params.get('encoding.level00.table')!.data[0], 7);
    assert.deepEqual(readdirSync(dir).sort(), ['checkpoint.safetensors', 'config.resolved.json']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkpoint: unusable directories and missing files give clear errors', async () => {
  const dir = tmp();
  try {
    const notDir = path.join(dir, 'plain-file');
    writeFileSync(notDir, 'x');
    await assert.rejects(saveCheckpoint(notDir, { step: 0, params: makeModel(1) }), (e: unknown) => e instanceof MedfieldError && e.code === 'io' && /checkpoint write failed/.test(e.message));
    await assert.rejects(loadCheckpoint(path.join(dir, 'nope')), /nope: file not found/);
    await assert.rejects(loadCheckpoint(dir), /checkpoint\.safetensors: file not found/);
    writeFileSync(path.join(dir, 'checkpoint.safetensors'), new Uint8Array([1, 2, 3]));
    await assert.rejects(loadCheckpoint(dir), (e: unknown) => e instanceof MedfieldError && e.code === 'bad-file' && /checkpoint\.safetensors: truncated/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
