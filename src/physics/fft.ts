/**
 * Radix-2 FFT (iterative Cooley-Tukey, decimation in time, bit-reversed input order) on split
 * real/imaginary Float64Arrays, with precomputed twiddles and bit-reversal table, and real
 * transforms built on it. Used by the ramp filters of FBP/FDK (filters.ts). No allocation per
 * transform.
 *
 * Conventions: forward X[k] = sum_n x[n] exp(-2 pi i k n / N); inverse includes the 1/N factor.
 */
import { check } from '../core/errors.js';

/** Precomputed tables for transforms of one power-of-two length. */
export interface FftPlan {
  readonly n: number;
  /** cos(2 pi k / n), k < n/2. */
  readonly cos: Float64Array;
  /** sin(2 pi k / n), k < n/2. */
  readonly sin: Float64Array;
  /** Bit-reversed index of each k < n. */
  readonly rev: Uint32Array;
}

/** True when n is a power of two >= 1. */
export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Smallest power of two >= n (n >= 1). */
export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Builds the tables for length n (a power of two). */
export function createFftPlan(n: number): FftPlan {
  check(isPowerOfTwo(n), 'n', `FFT length must be a power of two, got ${n}`);
  const half = n >> 1;
  const cos = new Float64Array(Math.max(half, 1));
  const sin = new Float64Array(Math.max(half, 1));
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = Math.sin((2 * Math.PI * k) / n);
  }
  const rev = new Uint32Array(n);
  let bits = 0;
  while (1 << bits < n) bits++;
  for (let k = 0; k < n; k++) {
    let r = 0;
    for (let b = 0; b < bits; b++) if (k & (1 << b)) r |= 1 << (bits - 1 - b);
    rev[k] = r;
  }
  return { n, cos, sin, rev };
}

/**
 * In-place complex FFT of (re, im), each of length plan.n. `inverse` uses exp(+i...) and
 * divides by n.
 */
export function fftInPlace(plan: FftPlan, re: Float64Array, im: Float64Array, inverse = false): void {
  const n = plan.n;
  const rev = plan.rev, C = plan.cos, S = plan.sin;
  for (let k = 0; k < n; k++) {
    const r = rev[k];
    if (r > k) {
      const tr = re[k]; re[k] = re[r]; re[r] = tr;
      const ti = im[k]; im[k] = im[r]; im[r] = ti;
    }
  }
  const sgn = inverse ? 1 : -1;
  for (let size = 2; size <= n; size *= 2) {
    const halfSize = size >> 1;
    const step = n / size;
    for (let start = 0; start < n; start += size) {
      for (let j = 0, t = 0; j < halfSize; j++, t += step) {
        const wr = C[t], wi = sgn * S[t];
        const a = start + j, b = a + halfSize;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
  if (inverse) {
    const inv = 1 / n;
    for (let k = 0; k < n; k++) { re[k] *= inv; im[k] *= inv; }
  }
}

/**
 * Spectrum of a real signal x (length plan.n): bins 0..n/2 written to outRe/outIm (length
 * >= n/2 + 1). Computed as one complex FFT of length n with a zero imaginary part; `scratchIm`
 * (length n) is overwritten. The higher bins are the conjugates of these (Hermitian symmetry).
 */
export function realFft(plan: FftPlan, x: Float64Array, outRe: Float64Array, outIm: Float64Array, scratchRe: Float64Array, scratchIm: Float64Array): void {
  const n = plan.n;
  scratchRe.set(x.subarray(0, n));
  scratchIm.fill(0, 0, n);
  fftInPlace(plan, scratchRe, scratchIm, false);
  for (let k = 0; k <= n >> 1; k++) { outRe[k] = scratchRe[k]; outIm[k] = scratchIm[k]; }
}

/**
 * Circular convolution of two real rows a and b (each length plan.n, in place) with a real,
 * even kernel given by its real spectrum `response` (length n; a real even kernel has a real
 * even spectrum). Both rows ride on one complex FFT: FFT(a + i b) * H, then the inverse returns
 * (h * a) + i (h * b) because H is real — the classic two-for-one real transform.
 */
export function convolveRealPair(plan: FftPlan, a: Float64Array, b: Float64Array, response: Float64Array): void {
  fftInPlace(plan, a, b, false);
  const n = plan.n;
  for (let k = 0; k < n; k++) { const h = response[k]; a[k] *= h; b[k] *= h; }
  fftInPlace(plan, a, b, true);
}
