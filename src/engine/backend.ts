/**
 * The compute backend contract (GUIDE.md section 3: passed in explicitly, never chosen by an
 * import side effect). Every model buffer is allocated by the backend (`allocF32`), so a backend
 * may place it where its kernels run: one shared WebAssembly memory for the CPU backends, GPU
 * buffers for a later WebGPU backend (whose Float32Array views would be staging mirrors). Kernels
 * are batch operations over SoA activations ([rows, pitch], feature-major, `pitch` = padded batch,
 * a multiple of 8) and AoS inputs ([n, dim]). The conformance suite in test/engine/conformance
 * runs the same cases on every backend.
 */
import type { Activation } from './config.js';

/** One grid level as kernels see it: `dense` levels index (res+1)^d vertices directly, others hash into `size` (a power of two) rows. */
export interface GridLevelBuffers {
  readonly res: number;
  readonly size: number;
  readonly dense: boolean;
  /** [size, features] values. */
  readonly table: Float32Array;
  /** [size, features] gradient accumulator. */
  readonly grad: Float32Array;
  /** Per-row flags set by the backward pass (for lazy Adam); absent: not tracked. */
  readonly touched?: Uint8Array;
}

export interface GridKernelSpec {
  readonly dim: 2 | 3;
  readonly features: number;
  readonly levels: readonly GridLevelBuffers[];
}

export interface FrequencyKernelSpec {
  readonly dim: number;
  readonly octaves: number;
  readonly includeInput: boolean;
}

/** A dense layer y = act(W x + b), W [out, in] row-major. */
export interface LinearKernelSpec {
  readonly inDim: number;
  readonly outDim: number;
  readonly weight: Float32Array;
  readonly bias: Float32Array | null;
  readonly gradWeight: Float32Array;
  readonly gradBias: Float32Array | null;
  readonly activation: Activation;
  readonly leak: number;
}

/** Adam hyper-parameters for one step; bc1/bc2 are the bias corrections 1 - beta^t. */
export interface AdamStepArgs {
  readonly lr: number; readonly beta1: number; readonly beta2: number; readonly eps: number; readonly weightDecay: number;
  readonly bc1: number; readonly bc2: number;
  /** Zero the gradient (and touch flags) of every updated row, which saves a separate zeroGrad pass. */
  readonly clearGrad: boolean;
}

export interface AdamBuffers {
  readonly data: Float32Array; readonly grad: Float32Array; readonly m: Float32Array; readonly v: Float32Array;
  /** Lazy variant: only rows flagged here are updated. */
  readonly touched?: Uint8Array;
  readonly rows: number; readonly rowSize: number;
}

export interface SgdBuffers {
  readonly data: Float32Array; readonly grad: Float32Array; readonly momentum: Float32Array | null;
  readonly touched?: Uint8Array; readonly rows: number; readonly rowSize: number;
}

/** One layer of a fused MLP pass (see Backend.mlpForward). */
export interface MlpPassLayer {
  readonly layer: LinearKernelSpec;
  /** [inDim, pitch] input, [outDim, pitch] output, and their gradients. */
  readonly input: Float32Array;
  readonly output: Float32Array;
  readonly dInput: Float32Array;
  readonly dOutput: Float32Array;
  /** Skip connection: copy `rows` rows of `src` into `dst` (the input's tail) before the layer. */
  readonly skip: { readonly src: Float32Array; readonly dst: Float32Array; readonly rows: number } | null;
}

export interface Backend {
  readonly name: string;
  /** Threads the kernels run on (1 for inline). */
  readonly threads: number;
  /** True when the MLP products run as WebAssembly SIMD. */
  readonly simd: boolean;
  /** A zeroed float buffer that this backend's kernels can address. */
  allocF32(length: number): Float32Array;
  allocU8(length: number): Uint8Array;
  /** out[(l*F+f)*pitch + p] = interpolated feature of x[p] (AoS [n, dim] in [0,1]), p < n. */
  gridForward(spec: GridKernelSpec, x: Float32Array, n: number, out: Float32Array, pitch: number): void;
  /** Adds dL/dtable into each level's grad and sets touched flags. */
  gridBackward(spec: GridKernelSpec, x: Float32Array, n: number, dOut: Float32Array, pitch: number): void;
  /** dx (AoS [n, dim], overwritten) = dL/dx. */
  gridInputGrad(spec: GridKernelSpec, x: Float32Array, n: number, dOut: Float32Array, pitch: number, dx: Float32Array): void;
  frequencyForward(spec: FrequencyKernelSpec, x: Float32Array, n: number, out: Float32Array, pitch: number): void;
  frequencyInputGrad(spec: FrequencyKernelSpec, x: Float32Array, n: number, dOut: Float32Array, pitch: number, dx: Float32Array): void;
  /** Y [out, pitch] = act(W X + b) over columns [0, nPad). */
  linearForward(layer: LinearKernelSpec, X: Float32Array, Y: Float32Array, nPad: number, pitch: number): void;
  /**
   * Given Y (the forward output) and dY (may be overwritten), adds dL/dW, dL/db into the
   * layer's grads and writes dX = W^T dz when dX is given.
   */
  linearBackward(layer: LinearKernelSpec, X: Float32Array, Y: Float32Array, dY: Float32Array, nPad: number, pitch: number, dX: Float32Array | null): void;
  /**
   * Optional fused passes over a whole MLP: the CPU backend runs every layer on one column chunk
   * before the next, so activations stay in cache. Same results as the per-layer kernels.
   * mlpBackward starts from the last layer's dOutput and leaves dInput of every layer.
   */
  mlpForward?(layers: readonly MlpPassLayer[], nPad: number, pitch: number): void;
  mlpBackward?(layers: readonly MlpPassLayer[], nPad: number, pitch: number): void;
  /** Copies `rows` rows of nPad columns between SoA matrices. */
  copyRows(src: Float32Array, srcPitch: number, dst: Float32Array, dstPitch: number, rows: number, nPad: number): void;
  /**
   * Mean squared error of pred (SoA [outDim, pitch]) against target (AoS [n, outDim]); writes
   * dL/dpred (zero in padding columns) and returns the loss (mean over n*outDim).
   */
  mse(pred: Float32Array, target: Float32Array, dPred: Float32Array, n: number, outDim: number, pitch: number, nPad: number): number;
  adamStep(buffers: AdamBuffers, args: AdamStepArgs): void;
  sgdStep(buffers: SgdBuffers, args: { lr: number; momentum: number; weightDecay: number; clearGrad: boolean }): void;
  dispose(): void;
}

/** Rounds a batch size up to the kernels' column block (8). */
export function padBatch(n: number): number {
  return Math.max(8, Math.ceil(n / 8) * 8);
}
