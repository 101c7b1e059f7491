/**
 * Dense layer kernels in plain loops (the reference path, and the fallback when WebAssembly SIMD
 * is unavailable). Activations are SoA: row r of a [rows, pitch] matrix holds feature r of every
 * point, so the inner loops run over points with unit stride. Weights are [out, in] row-major
 * (PyTorch nn.Linear order). Columns [p0, p1) are this call's share of the batch.
 */
import type { FloatArray } from './grid-kernels.js';

/** Activation codes shared with the WebAssembly kernels. */
export const ACT_CODES = { none: 0, relu: 1, 'leaky-relu': 2, softplus: 3, sigmoid: 4, exp: 5 } as const;
export type ActCode = (typeof ACT_CODES)[keyof typeof ACT_CODES];

/** Y[o, p] = act(b[o] + sum_i W[o, i] X[i, p]) for p in [p0, p1). bBase < 0: no bias. */
export function linearForward(
  W: FloatArray, wBase: number, b: FloatArray, bBase: number, X: FloatArray, xBase: number, Y: FloatArray, yBase: number,
  inDim: number, outDim: number, pitch: number, p0: number, p1: number, act: number, leak: number,
): void {
  for (let o = 0; o < outDim; o++) {
    const y0 = yBase + o * pitch;
    const bias = bBase >= 0 ? b[bBase + o]! : 0;
    for (let p = p0; p < p1; p++) Y[y0 + p] = bias;
    for (let i = 0; i < inDim; i++) {
      const w = W[wBase + o * inDim + i]!;
      const x0 = xBase + i * pitch;
      for (let p = p0; p < p1; p++) Y[y0 + p] += w * X[x0 + p]!;
    }
    if (act !== 0) applyActivation(Y, y0, p0, p1, act, leak);
  }
}

/** In-place activation of Y[y0 + p0 .. y0 + p1). */
export function applyActivation(Y: FloatArray, y0: number, p0: number, p1: number, act: number, leak: number): void {
  switch (act) {
    case 1: for (let p = p0; p < p1; p++) { const v = Y[y0 + p]!; if (v < 0) Y[y0 + p] = 0; } break;
    case 2: for (let p = p0; p < p1; p++) { const v = Y[y0 + p]!; if (v < 0) Y[y0 + p] = v * leak; } break;
    case 3: for (let p = p0; p < p1; p++) { const v = Y[y0 + p]!; Y[y0 + p] = v > 20 ? v : Math.log1p(Math.exp(v)); } break;
    case 4: for (let p = p0; p < p1; p++) Y[y0 + p] = 1 / (1 + Math.exp(-Y[y0 + p]!)); break;
    case 5: for (let p = p0; p < p1; p++) Y[y0 + p] = Math.exp(Y[y0 + p]!); break;
    default: break;
  }
}

/**
 * dZ = dY * act'(Y) in place (derivatives written in terms of the output Y: relu 1[y>0], leaky
 * 1 or leak, softplus 1 - e^-y, sigmoid y(1-y), exp y). Rows [0, rows), columns [p0, p1).
 */
export function activationBackward(
  dY: FloatArray, dBase: number, Y: FloatArray, yBase: number, rows: number, pitch: number, p0: number, p1: number, act: number, leak: number,
): void {
  if (act === 0) return;
  for (let r = 0; r < rows; r++) {
    const d0 = dBase + r * pitch, y0 = yBase + r * pitch;
    switch (act) {
      case 1: for (let p = p0; p < p1; p++) if (!(Y[y0 + p]! > 0)) dY[d0 + p] = 0; break;
      case 2: for (let p = p0; p < p1; p++) if (!(Y[y0 + p]! > 0)) dY[d0 + p] *= leak; break;
      case 3: for (let p = p0; p < p1; p++) dY[d0 + p] *= -Math.expm1(-Y[y0 + p]!); break;
      case 4: for (let p = p0; p < p1; p++) { const y = Y[y0 + p]!; dY[d0 + p] *= y * (1 - y); } break;
      case 5: for (let p = p0; p < p1; p++) dY[d0 + p] *= Y[y0 + p]!; break;
      default: break;
    }
  }
}

/** dW[o, i] += sum_p dZ[o, p] X[i, p]; db[o] += sum_p dZ[o, p] (dbBase < 0: no bias). */
export function linearBackwardParams(
  dZ: FloatArray, dzBase: number, X: FloatArray, xBase: number, dW: FloatArray, dwBase: number, db: FloatArray, dbBase: number,
  inDim: number, outDim: number, pitch: number, p0: number, p1: number,
): void {
  for (let o = 0; o < outDim; o++) {
    const z0 = dzBase + o * pitch;
    if (dbBase >= 0) { let s = 0; for (let p = p0; p < p1; p++) s += dZ[z0 + p]!; db[dbBase + o] += s; }
    for (let i = 0; i < inDim; i++) {
      const x0 = xBase + i * pitch;
      let s = 0;
      for (let p = p0; p < p1; p++) s += dZ[z0 + p]! * X[x0 + p]!;
      dW[dwBase + o * inDim + i] += s;
    }
  }
}

/** dX[i, p] = sum_o W[o, i] dZ[o, p] (overwrites). */
export function linearBackwardInput(
  W: FloatArray, wBase: number, dZ: FloatArray, dzBase: number, dX: FloatArray, dxBase: number,
  inDim: number, outDim: number, pitch: number, p0: number, p1: number,
): void {
  for (let i = 0; i < inDim; i++) {
    const x0 = dxBase + i * pitch;
    for (let p = p0; p < p1; p++) dX[x0 + p] = 0;
    for (let o = 0; o < outDim; o++) {
      const w = W[wBase + o * inDim + i]!;
      if (w === 0) continue;
      const z0 = dzBase + o * pitch;
      for (let p = p0; p < p1; p++) dX[x0 + p] += w * dZ[z0 + p]!;
    }
  }
}
