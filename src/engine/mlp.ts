/**
 * Tiny fully-connected network over SoA batches: the input is [inputDim, pitch] (feature-major,
 * pitch = padded batch), every hidden activation stays in backend memory between forward and
 * backward (no copies), and each layer is one fused backend kernel (product + bias + activation;
 * backward: activation derivative + weight/bias gradients + input gradient). Skip connections
 * (NeRF) concatenate the MLP input under the previous activation at chosen layers.
 */
import type { Backend, LinearKernelSpec, MlpPassLayer } from './backend.js';
import type { MlpConfig } from './config.js';
import type { Rng } from '../core/rng.js';
import type { ParamTensor } from './params.js';
import { MedfieldError } from '../core/errors.js';

interface Layer {
  readonly spec: LinearKernelSpec;
  /** Input [inDim, pitch] (for a skip layer: previous activation rows then the MLP input rows). */
  readonly input: Float32Array;
  readonly output: Float32Array;
  /** dL/d(input) and dL/d(output) scratch, same shapes. */
  readonly dInput: Float32Array;
  readonly dOutput: Float32Array;
  readonly skip: boolean;
  readonly prevWidth: number;
}

export class Mlp {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly params: readonly ParamTensor[];
  readonly pitch: number;
  private readonly layers: Layer[];
  /** The MLP input [inputDim, pitch]: callers write encodings (and latent codes) here. */
  readonly input: Float32Array;
  /** dL/d(input) after `backward`. */
  readonly inputGrad: Float32Array;

  constructor(private readonly backend: Backend, cfg: MlpConfig, inputDim: number, maxBatchPadded: number, rng: Rng) {
    if (maxBatchPadded % 8 !== 0) throw new MedfieldError('bad-option', 'mlp batch', `padded batch ${maxBatchPadded} must be a multiple of 8`);
    this.inputDim = inputDim;
    this.outputDim = cfg.outputDim;
    const P = maxBatchPadded;
    this.pitch = P;
    this.input = backend.allocF32(inputDim * P);
    this.inputGrad = backend.allocF32(inputDim * P);
    const widths = [...cfg.hidden, cfg.outputDim];
    const params: ParamTensor[] = [];
    this.layers = [];
    let prev = inputDim;
    let prevOut: Float32Array = this.input;
    let prevDOut: Float32Array = this.inputGrad;
    widths.forEach((w, l) => {
      const skip = cfg.skips.includes(l);
      const inDim = prev + (skip ? inputDim : 0);
      const last = l === widths.length - 1;
      const act = last ? cfg.outputActivation : cfg.activation;
      const weight = backend.allocF32(w * inDim), bias = backend.allocF32(w);
      const gradWeight = backend.allocF32(w * inDim), gradBias = backend.allocF32(w);
      // He-uniform for rectifiers (He et al. 2015), LeCun-uniform otherwise; zero bias.
      const rect = act === 'relu' || act === 'leaky-relu';
      const bound = rect ? Math.sqrt(6 / inDim) : Math.sqrt(3 / inDim);
      for (let i = 0; i < weight.length; i++) weight[i] = (rng.next() * 2 - 1) * bound;
      params.push({ name: `mlp.layer${l}.weight`, shape: [w, inDim], data: weight, grad: gradWeight });
      params.push({ name: `mlp.layer${l}.bias`, shape: [w], data: bias, grad: gradBias });
      // A skip layer reads a buffer holding [prev activation; MLP input]; the previous layer writes straight into its top rows.
      let input = prevOut, dInput = prevDOut;
      if (skip) {
        input = backend.allocF32(inDim * P);
        dInput = backend.allocF32(inDim * P);
        const before = this.layers[l - 1];
        if (before) (this.layers[l - 1] = { ...before, output: input.subarray(0, prev * P), dOutput: dInput.subarray(0, prev * P) });
      }
      const output = backend.allocF32(w * P), dOutput = backend.allocF32(w * P);
      this.layers.push({
        spec: { inDim, outDim: w, weight, bias, gradWeight, gradBias, activation: act, leak: cfg.leak },
        input, output, dInput, dOutput, skip, prevWidth: prev,
      });
      prev = w; prevOut = output; prevDOut = dOutput;
    });
    // Re-link inputs after skip rewiring: layer l reads what layer l-1 writes.
    for (let l = 1; l < this.layers.length; l++) {
      const L = this.layers[l]!;
      if (!L.skip) this.layers[l] = { ...L, input: this.layers[l - 1]!.output, dInput: this.layers[l - 1]!.dOutput };
    }
    this.params = params;
    this.pass = this.layers.map((L) => ({
      layer: L.spec, input: L.input, output: L.output, dInput: L.dInput, dOutput: L.dOutput,
      skip: L.skip ? { src: this.input, dst: L.input.subarray(L.prevWidth * P), rows: inputDim } : null,
    }));
  }
  /** The layers as a fused pass for backends that offer one. */
  private readonly pass: readonly MlpPassLayer[];

  /** Forward over nPad columns of `input`; returns the output [outputDim, pitch] (backend memory). */
  forward(nPad: number): Float32Array {
    const P = this.pitch, b = this.backend;
    if (b.mlpForward) {
      b.mlpForward(this.pass, nPad, P);
      return this.output;
    }
    for (const L of this.layers) {
      if (L.skip) b.copyRows(this.input, P, L.input.subarray(L.prevWidth * P), P, this.inputDim, nPad);
      b.linearForward(L.spec, L.input, L.output, nPad, P);
    }
    return this.layers[this.layers.length - 1]!.output;
  }

  /** The buffer `backward` reads dL/d(output) from ([outputDim, pitch]); padding columns must be 0. */
  get outputGrad(): Float32Array { return this.layers[this.layers.length - 1]!.dOutput; }

  /** Output of the last forward ([outputDim, pitch]). */
  get output(): Float32Array { return this.layers[this.layers.length - 1]!.output; }

  /**
   * Backward from `outputGrad` (overwritten) over nPad columns: adds parameter gradients and
   * leaves dL/d(input) in `inputGrad`.
   */
  backward(nPad: number): void {
    const P = this.pitch, b = this.backend, I = this.inputDim;
    const skipTails: Float32Array[] = [];
    if (b.mlpBackward) b.mlpBackward(this.pass, nPad, P);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l]!;
      if (!b.mlpBackward) b.linearBackward(L.spec, L.input, L.output, L.dOutput, nPad, P, L.dInput);
      if (L.skip) skipTails.push(L.dInput.subarray(L.prevWidth * P));
    }
    // Skip layers also fed the MLP input: add their gradients (layer 0 wrote inputGrad last).
    const g = this.inputGrad;
    for (const t of skipTails) {
      for (let r = 0; r < I; r++) for (let p = r * P, e = r * P + nPad; p < e; p++) g[p] += t[p]!;
    }
  }
}
