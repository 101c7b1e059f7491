import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, readdirSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';
import { DICOM_EXPECTATIONS, NIFTI_EXPECTATIONS } from '../helpers/expectations.js';

describe('medfield info --json on every image file of ../shared/data matches its README', () => {
  for (const e of NIFTI_EXPECTATIONS) {
    test(e.file, { skip: skipWithoutData(e.file) }, () => {
      const r = runCli(['info', sharedData(e.file), '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = r.json as { dims: number[]; frames: number; spacingMm: number[]; dtype: string; min: number; max: number; orientation: string };
      assert.deepEqual(j.dims, e.dims);
      assert.equal(j.frames, e.frames ?? 1);
      j.spacingMm.forEach((s, i) => assert.ok(Math.abs(s - e.spacing[i]) < 5e-4, `spacing ${j.spacingMm}`));
      assert.equal(j.dtype, e.dtype);
      assert.ok(Math.abs(j.min - e.min) < 0.01 && Math.abs(j.max - e.max) < 0.01, `range ${j.min}..${j.max}`);
      assert.equal(j.orientation, e.orient);
    });
  }
  for (const e of DICOM_EXPECTATIONS) {
    test(e.path, { skip: skipWithoutData(e.path) }, () => {
      const r = runCli(['info', sharedData(e.path), '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = r.json as { dims: number[]; spacingMm: number[]; min: number; max: number; format: string };
      assert.equal(j.format, 'dicom');
      assert.deepEqual(j.dims, e.dims);
      e.spacing.forEach((s, i) => { if (!Number.isNaN(s)) assert.ok(Math.abs(j.spacingMm[i] - s) < 1e-3, `spacing ${j.spacingMm}`); });
      if (!Number.isNaN(e.min)) assert.equal(j.min, e.min);
      if (!Number.isNaN(e.max)) assert.equal(j.max, e.max);
    });
  }

  test('a DICOM folder with two series is refused with the list of series', { skip: skipWithoutData('dicom-samples') }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'medfield-mixed-'));
    const mixed = path.join(dir, 'mixed');
    mkdirSync(mixed);
    const vs = sharedData('dicom-samples/vs-seg-001-t1-8slices');
    for (const f of readdirSync(vs)) symlinkSync(path.join(vs, f), path.join(mixed, f));
    symlinkSync(sharedData('dicom-samples/pydicom/CT_small.dcm'), path.join(mixed, 'ct.dcm'));
    const r = runCli(['convert', mixed, path.join(dir, 'out.nii.gz')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /mixed/);
    assert.match(r.stderr, /series/i);
    assert.deepEqual(readdirSync(dir), ['mixed'], 'no output written');
  });
});
