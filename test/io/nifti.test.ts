import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createVolume, dtypeOf, orientationCode, volumeStats, type Volume } from '../../src/core/volume.js';
import { decodeNifti, encodeNifti, rotationToQuatern, quaternToRotation } from '../../src/io/nifti.js';
import { loadVolume, writeVolume } from '../../src/platform/volume-io.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';
import { NIFTI_EXPECTATIONS } from '../helpers/expectations.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'medfield-nifti-'));

describe('NIfTI on the real files of ../shared/data', () => {
  for (const e of NIFTI_EXPECTATIONS) {
    test(e.file, { skip: skipWithoutData(e.file) }, async () => {
      const { volume, details } = await loadVolume(sharedData(e.file));
      assert.deepEqual(volume.dims, e.dims);
      assert.equal('frames' in volume ? volume.frames : 1, e.frames ?? 1);
      volume.spacingMm.forEach((s, i) => assert.ok(Math.abs(s - e.spacing[i]) < 5e-4, `spacing ${volume.spacingMm} vs ${e.spacing}`));
      assert.equal(dtypeOf(volume.data), e.dtype);
      const st = volumeStats(volume.data);
      assert.ok(Math.abs(st.min - e.min) < 0.01, `min ${st.min} vs ${e.min}`);
      assert.ok(Math.abs(st.max - e.max) < 0.01, `max ${st.max} vs ${e.max}`);
      assert.equal(orientationCode(volume.direction), e.orient);
      assert.ok(details.geometrySource === 'sform' || details.geometrySource === 'qform');
      // Round trip through our writer is bit-exact in data and geometry.
      const back = decodeNifti(encodeNifti(volume)).volume;
      assert.deepEqual(back.dims, volume.dims);
      assert.deepEqual(back.spacingMm, volume.spacingMm);
      assert.deepEqual(back.originMm, volume.originMm);
      assert.deepEqual(Array.from(back.direction), Array.from(volume.direction));
      assert.equal(dtypeOf(back.data), dtypeOf(volume.data));
      assert.ok(Buffer.from(back.data.buffer).equals(Buffer.from(volume.data.buffer)), 'data differs after round trip');
    });
  }

  test('tumour labels of the TCGA segmentation', { skip: skipWithoutData('tcga-fg-6692-brainles/seg_fusion_simple.nii.gz') }, async () => {
    const { volume } = await loadVolume(sharedData('tcga-fg-6692-brainles/seg_fusion_simple.nii.gz'));
    const counts = new Map<number, number>();
    for (const v of volume.data) counts.set(v, (counts.get(v) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [0, 1, 2, 4]);
    assert.equal(counts.get(1), 2477);
    assert.equal(counts.get(2), 20862);
    assert.equal(counts.get(4), 6840);
  });
});

function rotated(): Volume<Float32Array> {
  // 20 deg about z then 10 deg about x, with a reflection of the last axis (det < 0).
  const a = (20 * Math.PI) / 180, b = (10 * Math.PI) / 180;
  const rz = [Math.cos(a), -Math.sin(a), 0, Math.sin(a), Math.cos(a), 0, 0, 0, 1];
  const rx = [1, 0, 0, 0, Math.cos(b), -Math.sin(b), 0, Math.sin(b), Math.cos(b)];
  const d = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) d[r * 3 + c] += rz[r * 3 + k] * rx[k * 3 + c];
  for (let r = 0; r < 3; r++) d[r * 3 + 2] *= -1;
  const v = createVolume([7, 5, 4], { spacingMm: [0.7, 1.3, 2.5], originMm: [-12.25, 33.5, 7.125], direction: d });
  for (let i = 0; i < v.data.length; i++) v.data[i] = Math.sin(i) * 100;
  return v;
}

