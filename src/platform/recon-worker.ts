/**
 * Worker thread of the threaded FDK (recon-pool.ts). It runs one stage per message on buffers
 * that live on SharedArrayBuffers, so nothing large is copied: 'filter' weights and filters
 * views [v0, v1); 'backproject' back-projects every view into z-slices [k0, k1) of the output;
 * 'backproject-wasm' does it with the SIMD kernel into a region, on the shared WebAssembly.Memory.
 */
import { parentPort } from 'node:worker_threads';
import { backprojectSlab, createFilterScratch, filterProjections, type FdkPlan } from '../physics/fdk.js';
import { backprojectSlabWasm, type FdkRegion } from '../physics/fdk-wasm.js';

/** A stage request sent by the pool. */
export type ReconWorkerTask =
  | { kind: 'filter'; plan: FdkPlan; projections: Float32Array; filtered: Float32Array; v0: number; v1: number }
  | { kind: 'backproject'; plan: FdkPlan; filtered: Float32Array; out: Float32Array; k0: number; k1: number }
  | { kind: 'backproject-wasm'; plan: FdkPlan; memory: WebAssembly.Memory; filteredOffset: number; accOffset: number; out: Float32Array; region: FdkRegion };

/** The worker's answer: ok, or the error message. */
export type ReconWorkerReply = { ok: true } | { ok: false; error: string };

if (parentPort) {
  const port = parentPort;
  port.on('message', (task: ReconWorkerTask) => {
    try {
      if (task.kind === 'filter') {
        filterProjections(task.plan, task.projections, task.filtered, task.v0, task.v1, createFilterScratch(task.plan));
      } else if (task.kind === 'backproject-wasm') {
        backprojectSlabWasm(task.plan, task.memory, task.filteredOffset, task.accOffset, task.out, task.region);
      } else {
        backprojectSlab(task.plan, task.filtered, task.out, task.k0, task.k1);
      }
      port.postMessage({ ok: true } satisfies ReconWorkerReply);
    } catch (e) {
      port.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) } satisfies ReconWorkerReply);
    }
  });
}
