/**
 * Multi-threaded FDK/FBP over worker_threads. The projections, the filtered projections and
 * the output volume live on SharedArrayBuffers (the filtered projections inside a shared
 * WebAssembly.Memory when the SIMD kernel of src/physics/fdk-wasm.ts is used); each worker first
 * weights and ramp-filters a contiguous block of views, then (after all have finished)
 * back-projects every view into its own block of the volume (y-rows for the SIMD kernel, z-slabs
 * for the TypeScript one), so no two threads write the same voxel and no reduction is needed.
 * The per-voxel arithmetic and its order are those of the single-thread `fdk`/`fbp`
 * (src/physics/fdk.ts) with the same `backprojector`, so the result is bit-identical.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MedfieldError } from '../core/errors.js';
import type { XrayGeometry } from '../geometry/xray.js';
import { checkBackprojector, filteredViewSize, planFdk, type FdkOptions } from '../physics/fdk.js';
import { createWasmFdkMemory, wasmFdkLayout, wasmSimdAvailable } from '../physics/fdk-wasm.js';
import type { ReconWorkerReply, ReconWorkerTask } from './recon-worker.js';

/** Options of {@link fdkThreaded}. */
export interface FdkThreadedOptions extends FdkOptions {
  /** Worker threads (default: os.availableParallelism()). */
  threads?: number;
}

function run(worker: Worker, task: ReconWorkerTask): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (r: ReconWorkerReply): void => {
      worker.off('error', onError);
      if (r.ok) resolve(); else reject(new MedfieldError('bad-data', 'fdk worker', r.error));
    };
    const onError = (e: Error): void => { worker.off('message', onMessage); reject(e); };
    worker.once('message', onMessage);
    worker.once('error', onError);
    worker.postMessage(task);
  });
}

/** Splits [0, n) into `parts` contiguous ranges of nearly equal length. */
function split(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = 0; p < parts; p++) {
    const a = Math.floor((p * n) / parts), b = Math.floor(((p + 1) * n) / parts);
    if (b > a) out.push([a, b]);
  }
  return out;
}

/**
 * FDK (cone) or FBP (parallel, fan) on worker threads; same arguments and result as `fdk` /
 * `fbp` in src/physics/fdk.ts (Float32 [nz, ny, nx] in 1/mm on the geometry's grid).
 */
export async function fdkThreaded(geo: XrayGeometry, anglesRad: ArrayLike<number>, projections: Float32Array,
  opts: FdkThreadedOptions = {}): Promise<Float32Array> {
  const plan = planFdk(geo, anglesRad, opts);
  const need = plan.nViews * plan.nu * plan.nv;
  if (!(projections instanceof Float32Array) || projections.length !== need) {
    throw new MedfieldError('bad-data', 'projections', `expected a Float32Array of ${need} values ([${plan.nViews} views, ${plan.nv} rows, ${plan.nu} cols]), got ${projections?.length}`);
  }
  const threads = opts.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw new MedfieldError('bad-option', 'options.threads', `expected an integer >= 1, got ${threads}`);
  const shared = (n: number): Float32Array => new Float32Array(new SharedArrayBuffer(n * 4));
  const proj = projections.buffer instanceof SharedArrayBuffer ? projections : shared(need);
  if (proj !== projections) proj.set(projections);
  const filteredLen = plan.nViews * filteredViewSize(plan);
  const out = shared(plan.nx * plan.ny * plan.nz);
  // Fast path: the WebAssembly SIMD kernel on one shared WebAssembly.Memory holding the filtered
  // projections and one accumulator per worker. Workers take blocks of y-rows with every z-slice,
  // so the per-(voxel column, view) set-up is not repeated across threads.
  const rows = split(plan.ny, threads);
  const layout = checkBackprojector(opts.backprojector) === 'auto' && wasmSimdAvailable()
    ? wasmFdkLayout(plan, rows.map(([j0, j1]) => plan.nx * (j1 - j0) * plan.nz)) : null;
  const memory = layout && createWasmFdkMemory(layout, true);
  const filtered = layout && memory ? new Float32Array(memory.buffer, layout.filteredOffset * 4, filteredLen) : shared(filteredLen);
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./recon-worker.js', import.meta.url)));
  try {
    await Promise.all(split(plan.nViews, threads).map(([v0, v1], w) =>
      run(workers[w]!, { kind: 'filter', plan, projections: proj, filtered, v0, v1 })));
    if (layout && memory) {
      await Promise.all(rows.map(([j0, j1], w) => run(workers[w]!, {
        kind: 'backproject-wasm', plan, memory, filteredOffset: layout.filteredOffset, accOffset: layout.accOffsets[w]!, out,
        region: { k0: 0, k1: plan.nz, j0, j1 },
      })));
    } else {
      await Promise.all(split(plan.nz, threads).map(([k0, k1], w) =>
        run(workers[w]!, { kind: 'backproject', plan, filtered, out, k0, k1 })));
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  // A plain (non-shared) result, like the single-thread functions.
  return new Float32Array(out);
}
