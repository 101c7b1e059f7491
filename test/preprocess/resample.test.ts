import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createVolume, voxelToWorld, worldToVoxel, type Vec3, type Volume } from '../../src/core/volume.js';
import { resampledGrid, resampleSlices, resampleVolume } from '../../src/preprocess/resample.js';
import { resampleToGrid } from '../../src/preprocess/resample-to-grid.js';
import { keysKernel, keysW0, keysW1, keysW2, keysW3 } from '../../src/preprocess/interpolation.js';
import { RESAMPLE_EXACT_ABS, RESAMPLE_POLY_ABS, RESAMPLE_ROUNDTRIP_REL, GEOMETRY_MM } from '../tolerances.js';

/** Row-major rotation R = Rz(az) * Rx(ax): an oblique but orthonormal direction matrix. */
function rotation(az: number, ax: number): Float64Array {
  const cz = Math.cos(az), sz = Math.sin(az), cx = Math.cos(ax), sx = Math.sin(ax);
  const Rz = [cz, -sz, 0, sz, cz, 0, 0, 0, 1], Rx = [1, 0, 0, 0, cx, -sx, 0, sx, cx];
  const m = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let t = 0; t < 3; t++) m[r * 3 + c] += Rz[r * 3 + t] * Rx[t * 3 + c];
  return m;
}

/** Volume whose voxel values are f(world position of the voxel centre). */
function sampled(dims: Vec3, geom: { spacingMm: Vec3; originMm: Vec3; direction: Float64Array }, f: (p: Vec3) => number): Volume<Float32Array> {
  const v = createVolume(dims, geom);
  let p = 0;
  for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) v.data[p++] = f(voxelToWorld(v, [i, j, k]));
  return v;
}

/** Max |out - f(world)| over output voxels whose input continuous index lies in [margin, n-1-margin]. */
function maxErrorInside(input: Volume, out: Volume, f: (p: Vec3) => number, margin: number): { err: number; checked: number } {
  let err = 0, checked = 0, p = 0;
  for (let k = 0; k < out.dims[2]; k++) for (let j = 0; j < out.dims[1]; j++) for (let i = 0; i < out.dims[0]; i++, p++) {
    const w = voxelToWorld(out, [i, j, k]);
    const x = worldToVoxel(input, w);
    if (x.some((xc, c) => xc < margin - 1e-9 || xc > input.dims[c] - 1 - margin + 1e-9)) continue;
    err = Math.max(err, Math.abs(out.data[p] - f(w)));
    checked++;
  }
  return { err, checked };
}

const oblique = { spacingMm: [1.5, 2, 0.8] as Vec3, originMm: [-10, 5, 3] as Vec3, direction: rotation(0.4, -0.3) };
const ramp = (p: Vec3): number => 0.3 * p[0] - 0.2 * p[1] + 0.1 * p[2] + 1;
const quadratic = (p: Vec3): number => 0.02 * p[0] * p[0] - 0.03 * p[0] * p[1] + 0.01 * p[2] * p[2] + 0.2 * p[1] - 0.5;

