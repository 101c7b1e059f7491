import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MedfieldError } from '../../src/core/errors.js';
import { createVolume } from '../../src/core/volume.js';
import { DATASET_FORMAT_VERSION, formatDatasetJson, parseDatasetJson, type DatasetMeta } from '../../src/io/dataset.js';
import { encodeNpy } from '../../src/io/npy.js';
import { readDataset, writeDataset } from '../../src/platform/dataset.js';
import { gridVolume, viewFrame } from '../../src/geometry/index.js';
import { prepareGroundTruth, protocolAngles, protocolDefaults, protocolGeometry } from '../../src/physics/protocols.js';

const meta = (over: Partial<DatasetMeta> = {}): DatasetMeta => ({
  format: 'medfield-dataset', formatVersion: DATASET_FORMAT_VERSION, modality: 'xray', protocol: 'test',
  geometry: { mode: 'cone', DSD: 1500, DSO: 1000, nDetector: [4, 3], dDetector: [1, 1], offDetector: [0, 0], nVoxel: [2, 2, 2], dVoxel: [1, 1, 1], offOrigin: [0, 0, 0] },
  anglesRad: [0, 1], splits: { train: [0], test: [1] },
  projections: { file: 'projections.npy', shape: [2, 3, 4], quantity: 'line-integral', units: 'dimensionless' },
  groundTruth: { file: 'gt.nii.gz', units: '1/mm' },
  ...over,
});
const throwsNaming = (f: () => unknown, re: RegExp): void => {
  assert.throws(f, (e: unknown) => e instanceof MedfieldError && re.test(e.message), String(re));
};

test('dataset.json: one clear error per fault, naming the field', () => {
  const ok = formatDatasetJson(meta());
  parseDatasetJson(ok);
  throwsNaming(() => parseDatasetJson(ok.replace(`"formatVersion": ${DATASET_FORMAT_VERSION}`, '"formatVersion": 99')), /formatVersion.*newer/);
  throwsNaming(() => parseDatasetJson(JSON.stringify({ ...meta(), extra: 1 })), /dataset\.json: \(root\) extra/);
  throwsNaming(() => parseDatasetJson(JSON.stringify(meta({ projections: { ...meta().projections, shape: [2, 4, 3] } }))), /projections\.shape.*\[2, 3, 4\]/);
  throwsNaming(() => parseDatasetJson(JSON.stringify(meta({ splits: { train: [0, 2], test: [] } }))), /splits\.train.*index 2/);
  throwsNaming(() => parseDatasetJson(JSON.stringify(meta({ geometry: { ...meta().geometry, DSO: 1600 } }))), /geometry\.DSO/);
  throwsNaming(() => parseDatasetJson(JSON.stringify(meta({ anglesRad: [] }))), /anglesRad/);
  throwsNaming(() => parseDatasetJson('{nope'), /not valid JSON/);
});

test('dataset folder: round trip, atomic refusal to clobber, shape check on read', async () => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'mf-ds-'));
  try {
    const dir = path.join(root, 'ds');
    const projections = Float32Array.from({ length: 24 }, (_, i) => i / 7);
    const gt = gridVolume(meta().geometry, Float32Array.from({ length: 8 }, (_, i) => i));
    await writeDataset(dir, { meta: meta(), projections, groundTruth: gt, extraFiles: { 'views/a.txt': 'x' } });
    const back = await readDataset(dir, { loadGroundTruth: true });
    assert.deepEqual(Array.from(back.projections), Array.from(projections));
    assert.deepEqual(Array.from(back.groundTruth!.data), Array.from(gt.data));
    assert.deepEqual(back.groundTruth!.originMm, [-0.5, -0.5, -0.5]);
    assert.equal(await fsp.readFile(path.join(dir, 'views/a.txt'), 'utf8'), 'x');
    await assert.rejects(writeDataset(dir, { meta: meta(), projections, groundTruth: gt }), /not empty.*--overwrite/);
    await writeDataset(dir, { meta: meta({ protocol: 'again' }), projections, groundTruth: gt }, { overwrite: true });
    assert.equal((await readDataset(dir)).meta.protocol, 'again');
    assert.deepEqual((await fsp.readdir(root)).sort(), ['ds']); // no temp folders left behind
    await fsp.writeFile(path.join(dir, 'projections.npy'), encodeNpy({ data: new Float32Array(24), shape: [2, 4, 3] }));
    await assert.rejects(readDataset(dir), /projections shape \(2, 4, 3\) does not match/);
    await assert.rejects(writeDataset(path.join(root, 'd2'), { meta: meta(), projections: new Float32Array(5), groundTruth: gt }), /expected 2x3x4/);
    assert.deepEqual((await fsp.readdir(root)).sort(), ['ds']);
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
});

