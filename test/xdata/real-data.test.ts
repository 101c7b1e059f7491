import { test } from 'node:test';
import { matFixtures } from '../helpers/mat-fixtures.js';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { loadHtcFanbeam, loadToothParallel, type ToothParallelData } from '../../src/platform/xray-data.js';
import { MedfieldError } from '../../src/core/errors.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';
import { fbpParallelRow } from '../helpers/xdata-fbp.js';
import { XDATA_READ_ABS } from '../tolerances.js';

const HTC = ['xray-htc2022-fanbeam', 'htc2022_ta_sparse_example.mat'] as const;
const TOOTH = ['xray-tomopy-tooth', 'tooth.h5'] as const;

test('HTC2022 .mat (written by MATLAB): sinogram, angles and fan-beam geometry', { skip: skipWithoutData(...HTC) }, async () => {
  const d = await loadHtcFanbeam(sharedData(...HTC));
  assert.deepEqual(d.shape, { views: 121, rows: 1, cols: 560 });
  assert.equal(d.sinogram.length, 121 * 560);
  // values read by scipy.io.loadmat: sinogram[0, :3] and sinogram[120, 559]
  const ref = [0.00703797, 0.00653538, 0.00459431];
  ref.forEach((v, i) => assert.ok(Math.abs(d.sinogram[i]! - v) < 1e-7, `sinogram[0,${i}] = ${d.sinogram[i]}`));
  assert.ok(Math.abs(d.sinogram[120 * 560 + 559]! - 0.011629289) < XDATA_READ_ABS);
  // README: values from -0.0033 to 2.18 (line integrals, already -log)
  let mn = Infinity, mx = -Infinity, neg = 0;
  for (const v of d.sinogram) { assert.ok(Number.isFinite(v)); mn = Math.min(mn, v); mx = Math.max(mx, v); if (v < 0) neg++; }
  assert.ok(Math.abs(mn - -0.0033) < 1e-3 && Math.abs(mx - 2.18) < 1e-2, `range ${mn}..${mx}`);
  assert.ok(neg / d.sinogram.length < 0.01, `negative fraction ${neg / d.sinogram.length}`);
  // angles 0..60 deg in 0.5 deg steps
  assert.equal(d.anglesRad.length, 121);
  for (let i = 0; i < 121; i++) assert.ok(Math.abs(d.anglesRad[i]! - (i * 0.5 * Math.PI) / 180) < 1e-12);
  const g = d.geometry;
  assert.equal(g.mode, 'cone');
  assert.equal(g.DSO, 410.66);
  assert.equal(g.DSD, 553.74);
  assert.deepEqual(g.nDetector, [560, 1]);
  assert.deepEqual(g.dDetector, [0.2, 0.2]);
  assert.deepEqual(g.nVoxel, [512, 512, 1]);
  // effective pixel = detector pixel / magnification DSD/DSO
  assert.ok(Math.abs(g.dVoxel[0] - (0.2 * 410.66) / 553.74) < 1e-6);
  assert.ok(Math.abs((d.parameters.geometricMagnification as number) - 553.74 / 410.66) < 1e-6);
  assert.equal(d.parameters.geometryType, 'Cone');
  // the disc (70 mm, README) must fit the 512-voxel grid and its shadow the detector: the tangent
  // rays of the shadow's outer edges give its radius R = DSO sin(atan(|u| / DSD)).
  assert.ok(g.nVoxel[0] * g.dVoxel[0] > 70);
  const row = d.sinogram.subarray(0, 560);
  const thr = 0.1 * Math.max(...row);
  let l = 0; while (row[l]! < thr) l++;
  let r = 559; while (row[r]! < thr) r--;
  const radius = (col: number) => g.DSO * Math.sin(Math.atan((Math.abs(col - 279.5) * g.dDetector[0]) / g.DSD));
  const diameter = radius(l) + radius(r);
  assert.ok(Math.abs(diameter - 70) < 2, `disc diameter from the shadow: ${diameter.toFixed(2)} mm`);
});

let tooth: Promise<ToothParallelData> | undefined;
const loadTooth = () => (tooth ??= loadToothParallel(sharedData(...TOOTH)));

