import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { decodeNpy } from '../../src/io/npy.js';
import { readDataset } from '../../src/platform/dataset.js';
import { loadVolume } from '../../src/platform/volume-io.js';
import { runCli } from '../helpers/cli.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';
import { CLI_FDK_MIN_PSNR_DB, CLI_ITERATIVE_OVER_FDK_DB, CLI_SART_OVER_FDK_DB, VIEWS_FOREGROUND_MIN_WIDTH } from '../tolerances.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'medfield-sim-'));

describe('medfield simulate / recon', () => {
  const dir = tmp();
  const phantom = path.join(dir, 'sl.nii.gz');
  before(() => {
    assert.equal(runCli(['phantom', 'shepp-logan', '--size', '48', '--fov', '200', '-o', phantom]).code, 0);
  });

  test('ct-50 on a Shepp-Logan phantom: dataset folder, then FDK and SART beat stated PSNRs on the dataset grid', () => {
    const ds = path.join(dir, 'ct50');
    // smaller than the protocol so the test stays quick; noise on
    const r = runCli(['simulate', phantom, '--protocol', 'ct-50', '--size', '32', '--detector', '48', '--test-views', '5', '--intensity', 'attenuation', '-o', ds, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json!.views, 55);
    assert.deepEqual(r.json!.projectionsShape, [55, 48, 48]);
    const meta = JSON.parse(readFileSync(path.join(ds, 'dataset.json'), 'utf8'));
    assert.equal(meta.splits.train.length, 50);
    assert.equal(meta.noise.I0, 1e5);
    const npy = decodeNpy(new Uint8Array(readFileSync(path.join(ds, 'projections.npy'))));
    assert.deepEqual(npy.shape, [55, 48, 48]);
    const fdk = runCli(['recon', ds, '--method', 'fdk', '-o', path.join(dir, 'fdk.nii.gz'), '--json']);
    assert.equal(fdk.code, 0, fdk.stderr);
    const fdkPsnr = (fdk.json!.metrics as { psnr: number }).psnr;
    assert.ok(fdkPsnr > CLI_FDK_MIN_PSNR_DB, `FDK PSNR ${fdkPsnr}`);
    const sart = runCli(['recon', ds, '--method', 'sart', '--iterations', '3', '-o', path.join(dir, 'sart.nii.gz'), '--json']);
    assert.equal(sart.code, 0, sart.stderr);
    const sartPsnr = (sart.json!.metrics as { psnr: number }).psnr;
    assert.ok(sartPsnr > fdkPsnr + CLI_SART_OVER_FDK_DB, `SART ${sartPsnr} vs FDK ${fdkPsnr}`);
    // the reconstruction lies on the ground-truth grid: eval works voxel for voxel
    const ev = runCli(['eval', path.join(dir, 'sart.nii.gz'), path.join(ds, 'gt.nii.gz'), '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    for (const [m, it] of [['sirt', '30'], ['cgls', '10'], ['os-sart', '5']] as const) {
      const x = runCli(['recon', ds, '--method', m, '--iterations', it, '-o', path.join(dir, `${m}.nii.gz`), '--json']);
      assert.equal(x.code, 0, x.stderr);
      const p = (x.json!.metrics as { psnr: number }).psnr;
      assert.ok(p > fdkPsnr + CLI_ITERATIVE_OVER_FDK_DB, `${m}: ${p} dB vs FDK ${fdkPsnr} dB`);
    }
  });

  test('views-72 writes 72 views, 15 train / 57 test, PNGs and NeRF transforms; ea views are radiance in [0,1]', async () => {
    const ds = path.join(dir, 'v72');
    const r = runCli(['simulate', phantom, '--protocol', 'views-72', '--size', '24', '--detector', '32', '--render', 'ea', '--intensity', 'mri', '-o', ds, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const d = await readDataset(ds);
    assert.equal(d.meta.splits.train.length, 15);
    assert.equal(d.meta.splits.test.length, 57);
    assert.equal(d.meta.projections.quantity, 'radiance');
    let hi = 0;
    for (const x of d.projections) { assert.ok(x >= 0 && x <= 1 + 1e-6); hi = Math.max(hi, x); }
    assert.ok(hi > 0.05);
    // fit 'foreground': the phantom (about 70% of its 200 mm field of view) fills most of the view width
    const [, nv, nu] = d.meta.projections.shape;
    let cols = 0;
    for (let c = 0; c < nu; c++) {
      let any = false;
      for (let r = 0; r < nv; r++) if (d.projections[r * nu + c]! > 1e-3) any = true;
      if (any) cols++;
    }
    assert.ok(cols / nu > VIEWS_FOREGROUND_MIN_WIDTH, `object spans ${cols}/${nu} columns`);
    assert.equal(readdirSync(path.join(ds, 'views')).length, 72);
    const tr = JSON.parse(readFileSync(path.join(ds, 'transforms_train.json'), 'utf8'));
    assert.equal(tr.frames.length, 15);
    const bad = runCli(['recon', ds, '--method', 'fdk', '-o', path.join(dir, 'x.nii.gz')]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /line integrals/);
  });

  test('bad input: DSO >= DSD, zero views, wrong projections shape, newer format version, existing output', () => {
    const a = runCli(['simulate', phantom, '--protocol', 'ct-50', '--dso', '2000', '-o', path.join(dir, 'bad1')]);
    assert.equal(a.code, 2);
    assert.match(a.stderr, /DSO/);
    assert.ok(!existsSync(path.join(dir, 'bad1')));
    const b = runCli(['simulate', phantom, '--protocol', 'ct-50', '--views', '0', '-o', path.join(dir, 'bad2')]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /--views/);
    const ds = path.join(dir, 'occupied');
    mkdirSync(ds);
    writeFileSync(path.join(ds, 'keep.txt'), 'a file the user owns');
    const again = runCli(['simulate', phantom, '--protocol', 'ct-50', '--size', '16', '-o', ds]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /--overwrite/);
    assert.deepEqual(readdirSync(ds), ['keep.txt']);
    // a copy with a tampered shape and one with a newer version
    for (const [name, edit, pattern] of [
      ['shape', (m: Record<string, any>) => { m.projections.shape = [55, 48, 47]; }, /projections\.shape/],
      ['version', (m: Record<string, any>) => { m.formatVersion = 99; }, /formatVersion.*newer/],
      ['views', (m: Record<string, any>) => { m.anglesRad = []; }, /anglesRad/],
      ['dsd', (m: Record<string, any>) => { m.geometry.DSO = m.geometry.DSD + 1; }, /DSO/],
    ] as const) {
      const copy = path.join(dir, `tamper-${name}`);
      assert.equal(runCli(['simulate', phantom, '--protocol', 'ct-50', '--size', '16', '--detector', '16', '--test-views', '1', '-o', copy]).code, 0);
      const mp = path.join(copy, 'dataset.json');
      const m = JSON.parse(readFileSync(mp, 'utf8'));
      edit(m);
      writeFileSync(mp, JSON.stringify(m));
      const x = runCli(['recon', copy, '--method', 'fdk', '-o', path.join(dir, `t-${name}.nii.gz`)]);
      assert.equal(x.code, 1, x.stderr);
      assert.match(x.stderr, pattern);
      assert.ok(!existsSync(path.join(dir, `t-${name}.nii.gz`)));
    }
  });

  test('ct-50 on the real abdomen CT (64^3, few views) runs end to end', { skip: skipWithoutData('totalseg-ct/example_ct.nii.gz') }, async () => {
    const ds = path.join(dir, 'real');
    const r = runCli(['simulate', sharedData('totalseg-ct/example_ct.nii.gz'), '--protocol', 'ct-50', '--size', '48', '--detector', '64', '--views', '30', '--test-views', '4', '-o', ds, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const gt = await loadVolume(path.join(ds, 'gt.nii.gz'));
    assert.deepEqual(gt.volume.dims, [48, 48, 48]);
    const f = runCli(['recon', ds, '--method', 'fdk', '-o', path.join(dir, 'real-fdk.nii.gz'), '--json']);
    assert.equal(f.code, 0, f.stderr);
    assert.ok((f.json!.metrics as { psnr: number }).psnr > 15);
  });
});
