/**
 * Gradient clipping over ParamTensor[] (in place, before the optimiser step).
 *
 * Global-norm clipping (Pascanu et al. 2013, "On the difficulty of training recurrent neural
 * networks"): with g the concatenation of every gradient and ||g|| its L2 norm, if
 * ||g|| > maxNorm all gradients are scaled by maxNorm / ||g||, so the direction is kept and the
 * norm afterwards is maxNorm (up to float32 rounding of the scaled values). The norm is summed in
 * float64. Sparse tensors (with `touched`) contribute only their touched rows: the others hold
 * zero gradient by the ParamTensor contract, and skipping them keeps the cost proportional to the
 * rows a batch hit rather than to the 2^19-row hash tables.
 */
import { MedfieldError } from '../core/errors.js';
import { assertFiniteParams } from './finite.js';
import type { ParamTensor } from './params.js';

function rowsOf(p: ParamTensor): number {
  return p.touched ? p.touched.length : 1;
}

/** Global L2 norm of all gradients (float64 accumulation; touched rows only for sparse tensors). */
export function gradGlobalNorm(params: readonly ParamTensor[]): number {
  let sum = 0;
  for (const p of params) {
    const g = p.grad;
    if (!p.touched) {
      let s = 0;
      for (let i = 0; i < g.length; i++) { const v = g[i]!; s += v * v; }
      sum += s;
      continue;
    }
    const t = p.touched;
    const rs = g.length / rowsOf(p);
    for (let r = 0; r < t.length; r++) {
      if (!t[r]) continue;
      const end = (r + 1) * rs;
      for (let i = r * rs; i < end; i++) { const v = g[i]!; sum += v * v; }
    }
  }
  return Math.sqrt(sum);
}

function scaleGrads(params: readonly ParamTensor[], scale: number): void {
  for (const p of params) {
    const g = p.grad;
    if (!p.touched) {
      for (let i = 0; i < g.length; i++) g[i]! *= scale;
      continue;
    }
    const t = p.touched;
    const rs = g.length / rowsOf(p);
    for (let r = 0; r < t.length; r++) {
      if (!t[r]) continue;
      const end = (r + 1) * rs;
      for (let i = r * rs; i < end; i++) g[i]! *= scale;
    }
  }
}

export interface ClipResult {
  /** Global gradient norm before clipping. */
  readonly norm: number;
  /** Factor applied to every gradient (1 when not clipped). */
  readonly scale: number;
  readonly clipped: boolean;
}

/**
 * Scales all gradients so their global L2 norm is at most `maxNorm` (> 0). A NaN/Inf gradient
 * makes the norm non-finite; scaling would then spread it to every tensor, so this throws a
 * MedfieldError naming the tensor and index instead.
 */
export function clipGradNorm(params: readonly ParamTensor[], maxNorm: number): ClipResult {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new MedfieldError('bad-option', 'clip.maxNorm', `expected a finite number > 0, got ${maxNorm}`);
  const norm = gradGlobalNorm(params);
  if (!Number.isFinite(norm)) {
    assertFiniteParams(params, { values: false, grads: true });
    // Finite gradients whose squares overflow float64 cannot happen with float32 values (max 3.4e38).
    throw new MedfieldError('bad-data', 'gradients', `global norm is ${norm}`);
  }
  if (norm <= maxNorm) return { norm, scale: 1, clipped: false };
  const scale = maxNorm / norm;
  scaleGrads(params, scale);
  return { norm, scale, clipped: true };
}

/** Clamps every gradient component to [-maxAbs, maxAbs] (maxAbs > 0). Returns how many were clamped. */
export function clipGradValue(params: readonly ParamTensor[], maxAbs: number): number {
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) throw new MedfieldError('bad-option', 'clip.maxValue', `expected a finite number > 0, got ${maxAbs}`);
  // Compare against the float32 value of the bound so a clamped entry equals it exactly.
  const hi = Math.fround(maxAbs);
  let count = 0;
  for (const p of params) {
    const g = p.grad;
    for (let i = 0; i < g.length; i++) {
      const v = g[i]!;
      if (v > hi) { g[i] = hi; count++; } else if (v < -hi) { g[i] = -hi; count++; }
    }
  }
  return count;
}