test('tooth.h5 (TomoPy Data Exchange): flat/dark-corrected line integrals and parallel geometry', { skip: skipWithoutData(...TOOTH) }, async () => {
  const d = await loadTooth();
  assert.deepEqual(d.shape, { views: 181, rows: 2, cols: 640 });
  assert.equal(d.flatFrames, 10);
  assert.equal(d.darkFrames, 10);
  assert.equal(d.lineIntegrals.length, 181 * 2 * 640);
  let neg = 0, bigNeg = 0, mx = -Infinity;
  for (const v of d.lineIntegrals) {
    assert.ok(Number.isFinite(v));
    if (v < 0) neg++;
    if (v < -0.2) bigNeg++;
    mx = Math.max(mx, v);
  }
  // negatives are only noise in air (about 1/8 of the pixels, all small); the tooth reaches ~2
  assert.ok(neg / d.lineIntegrals.length < 0.25, `negative fraction ${neg / d.lineIntegrals.length}`);
  assert.equal(bigNeg, 0);
  assert.ok(mx > 1.5 && mx < 3, `max line integral ${mx}`);
  // theta: 181 angles over [0, 180) deg, stored in degrees
  assert.equal(d.anglesRad.length, 181);
  assert.equal(d.anglesRad[0], 0);
  assert.ok(Math.abs(d.anglesRad[180]! - (179.00552486187846 * Math.PI) / 180) < 1e-12);
  const g = d.geometry;
  assert.equal(g.mode, 'parallel');
  assert.deepEqual(g.nDetector, [640, 2]);
  assert.deepEqual(g.dDetector, [1, 1]);
  assert.deepEqual(g.nVoxel, [640, 640, 2]);
  // axis: centre-of-mass fit and the 0/179-degree mirror agree within a pixel, ~24 px left of centre
  assert.ok(Math.abs(d.rotationCentre.axisColumn - 296) < 1.5, `axis column ${d.rotationCentre.axisColumn}`);
  assert.ok(d.mirroredAxisColumn !== null && Math.abs(d.mirroredAxisColumn - d.rotationCentre.axisColumn) < 1);
  assert.ok(d.rotationCentre.residualRmsPx < 0.5);
  assert.equal(g.offDetector[0], 319.5 - d.rotationCentre.axisColumn);
});

test('tooth FBP is sharpest (least negative mass) at the estimated offDetector', { skip: skipWithoutData(...TOOTH) }, async () => {
  const d = await loadTooth();
  // A wrong axis by s pixels turns every point into a half-ring of radius s with negative side
  // lobes; the negative mass of the FBP is smallest at the right axis (and the sign of
  // offDetector is checked: the opposite sign is ~47 px off).
  const negativeMass = (offU: number): number => {
    const img = fbpParallelRow(d.lineIntegrals, { ...d.geometry, offDetector: [offU, 0] }, d.anglesRad, 0, 320, 1);
    let s = 0;
    for (const v of img) if (v < 0) s -= v;
    return s;
  };
  const best = d.geometry.offDetector[0];
  const at = negativeMass(best);
  for (const delta of [-2, 2]) assert.ok(at < negativeMass(best + delta), `offDetector ${best} vs ${best + delta}`);
  assert.ok(at < 0.5 * negativeMass(-best), 'the opposite sign of offDetector must be far worse');
});

test('loaders: missing and wrong files give one clear error naming the file', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'xdata-'));
  try {
    const bad = path.join(dir, 'not-hdf5.h5');
    writeFileSync(bad, 'hello, not an HDF5 file');
    await assert.rejects(loadToothParallel(bad), (e: unknown) => e instanceof MedfieldError && e.message.startsWith(bad) && /HDF5/.test(e.message));
    await assert.rejects(loadToothParallel(path.join(dir, 'none.h5')), (e: unknown) => e instanceof MedfieldError && /file not found/.test(e.message));
    await assert.rejects(loadHtcFanbeam(path.join(dir, 'none.mat')), (e: unknown) => e instanceof MedfieldError && /file not found/.test(e.message));
    await assert.rejects(loadHtcFanbeam(bad), (e: unknown) => e instanceof MedfieldError && e.message.startsWith(bad));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadHtcFanbeam: a .mat without the HTC struct names what it expected', { skip: matFixtures().dir ? false : matFixtures().reason }, async () => {
  const file = path.join(matFixtures().dir!, 'v5-plain.mat');
  await assert.rejects(loadHtcFanbeam(file), (e: unknown) => e instanceof MedfieldError && /'sinogram' and 'parameters'/.test(e.message));
});
