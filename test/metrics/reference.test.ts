/**
 * Agreement with scikit-image / scipy / numpy reference values written by
 * scripts/metrics-reference.py into test/fixtures/metrics-reference.json.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { createVolume, type Vec3 } from '../../src/core/volume.js';
import {
  dicePerLabel, distanceMm, mae, meanDice, meanSliceSsim, mse, ncc, psnr, rmse, sliceSsim, ssim2d, ssim3d,
  surfaceDiceCounts, surfaceVoxels, type VoxelAxis,
} from '../../src/metrics/index.js';
import { fixture } from '../helpers/data.js';
import { SKIMAGE_METRIC_ABS } from '../tolerances.js';

interface IntensityCase {
  name: string;
  dataRange: number;
  a: number[];
  b: number[];
  rows?: number;
  cols?: number;
  dims?: Vec3;
  mask?: number[];
  ref: {
    mse: number; rmse: number; mae: number; psnr: number; ncc: number; ssim: number;
    sliceSsim?: Record<string, number[]>;
    masked?: { mse: number; mae: number; psnr: number; ncc: number; ssim: number };
  };
}
interface NsdRef { label: number | null; toleranceMm: number; nsd: number; surfaceA: number; surfaceB: number; matchedA: number; matchedB: number }
interface LabelRef {
  dims: Vec3; spacingMm: Vec3; a: number[]; b: number[];
  dice: Record<string, number>; meanDiceLabels: number[]; meanDice: number;
  nsd: NsdRef[]; surfaceACount: number; edtFromSurfaceA: number[];
}
interface Reference { intensity: IntensityCase[]; labels: LabelRef }

const ref = JSON.parse(readFileSync(fixture('metrics-reference.json'), 'utf8')) as Reference;

function close(actual: number, expected: number, what: string, tol = SKIMAGE_METRIC_ABS): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, reference ${expected} (|diff| ${Math.abs(actual - expected)} > ${tol})`);
}

describe('metrics vs scikit-image reference', () => {
  test('fixture has the expected cases', () => {
    assert.ok(ref.intensity.length >= 6);
    assert.ok(ref.intensity.some((c) => c.dims !== undefined) && ref.intensity.some((c) => c.rows !== c.cols));
  });

  for (const c of ref.intensity) {
    test(`${c.name}: MSE, RMSE, MAE, PSNR, NCC`, () => {
      // Plain number[] vs Float64Array on purpose: any ArrayLike<number> is accepted.
      const A = c.a, b = Float64Array.from(c.b);
      close(mse(A, b), c.ref.mse, 'mse', 1e-9 * Math.max(1, c.ref.mse));
      close(rmse(A, b), c.ref.rmse, 'rmse', 1e-9 * Math.max(1, c.ref.rmse));
      close(mae(A, b), c.ref.mae, 'mae', 1e-9 * Math.max(1, c.ref.mae));
      close(psnr(A, b, { dataRange: c.dataRange }), c.ref.psnr, 'psnr');
      close(ncc(A, b), c.ref.ncc, 'ncc', 1e-9);
      if (c.mask && c.ref.masked) {
        const m = Uint8Array.from(c.mask);
        close(mse(A, b, { mask: m }), c.ref.masked.mse, 'masked mse', 1e-9 * Math.max(1, c.ref.masked.mse));
        close(mae(A, b, { mask: m }), c.ref.masked.mae, 'masked mae', 1e-9 * Math.max(1, c.ref.masked.mae));
        close(psnr(A, b, { dataRange: c.dataRange, mask: m }), c.ref.masked.psnr, 'masked psnr');
        close(ncc(A, b, { mask: c.mask }), c.ref.masked.ncc, 'masked ncc', 1e-9);
      }
    });

    test(`${c.name}: SSIM`, () => {
      const a = Float64Array.from(c.a), b = Float64Array.from(c.b);
      const opts = { dataRange: c.dataRange };
      if (c.dims) {
        close(ssim3d(a, b, c.dims, opts), c.ref.ssim, 'ssim3d (arrays)');
        const va = createVolume(c.dims, { data: a }), vb = createVolume(c.dims, { data: b });
        close(ssim3d(va, vb, opts), c.ref.ssim, 'ssim3d (volumes)');
        for (const axis of [0, 1, 2] as VoxelAxis[]) {
          const expected = c.ref.sliceSsim?.[String(axis)];
          assert.ok(expected, `slice reference for axis ${axis}`);
          const got: Float64Array = sliceSsim(a, b, c.dims, axis, opts);
          assert.equal(got.length, expected.length);
          got.forEach((v, s) => close(v, expected[s], `slice ${s} along axis ${axis}`));
          const mean = expected.reduce((x, y) => x + y, 0) / expected.length;
          close(meanSliceSsim(va, vb, axis, opts), mean, `mean slice SSIM axis ${axis}`);
        }
      } else {
        assert.ok(c.rows !== undefined && c.cols !== undefined);
        close(ssim2d(a, b, c.rows, c.cols, opts), c.ref.ssim, 'ssim2d');
      }
      if (c.mask && c.ref.masked) {
        const m = Uint8Array.from(c.mask);
        const got = c.dims
          ? ssim3d(a, b, c.dims, { ...opts, mask: m })
          : ssim2d(a, b, c.rows ?? 0, c.cols ?? 0, { ...opts, mask: m });
        close(got, c.ref.masked.ssim, 'masked ssim');
      }
    });
  }

  const L = ref.labels;
  test('Dice per label and mean Dice match numpy', () => {
    const a = Int32Array.from(L.a), b = Uint8Array.from(L.b);
    const per = dicePerLabel(a, b, [1, 2, 3, 4]);
    for (const d of per) close(d.dice, L.dice[String(d.label)], `dice label ${d.label}`, 1e-12);
    assert.deepEqual(dicePerLabel(a, b).map((d) => d.label), L.meanDiceLabels);
    close(meanDice(a, b), L.meanDice, 'mean dice', 1e-12);
  });

  test('surface voxels and mm distance transform match scipy (anisotropic spacing)', () => {
    const sA = surfaceVoxels(Int32Array.from(L.a), L.dims);
    assert.equal(sA.reduce((x, y) => x + y, 0), L.surfaceACount);
    const d = distanceMm(sA, L.dims, L.spacingMm);
    let worst = 0;
    for (let i = 0; i < d.length; i++) worst = Math.max(worst, Math.abs(d[i] - L.edtFromSurfaceA[i]));
    assert.ok(worst < 1e-9, `EDT max |diff| ${worst}`);
  });

  for (const r of L.nsd) {
    test(`NSD label ${r.label ?? 'nonzero'} at ${r.toleranceMm} mm matches the scipy EDT reference`, () => {
      const got = surfaceDiceCounts(Int32Array.from(L.a), Int32Array.from(L.b), L.dims, L.spacingMm, {
        toleranceMm: r.toleranceMm, ...(r.label === null ? {} : { label: r.label }),
      });
      assert.deepEqual(
        [got.surfaceA, got.surfaceB, got.matchedA, got.matchedB],
        [r.surfaceA, r.surfaceB, r.matchedA, r.matchedB],
      );
      close(got.nsd, r.nsd, 'nsd', 1e-12);
    });
  }
});
