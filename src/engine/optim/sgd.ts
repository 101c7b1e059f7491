/** Stochastic gradient descent with optional (heavy-ball, PyTorch-style) momentum and L2 weight decay. */
import type { Backend } from '../backend.js';
import type { Optimizer, OptimizerState, ParamTensor } from '../params.js';
import { MedfieldError } from '../../core/errors.js';
import { rowSize } from '../params.js';

export class Sgd implements Optimizer {
  private t = 0;
  private readonly mom: (Float32Array | null)[];
  constructor(private readonly backend: Backend, readonly params: readonly ParamTensor[], readonly options: { momentum?: number; weightDecay?: number } = {}) {
    const mu = options.momentum ?? 0;
    if (!(mu >= 0 && mu < 1)) throw new MedfieldError('bad-option', 'sgd momentum', 'expected 0 <= momentum < 1');
    this.mom = params.map((p) => (mu > 0 ? backend.allocF32(p.data.length) : null));
  }
  step(lr: number): void {
    this.t++;
    const momentum = this.options.momentum ?? 0, weightDecay = this.options.weightDecay ?? 0;
    this.params.forEach((p, i) => {
      // Momentum buffers are dense, so every row updates (a lazy row skip would freeze momentum).
      const lazy = p.touched !== undefined && momentum === 0;
      const base = { data: p.data, grad: p.grad, momentum: this.mom[i]!, rows: p.shape[0] ?? 1, rowSize: rowSize(p.shape) };
      this.backend.sgdStep(lazy ? { ...base, touched: p.touched! } : base, { lr, momentum, weightDecay, clearGrad: true });
      if (!lazy) p.touched?.fill(0);
    });
  }
  state(): OptimizerState {
    const tensors: Record<string, Float32Array> = {};
    this.params.forEach((p, i) => { const m = this.mom[i]; if (m) tensors[`sgd.momentum.${p.name}`] = m.slice(); });
    return { kind: 'sgd', tensors, scalars: { step: this.t, momentum: this.options.momentum ?? 0, weightDecay: this.options.weightDecay ?? 0 } };
  }
  loadState(s: OptimizerState): void {
    if (s.kind !== 'sgd') throw new MedfieldError('bad-data', 'optimizer state', `expected kind 'sgd', got '${s.kind}'`);
    this.params.forEach((p, i) => {
      const m = this.mom[i];
      if (!m) return;
      const src = s.tensors[`sgd.momentum.${p.name}`];
      if (!src || src.length !== m.length) throw new MedfieldError('bad-data', `optimizer state sgd.momentum.${p.name}`, `expected ${m.length} values`);
      m.set(src);
    });
    this.t = s.scalars['step'] ?? 0;
  }
}
