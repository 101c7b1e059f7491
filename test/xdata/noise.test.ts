import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addCTNoise, ctNoiseMoments, samplePoisson, logFactorial, CT_NOISE_MIN_COUNTS } from '../../src/physics/noise.js';
import { createRng } from '../../src/core/rng.js';
import { MedfieldError } from '../../src/core/errors.js';
import { NOISE_STAT_SIGMAS, NOISE_VAR_REL, NOISE_ZERO_LIMIT_ABS } from '../tolerances.js';

function moments(a: ArrayLike<number>, from = 0): { mean: number; variance: number; n: number } {
  let s = 0;
  const n = a.length - from;
  for (let i = from; i < a.length; i++) s += a[i]!;
  const mean = s / n;
  let v = 0;
  for (let i = from; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, variance: v / (n - 1), n };
}

test('logFactorial matches exact sums (table and Stirling regimes)', () => {
  let exact = 0;
  for (let k = 1; k <= 200; k++) {
    exact += Math.log(k);
    assert.ok(Math.abs(logFactorial(k) - exact) < 1e-9 * Math.max(1, exact), `k=${k}`);
  }
  assert.equal(logFactorial(0), 0);
});

test('samplePoisson: mean and variance for small (Knuth) and large (PTRS) means', () => {
  const rng = createRng(7);
  const n = 200_000;
  const buf = new Float64Array(n);
  for (const mu of [0.3, 3, 9.5, 10, 37, 1000, 1e5]) {
    for (let i = 0; i < n; i++) buf[i] = samplePoisson(rng, mu);
    const m = moments(buf);
    assert.ok(Math.abs(m.mean - mu) < NOISE_STAT_SIGMAS * Math.sqrt(mu / n), `mean ${m.mean} vs ${mu}`);
    assert.ok(Math.abs(m.variance / mu - 1) < NOISE_VAR_REL, `variance ${m.variance} vs ${mu}`);
    for (let i = 0; i < 100; i++) assert.ok(Number.isInteger(buf[i]) && buf[i]! >= 0);
  }
});

test('samplePoisson: histogram matches the pmf (chi-square) on both sides of the PTRS threshold', () => {
  const rng = createRng(11);
  const n = 200_000;
  for (const mu of [4, 15, 60]) {
    const counts = new Float64Array(400);
    for (let i = 0; i < n; i++) counts[Math.min(399, samplePoisson(rng, mu))]! += 1;
    let chi2 = 0;
    let dof = -1;
    let logP = -mu; // log pmf(0)
    for (let k = 0; k < 399; k++) {
      if (k > 0) logP += Math.log(mu / k);
      const e = n * Math.exp(logP);
      if (e >= 20) { chi2 += (counts[k]! - e) ** 2 / e; dof++; }
    }
    // chi2 ~ dof +- sqrt(2 dof); 6 sigma above is far outside chance
    assert.ok(chi2 < dof + 6 * Math.sqrt(2 * dof), `mu=${mu}: chi2 ${chi2.toFixed(1)} with ${dof} dof`);
  }
});

test('addCTNoise: mean and variance of noisy line integrals match the delta method for several I0', () => {
  const n = 200_001;
  const maxP = 4;
  for (const [i0, sigma, p] of [[1e3, 10, 2], [1e4, 10, 3], [1e5, 10, 1], [1e5, 0, 4], [5e3, 30, 2.5]] as const) {
    const clean = new Float32Array(n).fill(p);
    clean[0] = maxP; // fixes M = max p
    const noisy = addCTNoise(clean, { i0, sigma, seed: 3 });
    const m = moments(noisy, 1);
    const pred = ctNoiseMoments(p, maxP, i0, sigma);
    const se = Math.sqrt(pred.variance / m.n);
    assert.ok(Math.abs(m.mean - pred.mean) < NOISE_STAT_SIGMAS * se, `I0=${i0} sigma=${sigma}: mean ${m.mean} vs ${pred.mean} (se ${se})`);
    assert.ok(Math.abs(m.variance / pred.variance - 1) < NOISE_VAR_REL, `I0=${i0} sigma=${sigma}: variance ${m.variance} vs ${pred.variance}`);
  }
});

test('addCTNoise: the same seed gives the same output, another seed another', () => {
  const clean = new Float32Array(1000);
  for (let i = 0; i < clean.length; i++) clean[i] = (i % 37) * 0.1;
  const a = addCTNoise(clean, { i0: 1e4, sigma: 10, seed: 42 });
  const b = addCTNoise(clean, { i0: 1e4, sigma: 10, seed: 42 });
  const c = addCTNoise(clean, { i0: 1e4, sigma: 10, seed: 43 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.equal(clean[5], Math.fround(0.5)); // input untouched
});

test('addCTNoise: zero-noise limit returns the input', () => {
  const clean = new Float32Array(500);
  for (let i = 0; i < clean.length; i++) clean[i] = (i / 499) * 4;
  const out = addCTNoise(clean, { i0: 1e15, sigma: 0, seed: 1 });
  for (let i = 0; i < clean.length; i++) assert.ok(Math.abs(out[i]! - clean[i]!) < NOISE_ZERO_LIMIT_ABS, `i=${i}: ${out[i]} vs ${clean[i]}`);
  // all-zero input has nothing to normalise by and comes back unchanged
  assert.deepEqual(addCTNoise(new Float32Array(4), { i0: 10, sigma: 5, seed: 1 }), new Float32Array(4));
});

test('addCTNoise: non-positive counts are clamped as TIGRE does (finite output)', () => {
  const clean = new Float32Array(10_000).fill(3);
  const out = addCTNoise(clean, { i0: 1, sigma: 0, seed: 9 }); // lambda = e^-1: most draws are 0 counts
  const clampValue = Math.fround(Math.log(1 / CT_NOISE_MIN_COUNTS) * 3);
  let clamped = 0;
  for (const v of out) { assert.ok(Number.isFinite(v)); if (v === clampValue) clamped++; }
  // P(0 counts) = exp(-e^-1) = 0.692
  assert.ok(Math.abs(clamped / out.length - Math.exp(-Math.exp(-1))) < 0.02, `clamped fraction ${clamped / out.length}`);
});

test('addCTNoise: bad options name the field', () => {
  const x = new Float32Array([1, 2]);
  assert.throws(() => addCTNoise(x, { i0: 0, sigma: 1, seed: 1 }), (e: unknown) => e instanceof MedfieldError && /noise\.i0/.test(e.message));
  assert.throws(() => addCTNoise(x, { i0: 10, sigma: -1, seed: 1 }), (e: unknown) => e instanceof MedfieldError && /noise\.sigma/.test(e.message));
  assert.throws(() => addCTNoise(new Float32Array([1, NaN]), { i0: 10, sigma: 1, seed: 1 }), (e: unknown) => e instanceof MedfieldError && /lineIntegrals\[1\]/.test(e.message));
});
