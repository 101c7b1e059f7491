import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createVolume, dtypeOf, orientationCode, volumeStats, type Vec3, type Volume, type VolumeSeries, type VoxelArray } from '../../src/core/volume.js';
import { itkImageToVolume, volumeToItkImage } from '../../src/io/itk-image.js';
import { readItkVolume, writeItkVolume } from '../../src/platform/itk-io.js';
import { REPO_ROOT, sharedData, skipWithoutData } from '../helpers/data.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'medfield-itk-'));

/** Row-major rotation about unit axis u by angle a (Rodrigues). */
function rotation(u: Vec3, a: number): Float64Array {
  const n = Math.hypot(...u), [x, y, z] = u.map((c) => c / n), c = Math.cos(a), s = Math.sin(a), t = 1 - c;
  return new Float64Array([t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c]);
}

function makeVolume<T extends VoxelArray>(data: T, dims: Vec3 = [7, 5, 4]): Volume<T> {
  for (let i = 0; i < data.length; i++) data[i] = ((i * 37) % 251) - (data instanceof Uint8Array ? 0 : 100) + (data instanceof Float32Array ? 0.123 : 0);
  return createVolume(dims, { data, spacingMm: [0.7, 1.3, 2.9], originMm: [-12.5, 33.25, 7.125], direction: rotation([1, -2, 0.5], 0.4) });
}

function assertGeometry(a: Volume, b: Volume, tol = 1e-6): void {
  assert.deepEqual(a.dims, b.dims);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(a.spacingMm[i] - b.spacingMm[i]) <= tol, `spacing ${a.spacingMm} vs ${b.spacingMm}`);
    assert.ok(Math.abs(a.originMm[i] - b.originMm[i]) <= tol, `origin ${a.originMm} vs ${b.originMm}`);
  }
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(a.direction[i] - b.direction[i]) <= tol, `direction ${Array.from(a.direction)} vs ${Array.from(b.direction)}`);
}

describe('ITK image <-> Volume', () => {
  test('conversion flips x and y (RAS <-> LPS) and keeps the row-major direction layout', () => {
    const v = makeVolume(new Int16Array(140));
    const img = volumeToItkImage(v);
    assert.deepEqual(img.origin, [12.5, -33.25, 7.125]);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
      assert.equal(img.direction[r * 3 + c], (r < 2 ? -1 : 1) * v.direction[r * 3 + c]);
    }
    const back = itkImageToVolume(img);
    assertGeometry(back, v, 0);
    assert.deepEqual(back.data, v.data);
  });

  test('multi-component and 64-bit images are refused clearly', () => {
    const img = volumeToItkImage(makeVolume(new Float32Array(140)));
    assert.throws(() => itkImageToVolume({ ...img, imageType: { ...img.imageType, components: 3, pixelType: 'RGB' } }, 'rgb.nrrd'),
      (e: unknown) => e instanceof MedfieldError && e.code === 'unsupported' && /3 components/.test(e.message));
    assert.throws(() => itkImageToVolume({ ...img, imageType: { ...img.imageType, componentType: 'int64' } }, 'i64.nrrd'),
      (e: unknown) => e instanceof MedfieldError && e.code === 'unsupported');
  });

  test('2-D image becomes a volume with nz = 1', () => {
    const img = volumeToItkImage(createVolume([4, 3, 1], { data: new Uint8Array(12) }));
    const twoD = { ...img, imageType: { ...img.imageType, dimension: 2 }, size: [4, 3], spacing: [0.5, 0.25], origin: [1, 2], direction: new Float64Array([1, 0, 0, 1]) };
    const v = itkImageToVolume(twoD);
    assert.deepEqual(v.dims, [4, 3, 1]);
    assert.deepEqual(v.spacingMm, [0.5, 0.25, 1]);
    assert.deepEqual(v.originMm, [-1, -2, 0]);
  });
});

