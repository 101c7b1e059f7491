/**
 * Adam (Kingma & Ba 2015) with bias correction and L2 weight decay, over backend buffers. For
 * tensors with `touched` flags (hash/dense-grid tables) the lazy variant updates only the rows a
 * backward pass touched (instant-NGP section 4: untouched hash entries keep their moments), so a
 * step costs in proportion to the rows seen rather than the table size. Each update also clears
 * the gradients (and touch flags) it consumed, which replaces a zeroGrad pass over the tables.
 */
import type { Backend } from '../backend.js';
import type { Optimizer, OptimizerState, ParamTensor } from '../params.js';
import { MedfieldError } from '../../core/errors.js';
import { rowSize } from '../params.js';

export interface AdamOptions {
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** Lazy updates for tensors with touched flags (default true). */
  sparse?: boolean;
  /** Decay applied to sparse tensors too (default: 0 on tables, as instant-NGP). */
  tableWeightDecay?: number;
}

export class Adam implements Optimizer {
  private t = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number;
  private readonly sparse: boolean; private readonly tableWeightDecay: number;

  constructor(private readonly backend: Backend, readonly params: readonly ParamTensor[], options: AdamOptions = {}) {
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    this.sparse = options.sparse ?? true;
    this.tableWeightDecay = options.tableWeightDecay ?? 0;
    if (!(this.beta1 >= 0 && this.beta1 < 1 && this.beta2 >= 0 && this.beta2 < 1)) throw new MedfieldError('bad-option', 'adam betas', 'expected 0 <= beta < 1');
    this.m = params.map((p) => backend.allocF32(p.data.length));
    this.v = params.map((p) => backend.allocF32(p.data.length));
  }

  /** Steps taken so far. */
  get stepCount(): number { return this.t; }

  step(lr: number): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t, bc2 = 1 - this.beta2 ** this.t;
    this.params.forEach((p, i) => {
      const lazy = this.sparse && p.touched !== undefined;
      const base = { data: p.data, grad: p.grad, m: this.m[i]!, v: this.v[i]!, rows: p.shape[0] ?? 1, rowSize: rowSize(p.shape) };
      this.backend.adamStep(lazy ? { ...base, touched: p.touched! } : base, {
        lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: p.touched ? this.tableWeightDecay : this.weightDecay,
        bc1, bc2, clearGrad: true,
      });
      if (!lazy) p.touched?.fill(0);
    });
  }

  state(): OptimizerState {
    const tensors: Record<string, Float32Array> = {};
    this.params.forEach((p, i) => { tensors[`adam.m.${p.name}`] = this.m[i]!.slice(); tensors[`adam.v.${p.name}`] = this.v[i]!.slice(); });
    return { kind: 'adam', tensors, scalars: { step: this.t, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay } };
  }

  loadState(s: OptimizerState): void {
    if (s.kind !== 'adam') throw new MedfieldError('bad-data', 'optimizer state', `expected kind 'adam', got '${s.kind}'`);
    this.params.forEach((p, i) => {
      for (const [key, dst] of [[`adam.m.${p.name}`, this.m[i]!], [`adam.v.${p.name}`, this.v[i]!]] as const) {
        const src = s.tensors[key];
        if (!src || src.length !== dst.length) throw new MedfieldError('bad-data', `optimizer state ${key}`, `expected ${dst.length} values, got ${src ? src.length : 'none'}`);
        dst.set(src);
      }
    });
    this.t = s.scalars['step'] ?? 0;
  }
}
