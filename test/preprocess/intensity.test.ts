import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createVolume, type Volume } from '../../src/core/volume.js';
import {
  MU_WATER_PER_MM, clipIntensity, clipPercentiles, huToMu, maskedMoments, muToHu, normalizeMinMax, normalizeZScore, percentile, percentiles,
} from '../../src/preprocess/intensity.js';

const line = (values: ArrayLike<number>): Volume => createVolume([values.length, 1, 1], { data: Float32Array.from(values) });
const isBadOption = (e: unknown): boolean => e instanceof MedfieldError && e.code === 'bad-option';
const close = (a: number, b: number, tol = 1e-12): boolean => Math.abs(a - b) <= tol;

describe('percentiles (numpy linear definition)', () => {
  test('[1..100]: p25 = 25.75, p50 = 50.5, p75 = 75.25 (numpy.percentile)', () => {
    const v = line(Array.from({ length: 100 }, (_, i) => 100 - i)); // unsorted on purpose
    assert.deepEqual(percentiles(v, [25, 50, 75]), [25.75, 50.5, 75.25]);
    assert.equal(percentile(v, 0), 1);
    assert.equal(percentile(v, 100), 100);
  });

  test('values from numpy.percentile, with duplicates, in any request order', () => {
    const a = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4];
    const want = [1.0, 1.9, 3.0, 4.5, 9.0, 9.0, 9.0];
    const got = percentiles(line(a), [0, 10, 33.3, 50, 90, 99.9, 100]);
    got.forEach((g, i) => assert.ok(close(g, want[i], 1e-9), `p[${i}] = ${g}, numpy ${want[i]}`));
    const rev = percentiles(line(a), [100, 50, 10]);
    assert.ok(close(rev[0], 9) && close(rev[1], 4.5) && close(rev[2], 1.9, 1e-9));
    // Inside a mask (every other voxel): numpy gives 3.25 and 7.25.
    const mask = Uint8Array.from(a, (_, i) => (i % 2 === 0 ? 1 : 0));
    assert.deepEqual(percentiles(line(a), [25, 75], mask), [3.25, 7.25]);
  });

  test('non-finite voxels are ignored; a mask selecting nothing is a bad-data error', () => {
    assert.equal(percentile(line([NaN, 1, 2, Infinity, 3]), 50), 2);
    assert.throws(() => percentile(line([1, 2]), 50, [0, 0]), (e: unknown) => e instanceof MedfieldError && e.code === 'bad-data');
  });

  test('percentile clipping clips at the percentile values', () => {
    const v = line(Array.from({ length: 100 }, (_, i) => i + 1));
    const out = clipPercentiles(v, { lower: 25, upper: 75 });
    assert.ok(out.data instanceof Float32Array);
    assert.equal(Math.min(...out.data), 25.75);
    assert.equal(Math.max(...out.data), 75.25);
    assert.equal(out.data[49], 50);
    assert.deepEqual(Array.from(clipIntensity(line([-5, 0, 5]), -1, 1).data), [-1, 0, 1]);
  });

  test('bad percentiles are rejected', () => {
    const v = line([1, 2, 3]);
    for (const opts of [{ lower: 90, upper: 10 }, { lower: 50, upper: 50 }, { lower: -1 }, { upper: 101 }, { lower: NaN }]) {
      assert.throws(() => clipPercentiles(v, opts), isBadOption, JSON.stringify(opts));
    }
    assert.throws(() => percentiles(v, [120]), isBadOption);
    assert.throws(() => clipIntensity(v, 2, 1), isBadOption);
  });
});

describe('normalisation', () => {
  const data = [2, 4, 4, 4, 5, 5, 7, 9];

  test('min-max maps [min, max] onto [a, b]; inRange, mask and clip', () => {
    const out = normalizeMinMax(line(data));
    assert.equal(Math.min(...out.data), 0);
    assert.equal(Math.max(...out.data), 1);
    assert.ok(close(out.data[4], 3 / 7, 1e-7));
    const sym = normalizeMinMax(line(data), { outRange: [-1, 1] });
    assert.deepEqual([sym.data[0], sym.data[7]], [-1, 1]);
    // Range from the mask (values 4..5): the others map outside [0, 1] unless clipped.
    const mask = [0, 1, 1, 1, 1, 1, 0, 0];
    const m = normalizeMinMax(line(data), { mask });
    assert.deepEqual([m.data[1], m.data[4], m.data[0], m.data[7]], [0, 1, -2, 5]);
    const c = normalizeMinMax(line(data), { mask, clip: true });
    assert.deepEqual([c.data[0], c.data[7]], [0, 1]);
    assert.deepEqual(Array.from(normalizeMinMax(line([0, 10]), { inRange: [0, 20] }).data), [0, 0.5]);
    assert.deepEqual(Array.from(normalizeMinMax(line([3, 3, 3])).data), [0, 0, 0]);
    assert.throws(() => normalizeMinMax(line(data), { outRange: [1, 0] }), isBadOption);
  });

  test('z-score gives mean 0 and population std 1 (inside the mask when given)', () => {
    const { volume, mean, std } = normalizeZScore(line(data));
    assert.equal(mean, 5);
    assert.equal(std, 2); // population std of the classic example; sample std would be 2.138
    const s = maskedMoments(volume);
    assert.ok(close(s.mean, 0, 1e-7) && close(s.std, 1, 1e-7));
    const mask = [1, 1, 1, 1, 0, 0, 0, 0];
    const z = normalizeZScore(line(data), { mask });
    const inside = maskedMoments(z.volume, mask);
    assert.ok(close(inside.mean, 0, 1e-7) && close(inside.std, 1, 1e-6), `${inside.mean} ${inside.std}`);
    assert.ok(z.volume.data[7] > 5, 'voxels outside the mask are transformed with the mask statistics');
    assert.deepEqual(Array.from(normalizeZScore(line([3, 3])).volume.data), [0, 0]);
    assert.throws(() => normalizeZScore(line(data), { mask: [1, 0] }), isBadOption);
  });
});

describe('HU <-> linear attenuation', () => {
  test('water -> mu_water, air -1000 -> 0, below air clamps to 0, bone +1000 -> 2 mu_water', () => {
    const mu = huToMu(line([0, -1000, -2048, 1000, NaN]));
    assert.ok(close(mu.data[0], MU_WATER_PER_MM, 1e-8)); // Float32 output
    assert.equal(mu.data[1], 0);
    assert.equal(mu.data[2], 0);
    assert.ok(close(mu.data[3], 2 * MU_WATER_PER_MM, 1e-8));
    assert.ok(Number.isNaN(mu.data[4]));
    assert.ok(MU_WATER_PER_MM > 0.015 && MU_WATER_PER_MM < 0.025, 'per mm, not per cm or per m');
  });

  test('a user mu_water is honoured and muToHu inverts huToMu for HU >= -1000', () => {
    const hu = [-1000, -500, 0, 40, 1200, 3000];
    const mu = huToMu(line(hu), { muWaterPerMm: 0.02 });
    assert.ok(close(mu.data[2], 0.02, 1e-8));
    const back = muToHu(mu, { muWaterPerMm: 0.02 });
    hu.forEach((h, i) => assert.ok(Math.abs(back.data[i] - h) < 1e-3, `${h} -> ${back.data[i]}`));
    assert.throws(() => huToMu(line(hu), { muWaterPerMm: 0 }), isBadOption);
    assert.throws(() => muToHu(line(hu), { muWaterPerMm: -0.02 }), isBadOption);
  });
});