describe('NRRD / MetaImage round trips through ITK', () => {
  const kinds = [['float32', () => new Float32Array(140)], ['int16', () => new Int16Array(140)], ['uint8', () => new Uint8Array(140)]] as const;
  for (const ext of ['.nrrd', '.mha']) {
    for (const [name, make] of kinds) {
      test(`${ext} ${name}: data bit-exact, geometry to 1e-6`, async () => {
        const dir = tmp();
        const v = makeVolume(make());
        const file = path.join(dir, `v${ext}`);
        await writeItkVolume(file, v);
        const back = await readItkVolume(file);
        assert.equal(dtypeOf(back.data), name);
        assert.deepEqual(back.data, v.data);
        assertGeometry(back, v);
        assert.deepEqual(readdirSync(dir), [`v${ext}`]);
      });
    }
  }

  test('uncompressed NRRD header: LPS space, space directions = axis vectors (columns of the direction)', async () => {
    const dir = tmp();
    const v = makeVolume(new Float32Array(140));
    const file = path.join(dir, 'plain.nrrd');
    await writeItkVolume(file, v, { compress: false });
    const text = readFileSync(file).subarray(0, 2000).toString('latin1');
    assert.match(text, /^space: left-posterior-superior$/m);
    assert.match(text, /^encoding: raw$/m);
    const dirs = /^space directions: (.*)$/m.exec(text)?.[1].match(/\(([^)]*)\)/g)?.map((s) => s.slice(1, -1).split(',').map(Number));
    assert.ok(dirs && dirs.length === 3);
    for (let c = 0; c < 3; c++) for (let r = 0; r < 3; r++) {
      // axis c's vector in LPS = F * (column c of the RAS direction) * spacing
      const want = (r < 2 ? -1 : 1) * v.direction[r * 3 + c] * v.spacingMm[c];
      assert.ok(Math.abs(dirs[c][r] - want) < 1e-9, `space direction ${c}[${r}] = ${dirs[c][r]}, want ${want}`);
    }
    const origin = /^space origin: \((.*)\)$/m.exec(text)?.[1].split(',').map(Number);
    assert.deepEqual(origin?.map((x) => +x.toFixed(6)), [12.5, -33.25, 7.125]);
  });

  test('files and folders reached through symlinks', async () => {
    const dir = tmp();
    const v = makeVolume(new Int16Array(140));
    await writeItkVolume(path.join(dir, 'v.mha'), v);
    symlinkSync(path.join(dir, 'v.mha'), path.join(dir, 'link.mha'));
    symlinkSync(dir, path.join(dir, 'dirlink'));
    assert.deepEqual((await readItkVolume(path.join(dir, 'link.mha'))).data, v.data);
    await writeItkVolume(path.join(dir, 'dirlink', 'w.nrrd'), v);
    assert.deepEqual((await readItkVolume(path.join(dir, 'w.nrrd'))).data, v.data);
  });

  test('4-D series round trip (.nrrd)', async () => {
    const dir = tmp();
    const base = makeVolume(new Int16Array(140 * 3), [7, 5, 12]);
    const s: VolumeSeries = { ...base, dims: [7, 5, 4], frames: 3, frameSpacing: 2.5 };
    await writeItkVolume(path.join(dir, 's.nrrd'), s);
    const back = await readItkVolume(path.join(dir, 's.nrrd'));
    assert.ok('frames' in back);
    assert.equal(back.frames, 3);
    assert.equal(back.frameSpacing, 2.5);
    assert.deepEqual(back.data, s.data);
    assertGeometry(back, s);
  });
});

