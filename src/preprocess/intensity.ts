/**
 * Intensity transforms: percentiles and percentile clipping, min-max and z-score normalisation,
 * and CT Hounsfield units <-> linear attenuation coefficients. All return new Float32 volumes on
 * the same grid; non-finite voxels (NaN, +-Inf) are ignored by every statistic and pass
 * through the linear maps unchanged in kind (NaN stays NaN).
 */
import { check, MedfieldError } from '../core/errors.js';
import { withData, type Volume } from '../core/volume.js';
import { checkRange, checkVolume, maskValues, type Mask } from './validate.js';

/**
 * Linear attenuation coefficient of water in 1/mm at an effective energy of 70 keV: 0.01937 /mm
 * (0.1937 /cm). From the NIST XCOM / Hubbell & Seltzer (NISTIR 5632) mass attenuation
 * coefficients of liquid water, mu/rho = 0.2059 cm^2/g at 60 keV and 0.1837 cm^2/g at 80 keV
 * (total, with coherent scattering), interpolated log-log to 70 keV, times rho = 1.000 g/cm^3.
 * 70 keV is a common effective energy of a 120 kVp clinical CT spectrum; pass your own value
 * (`muWaterPerMm`) for another spectrum.
 */
export const MU_WATER_PER_MM = 0.01937;
/** The effective energy (keV) at which {@link MU_WATER_PER_MM} holds. */
export const MU_WATER_ENERGY_KEV = 70;

/**
 * Percentiles of the finite values of `v` (inside `mask` when given), `ps` in [0, 100].
 * Definition: numpy's default ('linear', Hyndman & Fan type 7): with the n values sorted
 * ascending as x_0..x_{n-1} and rank r = p/100 * (n-1), the result is
 * x_floor(r) + (r - floor(r)) * (x_ceil(r) - x_floor(r)). E.g. [1..100] at p = 25 gives 25.75.
 * Cost: O(n) expected per percentile (quickselect on a Float64 copy of the selected values).
 * @throws MedfieldError 'bad-option' for p outside [0, 100], 'bad-data' when no finite value is selected.
 */
export function percentiles(v: Volume, ps: readonly number[], mask?: Mask): number[] {
  checkVolume(v);
  for (const p of ps) check(Number.isFinite(p) && p >= 0 && p <= 100, 'percentile', `expected a value in [0, 100], got ${p}`);
  const a = selectFinite(v, mask);
  const n = a.length;
  // Select ranks in increasing order: after placing rank r, everything right of r is >= a[r],
  // so the next (larger) rank can be searched in [r, n-1] only.
  const order = ps.map((p, i) => ({ r: (p / 100) * (n - 1), i })).sort((x, y) => x.r - y.r);
  const out = new Array<number>(ps.length);
  let from = 0;
  for (const { r, i } of order) {
    const lo = Math.floor(r);
    selectKth(a, lo, from, n - 1);
    from = lo;
    let next = a[lo];
    if (lo + 1 < n && r > lo) { // the next order statistic is the minimum of the right part
      next = Infinity;
      for (let t = lo + 1; t < n; t++) if (a[t] < next) next = a[t];
    }
    out[i] = a[lo] + (r - lo) * (next - a[lo]);
  }
  return out;
}

/**
 * Rearranges a[lo..hi] so a[k] holds the value of rank k there, smaller-or-equal values left of
 * it and larger-or-equal right (Hoare/Wirth quickselect, median-of-three pivot); falls back to
 * sorting the remaining range if partitioning stops shrinking fast (adversarial input).
 */
function selectKth(a: Float64Array, k: number, lo: number, hi: number): void {
  for (let rounds = 0; hi > lo; rounds++) {
    if (rounds > 64) { a.subarray(lo, hi + 1).sort(); return; }
    const mid = (lo + hi) >>> 1;
    if (a[mid] < a[lo]) swap(a, mid, lo);
    if (a[hi] < a[lo]) swap(a, hi, lo);
    if (a[hi] < a[mid]) swap(a, hi, mid);
    const pivot = a[mid];
    let i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) { swap(a, i, j); i++; j--; }
    }
    if (k <= j) hi = j; else if (k >= i) lo = i; else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]; a[i] = a[j]; a[j] = t;
}

