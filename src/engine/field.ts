/**
 * FieldModel: encoding (+ optional latent code) -> MLP -> output, on an explicit backend.
 * Inputs are AoS [n, inputDim] in [0,1]^d (the caller maps world mm to the unit cube); outputs
 * AoS [n, outputDim]. `forward` + `backward(dL/dy)` let a renderer supply its own loss gradient;
 * `trainStep` does MSE + optimiser update in one call.
 */
import type { Backend } from './backend.js';
import { padBatch } from './backend.js';
import { resolveFieldConfig, type FieldConfig, type FieldConfigInput, type FieldPreset } from './config.js';
import { createRng } from '../core/rng.js';
import { MedfieldError } from '../core/errors.js';
import type { Optimizer, ParamTensor } from './params.js';
import { createDenseGridEncoding } from './encodings/dense-grid.js';
import { FrequencyEncoding } from './encodings/frequency.js';
import { createHashGridEncoding, type Encoding } from './encodings/hash-grid.js';
import { Mlp } from './mlp.js';
import { Adam } from './optim/adam.js';
import { Sgd } from './optim/sgd.js';

export interface FieldModelOptions {
  /** Largest batch (points) a call may pass; buffers are sized for it. */
  maxBatch: number;
}

export class FieldModel {
  readonly config: FieldConfig;
  readonly encoding: Encoding;
  readonly mlp: Mlp | null;
  readonly params: readonly ParamTensor[];
  readonly optimizer: Optimizer;
  readonly inputDim: number;
  readonly outputDim: number;
  readonly maxBatch: number;
  private readonly pitch: number;
  private readonly x: Float32Array;
  private readonly dx: Float32Array;
  private readonly target: Float32Array;
  /** Encoding output when there is no MLP (it is the field output). */
  private readonly encOut: Float32Array | null;
  private readonly encGrad: Float32Array | null;
  private lastN = 0;

  constructor(readonly backend: Backend, config: FieldConfigInput | FieldPreset | FieldConfig, options: FieldModelOptions) {
    const cfg = resolveFieldConfig(config as FieldConfigInput);
    this.config = cfg;
    const rng = createRng(cfg.seed);
    const e = cfg.encoding;
    this.encoding = e.kind === 'frequency' ? new FrequencyEncoding(e, backend)
      : e.kind === 'hash-grid' ? createHashGridEncoding(e, backend, rng) : createDenseGridEncoding(e, backend, rng);
    this.inputDim = e.inputDim;
    this.maxBatch = options.maxBatch;
    const P = padBatch(options.maxBatch);
    this.pitch = P;
    this.x = backend.allocF32(P * this.inputDim);
    this.dx = backend.allocF32(P * this.inputDim);
    if (cfg.mlp) {
      this.mlp = new Mlp(backend, cfg.mlp, this.encoding.outputDim + cfg.latentDim, P, rng);
      this.outputDim = cfg.mlp.outputDim;
      this.encOut = null; this.encGrad = null;
    } else {
      this.mlp = null;
      this.outputDim = this.encoding.outputDim;
      this.encOut = backend.allocF32(this.outputDim * P);
      this.encGrad = backend.allocF32(this.outputDim * P);
    }
    this.target = backend.allocF32(P * this.outputDim);
    this.params = [...this.encoding.params, ...(this.mlp?.params ?? [])];
    const o = cfg.optimizer;
    this.optimizer = o.kind === 'adam'
      ? new Adam(backend, this.params, { beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay, sparse: o.sparseTables })
      : new Sgd(backend, this.params, { momentum: o.momentum, weightDecay: o.weightDecay });
  }

  private checkBatch(n: number, x: Float32Array): void {
    if (!(n >= 1 && n <= this.maxBatch)) throw new MedfieldError('bad-option', 'field batch', `n = ${n} must be in 1..${this.maxBatch}`);
    if (x.length < n * this.inputDim) throw new MedfieldError('bad-option', 'field input', `expected ${n * this.inputDim} values ([n, ${this.inputDim}]), got ${x.length}`);
  }

