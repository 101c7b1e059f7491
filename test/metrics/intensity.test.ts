/** Analytic and error-path tests of MSE/MAE/RMSE/PSNR/NCC and SSIM. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { createVolume, type Vec3 } from '../../src/core/volume.js';
import {
  gaussianTaps, mae, meanSliceSsim, mse, ncc, psnr, rmse, sliceSsim, ssim2d, ssim3d, type PsnrOptions, type SsimOptions,
} from '../../src/metrics/index.js';

function throwsCode(fn: () => unknown, code: string, subject?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MedfieldError, `expected MedfieldError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (subject !== undefined) assert.equal(e.subject, subject);
    return true;
  });
}

/** Smooth deterministic image in [0, 1], row-major rows x cols. */
function smooth(rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = 0.5 + 0.4 * Math.sin(r / 4) * Math.cos(c / 6);
  return out;
}

function withNoise(x: ArrayLike<number>, sigma: number, seed: number): Float64Array {
  const rng = createRng(seed);
  return Float64Array.from(x, (v) => v + sigma * rng.normal());
}

describe('pointwise errors and PSNR', () => {
  test('MSE, RMSE, MAE of known differences', () => {
    const a = [0, 1, 2, 3], b = new Int16Array([1, 1, 2, 5]); // diffs -1, 0, 0, -2
    assert.equal(mse(a, b), 1.25);
    assert.equal(rmse(a, b), Math.sqrt(1.25));
    assert.equal(mae(a, b), 0.75);
    assert.equal(mse(a, b, { mask: new Uint8Array([0, 1, 1, 1]) }), 4 / 3);
    assert.equal(mae(a, b, { mask: [1, 0, 0, 0] }), 1);
  });

  test('PSNR of a known MSE', () => {
    const a = new Float32Array(100), b = new Float64Array(100).fill(0.1);
    // MSE = 0.01 (to rounding) with range 1 -> 20 dB.
    assert.ok(Math.abs(psnr(a, b, { dataRange: 1 }) - 20) < 1e-12);
    const c = new Uint8Array(50).fill(10), d = new Uint8Array(50).fill(11); // MSE 1
    assert.ok(Math.abs(psnr(c, d, { dataRange: 255 }) - 20 * Math.log10(255)) < 1e-12);
    // The range enters squared: doubling it adds 20 log10(2) dB.
    assert.ok(Math.abs(psnr(c, d, { dataRange: 510 }) - psnr(c, d, { dataRange: 255 }) - 20 * Math.log10(2)) < 1e-12);
    assert.equal(psnr(c, c, { dataRange: 255 }), Infinity);
  });

  test('PSNR requires an explicit finite positive data range', () => {
    const a = [1, 2, 3], b = [1, 2, 4];
    throwsCode(() => psnr(a, b, {} as PsnrOptions), 'bad-option', 'dataRange');
    throwsCode(() => psnr(a, b, undefined as unknown as PsnrOptions), 'bad-option', 'dataRange');
    for (const r of [0, -1, NaN, Infinity]) throwsCode(() => psnr(a, b, { dataRange: r }), 'bad-option', 'dataRange');
  });

  test('mismatched lengths, empty input and bad masks are rejected', () => {
    throwsCode(() => mse([1, 2, 3], [1, 2]), 'bad-data');
    throwsCode(() => psnr([1, 2, 3], [1, 2], { dataRange: 1 }), 'bad-data');
    throwsCode(() => mae([], []), 'bad-data');
    throwsCode(() => mse([1, 2], [1, 2], { mask: [1] }), 'bad-data', 'mask');
    throwsCode(() => mse([1, 2], [1, 2], { mask: [0, 0] }), 'bad-data', 'mask');
    throwsCode(() => ncc([1, 2], [1, 2, 3]), 'bad-data');
  });
});

