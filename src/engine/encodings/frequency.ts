/**
 * NeRF positional encoding (Mildenhall et al. 2020, eq. 4): gamma(x) = [x?, sin(2^k pi x),
 * cos(2^k pi x)] for k = 0..L-1, per input axis. Row order: the inputs (if included), then for
 * each octave k the sines of every axis, then the cosines. No parameters.
 */
import type { Backend, FrequencyKernelSpec } from '../backend.js';
import type { FrequencyEncodingConfig } from '../config.js';
import type { Encoding } from './hash-grid.js';

export class FrequencyEncoding implements Encoding {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly params = [] as const;
  readonly spec: FrequencyKernelSpec;
  constructor(cfg: FrequencyEncodingConfig, private readonly backend: Backend) {
    this.inputDim = cfg.inputDim;
    this.outputDim = cfg.inputDim * (2 * cfg.octaves + (cfg.includeInput ? 1 : 0));
    this.spec = { dim: cfg.inputDim, octaves: cfg.octaves, includeInput: cfg.includeInput };
  }
  forward(x: Float32Array, n: number, out: Float32Array, pitch: number): void { this.backend.frequencyForward(this.spec, x, n, out, pitch); }
  backward(): void { /* no parameters */ }
  inputGrad(x: Float32Array, n: number, dOut: Float32Array, pitch: number, dx: Float32Array): void {
    this.backend.frequencyInputGrad(this.spec, x, n, dOut, pitch, dx);
  }
}
