/**
 * The CPU backend: kernels of ./ops.ts over one WebAssembly memory (./arena.ts), dispatched
 * inline (this thread) or over worker threads (./threaded.ts) — the same code either way.
 */
import type {
  AdamBuffers, AdamStepArgs, Backend, FrequencyKernelSpec, GridKernelSpec, LinearKernelSpec, MlpPassLayer, SgdBuffers,
} from '../backend.js';
import { MedfieldError } from '../../core/errors.js';
import { gemmModuleBytes, wasmSimdSupported, type GemmExports } from '../wasm/gemm.js';
import { Arena } from './arena.js';
import { ACT_CODES } from './linear-kernels.js';
import { createKernelContext, LIN_GRAIN, MLP_RECORD, OP, runOp, SCRATCH_FLOATS, type KernelContext } from './ops.js';

/** Runs one encoded op on every thread and returns when all shares are done. */
export interface Dispatcher {
  readonly threads: number;
  run(args: Float64Array): void;
  dispose(): void;
}

export interface CpuBackendOptions {
  /** Use the WebAssembly SIMD MLP kernels (default: when the runtime supports them). */
  simd?: boolean;
  /** Upper bound of the engine memory in MiB (default 2048). */
  maxMb?: number;
  /** Memory reserved up front in MiB: required when shared memory is unavailable (see Arena). */
  initialMb?: number;
  /** Use a shared memory (default: when available). */
  shared?: boolean;
}

export function instantiateGemm(memory: WebAssembly.Memory, maxPages: number, shared: boolean): GemmExports {
  const bytes = gemmModuleBytes({ minPages: 1, maxPages, shared });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const e = inst.exports as unknown as Record<string, never>;
  const gridf3: GemmExports['gridf3'] = {}, gridb3: GemmExports['gridb3'] = {};
  for (const F of [1, 2, 4, 8]) { gridf3[F] = e[`gridf3_${F}`]; gridb3[F] = e[`gridb3_${F}`]; }
  const adam: GemmExports['adam'] = { 1: e['adam1'], 2: e['adam2'], 4: e['adam4'] };
  return { ...(e as unknown as GemmExports), gridf3, gridb3, adam };
}

export class CpuBackend implements Backend {
  readonly name: string;
  readonly simd: boolean;
  readonly arena: Arena;
  readonly ctx: KernelContext;
  private dispatcher: Dispatcher;
  private readonly a = new Float64Array(512);
  private readonly partials = new Map<LinearKernelSpec, Float32Array>();
  private scratchBuf: Float32Array | null = null;
  private lossParts: Float32Array;

  constructor(arena: Arena, simd: boolean, dispatcher: Dispatcher | null, name: string) {
    this.arena = arena;
    this.simd = simd;
    this.ctx = createKernelContext(arena.memory, simd ? instantiateGemm(arena.memory, arena.maxPages, arena.shared) : null);
    this.dispatcher = dispatcher ?? { threads: 1, run: (args) => runOp(this.ctx, args, 0, 1), dispose: () => {} };
    this.name = name;
    this.lossParts = arena.f32(64);
  }

  get threads(): number { return this.dispatcher.threads; }

  /** Replaces the dispatcher (used by the threaded backend once its workers are up). */
  setDispatcher(d: Dispatcher): void { this.dispatcher = d; }

  allocF32(length: number): Float32Array { return this.arena.f32(length); }
  allocU8(length: number): Uint8Array { return this.arena.u8(length); }

  private i(a: Float32Array): number { return this.arena.indexOf(a); }
  private u(a: Uint8Array | undefined | null): number { if (!a) return -1; this.arena.assertOwn(a); return a.byteOffset; }

  private gridArgs(op: number, spec: GridKernelSpec, head: number[], withGrad: boolean): number {
    const a = this.a;
    a[0] = op; a[1] = spec.dim; a[2] = spec.features; a[3] = spec.levels.length;
    let k = 4;
    for (const h of head) a[k++] = h;
    for (const L of spec.levels) {
      a[k++] = L.res; a[k++] = L.size; a[k++] = L.dense ? 1 : 0; a[k++] = this.i(L.table);
      if (withGrad) { a[k++] = this.i(L.grad); a[k++] = this.u(L.touched); }
    }
    return k;
  }

