/**
 * The projectors of src/physics/projectors.ts on worker threads (Node worker_threads): the views
 * are split into one contiguous chunk per worker; the volume and all projections live on
 * SharedArrayBuffers that every worker reads, each worker writes the projections of its own views,
 * and for the adjoint each worker back-projects its views into its own partial volume, which the
 * calling thread then sums in worker order. The split and the summation order depend only on the
 * thread count and the view list, so results are deterministic for a fixed thread count; with one
 * thread they are bit-identical to createInlineProjector. Workers are unref'd while idle, so an
 * undisposed operator does not keep the process alive; dispose() terminates them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MedfieldError } from '../core/errors.js';
import { validateXrayGeometry, type XrayGeometry } from '../geometry/xray.js';
import type { ProjectionOperator } from '../physics/operator.js';
import {
  checkFloat32Length, resolveProjectorOptions, resolveViews, type ProjectorOptions,
} from '../physics/projectors.js';
import type { PhysicsJob, PhysicsWorkerData } from './physics-worker.js';

/** Options of the threaded projector. */
export interface ThreadedProjectorOptions extends ProjectorOptions {
  /** Worker threads (default min(2, os.availableParallelism())). */
  threads?: number;
}

interface Pending { resolve: () => void; reject: (e: Error) => void }

/** One worker with its pending job. */
class PoolWorker {
  readonly worker: Worker;
  private pending: Pending | undefined;
  private nextId = 0;
  readonly ready: Promise<void>;
  private failure: Error | undefined;

  constructor(data: PhysicsWorkerData) {
    // Workers inherit the parent's execArgv; --input-type (a parent run with -e or stdin) would
    // make Node refuse to load the worker file, so it is dropped.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    this.worker = new Worker(new URL('./physics-worker.js', import.meta.url), { workerData: data, execArgv });
    this.worker.unref();
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    this.ready = new Promise((res, rej) => { readyResolve = res; readyReject = rej; });
    this.worker.on('message', (m: { id: number; error?: string }) => {
      if (m.id === -1) { readyResolve(); return; }
      const p = this.pending;
      this.pending = undefined;
      if (!p) return;
      if (m.error !== undefined) p.reject(new MedfieldError('bad-data', 'projector worker', m.error));
      else p.resolve();
    });
    const fail = (e: Error): void => {
      this.failure = e;
      readyReject(e);
      const p = this.pending;
      this.pending = undefined;
      p?.reject(e);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new MedfieldError('io', 'projector worker', `worker thread exited (code ${code})`)));
    this.ready.catch(() => { /* reported on the next job */ });
  }

  run(type: PhysicsJob['type'], views: Int32Array): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const job: PhysicsJob = { type, id: this.nextId++, views };
      this.worker.postMessage(job);
    });
  }
}

/**
 * A ProjectionOperator whose forward and adjoint run on `threads` worker threads. Calls on one
 * operator are queued (they share the buffers). Validates geometry, angles and options first.
 */