/** One percentile; see {@link percentiles} for the definition. */
export function percentile(v: Volume, p: number, mask?: Mask): number {
  return percentiles(v, [p], mask)[0];
}

/** Finite values of v (inside mask) as a Float64Array; throws 'bad-data' when there are none. */
function selectFinite(v: Volume, mask?: Mask): Float64Array {
  const d = v.data, m = mask === undefined ? undefined : maskValues(mask, v);
  const out = new Float64Array(d.length);
  let n = 0;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (Number.isFinite(x) && (m === undefined || m[i] !== 0)) out[n++] = x;
  }
  if (n === 0) throw new MedfieldError('bad-data', mask === undefined ? 'volume' : 'mask', 'no finite voxel values to compute statistics from');
  return out.subarray(0, n);
}

/** Clamps every voxel into [low, high]. */
export function clipIntensity(v: Volume, low: number, high: number): Volume<Float32Array> {
  checkVolume(v);
  check(Number.isFinite(low) && Number.isFinite(high) && low <= high, 'clip range', `expected finite low <= high, got [${low}, ${high}]`);
  const d = v.data, out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    out[i] = x < low ? low : x > high ? high : x;
  }
  return withData(v, out);
}

export interface PercentileClipOptions {
  /** Lower percentile in [0, 100] (default 0.5). */
  lower?: number;
  /** Upper percentile in [0, 100], > lower (default 99.5). */
  upper?: number;
  /** Percentiles are computed inside the mask (nonzero voxels); all voxels are clipped. */
  mask?: Mask;
}

/**
 * Clips intensities to the [lower, upper] percentiles (numpy 'linear' definition, see
 * {@link percentiles}), e.g. to remove MRI bright outliers before normalising.
 * @throws MedfieldError 'bad-option' when the percentiles are outside [0, 100] or lower >= upper.
 */
export function clipPercentiles(v: Volume, opts: PercentileClipOptions = {}): Volume<Float32Array> {
  const lower = opts.lower ?? 0.5, upper = opts.upper ?? 99.5;
  check(Number.isFinite(lower) && Number.isFinite(upper) && lower >= 0 && upper <= 100 && lower < upper, 'percentiles',
    `expected 0 <= lower < upper <= 100, got lower ${lower}, upper ${upper}`);
  const [lo, hi] = percentiles(v, [lower, upper], opts.mask);
  return clipIntensity(v, lo, hi);
}

export interface MinMaxOptions {
  /** Output range [a, b], a < b (default [0, 1]). */
  outRange?: [number, number];
  /** Input range mapped to outRange; default the finite [min, max] (inside `mask` when given). */
  inRange?: [number, number];
  /** Where to take min/max from when `inRange` is not given. All voxels are mapped. */
  mask?: Mask;
  /** Clamp the result into outRange (default false: values outside inRange map linearly beyond it). */
  clip?: boolean;
}

/**
 * Min-max normalisation: y = a + (x - min) * (b - a) / (max - min). A constant input
 * (max = min) maps to `a` everywhere rather than dividing by zero.
 */
export function normalizeMinMax(v: Volume, opts: MinMaxOptions = {}): Volume<Float32Array> {
  checkVolume(v);
  const [a, b] = opts.outRange ?? [0, 1];
  checkRange([a, b], 'outRange');
  let lo: number, hi: number;
  if (opts.inRange) {
    checkRange(opts.inRange, 'inRange');
    [lo, hi] = opts.inRange;
  } else {
    const s = maskedMoments(v, opts.mask);
    lo = s.min; hi = s.max;
  }
  const scale = hi > lo ? (b - a) / (hi - lo) : 0;
  const d = v.data, out = new Float32Array(d.length), clip = opts.clip === true;
  for (let i = 0; i < d.length; i++) {
    let y = a + (d[i] - lo) * scale;
    if (clip) y = y < a ? a : y > b ? b : y;
    out[i] = y;
  }
  return withData(v, out);
}

