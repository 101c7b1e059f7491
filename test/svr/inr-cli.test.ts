/**
 * The simulate -> svr loop through the CLI: a brain phantom, three orthogonal stacks with random
 * per-slice motion (src/svr/simulate.ts), `medfield svr --method inr --preset fast` onto the ground
 * truth's grid; the motion it writes is compared with the simulation's motion.json and its volume
 * with naive fusion (`medfield eval` inside the brain mask).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readMotionJson } from '../../src/platform/svr-io.js';
import { motionError } from '../../src/svr/mask.js';
import { runCli } from '../helpers/cli.js';
import { SVR_CLI_INR_MIN_GAIN_DB, SVR_CLI_INR_MOTION_MAX_MM } from '../tolerances.js';

test('medfield simulate --protocol svr -> medfield svr --method inr recovers the slice motion and beats naive fusion', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'medfield-svr-inr-'));
  const phantom = path.join(dir, 'brain.nii.gz'), sim = path.join(dir, 'sim');
  assert.equal(runCli(['phantom', 'brain', '--size', '48', '--fov', '96', '-o', phantom]).code, 0);
  const s = runCli(['simulate', phantom, '--protocol', 'svr', '--inplane-mm', '2', '--slice-mm', '6', '--max-rot-deg', '3', '--max-trans-mm', '3', '--seed', '3', '-o', sim]);
  assert.equal(s.code, 0, s.stderr);
  const stacks = [1, 2, 3].map((i) => path.join(sim, `stack${i}.nii.gz`));
  const gt = path.join(sim, 'gt.nii.gz'), mask = path.join(sim, 'mask.nii.gz');
  const out = path.join(dir, 'inr.nii.gz');
  const r = runCli(['svr', ...stacks, '--method', 'inr', '--preset', 'fast', '--threads', '1', '--like', gt, '-o', out, '--json']);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['inr.nii.gz', 'inr.motion.json', 'inr.slices.png', 'inr.uncertainty.nii.gz', 'inr.report.html']) assert.ok(existsSync(path.join(dir, f)), f);
  assert.match(readFileSync(path.join(dir, 'inr.report.html'), 'utf8'), /motion per slice/);
  return Promise.all([readMotionJson(path.join(sim, 'motion.json')), readMotionJson(path.join(dir, 'inr.motion.json'))]).then(([truth, est]) => {
    const e = motionError(truth.motions, est.motions);
    assert.ok(e.meanTranslationMm < SVR_CLI_INR_MOTION_MAX_MM && e.meanTranslationMm < 0.5 * e.meanTrueTranslationMm,
      `motion error ${e.meanTranslationMm.toFixed(2)} mm / ${e.meanRotationDeg.toFixed(2)} deg (no correction ${e.meanTrueTranslationMm.toFixed(2)} mm / ${e.meanTrueRotationDeg.toFixed(2)} deg)`);
    const naive = path.join(dir, 'naive.nii.gz');
    const wrong = runCli(['svr', ...stacks, '--method', 'naive', '--steps', '5', '-o', path.join(dir, 'w.nii.gz')]);
    assert.equal(wrong.code, 2, 'a bad option exits with 2');
    assert.match(wrong.stderr, /--steps: is an option of --method inr/);
    assert.ok(!existsSync(path.join(dir, 'w.nii.gz')));
    assert.equal(runCli(['svr', ...stacks, '--method', 'naive', '--like', gt, '-o', naive]).code, 0);
    const q = (f: string): number => runCli(['eval', f, gt, '--mask', mask, '--json']).json!.psnr as number;
    const pi = q(out), pn = q(naive);
    assert.ok(pi > pn + SVR_CLI_INR_MIN_GAIN_DB, `inr ${pi.toFixed(2)} dB vs naive ${pn.toFixed(2)} dB (in the mask)`);
  });
});
