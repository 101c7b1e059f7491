/**
 * NaN/Inf detection for training: parameters, gradients, the loss. A non-finite value spreads
 * through Adam's moments into every parameter it touches within a step, so the trainer checks
 * and stops with one clear error naming the tensor, the first bad index (and its row/column for
 * a 2D tensor) and the step — before a checkpoint could capture a poisoned state.
 */
import { MedfieldError } from '../core/errors.js';
import type { ParamTensor } from './params.js';

/** Index of the first NaN or ±Infinity in `a[from..to)`, or -1. */
export function firstNonFinite(a: Float32Array | Float64Array, from = 0, to = a.length): number {
  for (let i = from; i < to; i++) {
    const v = a[i]!;
    // v - v is 0 for finite v and NaN for NaN/±Inf: one compare, no calls.
    if (v - v !== 0) return i;
  }
  return -1;
}

function describe(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Infinity' : '-Infinity';
}

function where(shape: readonly number[] | undefined, index: number): string {
  if (!shape || shape.length < 2) return `index ${index}`;
  const coords: number[] = [];
  let r = index;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    coords.unshift(r % n);
    r = Math.floor(r / n);
  }
  return `index ${index} ([${coords.join(', ')}] in shape [${shape.join(', ')}])`;
}

function stepText(step: number | undefined): string {
  return step === undefined ? '' : ` at step ${step}`;
}

/**
 * Throws a 'bad-data' MedfieldError if `values` holds a NaN/Inf, naming `name`, `what`
 * (e.g. 'value', 'gradient') and the first bad index.
 */
export function assertFiniteArray(
  name: string, values: Float32Array | Float64Array,
  options: { what?: string; shape?: readonly number[]; step?: number } = {},
): void {
  const i = firstNonFinite(values);
  if (i < 0) return;
  throw new MedfieldError('bad-data', name,
    `${options.what ?? 'value'} is ${describe(values[i]!)} at ${where(options.shape, i)}${stepText(options.step)}`
    + ' (training diverged: lower the learning rate, clip gradients, or check the inputs)');
}

export interface FiniteCheckOptions {
  /** Check parameter values (default true). */
  readonly values?: boolean;
  /** Check gradients (default true). */
  readonly grads?: boolean;
  /** Included in the message. */
  readonly step?: number;
}

/**
 * Checks every tensor's values and/or gradients; throws on the first NaN/Inf found, naming the
 * tensor ('mlp.layer1.weight'), whether it is the value or the gradient, and the first bad index.
 * For sparse tensors (with `touched`) gradients are checked only in touched rows (the others are
 * zero by contract).
 */
export function assertFiniteParams(params: readonly ParamTensor[], options: FiniteCheckOptions = {}): void {
  const values = options.values ?? true;
  const grads = options.grads ?? true;
  for (const p of params) {
    if (values) assertFiniteArray(p.name, p.data, { what: 'value', shape: p.shape, step: options.step });
    if (!grads) continue;
    if (!p.touched) {
      assertFiniteArray(p.name, p.grad, { what: 'gradient', shape: p.shape, step: options.step });
      continue;
    }
    const rows = p.touched.length;
    const rs = rows > 0 ? p.grad.length / rows : 0;
    for (let r = 0; r < rows; r++) {
      if (!p.touched[r]) continue;
      const i = firstNonFinite(p.grad, r * rs, (r + 1) * rs);
      if (i >= 0) {
        throw new MedfieldError('bad-data', p.name,
          `gradient is ${describe(p.grad[i]!)} at ${where(p.shape, i)}${stepText(options.step)}`
          + ' (training diverged: lower the learning rate, clip gradients, or check the inputs)');
      }
    }
  }
}

/** Throws a 'bad-data' MedfieldError if the loss is NaN/Inf. `name` defaults to 'loss'. */
export function assertFiniteLoss(loss: number, step?: number, name = 'loss'): void {
  if (Number.isFinite(loss)) return;
  throw new MedfieldError('bad-data', name, `is ${describe(loss)}${stepText(step)} (training diverged: lower the learning rate, clip gradients, or check the inputs)`);
}
