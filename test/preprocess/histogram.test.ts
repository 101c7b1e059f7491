import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createVolume, type Vec3, type Volume } from '../../src/core/volume.js';
import { equalizeHistogram, intensityHistogram, quantizeLevel } from '../../src/preprocess/histogram.js';
import { clahe, clipHistogram } from '../../src/preprocess/clahe.js';
import { HISTEQ_CDF_LEVELS, HISTEQ_IDENTITY_LEVELS } from '../tolerances.js';

const isBadOption = (e: unknown): boolean => e instanceof MedfieldError && e.code === 'bad-option';

/** Deterministic uniform [0, 1) numbers (LCG), so the tests need no seed plumbing. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
}

const vol = (dims: Vec3, f: (i: number) => number): Volume<Float32Array> => {
  const v = createVolume(dims);
  for (let i = 0; i < v.data.length; i++) v.data[i] = f(i);
  return v;
};

describe('histogram equalisation T(r_k) = round((L-1) CDF(r_k))', () => {
  test('quantisation: L equal-width levels over [lo, hi], hi in the last level', () => {
    assert.equal(quantizeLevel(0, 0, 255, 256), 0);
    assert.equal(quantizeLevel(254, 0, 255, 256), 254);
    assert.equal(quantizeLevel(255, 0, 255, 256), 255);
    assert.equal(quantizeLevel(-3, 0, 1, 4), 0);
    assert.equal(quantizeLevel(0.5, 0, 1, 4), 2);
    assert.deepEqual(Array.from(intensityHistogram(vol([4, 1, 1], (i) => i), 2).counts), [2, 2]);
  });

  test('a uniform ramp is mapped to itself within one level', () => {
    const v = vol([256, 40, 1], (i) => i % 256);
    const out = equalizeHistogram(v);
    let worst = 0;
    for (let i = 0; i < v.data.length; i++) worst = Math.max(worst, Math.abs(out.data[i] - v.data[i]));
    assert.ok(worst <= HISTEQ_IDENTITY_LEVELS, `max deviation ${worst} levels`);
    assert.equal(Math.max(...out.data), 255);
  });

  test('the output CDF is uniform: at every output level t, F(t) = t/(L-1) within half a level', () => {
    for (const [power, levels] of [[3, 256], [1.5, 64], [0.3, 256]] as const) {
      const N = 65536;
      const v = vol([256, 256, 1], (i) => ((i * 40503) % N + 0.5) ** power); // skewed, all distinct
      const out = equalizeHistogram(v, { levels });
      const counts = new Float64Array(levels);
      for (const x of out.data) counts[x]++;
      let cum = 0;
      for (let t = 0; t < levels; t++) {
        cum += counts[t];
        if (counts[t] > 0) assert.ok(Math.abs((cum / N) * (levels - 1) - t) <= HISTEQ_CDF_LEVELS, `power ${power}, level ${t}: F = ${cum / N}`);
      }
      if (power === 1.5) {
        // Mild skew: the output histogram is also flat in coarse bins (each eighth of [0, L-1]
        // holds ~1/8, up to the lumps left by quantising the input to L levels).
        const eighth = new Float64Array(8);
        for (const x of out.data) eighth[Math.min(7, Math.floor((x / (levels - 1)) * 8))]++;
        for (const c of eighth) assert.ok(Math.abs(c / N - 1 / 8) < 0.03, `eighths ${Array.from(eighth)}`);
        // Whereas the input was far from flat.
        const before = intensityHistogram(v, 8).counts;
        assert.ok(Math.abs(before[0] / N - 1 / 8) > 0.1);
      }
    }
  });

  test('a mask restricts the CDF; outside voxels are zeroed, kept or mapped', () => {
    const rnd = lcg(7);
    const v = vol([32, 32, 4], () => rnd() * 1000);
    const mask = new Uint8Array(v.data.length).map((_, i) => (i % 3 === 0 ? 1 : 0));
    const zero = equalizeHistogram(v, { mask });
    const keep = equalizeHistogram(v, { mask, outside: 'keep' });
    const mapped = equalizeHistogram(v, { mask, outside: 'map' });
    // Changing only outside voxels changes nothing inside (range and CDF come from the mask).
    const v2 = createVolume(v.dims, { data: v.data.map((x, i) => (mask[i] ? x : x * 50 - 7)) });
    const zero2 = equalizeHistogram(v2, { mask });
    let insideCount = 0;
    for (let i = 0; i < v.data.length; i++) {
      if (mask[i]) {
        insideCount++;
        assert.equal(zero.data[i], zero2.data[i]);
        assert.equal(keep.data[i], zero.data[i]);
        assert.equal(mapped.data[i], zero.data[i]);
      } else {
        assert.equal(zero.data[i], 0);
        assert.equal(keep.data[i], v.data[i]);
        assert.ok(mapped.data[i] >= 0 && mapped.data[i] <= 255 && Number.isInteger(mapped.data[i]));
      }
    }
    // Inside the mask the equalised values are uniform: mean ~ (L-1)/2.
    let sum = 0;
    for (let i = 0; i < v.data.length; i++) if (mask[i]) sum += zero.data[i];
    assert.ok(Math.abs(sum / insideCount - 127.5) < 3, `inside mean ${sum / insideCount}`);
  });

  test("output 'unit' is T/(L-1) in [0, 1]; a given range clamps values beyond it", () => {
    const v = vol([100, 1, 1], (i) => i);
    const lv = equalizeHistogram(v, { levels: 16 });
    const unit = equalizeHistogram(v, { levels: 16, output: 'unit' });
    for (let i = 0; i < 100; i++) assert.ok(Math.abs(unit.data[i] - lv.data[i] / 15) < 1e-7);
    assert.equal(Math.max(...unit.data), 1);
    const ranged = equalizeHistogram(v, { levels: 4, range: [25, 50] });
    assert.equal(ranged.data[0], ranged.data[10]); // both below the range: level 0
    assert.equal(ranged.data[99], 3);
  });

  test('bad options: L < 2, non-integer L, empty range, unknown modes', () => {
    const v = vol([8, 1, 1], (i) => i);
    for (const opts of [{ levels: 1 }, { levels: 0 }, { levels: 2.5 }, { range: [3, 3] as [number, number] }, { outside: 'drop' as 'zero' }, { output: 'bytes' as 'unit' }]) {
      assert.throws(() => equalizeHistogram(v, opts), isBadOption, JSON.stringify(opts));
    }
  });
});

describe('CLAHE', () => {
  /** Left half: low-contrast texture around 100 (+-2); right half: full-range noise 0..255. */
  function twoRegions(nz: number): Volume<Float32Array> {
    const rnd = lcg(3);
    return vol([64, 64, nz], (i) => ((i % 64) < 32 ? 100 + 4 * (rnd() - 0.5) : 255 * rnd()));
  }
  const leftStd = (v: Volume, z: number): number => {
    let s = 0, s2 = 0, n = 0;
    for (let j = 0; j < 64; j++) for (let i = 4; i < 28; i++) { const x = v.data[i + 64 * (j + 64 * z)]; s += x; s2 += x * x; n++; }
    return Math.sqrt(s2 / n - (s / n) ** 2);
  };

  test('output in [0, 1]; the contrast of a low-contrast region increases', () => {
    const v = twoRegions(2);
    const out = clahe(v, { tiles: [4, 4] });
    assert.ok(out.data instanceof Float32Array);
    assert.deepEqual(out.dims, v.dims);
    assert.ok(Math.min(...out.data) >= 0 && Math.max(...out.data) <= 1);
    const before = leftStd(v, 0) / 255; // contrast on the same [0, 1] scale as the output
    const after = leftStd(out, 0);
    assert.ok(after > 2 * before, `left-half std ${before.toFixed(4)} -> ${after.toFixed(4)}`);
    // A larger clip limit allows more contrast (limit 1 = unclipped AHE).
    assert.ok(leftStd(clahe(v, { tiles: [4, 4], clipLimit: 1 }), 0) > after);
  });

  test('2D mode never mixes slices; 3D mode does', () => {
    const v = twoRegions(4);
    // A fixed range: the default range is global, so a change anywhere could shift every level.
    const a = clahe(v, { tiles: [4, 4], range: [0, 255] });
    const bumped = createVolume(v.dims, { data: v.data.map((x, i) => (i >= 2 * 4096 && i < 3 * 4096 ? 255 - x : x)) });
    const b = clahe(bumped, { tiles: [4, 4], range: [0, 255] });
    for (let z = 0; z < 4; z++) {
      let diff = 0;
      for (let q = 0; q < 4096; q++) diff = Math.max(diff, Math.abs(a.data[z * 4096 + q] - b.data[z * 4096 + q]));
      if (z === 2) assert.ok(diff > 0.1); else assert.equal(diff, 0, `slice ${z} changed`);
    }
    const a3 = clahe(v, { mode: '3d', tiles: [4, 4, 2], range: [0, 255] }), b3 = clahe(bumped, { mode: '3d', tiles: [4, 4, 2], range: [0, 255] });
    // Slice 1 lies between the z-tile centres 0.5 and 2.5, so it blends in the tile holding slice 2.
    let diff1 = 0;
    for (let q = 4096; q < 2 * 4096; q++) diff1 = Math.max(diff1, Math.abs(a3.data[q] - b3.data[q]));
    assert.ok(diff1 > 0.01, '3D tiles span slices');
    assert.ok(Math.min(...a3.data) >= 0 && Math.max(...a3.data) <= 1);
    // Slices along another axis (axis 0): one tile per x index.
    const sag = clahe(v, { axis: 0, tiles: [2, 2] });
    assert.ok(Math.max(...sag.data) <= 1);
  });

  test('a clip limit below the uniform level gives the global linear map (level+1)/bins', () => {
    const v = twoRegions(1);
    const out = clahe(v, { tiles: [4, 4], clipLimit: 1e-9, bins: 64 });
    let lo = Infinity, hi = -Infinity;
    for (const x of v.data) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    for (let i = 0; i < v.data.length; i++) {
      assert.ok(Math.abs(out.data[i] - (quantizeLevel(v.data[i], lo, hi, 64) + 1) / 64) < 1e-6);
    }
  });

  test('clipHistogram caps bins and redistributes the excess (water filling), preserving the total', () => {
    const scratch = new Float64Array(4);
    const h1 = new Float64Array([10, 0, 0, 0]);
    clipHistogram(h1, 4, 10, scratch);
    assert.deepEqual(Array.from(h1), [4, 2, 2, 2]);
    const h2 = new Float64Array([6, 3, 1, 0]);
    clipHistogram(h2, 4, 10, scratch);
    [4, 3 + 2 / 3, 1 + 2 / 3, 2 / 3].forEach((x, i) => assert.ok(Math.abs(h2[i] - x) < 1e-12));
    const rnd = lcg(11);
    for (let trial = 0; trial < 50; trial++) {
      const h = new Float64Array(16).map(() => Math.floor(rnd() ** 4 * 40));
      const total = h.reduce((a, b) => a + b, 0), limit = 1 + rnd() * 10;
      clipHistogram(h, limit, total, new Float64Array(16));
      assert.ok(Math.abs(h.reduce((a, b) => a + b, 0) - total) < 1e-9);
      // A cap below the uniform level cannot hold the total: the result is then uniform.
      assert.ok(h.every((x) => x <= Math.max(limit, total / 16) + 1e-12));
    }
  });

  test('bad options are rejected', () => {
    const v = twoRegions(1);
    for (const opts of [{ bins: 1 }, { bins: 70000 }, { clipLimit: 2 }, { clipLimit: -0.1 }, { tiles: [65, 2] }, { tiles: [0, 2] }, { tiles: [4, 4, 4] },
      { mode: '4d' as '3d' }, { axis: 3 as 2 }, { range: [5, 1] as [number, number] }]) {
      assert.throws(() => clahe(v, opts), isBadOption, JSON.stringify(opts));
    }
  });
});
