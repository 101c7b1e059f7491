/**
 * Loss terms on rendered pixels shared by the training tasks: the pixel loss (MSE or L1) and a
 * structural-similarity term on K x K patches of rays. Each writes or adds dLoss/dpred so the
 * task can back-propagate through its renderer; all in the task's own units.
 */

/** Pixel loss kinds. */
export const PIXEL_LOSSES = ['mse', 'l1'] as const;
export type PixelLoss = (typeof PIXEL_LOSSES)[number];

/**
 * Mean pixel loss over n predictions: 'mse' = mean (p - t)^2, 'l1' = mean |p - t| (its gradient
 * is the sign, 0 at a tie). Writes dLoss/dpred into grad[0..n) (overwrites). Returns the loss and
 * the MSE (for PSNR, whatever the loss).
 */
export function pixelLoss(kind: PixelLoss, pred: ArrayLike<number>, target: ArrayLike<number>, n: number, grad: Float64Array): { loss: number; mse: number } {
  let se = 0, ae = 0;
  const l1 = kind === 'l1';
  const inv = 1 / n;
  for (let i = 0; i < n; i++) {
    const d = pred[i]! - target[i]!;
    se += d * d; ae += d < 0 ? -d : d;
    grad[i] = l1 ? (d > 0 ? inv : d < 0 ? -inv : 0) : 2 * d * inv;
  }
  const mse = n > 0 ? se * inv : 0;
  return { loss: l1 ? (n > 0 ? ae * inv : 0) : mse, mse };
}

/**
 * SSIM term on patches: `weight * (1 - mean over patches of SSIM(pred patch, target patch))`,
 * where each patch of `patchLen` consecutive values (a K x K block of rays) is one SSIM window
 * with uniform weights (Wang et al., IEEE TIP 2004, eq. 13, with C1 = (0.01 L)^2, C2 = (0.03 L)^2
 * and L = `dataRange`; biased variances). Adds its gradient to grad[0 .. nPatches * patchLen).
 * Returns the mean SSIM (1 = identical). With S = A1 A2 / (B1 B2), A1 = 2 mx my + C1,
 * A2 = 2 sxy + C2, B1 = mx^2 + my^2 + C1, B2 = sx^2 + sy^2 + C2 (x = pred, y = target),
 * dS/dx_i = S (dA1/A1 + dA2/A2 - dB1/B1 - dB2/B2) with dA1 = 2 my / N, dA2 = 2 (y_i - my) / N,
 * dB1 = 2 mx / N, dB2 = 2 (x_i - mx) / N.
 */
export function patchSsimLoss(pred: ArrayLike<number>, target: ArrayLike<number>, nPatches: number, patchLen: number, dataRange: number,
  weight: number, grad: Float64Array): number {
  const c1 = (0.01 * dataRange) ** 2, c2 = (0.03 * dataRange) ** 2;
  const N = patchLen, invN = 1 / N;
  let sum = 0;
  for (let p = 0; p < nPatches; p++) {
    const o = p * N;
    let sx = 0, sy = 0;
    for (let i = o; i < o + N; i++) { sx += pred[i]!; sy += target[i]!; }
    const mx = sx * invN, my = sy * invN;
    let vx = 0, vy = 0, cxy = 0;
    for (let i = o; i < o + N; i++) {
      const dx = pred[i]! - mx, dy = target[i]! - my;
      vx += dx * dx; vy += dy * dy; cxy += dx * dy;
    }
    vx *= invN; vy *= invN; cxy *= invN;
    const A1 = 2 * mx * my + c1, A2 = 2 * cxy + c2, B1 = mx * mx + my * my + c1, B2 = vx + vy + c2;
    const S = (A1 * A2) / (B1 * B2);
    sum += S;
    // loss = weight * (1 - mean S): dL/dx_i = -(weight / nPatches) dS/dx_i
    const k = (-weight / nPatches) * S * 2 * invN;
    const a = my / A1 - mx / B1;
    for (let i = o; i < o + N; i++) {
      grad[i] += k * (a + (target[i]! - my) / A2 - (pred[i]! - mx) / B2);
    }
  }
  return nPatches > 0 ? sum / nPatches : 1;
}
