/**
 * Ramp filters for filtered back-projection (FBP, FDK).
 *
 * The ramp is built in the spatial domain as the band-limited kernel of Kak & Slaney
 * (Principles of Computerized Tomographic Imaging, 1988, ch. 3, eq. 61):
 *   h(0) = 1 / (4 tau^2),  h(n tau) = 0 for even n != 0,  h(n tau) = -1 / (n^2 pi^2 tau^2) for odd n,
 * sampled on the zero-padded length N (a power of two >= 2 n_u) and transformed. Sampling |w| in
 * the frequency domain instead would set the DC bin to 0 and, with the circular wrap of a
 * finite DFT, bias the mean of the reconstruction (Kak & Slaney's "DC shift"); the truncated
 * spatial kernel has a small positive DC gain tau * sum_n h(n tau) that compensates for the
 * truncation of the infinite kernel to the padded length.
 *
 * The spectrum is then multiplied by an apodisation window of the normalised frequency
 * w = f / (d f_Nyquist) (d = frequencyScaling in (0, 1]; bins with w > 1 are zeroed):
 *   ram-lak 1, shepp-logan sinc(w/2) = sin(pi w/2)/(pi w/2), cosine cos(pi w/2),
 *   hamming 0.54 + 0.46 cos(pi w), hann 0.5 + 0.5 cos(pi w).
 * The discrete convolution approximates an integral over u, so the response carries the factor
 * tau (the detector pixel size in mm): filtered values are (line integral)/mm.
 */
import { check } from '../core/errors.js';
import { convolveRealPair, createFftPlan, fftInPlace, nextPowerOfTwo, type FftPlan } from './fft.js';

export const FILTER_WINDOWS = ['ram-lak', 'shepp-logan', 'cosine', 'hamming', 'hann'] as const;
/** Apodisation window of the ramp filter. */
export type FilterWindow = (typeof FILTER_WINDOWS)[number];

/** Options of the ramp filter. */
export interface RampFilterOptions {
  /** Window (default 'ram-lak'). */
  window?: FilterWindow;
  /** Cut-off as a fraction of the Nyquist frequency, (0, 1] (default 1; TIGRE's frequency scaling). */
  frequencyScaling?: number;
}

/** A ramp filter ready to apply to rows of length `length`. */
export interface RampFilter {
  /** Row length the filter was built for (detector columns). */
  readonly length: number;
  /** Padded FFT length (power of two >= 2 * length). */
  readonly size: number;
  readonly plan: FftPlan;
  /** Real, even spectrum of length `size`, including the factor tau and the window. */
  readonly response: Float64Array;
}

/** Checks filter options; throws a 'bad-option' MedfieldError naming the field. */
export function checkRampFilterOptions(o: RampFilterOptions, subject = 'filter'): void {
  if (o.window !== undefined) {
    check((FILTER_WINDOWS as readonly string[]).includes(o.window), `${subject}.window`,
      `expected one of ${FILTER_WINDOWS.join(', ')}, got ${String(o.window)}`);
  }
  if (o.frequencyScaling !== undefined) {
    check(Number.isFinite(o.frequencyScaling) && o.frequencyScaling > 0 && o.frequencyScaling <= 1,
      `${subject}.frequencyScaling`, `expected a number in (0, 1], got ${o.frequencyScaling}`);
  }
}

/** Window value at normalised frequency w in [0, 1]. */
export function windowValue(window: FilterWindow, w: number): number {
  switch (window) {
    case 'ram-lak': return 1;
    case 'shepp-logan': { const a = (Math.PI * w) / 2; return a === 0 ? 1 : Math.sin(a) / a; }
    case 'cosine': return Math.cos((Math.PI * w) / 2);
    case 'hamming': return 0.54 + 0.46 * Math.cos(Math.PI * w);
    case 'hann': return 0.5 + 0.5 * Math.cos(Math.PI * w);
  }
}

/** The band-limited ramp kernel value h(n tau) of Kak & Slaney eq. 61 (units 1/mm^2). */
export function rampKernel(n: number, tauMm: number): number {
  if (n === 0) return 1 / (4 * tauMm * tauMm);
  if (n % 2 === 0) return 0;
  return -1 / (n * n * Math.PI * Math.PI * tauMm * tauMm);
}

/**
 * Builds the ramp filter for rows of `length` samples spaced `tauMm` mm apart.
 */
export function createRampFilter(length: number, tauMm: number, opts: RampFilterOptions = {}): RampFilter {
  check(Number.isInteger(length) && length >= 1, 'length', `expected an integer >= 1, got ${length}`);
  check(Number.isFinite(tauMm) && tauMm > 0, 'tauMm', `expected a pixel size > 0 mm, got ${tauMm}`);
  checkRampFilterOptions(opts);
  const window = opts.window ?? 'ram-lak';
  const d = opts.frequencyScaling ?? 1;
  const size = Math.max(4, nextPowerOfTwo(2 * length));
  const plan = createFftPlan(size);
  const re = new Float64Array(size), im = new Float64Array(size);
  // Circular placement of h(k), k = -(size/2 - 1) .. size/2: even about 0, so the spectrum is real.
  for (let k = 0; k <= size / 2; k++) {
    const h = rampKernel(k, tauMm);
    re[k] = h;
    if (k > 0 && k < size / 2) re[size - k] = h;
  }
  fftInPlace(plan, re, im, false);
  const response = new Float64Array(size);
  const half = size / 2;
  for (let k = 0; k < size; k++) {
    const w = Math.min(k, size - k) / half / d;
    response[k] = w > 1 ? 0 : tauMm * re[k] * windowValue(window, w);
  }
  return { length, size, plan, response };
}

/**
 * Filters `rows` rows of `f.length` values (row r at src[srcOffset + r * f.length ...]) and
 * writes the filtered rows to dst with the same layout. Rows are processed in pairs on one
 * complex FFT; the scratch arrays (length f.size) are overwritten. src and dst may alias.
 */
export function filterRows(f: RampFilter, src: ArrayLike<number>, srcOffset: number, rows: number,
  dst: Float32Array | Float64Array, dstOffset: number, scratchA: Float64Array, scratchB: Float64Array): void {
  const n = f.length, size = f.size;
  for (let r = 0; r < rows; r += 2) {
    const two = r + 1 < rows;
    const a0 = srcOffset + r * n, b0 = a0 + n;
    for (let i = 0; i < n; i++) { scratchA[i] = src[a0 + i]; scratchB[i] = two ? src[b0 + i] : 0; }
    scratchA.fill(0, n, size);
    scratchB.fill(0, n, size);
    convolveRealPair(f.plan, scratchA, scratchB, f.response);
    const d0 = dstOffset + r * n;
    for (let i = 0; i < n; i++) dst[d0 + i] = scratchA[i];
    if (two) for (let i = 0; i < n; i++) dst[d0 + n + i] = scratchB[i];
  }
}
