import { test } from 'node:test';
import assert from 'node:assert/strict';
import { voxelToWorld, type Vec3, type Volume } from '../../src/core/volume.js';
import { rotationMatrix, type SliceStack } from '../../src/geometry/slice-stack.js';
import { svrGrid, stacksBox } from '../../src/svr/grid.js';
import { brainMask, maskedQuality, motionError } from '../../src/svr/mask.js';
import { naiveFusion } from '../../src/svr/naive.js';
import { simulateSvr, stackGrid } from '../../src/svr/simulate.js';
import { SVR_CONSTANT_REL } from '../tolerances.js';

function stackOf(v: Volume<Float32Array>, thickness: number, name = 's'): SliceStack {
  return { volume: v, sliceThicknessMm: thickness, name };
}

test('naive fusion of constant stacks is that constant wherever a splat landed, for both footprints and an oblique grid', () => {
  const box = { min: [-10, -12, -8] as Vec3, max: [10, 12, 8] as Vec3 };
  const stacks = (['axial', 'coronal', 'sagittal'] as const).map((o) => {
    const v = stackGrid(box, o, 1, 4);
    v.data.fill(7.5);
    return stackOf(v, 4, o);
  });
  for (const frame of ['ras', 'first-stack'] as const) {
    const grid = svrGrid(stacks, { spacingMm: 0.8, frame });
    // tilt the grid: the fusion must not assume identity directions
    if (frame === 'first-stack') grid.direction.set(rotationMatrix(0.1, 0.2, -0.1));
    for (const footprint of ['point', 'slab'] as const) {
      const r = naiveFusion(stacks, grid, { footprint });
      let covered = 0;
      for (let p = 0; p < r.volume.data.length; p++) {
        if (r.weight[p]! > 1e-6) {
          covered++;
          assert.ok(Math.abs(r.volume.data[p]! / 7.5 - 1) < SVR_CONSTANT_REL, `${frame}/${footprint} voxel ${p}: ${r.volume.data[p]}`);
        } else assert.equal(r.volume.data[p], 0);
      }
      assert.equal(covered, r.covered);
      assert.ok(covered > (footprint === 'slab' ? 0.75 : 0.3) * r.volume.data.length, `${frame}/${footprint}: covered ${covered} of ${r.volume.data.length}`);
    }
  }
});