  gridForward(spec: GridKernelSpec, x: Float32Array, n: number, out: Float32Array, pitch: number): void {
    this.gridArgs(OP.gridForward, spec, [n, pitch, this.i(x), this.i(out)], false);
    this.dispatcher.run(this.a);
  }
  gridBackward(spec: GridKernelSpec, x: Float32Array, n: number, dOut: Float32Array, pitch: number): void {
    const k = this.gridArgs(OP.gridBackward, spec, [n, pitch, this.i(x), this.i(dOut), 0], true);
    this.dispatcher.run(this.a);
    // Second phase (odd z-slabs of dense levels) only matters on several threads; see ops.ts.
    if (this.threads > 1 && this.simd && spec.dim === 3 && spec.levels.some((L) => L.dense && L.touched && L.res >= 2 * this.threads)) {
      this.a[8] = 1;
      this.dispatcher.run(this.a.subarray(0, k));
    }
  }
  gridInputGrad(spec: GridKernelSpec, x: Float32Array, n: number, dOut: Float32Array, pitch: number, dx: Float32Array): void {
    this.gridArgs(OP.gridInputGrad, spec, [n, pitch, this.i(x), this.i(dOut), this.i(dx)], false);
    this.dispatcher.run(this.a);
  }
  frequencyForward(spec: FrequencyKernelSpec, x: Float32Array, n: number, out: Float32Array, pitch: number): void {
    this.set(OP.freqForward, spec.dim, spec.octaves, spec.includeInput ? 1 : 0, n, pitch, this.i(x), this.i(out));
  }
  frequencyInputGrad(spec: FrequencyKernelSpec, x: Float32Array, n: number, dOut: Float32Array, pitch: number, dx: Float32Array): void {
    this.set(OP.freqInputGrad, spec.dim, spec.octaves, spec.includeInput ? 1 : 0, n, pitch, this.i(x), this.i(dOut), this.i(dx));
  }
  private linearForwardArgs(L: LinearKernelSpec, X: Float32Array, Y: Float32Array, nPad: number, pitch: number): number[] {
    return [OP.linearForward, this.i(L.weight), L.bias ? this.i(L.bias) : -1, this.i(X), this.i(Y), L.inDim, L.outDim, pitch, nPad, ACT_CODES[L.activation], L.leak,
      this.scratch(L), SCRATCH_FLOATS];
  }
  linearForward(L: LinearKernelSpec, X: Float32Array, Y: Float32Array, nPad: number, pitch: number): void {
    this.set(...this.linearForwardArgs(L, X, Y, nPad, pitch));
  }
  /** Per-thread packing scratch of the SIMD kernels. */
  private scratch(L: LinearKernelSpec): number {
    if (L.inDim + L.outDim > 1024) throw new MedfieldError('bad-option', 'mlp width', `a layer's inputs + outputs (${L.inDim + L.outDim}) must be <= 1024`);
    if (!this.scratchBuf || this.scratchBuf.length < SCRATCH_FLOATS * this.threads) this.scratchBuf = this.arena.f32(SCRATCH_FLOATS * this.threads);
    return this.i(this.scratchBuf);
  }
  /**
   * Weight-gradient partials of a layer: one [dW, db] per column chunk (not per thread), summed in
   * chunk order, so results do not depend on the thread count or on which thread ran which chunk.
   */
  private partialsFor(L: LinearKernelSpec, nPad: number): { part: number; stride: number; chunks: number } {
    const chunks = Math.ceil(nPad / LIN_GRAIN);
    const stride = Math.ceil((L.inDim * L.outDim + L.outDim) / 16) * 16;
    let buf = this.partials.get(L);
    if (!buf || buf.length < stride * chunks) { buf = this.arena.f32(stride * chunks); this.partials.set(L, buf); }
    return { part: this.i(buf), stride, chunks };
  }
  private linearBackwardArgs(L: LinearKernelSpec, X: Float32Array, Y: Float32Array, dY: Float32Array, nPad: number, pitch: number, dX: Float32Array | null): number[] {
    const { part, stride } = this.partialsFor(L, nPad);
    return [OP.linearBackward, this.i(L.weight), this.i(X), this.i(Y), this.i(dY), part, dX ? this.i(dX) : -1,
      L.inDim, L.outDim, pitch, nPad, ACT_CODES[L.activation], L.leak, stride, L.bias ? 1 : 0, this.scratch(L), SCRATCH_FLOATS];
  }
  private reduceLayer(L: LinearKernelSpec, nPad: number): void {
    const { part, stride, chunks } = this.partialsFor(L, nPad);
    this.set(OP.reduce, part, L.inDim * L.outDim, chunks, stride, this.i(L.gradWeight));
    if (L.gradBias) this.set(OP.reduce, part + L.inDim * L.outDim, L.outDim, chunks, stride, this.i(L.gradBias));
  }
  linearBackward(L: LinearKernelSpec, X: Float32Array, Y: Float32Array, dY: Float32Array, nPad: number, pitch: number, dX: Float32Array | null): void {
    this.set(...this.linearBackwardArgs(L, X, Y, dY, nPad, pitch, dX));
    this.reduceLayer(L, nPad);
  }
  private runPass(records: number[][], nPad: number): void {
    const a = this.a;
    a[0] = OP.mlpPass; a[1] = records.length; a[2] = nPad;
    if (3 + records.length * MLP_RECORD > a.length) throw new MedfieldError('bad-option', 'mlp depth', 'too many layers for one fused pass');
    records.forEach((r, k) => { for (let j = 0; j < r.length; j++) a[3 + k * MLP_RECORD + j] = r[j]!; });
    this.dispatcher.run(a);
  }
  mlpForward(layers: readonly MlpPassLayer[], nPad: number, pitch: number): void {
    const recs: number[][] = [];
    for (const l of layers) {
      if (l.skip) recs.push([OP.copyRows, this.i(l.skip.src), pitch, this.i(l.skip.dst), pitch, l.skip.rows, nPad]);
      recs.push(this.linearForwardArgs(l.layer, l.input, l.output, nPad, pitch));
    }
    this.runPass(recs, nPad);
  }
  mlpBackward(layers: readonly MlpPassLayer[], nPad: number, pitch: number): void {
    const recs: number[][] = [];
    for (let k = layers.length - 1; k >= 0; k--) {
      const l = layers[k]!;
      recs.push(this.linearBackwardArgs(l.layer, l.input, l.output, l.dOutput, nPad, pitch, l.dInput));
    }
    this.runPass(recs, nPad);
    for (const l of layers) this.reduceLayer(l.layer, nPad);
  }
  copyRows(src: Float32Array, srcPitch: number, dst: Float32Array, dstPitch: number, rows: number, nPad: number): void {
    this.set(OP.copyRows, this.i(src), srcPitch, this.i(dst), dstPitch, rows, nPad);
  }
  mse(pred: Float32Array, target: Float32Array, dPred: Float32Array, n: number, outDim: number, pitch: number, nPad: number): number {
    const chunks = Math.ceil(nPad / LIN_GRAIN);
    if (this.lossParts.length < chunks) this.lossParts = this.arena.f32(chunks);
    this.set(OP.mse, this.i(pred), this.i(target), this.i(dPred), n, outDim, pitch, nPad, this.i(this.lossParts), 1 / (n * outDim));
    let s = 0;
    for (let c = 0; c < chunks; c++) s += this.lossParts[c]!;
    return s / (n * outDim);
  }
  adamStep(b: AdamBuffers, h: AdamStepArgs): void {
    this.set(OP.adam, this.i(b.data), this.i(b.grad), this.i(b.m), this.i(b.v), this.u(b.touched), b.rows, b.rowSize,
      h.lr, h.beta1, h.beta2, h.eps, h.weightDecay, h.bc1, h.bc2, h.clearGrad ? 1 : 0);
  }
  sgdStep(b: SgdBuffers, h: { lr: number; momentum: number; weightDecay: number; clearGrad: boolean }): void {
    this.set(OP.sgd, this.i(b.data), this.i(b.grad), b.momentum ? this.i(b.momentum) : -1, this.u(b.touched), b.rows, b.rowSize,
      h.lr, h.momentum, h.weightDecay, h.clearGrad ? 1 : 0);
  }

  private set(...v: number[]): void {
    const a = this.a;
    for (let k = 0; k < v.length; k++) a[k] = v[k]!;
    this.dispatcher.run(a);
  }

  dispose(): void { this.dispatcher.dispose(); }
}

/** Inline CPU backend (this thread only). */
export function createCpuBackend(options: CpuBackendOptions = {}): CpuBackend {
  const simd = options.simd ?? wasmSimdSupported();
  if (simd && !wasmSimdSupported()) throw new MedfieldError('unsupported', 'backend simd', 'this runtime does not support WebAssembly SIMD');
  const arena = new Arena({
    ...(options.maxMb === undefined ? {} : { maxMb: options.maxMb }),
    ...(options.initialMb === undefined ? {} : { initialMb: options.initialMb }),
    ...(options.shared === undefined ? {} : { shared: options.shared }),
  });
  return new CpuBackend(arena, simd, null, simd ? 'cpu-simd' : 'cpu-js');
}
