/**
 * The CPU backend over N threads: the calling thread plus N-1 workers share one WebAssembly
 * memory (every model buffer) and two small SharedArrayBuffers (control words, op arguments).
 * A kernel call writes its arguments, resets the chunk counter, bumps the sequence number, claims
 * chunks itself like every worker and waits on the done counter: synchronous, no message passing per op, no copies. Worker creation is
 * the platform's job (src/platform/engine-pool.ts for Node); this file stays platform-neutral.
 * Atomics.wait on the calling thread needs Node or a browser worker (not a page's main thread).
 */
import { MedfieldError } from '../../core/errors.js';
import { wasmSimdSupported } from '../wasm/gemm.js';
import { Arena } from './arena.js';
import { CpuBackend, type Dispatcher } from './backend.js';
import { CHUNK_COUNTER, runOp } from './ops.js';
import type { EngineWorkerInit } from './worker-main.js';

/** The little of a Worker this needs: start it with an init message, learn when it is ready, end it. */
export interface WorkerLike {
  postMessage(message: EngineWorkerInit): void;
  terminate(): unknown;
}

export interface ThreadedBackendOptions {
  threads: number;
  simd?: boolean;
  maxMb?: number;
  /** Starts a worker running engineWorkerMain; resolves once it reported ready. */
  spawn(init: EngineWorkerInit): Promise<WorkerLike>;
}

/**
 * Busy-wait iterations before sleeping on the futex. Short: on a loaded machine a spinning
 * thread takes the core from the thread it waits for (measured with other processes on both cores).
 */
export const SPIN = 2000;

class ThreadDispatcher implements Dispatcher {
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  constructor(
    readonly threads: number, controlBuf: SharedArrayBuffer, argsBuf: SharedArrayBuffer,
    private readonly workers: WorkerLike[], private readonly backend: CpuBackend,
  ) {
    this.control = new Int32Array(controlBuf);
    this.args = new Float64Array(argsBuf);
  }
  private disposed = false;
  run(a: Float64Array): void {
    if (this.disposed) throw new MedfieldError('bad-option', 'engine backend', 'used after dispose()');
    const c = this.control;
    this.args.set(a);
    Atomics.store(c, 1, 0);
    Atomics.store(c, CHUNK_COUNTER, 0);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    runOp(this.backend.ctx, a, 0, this.threads);
    const want = this.threads - 1;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(c, 1);
      if (done >= want) break;
      if (spins++ < SPIN) continue;
      Atomics.wait(c, 1, done, 1000);
    }
    if (Atomics.load(c, 3) !== 0) { Atomics.store(c, 3, 0); throw new MedfieldError('bad-data', 'engine worker', 'a kernel failed on a worker thread (see its stderr)'); }
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const c = this.control;
    Atomics.store(c, 2, 1);
    Atomics.add(c, 0, 1);
    Atomics.notify(c, 0);
    for (const w of this.workers) w.terminate();
  }
}

/** A CPU backend whose kernels run on `threads` threads (this one included). */
export async function createThreadedCpuBackend(options: ThreadedBackendOptions): Promise<CpuBackend> {
  const T = options.threads;
  if (!(Number.isInteger(T) && T >= 1 && T <= 256)) throw new MedfieldError('bad-option', 'threads', `expected an integer 1..256, got ${T}`);
  const simd = options.simd ?? wasmSimdSupported();
  const arena = new Arena({ ...(options.maxMb === undefined ? {} : { maxMb: options.maxMb }), shared: true });
  if (!arena.shared) throw new MedfieldError('unsupported', 'threads', 'shared WebAssembly memory is unavailable (cross-origin isolation needed in browsers)');
  const backend = new CpuBackend(arena, simd, null, `${simd ? 'cpu-simd' : 'cpu-js'}-x${T}`);
  if (T === 1) return backend;
  const controlBuf = new SharedArrayBuffer(64);
  const argsBuf = new SharedArrayBuffer(512 * 8);
  const workers = await Promise.all(Array.from({ length: T - 1 }, (_, i) => options.spawn({
    memory: arena.memory, maxPages: arena.maxPages, simd, control: controlBuf, args: argsBuf, index: i + 1, threads: T,
  })));
  backend.ctx.control = new Int32Array(controlBuf);
  backend.setDispatcher(new ThreadDispatcher(T, controlBuf, argsBuf, workers, backend));
  return backend;
}
