import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { decodeNpy } from '../../src/io/npy.js';
import { gridOriginMm } from '../../src/geometry/grid.js';
import { loadCheckpoint } from '../../src/platform/checkpoint.js';
import { readDataset } from '../../src/platform/dataset.js';
import { loadVolume } from '../../src/platform/volume-io.js';
import { decodeGif } from '../helpers/gif-decode.js';
import { runTrainCli, spawnTrainCli } from '../helpers/train-cli.js';
import { tinyXrayDataset } from '../helpers/train-dataset.js';
import { TRAIN_RESUME_LOSS_REL, TRAIN_TINY_VIEW_MIN_PSNR_DB, TRAIN_WARM_SART_GAIN_DB } from '../tolerances.js';

/** decodeNpy of a file (copied into a plain Uint8Array: decodeNpy's slice aliases a Node Buffer's pool). */
const npyOf = (file: string) => decodeNpy(new Uint8Array(readFileSync(file)));
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'medfield-run-'));
const TINY = { task: { field: { encoding: { kind: 'hash-grid', levels: 4, log2TableSize: 10, baseResolution: 4 }, mlp: { hidden: [16] } }, batchSize: 512 } };

function writeJson(file: string, v: unknown): string {
  writeFileSync(file, JSON.stringify(v));
  return file;
}