test('naive fusion: point splats of a stack on the grid voxels copy it; a header shift of 2 mm shifts the result by 2 voxels', () => {
  const dims: Vec3 = [9, 8, 7];
  const grid: Volume<Float32Array> = { data: new Float32Array(9 * 8 * 7), dims, spacingMm: [1, 1, 1], originMm: [0, 0, 0], direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
  const pattern = new Float32Array(grid.data.length).map((_, p) => (p * 37) % 11);
  // the stack's voxel centres are the grid's shifted by +2 mm in x (its voxel i sits on grid voxel i + 2)
  const stack = stackOf({ ...grid, data: pattern, originMm: [2, 0, 0] }, 1);
  const r = naiveFusion([stack], grid, { footprint: 'point' });
  for (let k = 0; k < 7; k++) for (let j = 0; j < 8; j++) for (let i = 0; i < 9; i++) {
    const got = r.volume.data[i + 9 * (j + 8 * k)]!;
    assert.equal(got, i >= 2 ? pattern[i - 2 + 9 * (j + 8 * k)]! : 0, `(${i},${j},${k})`);
  }
  // half-voxel shifts average neighbours: a linear ramp in x is reproduced in the interior
  const ramp = new Float32Array(grid.data.length).map((_, p) => 3 * (p % 9));
  const half = naiveFusion([stackOf({ ...grid, data: ramp, originMm: [0.5, 0, 0] }, 1)], grid, { footprint: 'point' });
  for (let i = 1; i < 9; i++) assert.ok(Math.abs(half.volume.data[i + 9 * (4 + 8 * 3)]! - 3 * (i - 0.5)) < 1e-5, `ramp at ${i}`);
});

test('svrGrid: isotropic, covers the union of the stacks, spacing defaults to the finest in-plane spacing; mask box', () => {
  const a = stackOf(stackGrid({ min: [0, 0, 0], max: [20, 10, 8] }, 'axial', 0.9, 4), 4);
  const b = stackOf(stackGrid({ min: [5, -6, 2], max: [30, 10, 12] }, 'sagittal', 1.2, 3), 5);
  const g = svrGrid([a, b]);
  assert.deepEqual(g.spacingMm, [0.9, 0.9, 0.9]);
  assert.deepEqual(Array.from(g.direction), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  const box = stacksBox([a, b]);
  const lo = voxelToWorld(g, [-0.5, -0.5, -0.5]), hi = voxelToWorld(g, [g.dims[0] - 0.5, g.dims[1] - 0.5, g.dims[2] - 0.5]);
  for (let r = 0; r < 3; r++) {
    assert.ok(lo[r]! <= box.min[r]! + 1e-9 && hi[r]! >= box.max[r]! - 1e-9 && hi[r]! - lo[r]! < box.max[r]! - box.min[r]! + 0.9 + 1e-9, `axis ${r}`);
  }
  // through-plane extent of `b` (sagittal, along x) is half its 5 mm thickness beyond the outer slice centres
  assert.ok(box.max[0] >= 30 + 0.5 && box.min[2] <= 2 - 0.4);
  const f = svrGrid([b, a], { frame: 'first-stack', spacingMm: 2 });
  assert.deepEqual(Array.from(f.direction), Array.from(b.volume.direction));
  // a mask's nonzero box
  const mask: Volume<Uint8Array> = { data: new Uint8Array(10 * 10 * 10), dims: [10, 10, 10], spacingMm: [1, 1, 1], originMm: [0, 0, 0], direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
  mask.data[3 + 10 * (4 + 10 * 5)] = 1; mask.data[6 + 10 * (4 + 10 * 5)] = 1;
  const m = svrGrid([a], { mask, spacingMm: 1 });
  assert.deepEqual(m.dims, [4, 1, 1]);
  assert.deepEqual(m.originMm, [3, 4, 5]);
  assert.throws(() => svrGrid([a], { mask: { ...mask, data: new Uint8Array(1000) } }), /no nonzero voxel/);
});

test('brainMask: largest component with its holes filled; maskedQuality states the range and scores a known error', () => {
  const n = 24;
  const v: Volume<Float32Array> = { data: new Float32Array(n ** 3), dims: [n, n, n], spacingMm: [1, 1, 1], originMm: [0, 0, 0], direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
  let inside = 0;
  for (let k = 0, p = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++, p++) {
    const r = Math.hypot(i - 12, j - 12, k - 12);
    if (r < 8) { v.data[p] = r < 3 ? 0 : 100 + i; inside++; } // a sphere with a dark core (a hole)
    if (i < 2 && j < 2 && k < 2) v.data[p] = 200; // a small bright blob elsewhere
  }
  const m = brainMask(v);
  let count = 0;
  for (let p = 0; p < m.data.length; p++) count += m.data[p]!;
  assert.equal(count, inside);
  assert.equal(m.data[12 + n * (12 + n * 12)], 1, 'the hole is filled');
  assert.equal(m.data[0], 0, 'the blob is not the largest component');
  const q = maskedQuality(v, v, m.data);
  assert.equal(q.psnr, Infinity);
  assert.ok(Math.abs(q.ssim - 1) < 1e-12);
  assert.equal(q.dataRange, 100 + 19);
  const off = { ...v, data: v.data.map((x) => x + 2) };
  const q2 = maskedQuality(v, off, m.data);
  assert.ok(Math.abs(q2.psnr - 20 * Math.log10(119 / 2)) < 1e-9, `psnr ${q2.psnr}`);
  assert.throws(() => maskedQuality(v, { ...v, dims: [n, n, n - 1], data: new Float32Array(n * n * (n - 1)) }, m.data), /ground-truth grid/);
});

test('motionError: zero against itself, the true magnitudes against no estimate, a known rotation difference; the gauge (a common offset) is removed', () => {
  const t = [new Float64Array([0, 0, 0.1, 3, 4, 0, 0.05, 0, 0, 0, 0, 1])];
  const raw = { removeMean: false };
  assert.deepEqual({ ...motionError(t, t, raw), meanTrueTranslationMm: 0, meanTrueRotationDeg: 0 }, { meanTranslationMm: 0, meanRotationDeg: 0, meanTrueTranslationMm: 0, meanTrueRotationDeg: 0, slices: 2 });
  const z = motionError(t, null, raw);
  assert.ok(Math.abs(z.meanTranslationMm - 3) < 1e-12 && Math.abs(z.meanRotationDeg - (0.15 / 2) * 180 / Math.PI) < 1e-9);
  const e = motionError(t, [new Float64Array([0, 0, 0.1, 3, 4, 0, -0.05, 0, 0, 0, 0, 1])], raw);
  assert.ok(Math.abs(e.meanRotationDeg - (0.1 / 2) * 180 / Math.PI) < 1e-9 && e.meanTranslationMm === 0);
  assert.throws(() => motionError(t, [new Float64Array(6)]), /slices/);
  // the same motion in another gauge (every slice shifted by 2 mm along x): 2 mm raw, 0 gauge-aligned
  const shifted = [t[0]!.map((v, i) => (i % 6 === 3 ? v + 2 : v))];
  assert.ok(Math.abs(motionError(t, shifted, raw).meanTranslationMm - 2) < 1e-12);
  assert.ok(motionError(t, shifted).meanTranslationMm < 1e-12);
  // no estimate, gauge-aligned: the truth's deviations from its mean translation (1.5, 2, 0.5)
  const dev = Math.hypot(1.5, 2, 0.5);
  assert.ok(Math.abs(motionError(t, null).meanTranslationMm - dev) < 1e-12);
});

test('end to end in memory: without motion naive fusion beats naive fusion with 5 deg / 5 mm motion', () => {
  const n = 32;
  const gt: Volume<Float32Array> = { data: new Float32Array(n ** 3), dims: [n, n, n], spacingMm: [1, 1, 1], originMm: [-16, -16, -16], direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
  for (let k = 0, p = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++, p++) {
    const r = Math.hypot(i - 15.5, j - 15.5, (k - 15.5) * 1.2);
    gt.data[p] = r < 12 ? 50 + 40 * Math.sin(i / 2) * Math.cos(j / 3) + (r < 5 ? 60 : 0) : 0;
  }
  const mask = brainMask(gt).data;
  const still = naiveFusion(simulateSvr(gt, { maxRotationDeg: 0, maxTranslationMm: 0, noise: 0.01 }).stacks, gt);
  const moving = naiveFusion(simulateSvr(gt, { noise: 0.01 }).stacks, gt);
  const a = maskedQuality(gt, still.volume, mask), b = maskedQuality(gt, moving.volume, mask);
  assert.ok(a.psnr > b.psnr + 1, `still ${a.psnr} dB vs moving ${b.psnr} dB`);
  assert.ok(a.psnr > 18, `still ${a.psnr} dB`);
});
