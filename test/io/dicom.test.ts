import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { dtypeOf, orientationCode, volumeStats, type Volume } from '../../src/core/volume.js';
import { listDicomSeries, loadDicomSeries, parseDicomHeader, readDicomSeries } from '../../src/platform/dicom.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';

const TOTALSEG = 'totalseg-ct/example_ct_dicom';
const PYDICOM = 'dicom-samples/pydicom';
const VSSEG = 'dicom-samples/vs-seg-001-t1-8slices';
const ENH = 'dicom-samples/niivue-enhanced-mr/enh.dcm';
const MR_VARIANTS = ['MR_small.dcm', 'MR_small_implicit.dcm', 'MR_small_bigendian.dcm', 'MR_small_RLE.dcm'];

const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol;
const tmp = () => mkdtempSync(path.join(tmpdir(), 'medfield-dicom-'));
const isError = (code: string, re?: RegExp) => (e: unknown) => e instanceof MedfieldError && e.code === code && (!re || re.test(e.message));

function assertSpacing(v: Volume, want: number[], tol = 1e-3): void {
  v.spacingMm.forEach((s, i) => assert.ok(near(s, want[i], tol), `spacing ${v.spacingMm}, want ${want}`));
}

describe('DICOM series of ../shared/data', () => {
  test('totalseg CT (JPEG 2000, overlapping slices): 512x512x20, 0.977 mm, z spacing 2 mm from positions, HU', { skip: skipWithoutData(TOTALSEG) }, async () => {
    const t0 = performance.now();
    const { volume: v, series } = await loadDicomSeries(sharedData(TOTALSEG));
    console.error(`totalseg CT series read: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    assert.deepEqual(v.dims, [512, 512, 20]);
    assertSpacing(v, [0.9765625, 0.9765625, 2], 1e-6); // SliceThickness is 3 mm: not used
    assert.equal(dtypeOf(v.data), 'int16');
    const st = volumeStats(v.data);
    assert.equal(st.min, -1024); // stored 0 + RescaleIntercept -1024
    assert.ok(near(st.max, 1839, 5), `max ${st.max}`);
    // LPS identity in the files -> RAS: x and y flipped; origin = first (lowest z) slice position.
    assert.equal(orientationCode(v.direction), 'LPS');
    assert.deepEqual(v.originMm.map((x) => +x.toFixed(4)), [249.5117, 437.5117, -804.5]);
    assert.equal(series.files.length, 20);
    assert.equal(series.modality, 'CT');
    assert.equal(series.seriesUid, ''); // anonymised: no SeriesInstanceUID in these files
    assert.deepEqual(series.transferSyntaxes, ['1.2.840.10008.1.2.4.90']);
  });

  test('pydicom CT_small: 128x128, 0.661 mm, HU = stored 128..2191 - 1024', { skip: skipWithoutData(PYDICOM) }, async () => {
    const v = await readDicomSeries(sharedData(PYDICOM, 'CT_small.dcm'));
    assert.deepEqual(v.dims, [128, 128, 1]);
    assertSpacing(v, [0.661468, 0.661468, 5], 1e-6); // z: SliceThickness, the only hint a single slice has
    const st = volumeStats(v.data);
    assert.equal(st.min, 128 - 1024);
    assert.equal(st.max, 2191 - 1024);
    assert.deepEqual(v.originMm.map((x) => +x.toFixed(4)), [158.1358, 179.0358, -75.7]);
  });

  test('pydicom MR_small in four transfer syntaxes: 64x64, 127..2145, identical pixels', { skip: skipWithoutData(PYDICOM) }, async () => {
    const vols = [];
    for (const f of MR_VARIANTS) vols.push(await readDicomSeries(sharedData(PYDICOM, f)));
    for (const [i, v] of vols.entries()) {
      assert.deepEqual(v.dims, [64, 64, 1], MR_VARIANTS[i]);
      const st = volumeStats(v.data);
      assert.equal(st.min, 127, MR_VARIANTS[i]);
      assert.equal(st.max, 2145, MR_VARIANTS[i]);
      assert.deepEqual(v.data, vols[0].data, `${MR_VARIANTS[i]} pixels differ from ${MR_VARIANTS[0]}`);
      assert.deepEqual(v.originMm, vols[0].originMm);
    }
  });

  test('Enhanced MR multi-frame file: 6 frames of 64x64 as one volume', { skip: skipWithoutData(ENH) }, async () => {
    const { volume: v, series } = await loadDicomSeries(sharedData(ENH));
    assert.deepEqual(v.dims, [64, 64, 6]);
    assert.equal(series.frames, 6);
    assert.equal(series.description, 'REST1 w SMS PF7-8');
    assert.equal(dtypeOf(v.data), 'uint16');
    const st = volumeStats(v.data);
    assert.equal(st.min, 0);
    assert.equal(st.max, 1195);
    assertSpacing(v, [3.375, 3.375, 2.4]);
  });

  test('vs-seg T1 (8 slices, implicit VR): 512x512x8, 0.410 mm, 1.5 mm slices from z -6.5 to +4.0', { skip: skipWithoutData(VSSEG) }, async () => {
    const v = await readDicomSeries(sharedData(VSSEG));
    assert.deepEqual(v.dims, [512, 512, 8]);
    assertSpacing(v, [0.41015625, 0.41015625, 1.5], 1e-6);
    assert.ok(near(v.originMm[2], -6.5, 0.01), `first slice z ${v.originMm[2]}`);
    assert.ok(near(v.originMm[2] + 7 * v.spacingMm[2] * v.direction[8], 4.0, 0.01), 'last slice z');
    assert.equal(dtypeOf(v.data), 'uint16');
    assert.ok(volumeStats(v.data).max > 500);
  });
});

describe('DICOM folders with several series', () => {
  const skip = skipWithoutData(TOTALSEG) || skipWithoutData(VSSEG);

  test('a mixed folder is refused with the series listed; a chosen series loads', { skip }, async () => {
    const dir = tmp();
    for (const src of [TOTALSEG, VSSEG]) {
      for (const f of readdirSync(sharedData(src))) symlinkSync(sharedData(src, f), path.join(dir, `${path.basename(src)}-${f}`));
    }
    writeFileSync(path.join(dir, 'notes.txt'), 'not a DICOM file\n'); // ignored
    const list = await listDicomSeries(dir);
    assert.equal(list.length, 2);
    const ct = list.find((s) => s.modality === 'CT'), mr = list.find((s) => s.modality === 'MR');
    assert.ok(ct && mr);
    assert.equal(ct.files.length, 20);
    assert.equal(mr.files.length, 8);
    assert.match(mr.seriesUid, /^1\.3\.6\.1\.4\.1\.14519\./);
    assert.match(ct.id, /^no-uid:/);
    await assert.rejects(readDicomSeries(dir), (e: unknown) => {
      assert.ok(e instanceof MedfieldError && e.code === 'bad-option');
      assert.equal(e.subject, dir);
      assert.ok(e.message.includes(mr.seriesUid) && e.message.includes(ct.id), e.message);
      assert.match(e.message, /2 DICOM series/);
      return true;
    });
    const v = await readDicomSeries(dir, { seriesUid: mr.seriesUid });
    assert.deepEqual(v.dims, [512, 512, 8]);
    await assert.rejects(readDicomSeries(dir, { seriesUid: '1.2.3' }), isError('bad-option', /no DICOM series "1\.2\.3"/));
  });

  test('repeated slice positions and missing slices are refused, not stacked', { skip: skipWithoutData(PYDICOM) || skipWithoutData(VSSEG) }, async () => {
    // The four MR_small files share a series UID and one position: not a volume.
    const mrUid = (await listDicomSeries(sharedData(PYDICOM))).find((s) => s.modality === 'MR')?.seriesUid ?? '';
    await assert.rejects(readDicomSeries(sharedData(PYDICOM), { seriesUid: mrUid }), isError('unsupported', /distinct slice positions/));
    const files = readdirSync(sharedData(VSSEG)).filter((f) => f !== '1-061.dcm').map((f) => sharedData(VSSEG, f));
    await assert.rejects(readDicomSeries(files), isError('unsupported', /uneven slice spacing/));
  });

  test('an empty folder or non-DICOM files give bad-file', async () => {
    const dir = tmp();
    await assert.rejects(readDicomSeries(dir), isError('bad-file', /no DICOM image/));
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'sub', 'x.dcm'), Buffer.alloc(1000, 7));
    await assert.rejects(readDicomSeries(dir), isError('bad-file', /no DICOM image/));
    await assert.rejects(readDicomSeries(path.join(dir, 'missing')), isError('bad-file', /not found/));
    assert.equal(parseDicomHeader(new Uint8Array(64), 'zeros'), null);
  });
});