export interface ZScoreOptions {
  /** Mean and std are computed inside the mask (nonzero voxels); all voxels are transformed. */
  mask?: Mask;
}

/**
 * Z-score: y = (x - mean) / std with the population std (ddof = 0, numpy's default), both over
 * the finite voxels (inside `mask` when given). When std = 0 the data are only centred
 * (divided by 1), as MONAI's NormalizeIntensity does, instead of producing Inf/NaN.
 * @returns the normalised volume and the statistics used.
 */
export function normalizeZScore(v: Volume, opts: ZScoreOptions = {}): { volume: Volume<Float32Array>; mean: number; std: number } {
  checkVolume(v);
  const { mean, std } = maskedMoments(v, opts.mask);
  const inv = std > 0 ? 1 / std : 1;
  const d = v.data, out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) out[i] = (d[i] - mean) * inv;
  return { volume: withData(v, out), mean, std };
}

/** Min, max, mean and population std of the finite voxels (inside mask). Two-pass for accuracy. */
export function maskedMoments(v: Volume, mask?: Mask): { min: number; max: number; mean: number; std: number; count: number } {
  const d = v.data, m = mask === undefined ? undefined : maskValues(mask, v);
  let min = Infinity, max = -Infinity, sum = 0, n = 0;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (!Number.isFinite(x) || (m !== undefined && m[i] === 0)) continue;
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x; n++;
  }
  if (n === 0) throw new MedfieldError('bad-data', mask === undefined ? 'volume' : 'mask', 'no finite voxel values to compute statistics from');
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (!Number.isFinite(x) || (m !== undefined && m[i] === 0)) continue;
    ss += (x - mean) * (x - mean);
  }
  return { min, max, mean, std: Math.sqrt(ss / n), count: n };
}

export interface AttenuationOptions {
  /** Linear attenuation of water in 1/mm (default {@link MU_WATER_PER_MM}, 70 keV). */
  muWaterPerMm?: number;
}

/**
 * CT Hounsfield units -> linear attenuation coefficient in 1/mm:
 * mu = mu_water * (1 + HU / 1000), clamped at 0 (HU = -1000 is air, mu ~ 0; lower values are
 * noise or padding such as -2048 and would give a non-physical negative mu). This is the HU
 * definition HU = 1000 (mu - mu_water) / (mu_water - mu_air) with mu_air taken as 0.
 */
export function huToMu(v: Volume, opts: AttenuationOptions = {}): Volume<Float32Array> {
  checkVolume(v);
  const muW = muWater(opts);
  const d = v.data, out = new Float32Array(d.length), k = muW / 1000;
  for (let i = 0; i < d.length; i++) {
    const mu = muW + d[i] * k;
    out[i] = mu > 0 ? mu : mu <= 0 ? 0 : mu; // NaN falls through unchanged
  }
  return withData(v, out);
}

/** Linear attenuation (1/mm) -> Hounsfield units: HU = 1000 * (mu / mu_water - 1); inverse of {@link huToMu} for HU >= -1000. */
export function muToHu(v: Volume, opts: AttenuationOptions = {}): Volume<Float32Array> {
  checkVolume(v);
  const muW = muWater(opts);
  const d = v.data, out = new Float32Array(d.length), k = 1000 / muW;
  for (let i = 0; i < d.length; i++) out[i] = d[i] * k - 1000;
  return withData(v, out);
}

function muWater(opts: AttenuationOptions): number {
  const m = opts.muWaterPerMm ?? MU_WATER_PER_MM;
  check(Number.isFinite(m) && m > 0, 'muWaterPerMm', `expected a linear attenuation > 0 in 1/mm (water ~0.019 at 70 keV), got ${m}`);
  return m;
}
