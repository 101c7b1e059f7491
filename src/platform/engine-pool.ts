/**
 * Node side of the threaded CPU backend: spawns worker_threads running ./engine-worker.js over
 * the backend's shared memory. `createEnginePool({ threads })` defaults to one thread per core.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CpuBackend } from '../engine/cpu/backend.js';
import { createThreadedCpuBackend } from '../engine/cpu/threaded.js';
import type { EngineWorkerInit } from '../engine/cpu/worker-main.js';
import { MedfieldError } from '../core/errors.js';

export interface EnginePoolOptions {
  /** Threads including the calling one (default: available cores). */
  threads?: number;
  simd?: boolean;
  maxMb?: number;
}

function spawnEngineWorker(init: EngineWorkerInit): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./engine-worker.js', import.meta.url));
    const fail = (e: unknown): void => reject(new MedfieldError('io', 'engine worker', `failed to start: ${String(e)}`));
    w.once('error', fail);
    w.once('message', (m) => { if (m === 'ready') { w.off('error', fail); w.unref(); resolve(w); } });
    w.postMessage(init);
  });
}

/** A CPU backend over `threads` threads; call `dispose()` to end the workers. */
export function createEnginePool(options: EnginePoolOptions = {}): Promise<CpuBackend> {
  return createThreadedCpuBackend({
    threads: options.threads ?? availableParallelism(),
    ...(options.simd === undefined ? {} : { simd: options.simd }),
    ...(options.maxMb === undefined ? {} : { maxMb: options.maxMb }),
    spawn: spawnEngineWorker,
  });
}