describe('medfield train / render / export (volume-fit task)', async () => {
  const ds = await tinyXrayDataset();

  test('train writes the run folder; render and export honour order and geometry', async () => {
    const dir = tmp();
    const run = path.join(dir, 'run');
    const cfg = writeJson(path.join(dir, 'c.json'), TINY);
    const r = runTrainCli(['train', ds, '--task', 'volume-fit', '--config', cfg, '--steps', '200', '--eval-every', '50', '--threads', '1', '-o', run, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json as { steps: number; stopReason: string; metrics: { psnr3d: number; psnr2d: number } };
    assert.equal(j.steps, 200);
    assert.equal(j.stopReason, 'steps');
    // Views rendered from the fitted volume match the dataset's (noiseless) test projections: the
    // render path uses the dataset's angles and geometry (measured 31.7 dB after 200 steps).
    assert.ok(j.metrics.psnr2d > TRAIN_TINY_VIEW_MIN_PSNR_DB, `test-view PSNR ${j.metrics.psnr2d}`);
    for (const f of ['config.resolved.json', 'checkpoint.safetensors', 'metrics.json', 'volume.nii.gz', 'report.html', 'renders/views.npy']) assert.ok(existsSync(path.join(run, f)), f);
    const m = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8'));
    assert.deepEqual(m.evaluations.map((e: { step: number }) => e.step), [50, 100, 150, 200]);
    assert.equal(m.dataRange3dSource, 'ground truth max - min');
    assert.ok(m.evaluations[3].psnr3d > m.evaluations[0].psnr3d);
    // The report is static: inline SVG and PNG data URIs, nothing fetched.
    const html = readFileSync(path.join(run, 'report.html'), 'utf8');
    assert.match(html, /<svg/);
    assert.ok((html.match(/data:image\/png;base64,/g) ?? []).length >= 9 + 6);
    assert.doesNotMatch(html, /(src|href)="https?:/);
    // volume.nii.gz: the dataset grid in the ground truth's geometry.
    const d = await readDataset(ds, { loadGroundTruth: true });
    const vol = (await loadVolume(path.join(run, 'volume.nii.gz'))).volume;
    assert.deepEqual(vol.dims, d.groundTruth!.dims);
    for (let a = 0; a < 3; a++) {
      assert.ok(Math.abs(vol.spacingMm[a]! - d.groundTruth!.spacingMm[a]!) < 1e-5);
      assert.ok(Math.abs(vol.originMm[a]! - d.groundTruth!.originMm[a]!) < 1e-4);
    }
    // render --split test: views.npy [views, rows, cols] in the split's order, equal to the run's renders.
    const out = path.join(dir, 'r');
    assert.equal(runTrainCli(['render', run, '--split', 'test', '-o', out, '--threads', '1']).code, 0);
    const v = npyOf((path.join(out, 'views.npy')));
    assert.deepEqual(v.shape, [3, 16, 16]);
    assert.deepEqual(v.data, npyOf((path.join(run, 'renders', 'views.npy'))).data);
    // --angles: the order asked (swapping the angles swaps the views).
    const a1 = path.join(dir, 'a1'), a2 = path.join(dir, 'a2');
    assert.equal(runTrainCli(['render', run, '--angles', '10,75', '-o', a1]).code, 0);
    assert.equal(runTrainCli(['render', run, '--angles', '75,10', '-o', a2]).code, 0);
    const x1 = npyOf((path.join(a1, 'views.npy'))).data as Float32Array, x2 = npyOf((path.join(a2, 'views.npy'))).data as Float32Array;
    assert.deepEqual(x1.subarray(0, 256), x2.subarray(256));
    assert.notDeepEqual(x1.subarray(0, 256), x1.subarray(256));
    // --orbit: N frames in the GIF, each equal to the 8-bit PNG mapping of its view.
    const o = path.join(dir, 'orbit');
    const ro = runTrainCli(['render', run, '--orbit', '6', '-o', o, '--json']);
    assert.equal(ro.code, 0, ro.stderr);
    assert.deepEqual((ro.json as { anglesDeg: number[] }).anglesDeg, [0, 60, 120, 180, 240, 300]);
    const gif = decodeGif(readFileSync(path.join(o, 'orbit.gif')));
    assert.equal(gif.frames.length, 6);
    assert.deepEqual([gif.width, gif.height], [16, 16]);
    const ov = npyOf((path.join(o, 'views.npy'))).data as Float32Array;
    const range = (ro.json as { dataRange: number }).dataRange;
    for (let i = 0; i < 256; i++) assert.equal(gif.frames[2]!.pixels[i], Math.min(255, Math.max(0, Math.round((ov[512 + i]! / range) * 255))));
    // export: spacing/origin exactly the requested grid over the dataset box.
    const e1 = path.join(dir, 'e1.nii.gz');
    assert.equal(runTrainCli(['export', run, '--spacing', '10', '-o', e1]).code, 0);
    const ev = (await loadVolume(e1)).volume;
    const ext = d.geometry.nVoxel[0] * d.geometry.dVoxel[0];
    const n = Math.round(ext / 10);
    assert.deepEqual(ev.dims, [n, n, n]);
    const want = gridOriginMm({ nVoxel: [n, n, n], dVoxel: [10, 10, 10], offOrigin: d.geometry.offOrigin });
    for (let a = 0; a < 3; a++) { assert.ok(Math.abs(ev.spacingMm[a]! - 10) < 1e-5); assert.ok(Math.abs(ev.originMm[a]! - want[a]!) < 1e-4); }
    const e2 = path.join(dir, 'e2.nii.gz');
    assert.equal(runTrainCli(['export', run, '--size', '20x24x8', '-o', e2]).code, 0);
    const ev2 = (await loadVolume(e2)).volume;
    assert.deepEqual(ev2.dims, [20, 24, 8]);
    for (let a = 0; a < 3; a++) {
      const s = ext / [20, 24, 8][a]!;
      assert.ok(Math.abs(ev2.spacingMm[a]! - s) < 1e-4);
      // The first voxel centre sits half a voxel inside the dataset box.
      assert.ok(Math.abs(ev2.originMm[a]! - (d.geometry.offOrigin[a]! - ext / 2 + s / 2)) < 1e-4);
    }
    // Exported at the dataset grid's own spacing, the field equals volume.nii.gz.
    const e3 = path.join(dir, 'e3.nii.gz');
    assert.equal(runTrainCli(['export', run, '--size', '16', '-o', e3]).code, 0);
    assert.deepEqual((await loadVolume(e3)).volume.data, vol.data);
  });

  test('bad config keys are named; no train views and a second run into the same folder are clear errors', async () => {
    const dir = tmp();
    const bad1 = runTrainCli(['train', ds, '--task', 'volume-fit', '--config', writeJson(path.join(dir, 'b1.json'), { ...TINY, trainr: {} }), '-o', path.join(dir, 'x')]);
    assert.equal(bad1.code, 2);
    assert.match(bad1.stderr, /b1\.json.*'trainr'/);
    const bad2 = runTrainCli(['train', ds, '--task', 'volume-fit', '--config', writeJson(path.join(dir, 'b2.json'), { task: { ...TINY.task, batchSzie: 3 } }), '-o', path.join(dir, 'x')]);
    assert.equal(bad2.code, 2);
    assert.match(bad2.stderr, /batchSzie/);
    const bad3 = runTrainCli(['train', ds, '--task', 'volume-fit', '--config', writeJson(path.join(dir, 'b3.json'), { ...TINY, trainer: { earlyStop: { patients: 2 } } }), '-o', path.join(dir, 'x')]);
    assert.equal(bad3.code, 2);
    assert.match(bad3.stderr, /earlyStop.*patients/);
    assert.ok(!existsSync(path.join(dir, 'x', 'checkpoint.safetensors')));
    // A task kind nobody registered.
    const nokind = runTrainCli(['train', ds, '--task', 'wavelets', '-o', path.join(dir, 'y')]);
    assert.notEqual(nokind.code, 0);
    assert.match(nokind.stderr, /task 'wavelets'.*no task factory.*volume-fit/);
    // No training views.
    const ds2 = await tinyXrayDataset();
    const meta = JSON.parse(readFileSync(path.join(ds2, 'dataset.json'), 'utf8'));
    meta.splits.train = [];
    writeFileSync(path.join(ds2, 'dataset.json'), JSON.stringify(meta));
    const empty = runTrainCli(['train', ds2, '--task', 'volume-fit', '-o', path.join(dir, 'z')]);
    assert.notEqual(empty.code, 0);
    assert.match(empty.stderr, /splits\.train.*no training views/);
    // Training into a folder that already holds a run needs --resume.
    const run = path.join(dir, 'run');
    assert.equal(runTrainCli(['train', ds, '--task', 'volume-fit', '--config', writeJson(path.join(dir, 'ok.json'), TINY), '--steps', '5', '--threads', '1', '-o', run]).code, 0);
    const again = runTrainCli(['train', ds, '--task', 'volume-fit', '--steps', '5', '-o', run]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already holds a training run.*--resume/);
  });

  test('kill -9 during training, then --resume reaches the same final loss', async () => {
    const dir = tmp();
    const cfg = writeJson(path.join(dir, 'c.json'), { task: { ...TINY.task, batchSize: 4096 }, trainer: { checkpointEvery: 100, evalEvery: 100 } });
    const args = (run: string): string[] => ['train', ds, '--task', 'volume-fit', '--config', cfg, '--steps', '1500', '--threads', '1', '-o', run, '--json'];
    const straight = runTrainCli(args(path.join(dir, 'a')));
    assert.equal(straight.code, 0, straight.stderr);
    const runB = path.join(dir, 'b');
    const child = spawnTrainCli(args(runB));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
    // Kill as soon as a checkpoint past step 100 is on disk.
    let killedAt = -1;
    for (let i = 0; i < 100000 && killedAt < 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      if (child.exitCode !== null) break;
      if (!existsSync(path.join(runB, 'checkpoint.safetensors'))) continue;
      try {
        const step = (await loadCheckpoint(runB)).step;
        if (step >= 200) { child.kill('SIGKILL'); killedAt = step; }
      } catch { /* being renamed into place */ }
    }
    const ex = await exited;
    assert.equal(ex.signal, 'SIGKILL', 'the run finished before it could be killed; make it longer');
    assert.ok(killedAt >= 200 && killedAt < 1500);
    assert.ok(!existsSync(path.join(runB, 'report.html')));
    const resumed = runTrainCli(['train', ds, '--resume', '--steps', '1500', '--threads', '1', '-o', runB, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const a = straight.json as { finalLoss: number; metrics: { psnr3d: number } }, b = resumed.json as { finalLoss: number; resumedFrom: number; metrics: { psnr3d: number } };
    assert.ok(b.resumedFrom >= killedAt);
    // A write cut by the kill may leave a temp file; the resume removes it.
    assert.deepEqual(readdirSync(runB).filter((f) => f.includes('.tmp-')), [], 'no temp files left after the resume');
    assert.ok(Math.abs(a.finalLoss - b.finalLoss) <= TRAIN_RESUME_LOSS_REL * a.finalLoss, `${a.finalLoss} vs ${b.finalLoss}`);
    assert.ok(Math.abs(a.metrics.psnr3d - b.metrics.psnr3d) < 0.1);
    const mb = JSON.parse(readFileSync(path.join(runB, 'metrics.json'), 'utf8'));
    assert.deepEqual(mb.evaluations.map((e: { step: number }) => e.step), Array.from({ length: 15 }, (_, i) => 100 * (i + 1)));
  });

  test('--warm sart sets one key over the preset: SART of the training views warm-starts the attenuation field', () => {
    const dir = tmp();
    const run = path.join(dir, 'w');
    const r = runTrainCli(['train', ds, '--warm', 'sart', '--steps', '3', '--eval-every', '3', '--threads', '1', '-o', run, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const c = JSON.parse(readFileSync(path.join(run, 'config.resolved.json'), 'utf8'));
    assert.equal(c.taskOptions.preset, 'dense-fdk-tv');
    assert.equal(c.task.warmStart.kind, 'sart');
    assert.equal(c.task.tv.weight, 120, 'the rest of the preset is kept');
    // a SART start is a reconstruction already: better than an empty field after 3 steps
    const j = r.json as { metrics: { psnr3d: number } };
    const cold = runTrainCli(['train', ds, '--warm', 'none', '--steps', '3', '--eval-every', '3', '--threads', '1', '-o', path.join(dir, 'n'), '--json']);
    assert.equal(cold.code, 0, cold.stderr);
    assert.ok(j.metrics.psnr3d > (cold.json as { metrics: { psnr3d: number } }).metrics.psnr3d + TRAIN_WARM_SART_GAIN_DB, `sart ${j.metrics.psnr3d} vs none ${(cold.json as { metrics: { psnr3d: number } }).metrics.psnr3d}`);
    const bad = runTrainCli(['train', ds, '--warm', 'sirt', '--steps', '3', '-o', path.join(dir, 'x')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--warm/);
  });
});
