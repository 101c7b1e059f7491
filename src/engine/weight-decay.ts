/**
 * Weight-decay helpers, applied around any optimiser (Adam, sparse Adam, SGD):
 *
 *  - `addL2Gradient`: coupled L2 regularisation, grad += lambda * w, before the optimiser step
 *    (what "weight_decay" means in PyTorch's Adam/SGD).
 *  - `decayWeights`: decoupled weight decay, w *= 1 - lr * lambda, applied with the step's
 *    learning rate (Loshchilov & Hutter 2019, AdamW, Algorithm 2 line 12 with schedule
 *    multiplier folded into lr). Under Adam the two differ: L2 gradients get rescaled by the
 *    adaptive denominator, decoupled decay does not.
 *
 * Sparse tensors (with `touched`) are decayed only in touched rows, matching lazy/sparse Adam
 * (instant-NGP decays nothing it does not update). Tensors are chosen with a name predicate;
 * `decayNotBiases` is the usual choice (decay weight matrices and tables, not biases).
 */
import { MedfieldError } from '../core/errors.js';
import type { ParamTensor } from './params.js';

/** Default selection: every tensor except those whose name ends in 'bias'. */
export function decayNotBiases(p: ParamTensor): boolean {
  return !/bias$/.test(p.name);
}

function checkLambda(lambda: number): void {
  if (!(lambda >= 0) || !Number.isFinite(lambda)) throw new MedfieldError('bad-option', 'weightDecay', `expected a finite number >= 0, got ${lambda}`);
}

function forRows(p: ParamTensor, fn: (from: number, to: number) => void): void {
  if (!p.touched) { fn(0, p.data.length); return; }
  const t = p.touched;
  const rs = p.data.length / t.length;
  for (let r = 0; r < t.length; r++) if (t[r]) fn(r * rs, (r + 1) * rs);
}

/** Coupled L2: grad += lambda * data on the selected tensors. */
export function addL2Gradient(
  params: readonly ParamTensor[], lambda: number, select: (p: ParamTensor) => boolean = decayNotBiases,
): void {
  checkLambda(lambda);
  if (lambda === 0) return;
  for (const p of params) {
    if (!select(p)) continue;
    const w = p.data, g = p.grad;
    forRows(p, (from, to) => { for (let i = from; i < to; i++) g[i]! += lambda * w[i]!; });
  }
}

/** Decoupled (AdamW): data *= 1 - lr * lambda on the selected tensors. */
export function decayWeights(
  params: readonly ParamTensor[], lr: number, lambda: number, select: (p: ParamTensor) => boolean = decayNotBiases,
): void {
  checkLambda(lambda);
  if (!(lr >= 0) || !Number.isFinite(lr)) throw new MedfieldError('bad-option', 'lr', `expected a finite number >= 0, got ${lr}`);
  const f = 1 - lr * lambda;
  if (f === 1) return;
  for (const p of params) {
    if (!select(p)) continue;
    const w = p.data;
    forRows(p, (from, to) => { for (let i = from; i < to; i++) w[i]! *= f; });
  }
}