describe('NIfTI codec', () => {
  test('quaternion <-> rotation round trip, including reflections', () => {
    const d = rotated().direction;
    const q = rotationToQuatern(d);
    assert.ok(q);
    assert.equal(q.qfac, -1);
    const R = quaternToRotation(q.b, q.c, q.d);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
      const expect = d[r * 3 + c] * (c === 2 ? q.qfac : 1);
      assert.ok(Math.abs(R[r * 3 + c] - expect) < 1e-12);
    }
    assert.equal(rotationToQuatern([1, 0.3, 0, 0, 1, 0, 0, 0, 1]), null, 'sheared matrix has no quaternion');
  });

  test('qform-only file gives the same geometry as the sform', () => {
    const v = rotated();
    const bytes = encodeNifti(v);
    const dv = new DataView(bytes.buffer);
    dv.setInt16(254, 0, true); // sform_code = 0 -> the reader must use the qform
    const { volume, header } = decodeNifti(bytes);
    assert.equal(header.geometrySource, 'qform');
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(volume.spacingMm[i] - v.spacingMm[i]) < 1e-5);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(volume.originMm[i] - v.originMm[i]) < 1e-4);
    for (let i = 0; i < 9; i++) assert.ok(Math.abs(volume.direction[i] - v.direction[i]) < 1e-6, `direction ${i}`);
  });

  test('NIfTI-2 keeps float64 geometry bit-exact', () => {
    const v = rotated();
    const f64 = createVolume(v.dims, { data: Float64Array.from(v.data), spacingMm: v.spacingMm, originMm: v.originMm, direction: v.direction });
    const { volume, header } = decodeNifti(encodeNifti(f64, { version: 2 }));
    assert.equal(header.version, 2);
    assert.deepEqual(volume.originMm, v.originMm);
    assert.ok(volume.spacingMm.every((s, i) => Math.abs(s - v.spacingMm[i]) < 1e-14));
    assert.ok(Array.from(volume.direction).every((d, i) => Math.abs(d - v.direction[i]) < 1e-15));
    assert.deepEqual(Array.from(volume.data), Array.from(f64.data));
  });

  test('NIfTI-1 round trip of every dtype is bit-exact', () => {
    const ctors = [Float32Array, Float64Array, Int8Array, Uint8Array, Int16Array, Uint16Array, Int32Array, Uint32Array];
    for (const C of ctors) {
      const data = new C(60);
      for (let i = 0; i < 60; i++) data[i] = (i * 37) % 120;
      const v = createVolume([5, 4, 3], { data, spacingMm: [0.5, 0.25, 2], originMm: [1.5, -2.25, 3] });
      const back = decodeNifti(encodeNifti(v)).volume;
      assert.equal(back.data.constructor, C);
      assert.deepEqual(Array.from(back.data), Array.from(data));
      assert.deepEqual(back.spacingMm, v.spacingMm);
      assert.deepEqual(back.originMm, v.originMm);
    }
  });

  test('scl_slope / scl_inter are applied', () => {
    const v = createVolume([3, 2, 1], { data: new Int16Array([0, 1, 2, 3, 4, 5]) });
    const bytes = encodeNifti(v);
    new DataView(bytes.buffer).setFloat32(112, 2.5, true);
    new DataView(bytes.buffer).setFloat32(116, -1, true);
    const out = decodeNifti(bytes).volume;
    assert.ok(out.data instanceof Float32Array);
    assert.deepEqual(Array.from(out.data), [-1, 1.5, 4, 6.5, 9, 11.5]);
  });

  test('big-endian files are read', () => {
    const v = createVolume([2, 2, 2], { data: new Int16Array([1, -2, 300, 4, 5, 6, 7, 8]), spacingMm: [2, 3, 4] });
    const le = encodeNifti(v);
    const be = new Uint8Array(le);
    const dv = new DataView(le.buffer), bv = new DataView(be.buffer);
    bv.setInt32(0, 348, false);
    for (let i = 0; i < 8; i++) { bv.setInt16(40 + 2 * i, dv.getInt16(40 + 2 * i, true), false); bv.setFloat32(76 + 4 * i, dv.getFloat32(76 + 4 * i, true), false); }
    for (const o of [70, 72, 252, 254]) bv.setInt16(o, dv.getInt16(o, true), false);
    for (const o of [108, 112, 116, 256, 260, 264, 268, 272, 276]) bv.setFloat32(o, dv.getFloat32(o, true), false);
    for (let i = 0; i < 12; i++) bv.setFloat32(280 + 4 * i, dv.getFloat32(280 + 4 * i, true), false);
    for (let i = 0; i < 8; i++) bv.setInt16(352 + 2 * i, dv.getInt16(352 + 2 * i, true), false);
    const out = decodeNifti(be).volume;
    assert.deepEqual(Array.from(out.data), [1, -2, 300, 4, 5, 6, 7, 8]);
    assert.deepEqual(out.spacingMm, [2, 3, 4]);
  });

  test('4-D series round trip', async () => {
    const data = new Float32Array(2 * 3 * 4 * 5).map((_, i) => i);
    const series = { ...createVolume([2, 3, 4], { spacingMm: [1, 2, 3] }), data, frames: 5, frameSpacing: 2.5 };
    const dir = tmp();
    await writeVolume(path.join(dir, 's.nii.gz'), series);
    const { volume } = await loadVolume(path.join(dir, 's.nii.gz'));
    assert.ok('frames' in volume);
    assert.equal(volume.frames, 5);
    assert.equal(volume.frameSpacing, 2.5);
    assert.deepEqual(Array.from(volume.data), Array.from(data));
  });
});