/** NIfTI files of ../shared/data with the values of its README (computed there with nibabel). */
const NIFTI: { file: string; dims: number[]; spacing: number[]; min: number; max: number; orient: string; frames?: number }[] = [
  ...([['t1c', 15462], ['t1n', 2921], ['t2f', 3119], ['t2w', 3689]] as const).map(([s, max]) => ({
    file: `brats-gli-00001-000/BraTS-GLI-00001-000-${s}.nii.gz`, dims: [240, 240, 155], spacing: [1, 1, 1], min: 0, max, orient: 'LPS' })),
  ...([['t1', -52, 759], ['t1c', -3, 1098], ['t2', -136, 1593], ['fla', -45, 663]] as const).map(([s, min, max]) => ({
    file: `tcga-fg-6692-brainles/OtherEXampleFromTCIA_${s}_bet.nii.gz`, dims: [240, 240, 155], spacing: [1, 1, 1], min, max, orient: 'LPS' })),
  { file: 'tcga-fg-6692-brainles/seg_fusion_simple.nii.gz', dims: [240, 240, 155], spacing: [1, 1, 1], min: 0, max: 4, orient: 'LPS' },
  { file: 'stroke-mri-cstar/T1.nii.gz', dims: [124, 160, 140], spacing: [1, 1, 1], min: 0, max: 252, orient: 'RAS' },
  { file: 'stroke-mri-cstar/FLAIR.nii.gz', dims: [124, 160, 140], spacing: [1, 1, 1], min: 0, max: 255, orient: 'RAS' },
  { file: 'stroke-mri-cstar/T2.nii.gz', dims: [124, 160, 140], spacing: [1, 1, 1], min: 0, max: 503.97, orient: 'RAS' },
  { file: 'seg3d-head-mri/MR.nii.gz', dims: [160, 232, 160], spacing: [1.0, 0.8984, 0.8984], min: 0, max: 512, orient: 'RAS' },
  { file: 'totalseg-ct/example_ct.nii.gz', dims: [122, 101, 112], spacing: [3, 3, 3], min: -1207, max: 3382, orient: 'RAS' },
  { file: 'mri-2d-slices-motion-dcm-qa-sag/2_fmri_SagAP.nii', dims: [64, 64, 36], spacing: [3.203, 3.203, 3.6], min: 0, max: 3174, orient: 'PSL', frames: 6 },
  { file: 'mri-2d-slices-motion-dcm-qa-sag/3_fmri_SagHF.nii', dims: [64, 64, 36], spacing: [3.203, 3.203, 3.6], min: 0, max: 3114, orient: 'PSL', frames: 6 },
];

describe('every NIfTI of ../shared/data read through ITK matches the README', () => {
  for (const e of NIFTI) {
    test(e.file, { skip: skipWithoutData(e.file) }, async () => {
      const v = await readItkVolume(sharedData(e.file));
      assert.deepEqual(v.dims, e.dims);
      assert.equal('frames' in v ? v.frames : 1, e.frames ?? 1);
      v.spacingMm.forEach((s, i) => assert.ok(Math.abs(s - e.spacing[i]) < 1e-3, `spacing ${v.spacingMm}`));
      const st = volumeStats(v.data);
      // README values are rounded to 2 decimals (scaled files load as float).
      assert.ok(Math.abs(st.min - e.min) < 0.01 && Math.abs(st.max - e.max) < 0.01, `range ${st.min}..${st.max}, want ${e.min}..${e.max}`);
      assert.equal(orientationCode(v.direction), e.orient);
    });
  }

  test('T2.nii.gz: ITK geometry equals the sform read straight from the header bytes', { skip: skipWithoutData('stroke-mri-cstar/T2.nii.gz') }, async () => {
    const file = sharedData('stroke-mri-cstar/T2.nii.gz');
    const hdr = gunzipSync(readFileSync(file)).subarray(0, 348);
    const dv = new DataView(hdr.buffer, hdr.byteOffset, 348);
    assert.equal(dv.getInt16(254, true), 2, 'sform_code'); // the rotated sform, not just a diagonal
    const srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => dv.getFloat32(280 + 16 * r + 4 * c, true)));
    const v = await readItkVolume(file);
    for (let r = 0; r < 3; r++) {
      assert.ok(Math.abs(v.originMm[r] - srow[r][3]) < 1e-4, `origin ${v.originMm} vs sform`);
      for (let c = 0; c < 3; c++) assert.ok(Math.abs(v.direction[r * 3 + c] * v.spacingMm[c] - srow[r][c]) < 1e-5, `direction[${r}][${c}]`);
    }
    assert.ok(Math.abs(v.direction[1] - v.direction[3]) > 0.03, 'direction is not symmetric, so a transpose would be caught');
  });
});

