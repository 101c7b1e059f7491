import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { loadVolume } from '../../src/platform/volume-io.js';
import { runCli } from '../helpers/cli.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';
import { DEMO_MIN_PSNR_DB } from '../tolerances.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'medfield-cmd-'));

describe('medfield phantom / eval / preprocess / demo', () => {
  test('phantom shepp-logan and brain write volumes with the stated geometry', async () => {
    const dir = tmp();
    const r = runCli(['phantom', 'shepp-logan', '--size', '24', '--fov', '120', '-o', path.join(dir, 'sl.nii.gz'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { volume } = await loadVolume(path.join(dir, 'sl.nii.gz'));
    assert.deepEqual(volume.dims, [24, 24, 24]);
    assert.ok(Math.abs(volume.spacingMm[0] - 5) < 1e-6);
    assert.ok(Math.abs(volume.originMm[0] - (-60 + 2.5)) < 1e-4);
    const b = runCli(['phantom', 'brain', '--size', '20x24x16', '--contrast', 'flair', '--labels', path.join(dir, 'lab.nii.gz'), '-o', path.join(dir, 'b.nii.gz'), '--json']);
    assert.equal(b.code, 0, b.stderr);
    const lab = await loadVolume(path.join(dir, 'lab.nii.gz'));
    assert.deepEqual(lab.volume.dims, [20, 24, 16]);
    assert.ok(lab.volume.data instanceof Uint8Array);
    const bad = runCli(['phantom', 'walnut', '--size', '8', '-o', path.join(dir, 'w.nii.gz')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown phantom "walnut"/);
    const bad2 = runCli(['phantom', 'brain', '--size', '0', '-o', path.join(dir, 'w.nii.gz')]);
    assert.equal(bad2.code, 2);
    assert.match(bad2.stderr, /--size/);
    assert.ok(!existsSync(path.join(dir, 'w.nii.gz')));
  });

  test('eval states the data range, agrees with itself, and refuses mismatched grids or NaN', () => {
    const dir = tmp();
    const a = path.join(dir, 'a.nii.gz'), b = path.join(dir, 'b.nii.gz'), c = path.join(dir, 'c.nii.gz');
    runCli(['phantom', 'brain', '--size', '24', '-o', a]);
    runCli(['phantom', 'brain', '--size', '24', '--noise', '0.05', '-o', b]);
    runCli(['phantom', 'brain', '--size', '20', '-o', c]);
    const same = runCli(['eval', a, a, '--json']);
    assert.equal(same.code, 0, same.stderr);
    assert.equal(same.json?.psnr, 'Infinity');
    assert.equal(same.json?.ssim3d, 1);
    const r = runCli(['eval', b, a, '--data-range', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json?.dataRange, 1);
    assert.equal(r.json?.dataRangeSource, 'option');
    const psnr = r.json?.psnr as number;
    assert.ok(psnr > 20 && psnr < 35, `psnr ${psnr}`);
    const human = runCli(['eval', b, a]);
    assert.match(human.stdout, /data range\s+[\d.]+ \(reference max - min\)/);
    const mism = runCli(['eval', c, a]);
    assert.equal(mism.code, 1);
    assert.match(mism.stderr, /dims 20x20x20 differ/);
  });

  test('preprocess runs its steps in order and rejects bad combinations', async () => {
    const dir = tmp();
    const a = path.join(dir, 'a.nii.gz'), out = path.join(dir, 'o.nii.gz');
    runCli(['phantom', 'brain', '--size', '24', '--fov', '240', '-o', a]);
    const r = runCli(['preprocess', a, '--spacing', '5', '--interp', 'linear', '--histeq', '64', '--normalize', 'minmax', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((r.json?.steps as { step: string }[]).map((s) => s.step), ['resample', 'histeq', 'normalize']);
    const { volume } = await loadVolume(out);
    assert.deepEqual(volume.dims, [48, 48, 48]);
    assert.equal(r.json?.min, 0);
    assert.equal(r.json?.max, 1);
    const bad = runCli(['preprocess', a, '--spacing', '2', '--size', '10', '-o', path.join(dir, 'x.nii.gz')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /either --spacing or --size/);
    const none = runCli(['preprocess', a, '-o', path.join(dir, 'x.nii.gz')]);
    assert.match(none.stderr, /no step given/);
    assert.ok(!existsSync(path.join(dir, 'x.nii.gz')));
  });

  test('preprocess registers a real T1n to T1c with elastix', { skip: skipWithoutData('brats-gli-00001-000') }, async () => {
    const dir = tmp();
    const t1n = sharedData('brats-gli-00001-000/BraTS-GLI-00001-000-t1n.nii.gz');
    const t1c = sharedData('brats-gli-00001-000/BraTS-GLI-00001-000-t1c.nii.gz');
    // Downsample both first so the test stays quick, then register.
    const small = path.join(dir, 'fixed.nii.gz');
    assert.equal(runCli(['preprocess', t1c, '--size', '60x60x39', '--interp', 'linear', '-o', small]).code, 0);
    const r = runCli(['preprocess', t1n, '--register-to', small, '--transform-out', path.join(dir, 't.txt'), '-o', path.join(dir, 'r.nii.gz'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { volume } = await loadVolume(path.join(dir, 'r.nii.gz'));
    assert.deepEqual(volume.dims, [60, 60, 39]);
    assert.match(readFileSync(path.join(dir, 't.txt'), 'utf8'), /\(Transform "EulerTransform"\)/);
  });

  test('demo runs end to end on a small phantom: dataset, FDK, SART, neural field, report', () => {
    const dir = tmp();
    const out = path.join(dir, 'demo');
    const r = runCli(['demo', '--size', '24', '--detector', '32', '--views', '20', '--steps', '40', '--sart-epochs', '2', '-o', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = r.json as { results: { method: string; psnr3d: number; ssim3d: number; seconds: number }[]; dataRange: number; report: string };
    assert.equal(s.results.length, 3);
    assert.equal(s.dataRange, 1);
    const [fdk, sart] = s.results;
    assert.match(fdk!.method, /FDK/);
    assert.match(sart!.method, /SART/);
    // tiny sizes: every method must reconstruct the phantom recognisably (measured 22.2 / 21.5 / 22.7 dB)
    for (const row of s.results) assert.ok(row.psnr3d > DEMO_MIN_PSNR_DB, `${row.method}: ${row.psnr3d} dB`);
    // a second demo into the same folder replaces the first
    const again = runCli(['demo', '--size', '16', '--detector', '24', '--views', '10', '--steps', '5', '--sart-epochs', '1', '-o', out, '--json']);
    assert.equal(again.code, 0, again.stderr);
    for (const f of ['input.nii.gz', 'dataset/dataset.json', 'dataset/gt.nii.gz', 'fdk.nii.gz', 'sart.nii.gz', 'run/report.html', 'run/volume.nii.gz']) {
      assert.ok(existsSync(path.join(out, f)), `missing ${f}`);
    }
    const html = readFileSync(path.join(out, 'run/report.html'), 'utf8');
    assert.match(html, /FDK/);
    assert.match(html, /SART/);
  });
});

describe('medfield bench', () => {
  test('an unknown suite is a usage error naming the suites', () => {
    const r = runCli(['bench', 'nope']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown benchmark "nope"; expected one of ct-50, ct-25-360, views-72/);
  });
});

describe('medfield eval on label maps and bad volumes', () => {
  test('Dice and surface Dice of a shifted segmentation', async () => {
    const { createVolume } = await import('../../src/core/volume.js');
    const { writeVolume } = await import('../../src/platform/volume-io.js');
    const dir = tmp();
    const a = createVolume([20, 20, 20], { data: new Uint8Array(8000), spacingMm: [1, 1, 2] });
    const b = createVolume([20, 20, 20], { data: new Uint8Array(8000), spacingMm: [1, 1, 2] });
    for (let k = 5; k < 15; k++) for (let j = 5; j < 15; j++) for (let i = 5; i < 15; i++) {
      a.data[i + 20 * (j + 20 * k)] = 1;
      b.data[i + 1 + 20 * (j + 20 * k)] = 1; // shifted one voxel (1 mm) along i
    }
    await writeVolume(path.join(dir, 'a.nii.gz'), a);
    await writeVolume(path.join(dir, 'b.nii.gz'), b);
    const r = runCli(['eval', path.join(dir, 'b.nii.gz'), path.join(dir, 'a.nii.gz'), '--labels', '--nsd-tolerance', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json as { labels: { label: number; dice: number; nsd: number }[] };
    assert.equal(j.labels.length, 1);
    assert.ok(Math.abs(j.labels[0].dice - 0.9) < 1e-12, `dice ${j.labels[0].dice}`); // overlap 9/10
    assert.equal(j.labels[0].nsd, 1, 'a 1 mm shift is within a 1 mm tolerance');
    const r2 = runCli(['eval', path.join(dir, 'b.nii.gz'), path.join(dir, 'a.nii.gz'), '--labels', '--nsd-tolerance', '0.5', '--json']);
    assert.ok((r2.json as { labels: { nsd: number }[] }).labels[0].nsd < 1);
  });

  test('a NaN-filled volume is refused with a clear message', async () => {
    const { createVolume } = await import('../../src/core/volume.js');
    const { writeVolume } = await import('../../src/platform/volume-io.js');
    const dir = tmp();
    const v = createVolume([16, 16, 16], { data: new Float32Array(4096).fill(NaN) });
    const ok = createVolume([16, 16, 16], { data: new Float32Array(4096).fill(1) });
    await writeVolume(path.join(dir, 'nan.nii'), v);
    await writeVolume(path.join(dir, 'ok.nii'), ok);
    const r = runCli(['eval', path.join(dir, 'nan.nii'), path.join(dir, 'ok.nii'), '--data-range', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /nan\.nii: contains 4096 NaN\/Inf values/);
    const p = runCli(['preprocess', path.join(dir, 'nan.nii'), '--normalize', 'minmax', '-o', path.join(dir, 'o.nii')]);
    assert.equal(p.code, 1);
    assert.match(p.stderr, /NaN/);
    assert.ok(!existsSync(path.join(dir, 'o.nii')));
    const info = runCli(['info', path.join(dir, 'nan.nii'), '--json']);
    assert.equal(info.code, 0);
    assert.equal(info.json?.nonFinite, 4096);
  });

  test('an unwritable output path fails cleanly', () => {
    const r = runCli(['phantom', 'shepp-logan', '--size', '8', '-o', '/nonexistent-dir/x.nii.gz']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /x\.nii\.gz: cannot write: directory \/nonexistent-dir does not exist/);
  });
});
