import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadVolume } from '../../src/platform/volume-io.js';
import { runCli } from '../helpers/cli.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';

const SAG = 'mri-2d-slices-motion-dcm-qa-sag';

test('real 4D sagittal EPI stacks (dcm_qa_sag): a frame must be chosen; frame 5 of both runs fuses onto a 3.2 mm RAS grid', { skip: skipWithoutData(SAG) }, async () => {
  const files = ['2_fmri_SagAP.nii', '3_fmri_SagHF.nii'].map((f) => sharedData(SAG, f));
  const dir = mkdtempSync(path.join(tmpdir(), 'medfield-svr-real-'));
  const out = path.join(dir, 'fused.nii.gz');
  const bad = runCli(['svr', ...files, '-o', out]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /2_fmri_SagAP\.nii: is a 4D series of 6 volumes; choose one with --frame t \(0\.\.5\)/);
  const r = runCli(['svr', ...files, '-o', out, '--method', 'naive', '--frame', '5', '--thickness', '3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const stacks = r.json!.stacks as { dims: number[]; sliceThicknessMm: number }[];
  assert.deepEqual(stacks.map((s) => s.dims), [[64, 64, 36], [64, 64, 36]]);
  assert.ok(stacks.every((s) => s.sliceThicknessMm === 3));
  const v = (await loadVolume(out)).volume;
  assert.ok(Math.abs(v.spacingMm[0] - 3.203125) < 1e-6);
  assert.deepEqual(Array.from(v.direction), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  // sagittal slices 3.6 mm apart span ~130 mm along x: the grid covers them
  assert.ok(v.dims[0] * v.spacingMm[0] >= 36 * 3.6 - 1e-6, `x extent ${v.dims[0] * v.spacingMm[0]}`);
  let max = 0;
  for (let p = 0; p < v.data.length; p++) max = Math.max(max, v.data[p]!);
  assert.ok(max > 1000, `max ${max}`);
});

test('real 4D EPI with --frame all: every frame is a stack of its own, named file[t]', { skip: skipWithoutData(SAG) }, () => {
  const file = sharedData(SAG, '3_fmri_SagHF.nii');
  const dir = mkdtempSync(path.join(tmpdir(), 'medfield-svr-all-'));
  const r = runCli(['svr', file, '--frame', 'all', '--method', 'naive', '-o', path.join(dir, 'all.nii.gz'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const stacks = r.json!.stacks as { name: string }[];
  assert.deepEqual(stacks.map((s) => s.name), [0, 1, 2, 3, 4, 5].map((t) => `3_fmri_SagHF.nii[${t}]`));
  const bad = runCli(['svr', file, '--frame', 'some', '-o', path.join(dir, 'x.nii.gz')]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--frame/);
});