  /**
   * Evaluates the field at n points (x AoS [n, inputDim]); `latent` (SoA [latentDim, n]) is the
   * conditioning code. Returns the SoA output [outputDim, pitch] in backend memory (valid until
   * the next call); `out` (AoS [n, outputDim]) receives a copy when given.
   */
  forward(x: Float32Array, n: number, out?: Float32Array, latent?: Float32Array): Float32Array {
    this.checkBatch(n, x);
    const P = this.pitch, nPad = padBatch(n);
    this.x.set(x.subarray(0, n * this.inputDim));
    this.lastN = n;
    let y: Float32Array;
    if (this.mlp) {
      const mlp = this.mlp;
      if (nPad > n) for (let r = 0; r < this.encoding.outputDim; r++) mlp.input.fill(0, r * P + n, r * P + nPad);
      this.encoding.forward(this.x, n, mlp.input, P);
      const ld = this.config.latentDim;
      if (ld > 0) {
        if (!latent || latent.length < ld * n) throw new MedfieldError('bad-option', 'field latent', `expected a latent code SoA [${ld}, ${n}]`);
        const eo = this.encoding.outputDim;
        for (let r = 0; r < ld; r++) { mlp.input.set(latent.subarray(r * n, r * n + n), (eo + r) * P); mlp.input.fill(0, (eo + r) * P + n, (eo + r) * P + nPad); }
      }
      y = mlp.forward(nPad);
    } else {
      this.encoding.forward(this.x, n, this.encOut!, P);
      y = this.encOut!;
    }
    if (out) {
      const D = this.outputDim;
      for (let o = 0; o < D; o++) for (let p = 0; p < n; p++) out[p * D + o] = y[o * P + p]!;
    }
    return y;
  }

  /**
   * Backpropagates dL/dy (AoS [n, outputDim]) of the last forward: adds parameter gradients;
   * writes dL/dx (AoS [n, inputDim]) into `inputGrad` and dL/dlatent (SoA [latentDim, n]) into
   * `latentGrad` when given.
   */
  backward(dOut: Float32Array, opts: { inputGrad?: Float32Array; latentGrad?: Float32Array } = {}): void {
    const n = this.lastN, P = this.pitch, D = this.outputDim, nPad = padBatch(n);
    const g = this.mlp ? this.mlp.outputGrad : this.encGrad!;
    for (let o = 0; o < D; o++) {
      for (let p = 0; p < n; p++) g[o * P + p] = dOut[p * D + o]!;
      g.fill(0, o * P + n, o * P + nPad);
    }
    this.backwardFromSoa(n, opts);
  }

  private backwardFromSoa(n: number, opts: { inputGrad?: Float32Array; latentGrad?: Float32Array }): void {
    const P = this.pitch, nPad = padBatch(n);
    let encGrad: Float32Array;
    if (this.mlp) {
      this.mlp.backward(nPad);
      encGrad = this.mlp.inputGrad;
      if (opts.latentGrad) {
        const eo = this.encoding.outputDim;
        for (let r = 0; r < this.config.latentDim; r++) opts.latentGrad.set(encGrad.subarray((eo + r) * P, (eo + r) * P + n), r * n);
      }
    } else encGrad = this.encGrad!;
    this.encoding.backward(this.x, n, encGrad, P);
    if (opts.inputGrad) {
      this.encoding.inputGrad(this.x, n, encGrad, P, this.dx);
      opts.inputGrad.set(this.dx.subarray(0, n * this.inputDim));
    }
  }

  /**
   * One MSE training step on n points: forward, loss, backward, optimiser update with `lr`
   * (default: the config's). Returns the loss (mean squared error before the update).
   */
  trainStep(x: Float32Array, target: Float32Array, n: number, lr = this.config.optimizer.lr, latent?: Float32Array): number {
    const y = this.forward(x, n, undefined, latent);
    const D = this.outputDim, P = this.pitch, nPad = padBatch(n);
    if (target.length < n * D) throw new MedfieldError('bad-option', 'field target', `expected ${n * D} values ([n, ${D}])`);
    this.target.set(target.subarray(0, n * D));
    const g = this.mlp ? this.mlp.outputGrad : this.encGrad!;
    const loss = this.backend.mse(y, this.target, g, n, D, P, nPad);
    if (!Number.isFinite(loss)) throw new MedfieldError('bad-data', 'field loss', `loss is ${loss} (NaN/Inf in the model or targets)`);
    this.backwardFromSoa(n, {});
    this.optimizer.step(lr);
    return loss;
  }
}
