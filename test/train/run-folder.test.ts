import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { createCpuBackend } from '../../src/engine/cpu/backend.js';
import { loadCheckpoint, writeChunkFully, type ChunkWriter } from '../../src/platform/checkpoint.js';
import { parseTrainConfigFile, trainRun } from '../../src/platform/run-folder.js';
import { createTaskForDataset, registerTaskFactory, taskKindForDataset } from '../../src/train/registry.js';
import { readDataset } from '../../src/platform/dataset.js';
import { tinyXrayDataset } from '../helpers/train-dataset.js';

const TINY_TASK = { field: { encoding: { kind: 'hash-grid', levels: 4, log2TableSize: 10, baseResolution: 4 }, mlp: { hidden: [16] } }, batchSize: 256 };

test('disk full while writing a checkpoint: the run fails clearly and the previous checkpoint stays intact', async () => {
  const ds = await tinyXrayDataset();
  const runDir = path.join(mkdtempSync(path.join(tmpdir(), 'medfield-full-')), 'run');
  let saves = 0;
  // The second checkpoint's writer runs out of space half-way through its bytes.
  const failing: ChunkWriter = async (fh, bytes, pos) => {
    if (pos === 0) saves++;
    if (saves === 2 && pos > 0) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    return writeChunkFully(fh, bytes, pos);
  };
  const backend = createCpuBackend();
  try {
    await assert.rejects(trainRun({
      datasetDir: ds, runDir, backend, kind: 'volume-fit', taskConfig: TINY_TASK,
      trainerConfig: { steps: 100, checkpointEvery: 20, evalEvery: 0 }, writeChunk: failing,
    }), /checkpoint\.safetensors: checkpoint write failed: disk full \(ENOSPC\); the previous checkpoint \(if any\) is intact/);
  } finally {
    backend.dispose();
  }
  assert.equal(saves, 2);
  const ck = await loadCheckpoint(runDir);
  assert.equal(ck.step, 20, 'the step-20 checkpoint is still complete and readable');
  assert.deepEqual(readdirSync(runDir).filter((f) => f.includes('.tmp-')), []);
  assert.ok(!existsSync(path.join(runDir, 'report.html')));
  // And the run resumes from it.
  const b2 = createCpuBackend();
  try {
    const r = await trainRun({ datasetDir: ds, runDir, backend: b2, resume: true });
    assert.equal(r.resumedFrom, 20);
    assert.equal(r.summary.steps, 100);
    assert.ok(JSON.parse(readFileSync(path.join(runDir, 'metrics.json'), 'utf8')).events.some((e: { kind: string }) => e.kind === 'resume'));
  } finally {
    b2.dispose();
  }
});

test('registry: kind from the dataset, clear errors for unregistered kinds, factories replaceable', async () => {
  const ds = await readDataset(await tinyXrayDataset(), { loadGroundTruth: true });
  assert.equal(taskKindForDataset(ds.meta), 'attenuation');
  assert.equal(taskKindForDataset({ ...ds.meta, projections: { ...ds.meta.projections, quantity: 'radiance' } }), 'radiance');
  const backend = createCpuBackend();
  try {
    await assert.rejects(createTaskForDataset(ds, {}, backend), /no task factory is registered.*needs 'attenuation'/);
    const t = await createTaskForDataset(ds, { kind: 'volume-fit', config: TINY_TASK }, backend);
    assert.equal(t.kind, 'volume-fit');
    assert.ok(t.viewDataRange > 0);
    let called = 0;
    registerTaskFactory('attenuation', (d, o, b) => { called++; return createTaskForDataset(d, { ...o, kind: 'volume-fit' }, b); });
    await createTaskForDataset(ds, { config: TINY_TASK }, backend);
    assert.equal(called, 1);
    await assert.rejects(createTaskForDataset(ds, { kind: 'volume-fit', preset: 'naf', config: { field: 'naf' } }, backend), /either --preset or the config's 'field'/);
    await assert.rejects(createTaskForDataset({ ...ds, groundTruth: undefined }, { kind: 'volume-fit' }, backend), /has none/);
  } finally {
    backend.dispose();
  }
  assert.throws(() => parseTrainConfigFile('{"trainer": {}, "tasks": {}}', 'f.json'), /f\.json: unknown key\(s\) 'tasks'/);
  assert.throws(() => parseTrainConfigFile('{', 'f.json'), /f\.json: not valid JSON/);
});
