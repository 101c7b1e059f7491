/**
 * CT projection noise with TIGRE's model (`addCTnoise`, Biguri et al. 2016; the model follows
 * Liu et al. 2012, doi:10.1088/0031-9155/57/23/7923):
 *
 *   M      = max over all line integrals p
 *   lambda = I0 * exp(-p / M)                        (expected photon counts, Beer-Lambert)
 *   I      = Poisson(lambda) + N(mu, sigma^2)         (photon noise + electronic noise)
 *   I      = 1e-6 where I <= 0                        (TIGRE's clamp, so the log is finite)
 *   p'     = log(I0 / I) * M                          (back to line integrals)
 *
 * Note the normalisation by M: TIGRE scales every projection set so that its largest line
 * integral sees I0/e counts, whatever the object's units. The noise level therefore depends on
 * I0 and sigma only, not on whether the line integrals are in 1/mm x mm or normalised units.
 */
import { MedfieldError } from '../core/errors.js';
import { createRng, type Rng } from '../core/rng.js';

/** Options of {@link addCTNoise}. */
export interface CTNoiseOptions {
  /** Expected photon count of an unattenuated ray, p = 0 (TIGRE 'Poisson'; 1e5 is a clinical dose). */
  i0: number;
  /** Standard deviation of the additive Gaussian electronic noise, in counts (TIGRE 'Gaussian'[1], commonly 10). */
  sigma: number;
  /** Mean of the electronic noise, in counts (TIGRE 'Gaussian'[0]); default 0. */
  gaussianMean?: number;
  /** Seed of the random stream (src/core/rng.ts); the same seed gives the same output. */
  seed: number;
}

/** Counts at or below zero after the noise are set to this (TIGRE: `Im(Im<=0)=1e-6`). */
export const CT_NOISE_MIN_COUNTS = 1e-6;

/** Means below this are sampled exactly by Knuth's product of uniforms; at or above, by PTRS. */
export const POISSON_PTRS_THRESHOLD = 10;

/**
 * Returns a noisy copy of `lineIntegrals` (any layout, e.g. [views, rows, cols]) following TIGRE's
 * `addCTnoise` (see the module comment). Float32 out, as TIGRE's `single(...)`. An all-zero input
 * (M = 0) has no attenuation to scale and is returned unchanged.
 */
export function addCTNoise(lineIntegrals: Float32Array, options: CTNoiseOptions): Float32Array {
  const { i0, sigma, seed } = options;
  const mu = options.gaussianMean ?? 0;
  if (!(Number.isFinite(i0) && i0 > 0)) throw new MedfieldError('bad-option', 'noise.i0', `expected a photon count > 0, got ${String(i0)}`);
  if (!(Number.isFinite(sigma) && sigma >= 0)) throw new MedfieldError('bad-option', 'noise.sigma', `expected an electronic noise standard deviation >= 0 counts, got ${String(sigma)}`);
  if (!Number.isFinite(mu)) throw new MedfieldError('bad-option', 'noise.gaussianMean', `expected a finite mean in counts, got ${String(mu)}`);
  if (!Number.isFinite(seed)) throw new MedfieldError('bad-option', 'noise.seed', `expected a finite integer seed, got ${String(seed)}`);
  const n = lineIntegrals.length;
  let maxP = -Infinity;
  for (let i = 0; i < n; i++) {
    const p = lineIntegrals[i]!;
    if (!Number.isFinite(p)) throw new MedfieldError('bad-data', `lineIntegrals[${i}]`, `expected finite line integrals, got ${String(p)}`);
    if (p > maxP) maxP = p;
  }
  const out = new Float32Array(n);
  if (n === 0) return out;
  if (!(maxP > 0)) { out.set(lineIntegrals); return out; }
  const rng = createRng(seed);
  const invMax = 1 / maxP;
  for (let i = 0; i < n; i++) {
    const lambda = i0 * Math.exp(-lineIntegrals[i]! * invMax);
    let counts = samplePoisson(rng, lambda);
    if (sigma > 0 || mu !== 0) counts += mu + sigma * rng.normal();
    if (counts <= 0) counts = CT_NOISE_MIN_COUNTS;
    out[i] = Math.log(i0 / counts) * maxP;
  }
  return out;
}

/**
 * Delta-method moments of one noisy line integral of {@link addCTNoise} for a clean value `p`
 * with normalisation `maxP`: with lambda = I0 exp(-p/M) and counts of variance lambda + sigma^2,
 * p' = M (log I0 - log I) has mean ~ p + M (lambda + sigma^2) / (2 lambda^2) and variance
 * ~ M^2 (lambda + sigma^2) / lambda^2 (second-order bias, first-order variance; valid when the
 * clamp is never reached, i.e. lambda >> sigma).
 */
export function ctNoiseMoments(p: number, maxP: number, i0: number, sigma: number): { mean: number; variance: number } {
  const lambda = i0 * Math.exp(-p / maxP);
  const v = lambda + sigma * sigma;
  return { mean: p + (maxP * v) / (2 * lambda * lambda), variance: (maxP * maxP * v) / (lambda * lambda) };
}

/**
 * One exact Poisson(mean) sample. Below {@link POISSON_PTRS_THRESHOLD}: Knuth's method (multiply
 * uniforms until the product drops below exp(-mean)), O(mean). From there on: Hormann's PTRS,
 * "The transformed rejection method for generating Poisson random variables" (Insurance:
 * Mathematics and Economics 12, 1993), O(1) and exact (accept/reject against the true pmf).
 */
export function samplePoisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean < POISSON_PTRS_THRESHOLD) {
    const limit = Math.exp(-mean);
    let k = 0;
    let prod = rng.next();
    while (prod > limit) { k++; prod *= rng.next(); }
    return k;
  }
  // PTRS constants (Hormann 1993, table 1 / algorithm PTRS).
  const smu = Math.sqrt(mean);
  const b = 0.931 + 2.53 * smu;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  const logMean = Math.log(mean);
  for (;;) {
    const u = rng.next() - 0.5;
    const v = rng.next();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k; // squeeze: inside the hat's sure-accept region
    if (k < 0 || (us < 0.013 && v > us)) continue;
    // full acceptance test against log pmf(k) = -mean + k log mean - log k!
    if (Math.log(v * invAlpha / (a / (us * us) + b)) <= -mean + k * logMean - logFactorial(k)) return k;
  }
}

const LOG_FACT_TABLE = (() => {
  const t = new Float64Array(16);
  for (let k = 2; k < 16; k++) t[k] = t[k - 1]! + Math.log(k);
  return t;
})();

/** log(k!) for integer k >= 0: exact sums below 16, Stirling's series with three terms above (error < 1e-12). */
export function logFactorial(k: number): number {
  if (k < 16) return LOG_FACT_TABLE[k]!;
  const inv = 1 / k;
  const inv2 = inv * inv;
  return k * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI * k) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}