test('protocol angles and splits', () => {
  const ct = protocolAngles(protocolDefaults('ct-50'));
  assert.equal(ct.anglesRad.length, 100);
  assert.equal(ct.train.length, 50);
  assert.equal(ct.test.length, 50);
  assert.ok(Math.abs(ct.anglesRad[1]! - Math.PI / 50) < 1e-15);
  for (const i of ct.test) assert.ok(ct.anglesRad[i]! >= 0 && ct.anglesRad[i]! < Math.PI);
  const v = protocolAngles(protocolDefaults('views-72'));
  assert.equal(v.train.length, 15);
  assert.equal(v.test.length, 57);
  assert.ok(Math.abs(v.anglesRad[1]! - (5 * Math.PI) / 180) < 1e-15);
  const c25 = protocolAngles(protocolDefaults('ct-25-360'));
  assert.ok(Math.abs(c25.anglesRad[24]! - (24 * 2 * Math.PI) / 25) < 1e-12);
  assert.equal(c25.test.length, 100);
});

test('ground truth: HU -> mu -> [0,1] on a cube covering the input; detector covers the grid', () => {
  const hu = createVolume([10, 6, 4], { data: new Float32Array(10 * 6 * 4).fill(-1000), spacingMm: [2, 2, 2], originMm: [10, 20, 30] });
  hu.data[5 + 10 * (3 + 6 * 2)] = 1000; // one bone-ish voxel: mu = 2 mu_water
  const p = { ...protocolDefaults('ct-50'), size: 16 };
  const { gt, grid, info } = prepareGroundTruth(hu, p);
  assert.equal(info.intensity, 'hu');
  assert.equal(info.cubeSideMm, 20);
  assert.deepEqual(grid.offOrigin, [10 - 1 + 10, 20 - 1 + 6, 30 - 1 + 4]);
  let mx = 0, mn = Infinity;
  for (const x of gt.data) { mx = Math.max(mx, x); mn = Math.min(mn, x); }
  assert.ok(Math.abs(mx - 1) < 1e-6 && mn === 0);
  const geo = protocolGeometry(p, grid);
  // every grid corner projects inside the detector at several angles
  for (const angle of [0, 0.7, 2]) {
    const f = viewFrame(geo, angle);
    for (let c = 0; c < 8; c++) {
      const q = [0, 1, 2].map((a) => grid.offOrigin[a]! + ((c >> a) & 1 ? 1 : -1) * grid.nVoxel[a]! * grid.dVoxel[a]! / 2);
      const d = [q[0]! - f[0]!, q[1]! - f[1]!, q[2]! - f[2]!];
      const n = [f[0]! - f[3]!, f[1]! - f[4]!, f[2]! - f[5]!];
      const nn = Math.hypot(n[0]!, n[1]!, n[2]!);
      const dn = -(d[0]! * n[0]! + d[1]! * n[1]! + d[2]! * n[2]!) / nn; // distance along the axis towards the detector
      const t = geo.DSD / dn;
      const hit = [f[0]! + t * d[0]! - f[3]!, f[1]! + t * d[1]! - f[4]!, f[2]! + t * d[2]! - f[5]!];
      const u = hit[0]! * f[6]! + hit[1]! * f[7]! + hit[2]! * f[8]!;
      const v = hit[0]! * f[9]! + hit[1]! * f[10]! + hit[2]! * f[11]!;
      assert.ok(Math.abs(u) < (geo.nDetector[0] * geo.dDetector[0]) / 2 && Math.abs(v) < (geo.nDetector[1] * geo.dDetector[1]) / 2);
    }
  }
});