describe('resampleVolume', () => {
  test('trilinear reproduces a linear ramp in world coordinates exactly (away from clamping)', () => {
    const v = sampled([12, 10, 8], oblique, ramp);
    const out = resampleVolume(v, { spacingMm: [1, 1.3, 0.5] }, 'linear');
    assert.ok(out.data instanceof Float32Array);
    assert.deepEqual(out.spacingMm, [1, 1.3, 0.5]);
    const { err, checked } = maxErrorInside(v, out, ramp, 0);
    assert.ok(checked > 1000, `only ${checked} voxels checked`);
    assert.ok(err <= RESAMPLE_EXACT_ABS, `max error ${err}`);
  });

  test('Keys cubic reproduces a quadratic away from the borders, but not a cubic', () => {
    const v = sampled([14, 12, 10], oblique, quadratic);
    const out = resampleVolume(v, { dims: [23, 17, 25] }, 'cubic');
    const { err, checked } = maxErrorInside(v, out, quadratic, 1);
    assert.ok(checked > 1000, `only ${checked} voxels checked`);
    assert.ok(err <= RESAMPLE_POLY_ABS, `max error ${err}`);
    // The same test on a cubic polynomial must fail: Keys (a = -0.5) is exact only to degree 2.
    const cubic = (p: Vec3): number => 0.1 * p[0] * p[0] * p[0];
    const vc = sampled([14, 12, 10], oblique, cubic);
    const e3 = maxErrorInside(vc, resampleVolume(vc, { dims: [23, 17, 25] }, 'cubic'), cubic, 1).err;
    assert.ok(e3 > 100 * RESAMPLE_POLY_ABS, `cubic polynomial error ${e3} suspiciously small`);
  });

  test('the Keys kernel: interpolating, partition of unity, closed forms agree', () => {
    assert.equal(keysKernel(0), 1);
    for (const t of [1, -1, 2, -2, 2.5]) assert.equal(keysKernel(t), 0);
    for (const f of [0.1, 0.37, 0.5, 0.93]) {
      const s = keysKernel(f + 1) + keysKernel(f) + keysKernel(1 - f) + keysKernel(2 - f);
      assert.ok(Math.abs(s - 1) < 1e-15);
      // The closed forms used by the tricubic sampler are the same kernel.
      const closed = [keysW0(f), keysW1(f), keysW2(f), keysW3(f)], direct = [keysKernel(f + 1), keysKernel(f), keysKernel(1 - f), keysKernel(2 - f)];
      closed.forEach((c, t) => assert.ok(Math.abs(c - direct[t]) < 1e-15, `tap ${t} at ${f}`));
    }
  });

  test('nearest keeps labels and dtype; x2 replicates each voxel 2x2x2', () => {
    const labels = createVolume([5, 4, 3], { data: new Uint8Array(60) });
    for (let i = 0; i < 60; i++) labels.data[i] = (i * 7) % 5;
    const out = resampleVolume(labels, { factor: 2 }, 'nearest');
    assert.ok(out.data instanceof Uint8Array);
    assert.deepEqual(out.dims, [10, 8, 6]);
    for (let k = 0; k < 6; k++) for (let j = 0; j < 8; j++) for (let i = 0; i < 10; i++) {
      const want = labels.data[(i >> 1) + 5 * ((j >> 1) + 4 * (k >> 1))];
      assert.equal(out.data[i + 10 * (j + 8 * k)], want, `voxel ${i},${j},${k}`);
    }
    const odd = resampleVolume(labels, { spacingMm: [0.7, 1.3, 0.45] }, 'nearest');
    const seen = new Set(odd.data);
    for (const x of seen) assert.ok(x >= 0 && x <= 4 && Number.isInteger(x));
  });

  test('a size target keeps the FOV corners and centre in world coordinates', () => {
    const v = createVolume([20, 15, 9], oblique);
    for (const target of [{ dims: [33, 7, 9] as Vec3 }, { factor: [1.5, 0.5, 3] as Vec3 }]) {
      const out = resampleVolume(v, target, 'linear');
      const cornersIn = [[-0.5, -0.5, -0.5], [v.dims[0] - 0.5, v.dims[1] - 0.5, v.dims[2] - 0.5], [(v.dims[0] - 1) / 2, (v.dims[1] - 1) / 2, (v.dims[2] - 1) / 2]];
      const cornersOut = [[-0.5, -0.5, -0.5], [out.dims[0] - 0.5, out.dims[1] - 0.5, out.dims[2] - 0.5], [(out.dims[0] - 1) / 2, (out.dims[1] - 1) / 2, (out.dims[2] - 1) / 2]];
      for (let c = 0; c < 3; c++) {
        const a = voxelToWorld(v, cornersIn[c]), b = voxelToWorld(out, cornersOut[c]);
        for (let r = 0; r < 3; r++) assert.ok(Math.abs(a[r] - b[r]) < GEOMETRY_MM, `point ${c}: ${a} vs ${b}`);
      }
      assert.deepEqual(Array.from(out.direction), Array.from(v.direction));
    }
  });

  test('a spacing target keeps the FOV centre, uses the exact spacing and rounds the count', () => {
    const v = createVolume([20, 15, 9], oblique);
    const g = resampledGrid(v, { spacingMm: [0.7, 3, 0.8] });
    assert.deepEqual(g.dims, [Math.round((20 * 1.5) / 0.7), Math.round((15 * 2) / 3), 9]);
    assert.deepEqual(g.spacingMm, [0.7, 3, 0.8]);
    const a = voxelToWorld(v, [9.5, 7, 4]), b = voxelToWorld(g, [(g.dims[0] - 1) / 2, (g.dims[1] - 1) / 2, (g.dims[2] - 1) / 2]);
    for (let r = 0; r < 3; r++) assert.ok(Math.abs(a[r] - b[r]) < GEOMETRY_MM);
    // An unchanged spacing is an identity (copy, not the same buffer).
    const same = resampleVolume(sampled([6, 5, 4], oblique, ramp), { spacingMm: oblique.spacingMm }, 'cubic');
    assert.deepEqual(same.originMm, oblique.originMm);
  });

  test('cubic upsample x2 then downsample back returns near the original (smooth signal)', () => {
    const n = 32, sigma = 4;
    const v = createVolume([n, n, n]);
    let p = 0;
    for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
      const r2 = (i - 15.2) ** 2 + (j - 16.7) ** 2 + (k - 14.1) ** 2;
      v.data[p++] = 100 * Math.exp(-r2 / (2 * sigma * sigma));
    }
    const up = resampleVolume(v, { factor: 2 }, 'cubic');
    assert.deepEqual(up.dims, [64, 64, 64]);
    const back = resampleVolume(up, { dims: [n, n, n] }, 'cubic');
    assert.deepEqual(back.originMm, v.originMm);
    let err = 0;
    for (let i = 0; i < v.data.length; i++) err = Math.max(err, Math.abs(back.data[i] - v.data[i]));
    assert.ok(err / 100 <= RESAMPLE_ROUNDTRIP_REL, `max relative error ${err / 100}`);
  });

  test('clampToInputRange removes cubic overshoot at a step edge', () => {
    const v = createVolume([16, 1, 1]);
    for (let i = 8; i < 16; i++) v.data[i] = 1;
    const raw = resampleVolume(v, { factor: [4, 1, 1] }, 'cubic');
    assert.ok(Math.min(...raw.data) < -0.01 && Math.max(...raw.data) > 1.01, 'expected Catmull-Rom overshoot');
    const clamped = resampleVolume(v, { factor: [4, 1, 1] }, 'cubic', { clampToInputRange: true });
    assert.ok(Math.min(...clamped.data) >= 0 && Math.max(...clamped.data) <= 1);
  });

  test('resampleSlices changes only the in-plane axes and never mixes slices', () => {
    const geom = { spacingMm: [1, 1, 3] as Vec3, originMm: [0, 0, 0] as Vec3, direction: rotation(0.2, 0.1) };
    const v = sampled([10, 8, 5], geom, quadratic);
    const out = resampleSlices(v, 2, { factor: 2 }, 'cubic');
    assert.deepEqual(out.dims, [20, 16, 5]);
    assert.deepEqual(out.spacingMm, [0.5, 0.5, 3]);
    // Slice k of the output lies in the plane of input slice k.
    for (let k = 0; k < 5; k++) assert.ok(Math.abs(worldToVoxel(v, voxelToWorld(out, [3, 7, k]))[2] - k) < 1e-9);
    const bumped = createVolume(v.dims, { ...geom, data: Float32Array.from(v.data) });
    for (let i = 0; i < 80; i++) bumped.data[2 * 80 + i] += 50;
    const out2 = resampleSlices(bumped, 2, { factor: 2 }, 'cubic');
    const plane = 20 * 16;
    for (let k = 0; k < 5; k++) {
      let diff = 0;
      for (let q = 0; q < plane; q++) diff = Math.max(diff, Math.abs(out2.data[k * plane + q] - out.data[k * plane + q]));
      if (k === 2) assert.ok(diff > 1); else assert.equal(diff, 0, `slice ${k} changed`);
    }
    const sag = resampleSlices(v, 0, { dims: [4, 9] }, 'linear');
    assert.deepEqual(sag.dims, [10, 4, 9]);
    assert.equal(sag.spacingMm[0], 1);
  });

  test('the separable path agrees with the general per-point sampler on the same grid', () => {
    const rnd = (() => { let st = 12345; return () => { st = (Math.imul(st, 1664525) + 1013904223) >>> 0; return st / 2 ** 32; }; })();
    const v = createVolume([11, 9, 13], { ...oblique, data: Float32Array.from({ length: 11 * 9 * 13 }, () => rnd()) });
    // Includes z shrinking most (z pass first), upsampling with clamped borders, and a spacing target.
    const targets = [{ factor: [2, 1.5, 0.5] as Vec3 }, { spacingMm: [0.7, 1.1, 2.3] as Vec3 }, { dims: [5, 20, 13] as Vec3 }];
    for (const target of targets) {
      for (const interp of ['linear', 'cubic'] as const) {
        const a = resampleVolume(v, target, interp), b = resampleToGrid(v, resampledGrid(v, target), interp, { fillValue: NaN });
        let err = 0;
        for (let i = 0; i < a.data.length; i++) err = Math.max(err, Math.abs(a.data[i] - b.data[i]));
        assert.ok(err < 1e-5, `${interp} ${JSON.stringify(target)}: max difference ${err}`);
      }
    }
  });

  test('bad options throw MedfieldError', () => {
    const v = createVolume([4, 4, 4]);
    const bad: Array<() => unknown> = [
      () => resampleVolume(v, { spacingMm: [-1, 1, 1] }, 'linear'),
      () => resampleVolume(v, { spacingMm: [0, 1, 1] }, 'linear'),
      () => resampleVolume(v, { dims: [4, 2.5, 4] }, 'linear'),
      () => resampleVolume(v, { factor: 0 }, 'linear'),
      () => resampleVolume(v, {} as { factor: number }, 'linear'),
      () => resampleVolume(v, { factor: 2 }, 'quintic' as 'cubic'),
      () => resampleSlices(v, 3 as 2, { factor: 2 }, 'linear'),
      () => resampleVolume({ ...v, spacingMm: [1, -1, 1] }, { factor: 2 }, 'linear'),
    ];
    for (const f of bad) assert.throws(f, (e: unknown) => e instanceof MedfieldError && e.code === 'bad-option');
  });
});