describe('ITK bad input', () => {
  const isBadFile = (e: unknown) => e instanceof MedfieldError && e.code === 'bad-file';

  test('truncated and garbage files give bad-file; no stdout, exit code 0', async () => {
    const dir = tmp();
    const v = makeVolume(new Float32Array(140 * 200), [7, 5, 800]);
    const exitCodeBefore = process.exitCode; // node:test sets 1 once any test has failed
    const bad: string[] = [];
    for (const ext of ['.nrrd', '.mha']) {
      const good = path.join(dir, `good${ext}`);
      await writeItkVolume(good, v, { compress: ext === '.mha' });
      const bytes = readFileSync(good);
      writeFileSync(path.join(dir, `trunc${ext}`), bytes.subarray(0, Math.floor(bytes.length / 2)));
      bad.push(path.join(dir, `trunc${ext}`));
    }
    const garbage = Buffer.alloc(5000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919 + 13) % 256;
    for (const ext of ['.nrrd', '.mha', '.nii.gz', '.nii']) { writeFileSync(path.join(dir, `garbage${ext}`), garbage); bad.push(path.join(dir, `garbage${ext}`)); }
    const nii = 'stroke-mri-cstar/T1.nii.gz';
    if (!skipWithoutData(nii)) {
      writeFileSync(path.join(dir, 'trunc.nii.gz'), readFileSync(sharedData(nii)).subarray(0, 200000));
      writeFileSync(path.join(dir, 'trunc.nii'), gunzipSync(readFileSync(sharedData(nii))).subarray(0, 500000));
      bad.push(path.join(dir, 'trunc.nii.gz'), path.join(dir, 'trunc.nii'));
    }
    for (const f of bad) await assert.rejects(readItkVolume(f), isBadFile, f);
    await assert.rejects(readItkVolume(path.join(dir, 'missing.nrrd')), (e: unknown) => isBadFile(e) && /not found/.test(String(e)));
    assert.equal(process.exitCode, exitCodeBefore, 'itk-wasm must not change process.exitCode');

    // In a fresh process (so nothing else writes), reading bad files must print nothing on stdout.
    const mod = path.join(REPO_ROOT, 'dist', 'src', 'platform', 'itk-io.js');
    const script = `const m = await import(${JSON.stringify(mod)}); for (const f of JSON.parse(process.argv[1])) { try { await m.readItkVolume(f); process.stderr.write('READ ' + f); } catch (e) { process.stderr.write(e.code + ' ' + e.message + '\\n'); } }`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(bad)], { encoding: 'utf8' });
    assert.equal(r.stdout, '');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('bad-file ')).length, bad.length, r.stderr);
  });

  test('refused or failed writes leave nothing behind', async () => {
    const dir = tmp();
    const v = makeVolume(new Float32Array(140));
    await assert.rejects(writeItkVolume(path.join(dir, 'v.mhd'), v), (e: unknown) => e instanceof MedfieldError && e.code === 'bad-option' && /\.mha/.test(e.message));
    await assert.rejects(writeItkVolume(path.join(dir, 'v.nhdr'), v), (e: unknown) => e instanceof MedfieldError && e.code === 'bad-option');
    await assert.rejects(writeItkVolume(path.join(dir, 'nope', 'v.nrrd'), v), (e: unknown) => e instanceof MedfieldError && e.code === 'io');
    const inconsistent = { ...v, dims: [7, 5, 5] as Vec3 };
    await assert.rejects(writeItkVolume(path.join(dir, 'bad.nrrd'), inconsistent), (e: unknown) => e instanceof MedfieldError);
    assert.deepEqual(readdirSync(dir), []);
  });
});