describe('NCC', () => {
  test('affine invariance, sign, undefined for constants, mask', () => {
    const a = smooth(12, 10);
    assert.ok(Math.abs(ncc(a, Float64Array.from(a, (v) => 3 * v + 200)) - 1) < 1e-12);
    assert.ok(Math.abs(ncc(a, Float64Array.from(a, (v) => -v)) + 1) < 1e-12);
    assert.ok(ncc(a, withNoise(a, 0.2, 1)) < 0.95);
    assert.ok(Number.isNaN(ncc(a, new Float64Array(a.length).fill(2))));
    // Outside the mask b is garbage; inside it is a scaled copy.
    const b = Float64Array.from(a, (v, i) => (i < 60 ? 2 * v : -v));
    const m = Uint8Array.from(a, (_v, i) => (i < 60 ? 1 : 0));
    assert.ok(Math.abs(ncc(a, b, { mask: m }) - 1) < 1e-12);
    assert.ok(ncc(a, b) < 0.9);
    // Known value: x = [1, 2, 3], y = [1, 3, 2] -> r = 0.5.
    assert.ok(Math.abs(ncc([1, 2, 3], [1, 3, 2]) - 0.5) < 1e-15);
  });
});

describe('SSIM', () => {
  const rows = 40, cols = 33;
  const img = smooth(rows, cols);

  test('Gaussian taps follow scipy (radius int(3.5 sigma + 0.5), sum 1, symmetric)', () => {
    const w = gaussianTaps(1.5);
    assert.equal(w.length, 11);
    assert.ok(Math.abs(w.reduce((s, v) => s + v, 0) - 1) < 1e-15);
    for (let t = 0; t < 5; t++) assert.equal(w[t], w[10 - t]);
    assert.ok(Math.abs(w[5] / w[4] - Math.exp(0.5 / 2.25)) < 1e-14);
    assert.equal(gaussianTaps(1).length, 9);
  });

  test('SSIM(x, x) = 1 in 2D, 3D and slice-wise; symmetric in its arguments', () => {
    assert.ok(Math.abs(ssim2d(img, img, rows, cols, { dataRange: 1 }) - 1) < 1e-12);
    const dims: Vec3 = [13, 12, 11];
    const vol = Float64Array.from({ length: 13 * 12 * 11 }, (_v, i) => Math.sin(i / 7));
    assert.ok(Math.abs(ssim3d(vol, vol, dims, { dataRange: 2 }) - 1) < 1e-12);
    assert.ok(Math.abs(meanSliceSsim(vol, vol, dims, 1, { dataRange: 2 }) - 1) < 1e-12);
    const noisy = withNoise(img, 0.1, 7);
    assert.ok(Math.abs(ssim2d(img, noisy, rows, cols, { dataRange: 1 }) - ssim2d(noisy, img, rows, cols, { dataRange: 1 })) < 1e-14);
  });

  test('SSIM decreases as noise increases', () => {
    let prev = 1;
    for (const sigma of [0.01, 0.03, 0.1, 0.3]) {
      const s = ssim2d(img, withNoise(img, sigma, 3), rows, cols, { dataRange: 1 });
      assert.ok(s < prev, `SSIM at noise ${sigma} = ${s} should be below ${prev}`);
      prev = s;
    }
    assert.ok(prev < 0.3);
  });

  test('constant images: only the luminance term is left, S = C1 / (mu_b^2 + C1)', () => {
    // mu_a = 0, mu_b = 0.5, zero variances: S = (0 + C1)(0 + C2) / ((0.25 + C1)(0 + C2)).
    const c1 = (0.01 * 1) ** 2;
    const expected = c1 / (0.25 + c1);
    const a = new Float64Array(rows * cols), b = new Float64Array(rows * cols).fill(0.5);
    assert.ok(Math.abs(ssim2d(a, b, rows, cols, { dataRange: 1 }) - expected) < 1e-12);
    const dims: Vec3 = [12, 11, 11];
    const n = 12 * 11 * 11;
    assert.ok(Math.abs(ssim3d(new Float64Array(n), new Float64Array(n).fill(0.5), dims, { dataRange: 1 }) - expected) < 1e-12);
  });

  test('rows/cols are honoured: transposing both images and the shape leaves SSIM unchanged', () => {
    const noisy = withNoise(img, 0.05, 11);
    const t = (x: Float64Array): Float64Array => Float64Array.from({ length: x.length }, (_v, i) => x[(i % rows) * cols + Math.floor(i / rows)]);
    const s = ssim2d(img, noisy, rows, cols, { dataRange: 1 });
    assert.ok(Math.abs(ssim2d(t(img), t(noisy), cols, rows, { dataRange: 1 }) - s) < 1e-12);
  });

  test('any numeric input type: Int16 volumes give the same SSIM as Float64 copies', () => {
    const dims: Vec3 = [14, 12, 11], n = 14 * 12 * 11, rng = createRng(5);
    const a = Int16Array.from({ length: n }, (_v, i) => Math.round(1000 * Math.sin(i / 50)));
    const b = Int16Array.from(a, (v) => v + Math.round(50 * rng.normal()));
    const va = createVolume(dims, { data: a }), vb = createVolume(dims, { data: b });
    const s = ssim3d(va, vb, { dataRange: 2000 });
    assert.equal(s, ssim3d(Float64Array.from(a), Float64Array.from(b), dims, { dataRange: 2000 }));
    assert.ok(s < 0.999 && s > 0.5);
  });

  test('mask: mean of the uncropped map over masked voxels; map output', () => {
    const noisy = withNoise(img, 0.05, 13);
    const map = new Float64Array(rows * cols);
    const unmasked = ssim2d(img, noisy, rows, cols, { dataRange: 1, map });
    // Cropped mean recomputed from the map.
    let sum = 0, count = 0;
    for (let r = 5; r < rows - 5; r++) for (let c = 5; c < cols - 5; c++) { sum += map[r * cols + c]; count++; }
    assert.ok(Math.abs(sum / count - unmasked) < 1e-14);
    const mask = new Uint8Array(rows * cols);
    mask[0] = 1; mask[7 * cols + 9] = 1; // includes a corner pixel the cropped mean ignores
    const masked = ssim2d(img, noisy, rows, cols, { dataRange: 1, mask });
    assert.ok(Math.abs(masked - (map[0] + map[7 * cols + 9]) / 2) < 1e-14);
  });

  test('slice-wise SSIM: one value per slice, each the 2D SSIM of that slice; masked-out slices skipped', () => {
    const dims: Vec3 = [12, 13, 4], n = 12 * 13 * 4;
    const a = Float64Array.from({ length: n }, (_v, i) => Math.cos(i / 9));
    const b = withNoise(a, 0.2, 17);
    const per = sliceSsim(a, b, dims, 2, { dataRange: 2 });
    assert.equal(per.length, 4);
    per.forEach((v, k) => {
      const s2 = ssim2d(a.subarray(k * 156, (k + 1) * 156), b.subarray(k * 156, (k + 1) * 156), 13, 12, { dataRange: 2 });
      assert.ok(Math.abs(v - s2) < 1e-14);
    });
    const mask = new Uint8Array(n);
    mask.fill(1, 2 * 156, 3 * 156); // slice k = 2 only
    const masked = sliceSsim(a, b, dims, 2, { dataRange: 2, mask });
    assert.ok(Number.isNaN(masked[0]) && Number.isNaN(masked[3]) && Number.isFinite(masked[2]));
    assert.equal(meanSliceSsim(a, b, dims, 2, { dataRange: 2, mask }), masked[2]);
    // Axis 0/1 slices are 13x4 / 12x4: smaller than the window.
    throwsCode(() => sliceSsim(a, b, dims, 0, { dataRange: 2 }), 'bad-data');
  });

  test('errors: data range, shape, window size, options', () => {
    throwsCode(() => ssim2d(img, img, rows, cols, {} as SsimOptions), 'bad-option', 'dataRange');
    throwsCode(() => ssim2d(img, img, rows, cols, { dataRange: 0 }), 'bad-option', 'dataRange');
    throwsCode(() => ssim3d(img, img, [cols, rows, 1], { dataRange: NaN }), 'bad-option', 'dataRange');
    throwsCode(() => ssim2d(img, img.subarray(1), rows, cols, { dataRange: 1 }), 'bad-data');
    throwsCode(() => ssim2d(img, img, rows, cols + 1, { dataRange: 1 }), 'bad-data');
    throwsCode(() => ssim2d(img.subarray(0, 10 * cols), img.subarray(0, 10 * cols), 10, cols, { dataRange: 1 }), 'bad-data');
    throwsCode(() => ssim3d(img, img, [cols, rows, 1], { dataRange: 1 }), 'bad-data'); // nz < 11
    throwsCode(() => ssim2d(img, img, rows, cols, { dataRange: 1, sigma: -1 }), 'bad-option', 'sigma');
    throwsCode(() => ssim2d(img, img, rows, cols, { dataRange: 1, map: new Float32Array(3) }), 'bad-option', 'map');
    const v = createVolume([11, 11, 11]), w = createVolume([11, 11, 12]);
    throwsCode(() => ssim3d(v, w, { dataRange: 1 }), 'bad-data', 'volumes');
  });
});