describe('resampleToGrid', () => {
  test('an identical grid is the identity for every interpolation', () => {
    const v = sampled([7, 6, 5], oblique, quadratic);
    for (const interp of ['nearest', 'linear', 'cubic'] as const) {
      const out = resampleToGrid(v, v, interp);
      assert.deepEqual(out.dims, v.dims);
      for (let i = 0; i < v.data.length; i++) assert.ok(Math.abs(out.data[i] - v.data[i]) <= 1e-5, `${interp} voxel ${i}`);
    }
  });

  test('a rotated target grid matches the analytic function; outside the FOV gets the fill value', () => {
    const v = sampled([24, 22, 20], { spacingMm: [1, 1.2, 1.5], originMm: [-12, -13, -14], direction: rotation(0, 0) }, quadratic);
    const target = { dims: [20, 18, 16] as Vec3, spacingMm: [0.9, 1, 1.1] as Vec3, originMm: [-6, -8, -7] as Vec3, direction: rotation(0.5, 0.35) };
    const lin = resampleToGrid(v, target, 'linear');
    const rampVol = sampled([24, 22, 20], { spacingMm: [1, 1.2, 1.5], originMm: [-12, -13, -14], direction: rotation(0, 0) }, ramp);
    const linRamp = resampleToGrid(rampVol, target, 'linear');
    const r1 = maxErrorInside(rampVol, linRamp, ramp, 0);
    assert.ok(r1.checked > 2000 && r1.err <= RESAMPLE_EXACT_ABS, `linear ramp error ${r1.err} over ${r1.checked}`);
    const cub = resampleToGrid(v, target, 'cubic');
    const r3 = maxErrorInside(v, cub, quadratic, 1);
    assert.ok(r3.checked > 2000 && r3.err <= RESAMPLE_POLY_ABS, `cubic quadratic error ${r3.err} over ${r3.checked}`);
    // Trilinear is not exact on a quadratic (so the check above can fail).
    assert.ok(maxErrorInside(v, lin, quadratic, 1).err > 1e-3);

    const far = { ...target, originMm: [200, 0, 0] as Vec3 };
    const outside = resampleToGrid(v, far, 'cubic', { fillValue: -7 });
    assert.ok(outside.data.every((x) => x === -7));
  });

  test('nearest keeps the dtype; a singular direction is a clear error', () => {
    const labels = createVolume([4, 4, 4], { data: new Int16Array(64).fill(3) });
    const out = resampleToGrid(labels, { ...labels, direction: rotation(0.3, 0) }, 'nearest', { fillValue: -1 });
    assert.ok(out.data instanceof Int16Array);
    assert.ok(Array.from(out.data).every((x) => x === 3 || x === -1));
    assert.throws(() => resampleToGrid({ ...labels, direction: new Float64Array(9) }, labels, 'linear'), MedfieldError);
    assert.throws(() => resampleToGrid(labels, { ...labels, spacingMm: [1, 0, 1] }, 'linear'), MedfieldError);
  });
});
