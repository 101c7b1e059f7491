/**
 * Interpolation kernels shared by the resamplers: nearest, linear and Keys cubic convolution,
 * all with clamp-to-edge boundaries (a sample beyond the last voxel centre repeats that voxel).
 */

export const INTERPOLATIONS = ['nearest', 'linear', 'cubic'] as const;
/**
 * - `nearest`: value of the closest voxel centre (ties round up); keeps the input dtype.
 * - `linear`: (tri)linear between the 2 (8) surrounding voxel centres.
 * - `cubic`: Keys cubic convolution with a = -0.5 (Catmull-Rom), 4 taps per axis, separable.
 *   Reproduces polynomials up to degree 2 exactly (Keys 1981, IEEE TASSP 29(6) 1153-1160); it
 *   can overshoot the input range near edges (ringing), as bicubic image scaling does.
 */
export type Interpolation = (typeof INTERPOLATIONS)[number];

/** Keys' free parameter; -0.5 is the only value with third-order accuracy (Keys 1981, eq. 15). */
export const KEYS_A = -0.5;

/** Number of taps of each kernel along one axis. */
export function tapCount(interp: Interpolation): 1 | 2 | 4 {
  return interp === 'nearest' ? 1 : interp === 'linear' ? 2 : 4;
}

/**
 * Per-output-index taps for a 1D resampling: output index o samples the input at continuous
 * index `x = scale * o + offset`; its K taps are `index[o*K + t]` (already clamped to [0, n-1])
 * with weights `weight[o*K + t]` (summing to 1).
 */
export interface TapTable {
  taps: 1 | 2 | 4;
  outN: number;
  index: Int32Array;
  weight: Float64Array;
}

/** Builds the taps of `interp` for `outN` outputs over an input of `inN` samples (clamp-to-edge). */
export function buildTaps(interp: Interpolation, inN: number, outN: number, scale: number, offset: number): TapTable {
  const K = tapCount(interp);
  const index = new Int32Array(outN * K);
  const weight = new Float64Array(outN * K);
  const last = inN - 1;
  for (let o = 0; o < outN; o++) {
    const x = scale * o + offset;
    const b = o * K;
    if (K === 1) {
      index[b] = clampInt(Math.floor(x + 0.5), last);
      weight[b] = 1;
    } else if (K === 2) {
      const i0 = Math.floor(x), f = x - i0;
      index[b] = clampInt(i0, last); index[b + 1] = clampInt(i0 + 1, last);
      weight[b] = 1 - f; weight[b + 1] = f;
    } else {
      const i0 = Math.floor(x), f = x - i0;
      for (let t = 0; t < 4; t++) {
        index[b + t] = clampInt(i0 - 1 + t, last);
        weight[b + t] = keysKernel(f + 1 - t);
      }
    }
  }
  return { taps: K, outN, index, weight };
}

/** Keys cubic convolution kernel W(t) with a = KEYS_A (Keys 1981, eq. 15). */
export function keysKernel(t: number): number {
  const a = KEYS_A;
  const s = t < 0 ? -t : t;
  if (s <= 1) return ((a + 2) * s - (a + 3)) * s * s + 1;
  if (s < 2) return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a;
  return 0;
}

/** Clamps an integer index into [0, last] (clamp-to-edge). */
export function clampInt(i: number, last: number): number {
  return i < 0 ? 0 : i > last ? last : i;
}

// Keys' kernel (a = -0.5) at the four taps of a sample at fraction f in [0, 1) past tap 1, in
// closed form (Catmull-Rom): W(1+f), W(f), W(1-f), W(2-f). Checked against keysKernel in tests.
export const keysW0 = (f: number): number => ((-0.5 * f + 1) * f - 0.5) * f;
export const keysW1 = (f: number): number => (1.5 * f - 2.5) * f * f + 1;
export const keysW2 = (f: number): number => ((-1.5 * f + 2) * f + 0.5) * f;
export const keysW3 = (f: number): number => (0.5 * f - 0.5) * f * f;