export async function createThreadedProjector(geo: XrayGeometry, anglesRad: ArrayLike<number>,
  opts: ThreadedProjectorOptions = {}): Promise<ProjectionOperator> {
  validateXrayGeometry(geo, anglesRad);
  const options = resolveProjectorOptions(geo, opts);
  const threads = opts.threads ?? Math.min(2, availableParallelism());
  if (!(Number.isInteger(threads) && threads >= 1)) {
    throw new MedfieldError('bad-option', 'threads', `expected an integer >= 1, got ${String(threads)}`);
  }
  const angles = Float64Array.from(anglesRad);
  const nViews = angles.length;
  const volumeSize = geo.nVoxel[0] * geo.nVoxel[1] * geo.nVoxel[2];
  const viewSize = geo.nDetector[0] * geo.nDetector[1];
  const volSab = new SharedArrayBuffer(volumeSize * 4);
  const projSab = new SharedArrayBuffer(nViews * viewSize * 4);
  const vol = new Float32Array(volSab), proj = new Float32Array(projSab);
  const partials: Float32Array[] = [];
  const workers: PoolWorker[] = [];
  for (let w = 0; w < threads; w++) {
    const partial = new SharedArrayBuffer(volumeSize * 4);
    partials.push(new Float32Array(partial));
    workers.push(new PoolWorker({ geo, anglesRad: angles, options, volume: volSab, projections: projSab, partial }));
  }
  let disposed = false;
  try {
    await Promise.all(workers.map((w) => w.ready));
  } catch (e) {
    for (const w of workers) void w.worker.terminate();
    throw e;
  }

  /** Contiguous chunks of the view list, one per worker (possibly empty). */
  const split = (list: Int32Array): Int32Array[] => {
    const out: Int32Array[] = [];
    const per = Math.ceil(list.length / threads);
    for (let w = 0; w < threads; w++) out.push(list.subarray(Math.min(list.length, w * per), Math.min(list.length, (w + 1) * per)));
    return out;
  };
  const runAll = async (type: PhysicsJob['type'], chunks: Int32Array[]): Promise<void> => {
    if (disposed) throw new MedfieldError('bad-option', 'projector', 'the operator was disposed');
    for (const w of workers) w.worker.ref();
    try {
      await Promise.all(chunks.map((c, w) => (c.length ? workers[w]!.run(type, c) : Promise.resolve())));
    } finally {
      for (const w of workers) w.worker.unref();
    }
  };
  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = (fn: () => Promise<void>): Promise<void> => {
    const p = queue.then(fn);
    queue = p.catch(() => undefined);
    return p;
  };
  const projWhat = `${nViews} views x ${geo.nDetector[1]} rows x ${geo.nDetector[0]} cols`;
  const volWhat = `nVoxel ${geo.nVoxel.join('x')}, x fastest`;

  return {
    geometry: geo,
    anglesRad: angles,
    volumeSize,
    viewSize,
    forward(x, y, views) {
      return enqueue(async () => {
        checkFloat32Length(x, volumeSize, 'volume', volWhat);
        checkFloat32Length(y, nViews * viewSize, 'projections', projWhat);
        const list = resolveViews(views, nViews);
        vol.set(x);
        await runAll('forward', split(list));
        for (let i = 0; i < list.length; i++) {
          const o = list[i]! * viewSize;
          y.set(proj.subarray(o, o + viewSize), o);
        }
      });
    },
    adjoint(y, x, views) {
      return enqueue(async () => {
        checkFloat32Length(y, nViews * viewSize, 'projections', projWhat);
        checkFloat32Length(x, volumeSize, 'volume', volWhat);
        const list = resolveViews(views, nViews);
        for (let i = 0; i < list.length; i++) {
          const o = list[i]! * viewSize;
          proj.set(y.subarray(o, o + viewSize), o);
        }
        const chunks = split(list);
        await runAll('adjoint', chunks);
        // Sum the partial volumes in worker order (deterministic for a fixed thread count).
        let first = true;
        for (let w = 0; w < threads; w++) {
          if (!chunks[w]!.length) continue;
          const p = partials[w]!;
          if (first) { x.set(p); first = false; } else for (let i = 0; i < volumeSize; i++) x[i] += p[i]!;
        }
        if (first) x.fill(0);
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const w of workers) void w.worker.terminate();
    },
  };
}

/**
 * Convenience: the projections (Float32 [views, nv, nu], value x mm) of `volume` on the geometry's
 * grid, on worker threads; the workers are terminated before returning.
 */
export async function projectVolume(volume: Float32Array, geo: XrayGeometry, anglesRad: ArrayLike<number>,
  opts: ThreadedProjectorOptions = {}): Promise<Float32Array> {
  validateXrayGeometry(geo, anglesRad);
  const volumeSize = geo.nVoxel[0] * geo.nVoxel[1] * geo.nVoxel[2];
  checkFloat32Length(volume, volumeSize, 'volume', `nVoxel ${geo.nVoxel.join('x')}, x fastest`);
  const op = await createThreadedProjector(geo, anglesRad, opts);
  try {
    const y = new Float32Array(anglesRad.length * op.viewSize);
    await op.forward(volume, y);
    return y;
  } finally {
    op.dispose();
  }
}