function expectBadFile(fn: () => Promise<unknown>, file: string, pattern: RegExp) {
  return assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof MedfieldError, `expected MedfieldError, got ${String(e)}`);
    assert.ok(e.message.includes(file), `message "${e.message}" should name ${file}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe('NIfTI bad input', () => {
  const good = encodeNifti(createVolume([8, 8, 8], { data: new Float32Array(512).fill(1) }));

  test('truncated .nii.gz', async () => {
    const dir = tmp(), f = path.join(dir, 'trunc.nii.gz');
    const gz = gzipSync(good);
    writeFileSync(f, gz.subarray(0, gz.length >> 1));
    await expectBadFile(() => loadVolume(f), f, /truncated|corrupt/);
  });

  test('truncated .nii data', async () => {
    const dir = tmp(), f = path.join(dir, 'trunc.nii');
    writeFileSync(f, good.subarray(0, 1000));
    await expectBadFile(() => loadVolume(f), f, /truncated/);
  });

  for (const [label, value] of [['negative', -4], ['zero', 0]] as const) {
    test(`${label} dimension`, async () => {
      const dir = tmp(), f = path.join(dir, 'dims.nii');
      const b = new Uint8Array(good);
      new DataView(b.buffer).setInt16(42, value, true);
      writeFileSync(f, b);
      await expectBadFile(() => loadVolume(f), f, /dim\[1\].*expected a positive size/);
    });
  }

  test('more than 2^31 voxels', async () => {
    const dir = tmp(), f = path.join(dir, 'huge.nii');
    const b = new Uint8Array(good);
    const dv = new DataView(b.buffer);
    dv.setInt16(42, 32767, true); dv.setInt16(44, 32767, true); dv.setInt16(46, 32767, true);
    writeFileSync(f, b);
    await expectBadFile(() => loadVolume(f), f, /more than the limit/);
  });

  test('not a NIfTI', async () => {
    const dir = tmp(), f = path.join(dir, 'junk.nii');
    writeFileSync(f, Buffer.alloc(400, 7));
    await expectBadFile(() => loadVolume(f), f, /not a NIfTI/);
  });

  test('unknown extension and missing file', async () => {
    await expectBadFile(() => loadVolume('/nonexistent/x.foo'), '/nonexistent/x.foo', /unknown file extension/);
    await expectBadFile(() => loadVolume('/nonexistent/x.nii.gz'), '/nonexistent/x.nii.gz', /not found/);
  });

  test('unwritable output path leaves nothing behind', async () => {
    const v = createVolume([4, 4, 4]);
    await assert.rejects(() => writeVolume('/nonexistent-dir/out.nii.gz', v), /does not exist/);
    const dir = tmp();
    chmodSync(dir, 0o500);
    const f = path.join(dir, 'out.nii.gz');
    if (process.getuid?.() !== 0) {
      await assert.rejects(() => writeVolume(f, v), /not writable/);
    }
    chmodSync(dir, 0o700);
    await assert.rejects(() => writeVolume(path.join(dir, 'out.xyz'), v), /cannot write this extension/);
    await writeVolume(f, v);
    assert.deepEqual(readdirSync(dir), ['out.nii.gz'], 'only the final file, no temp files');
    assert.ok(existsSync(f));
    assert.ok(gunzipSync(readFileSync(f)).length === 352 + 64 * 4);
  });
});

describe('NIfTI written by medfield, read by ITK', () => {
  test('ITK sees the same geometry and data (sform/qform consistent)', async () => {
    const { readItkVolume } = await import('../../src/platform/itk-io.js');
    const v = rotated();
    const dir = tmp();
    for (const name of ['r.nii', 'r.nii.gz']) {
      const f = path.join(dir, name);
      await writeVolume(f, v);
      const itk = await readItkVolume(f);
      assert.deepEqual(itk.dims, v.dims);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(itk.spacingMm[i] - v.spacingMm[i]) < 1e-5, `spacing ${itk.spacingMm}`);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(itk.originMm[i] - v.originMm[i]) < 1e-4, `origin ${itk.originMm}`);
      for (let i = 0; i < 9; i++) assert.ok(Math.abs(itk.direction[i] - v.direction[i]) < 1e-5, `direction ${Array.from(itk.direction)}`);
      assert.deepEqual(Array.from(itk.data), Array.from(v.data));
    }
  });
});
