/**
 * The body of an engine worker thread (platform-neutral: a Node worker_threads Worker or a
 * browser Worker runs it after receiving its init message). It instantiates the SIMD kernels on
 * the shared memory and then serves ops: wait for the sequence number in `control[0]` to change,
 * run this thread's share of the op in `args`, count itself done in `control[1]`.
 * control: [0] sequence, [1] threads done, [2] quit flag, [3] error flag, [4] chunk counter.
 */
import { instantiateGemm } from './backend.js';
import { createKernelContext, runOp } from './ops.js';
import { SPIN } from './threaded.js';

export interface EngineWorkerInit {
  readonly memory: WebAssembly.Memory;
  readonly maxPages: number;
  readonly simd: boolean;
  readonly control: SharedArrayBuffer;
  readonly args: SharedArrayBuffer;
  /** This worker's share index (1..threads-1; the calling thread is 0). */
  readonly index: number;
  readonly threads: number;
}

/** Serves ops until the quit flag is set; `ready` is called once the kernels are instantiated. */
export function engineWorkerMain(init: EngineWorkerInit, ready: () => void): void {
  const ctx = createKernelContext(init.memory, init.simd ? instantiateGemm(init.memory, init.maxPages, true) : null);
  const control = new Int32Array(init.control);
  ctx.control = control;
  const args = new Float64Array(init.args);
  let seq = Atomics.load(control, 0);
  ready();
  for (;;) {
    // Spin briefly (ops arrive back to back within a step), then sleep on the futex.
    let spins = 0;
    while (Atomics.load(control, 0) === seq && spins < SPIN) spins++;
    if (Atomics.load(control, 0) === seq) Atomics.wait(control, 0, seq);
    const now = Atomics.load(control, 0);
    if (now === seq) continue;
    seq = now;
    if (Atomics.load(control, 2) !== 0) return;
    try {
      runOp(ctx, args, init.index, init.threads);
    } catch (e) {
      Atomics.store(control, 3, 1);
      console.error(e);
    }
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
  }
}
