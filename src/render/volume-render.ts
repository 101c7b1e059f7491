/**
 * Volume rendering of sampled rays (Max 1995; NeRF, Mildenhall et al. 2020, eq. 3), forward and
 * backward, O(S) per ray. Layout: per-sample arrays [nRays, S] (row = ray, samples in ray order).
 *
 * Emission-absorption ('ea'), background 0:
 *   alpha_i = 1 - exp(-sigma_i delta_i),  T_i = exp(-sum_{j<i} sigma_j delta_j),
 *   w_i = T_i alpha_i,  C = sum_i w_i c_i.
 * Gradients (the suffix-sum form): dC/dc_i = w_i and
 *   dC/dsigma_i = delta_i (T_{i+1} c_i - sum_{k>i} w_k c_k),  T_{i+1} = T_i (1 - alpha_i),
 * where the suffix sum is C minus the running prefix sum. Sums are Float64.
 *
 * Line integral ('line'):  C = scale * sum_i sigma_i delta_i;  dC/dsigma_i = scale * delta_i.
 */

/**
 * Emission-absorption compositing of nRays rays of S samples. Writes the ray values to
 * color[cOff + r]; when given, `weights` [nRays, S] receives w_i (for hierarchical sampling).
 */
export function compositeEa(
  sigma: ArrayLike<number>, c: ArrayLike<number>, delta: ArrayLike<number>, nRays: number, S: number,
  color: Float32Array | Float64Array, cOff = 0, weights?: Float32Array | Float64Array,
): void {
  for (let r = 0, o = 0; r < nRays; r++, o += S) {
    let od = 0, acc = 0, trans = 1;
    for (let i = 0; i < S; i++) {
      od += sigma[o + i]! * delta[o + i]!;
      const next = Math.exp(-od);
      const w = trans - next;
      acc += w * c[o + i]!;
      if (weights) weights[o + i] = w;
      trans = next;
    }
    color[cOff + r] = acc;
  }
}

/**
 * Backward of `compositeEa`: given dL/dC per ray (dLdC[r]), writes dL/dsigma_i and dL/dc_i
 * ([nRays, S]; overwritten, not accumulated). Two passes per ray: the ray value, then the
 * gradients with a running prefix sum.
 */
export function compositeEaBackward(
  sigma: ArrayLike<number>, c: ArrayLike<number>, delta: ArrayLike<number>, nRays: number, S: number,
  dLdC: ArrayLike<number>, dSigma: Float32Array | Float64Array, dC: Float32Array | Float64Array,
): void {
  for (let r = 0, o = 0; r < nRays; r++, o += S) {
    const g = dLdC[r]!;
    if (g === 0) {
      dSigma.fill(0, o, o + S);
      dC.fill(0, o, o + S);
      continue;
    }
    let od = 0, total = 0, trans = 1;
    for (let i = 0; i < S; i++) {
      od += sigma[o + i]! * delta[o + i]!;
      const next = Math.exp(-od);
      total += (trans - next) * c[o + i]!;
      trans = next;
    }
    od = 0; trans = 1;
    let prefix = 0;
    for (let i = 0; i < S; i++) {
      const d = delta[o + i]!;
      od += sigma[o + i]! * d;
      const next = Math.exp(-od);
      const w = trans - next;
      const ci = c[o + i]!;
      prefix += w * ci;
      dC[o + i] = g * w;
      dSigma[o + i] = g * d * (next * ci - (total - prefix));
      trans = next;
    }
  }
}

/** Line-integral rendering: color[cOff + r] = scale * sum_i sigma_i delta_i. */
export function compositeLine(sigma: ArrayLike<number>, delta: ArrayLike<number>, nRays: number, S: number, scale: number,
  color: Float32Array | Float64Array, cOff = 0): void {
  for (let r = 0, o = 0; r < nRays; r++, o += S) {
    let acc = 0;
    for (let i = 0; i < S; i++) acc += sigma[o + i]! * delta[o + i]!;
    color[cOff + r] = scale * acc;
  }
}

/** Backward of `compositeLine`: dSigma_i = dLdC[r] * scale * delta_i (overwritten). */
export function compositeLineBackward(delta: ArrayLike<number>, nRays: number, S: number, scale: number,
  dLdC: ArrayLike<number>, dSigma: Float32Array | Float64Array): void {
  for (let r = 0, o = 0; r < nRays; r++, o += S) {
    const g = dLdC[r]! * scale;
    for (let i = 0; i < S; i++) dSigma[o + i] = g * delta[o + i]!;
  }
}
