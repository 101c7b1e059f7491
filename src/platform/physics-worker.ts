/**
 * Worker thread of the projector pool (physics-pool.ts). It builds the same single-thread kernel
 * as createInlineProjector over SharedArrayBuffers owned by the pool: the volume, all
 * projections, and this worker's own partial volume for adjoints. Messages:
 *   {type: 'forward', id, views}: proj views = A_v vol;
 *   {type: 'adjoint', id, views}: partial = sum_v A_v^T proj_v (zeroed first, views in list order).
 * Replies {id} or {id, error}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { XrayGeometry } from '../geometry/xray.js';
import { createProjectorKernel, type ResolvedProjectorOptions } from '../physics/projectors.js';

/** What the pool passes as workerData. */
export interface PhysicsWorkerData {
  geo: XrayGeometry;
  anglesRad: Float64Array;
  options: ResolvedProjectorOptions;
  volume: SharedArrayBuffer;
  projections: SharedArrayBuffer;
  partial: SharedArrayBuffer;
}

/** A job message. */
export interface PhysicsJob {
  type: 'forward' | 'adjoint';
  id: number;
  views: Int32Array;
}

const data = workerData as PhysicsWorkerData;
const kernel = createProjectorKernel(data.geo, data.anglesRad, data.options);
const vol = new Float32Array(data.volume);
const proj = new Float32Array(data.projections);
const partial = new Float32Array(data.partial);
const port = parentPort!;

port.on('message', (job: PhysicsJob) => {
  try {
    if (job.type === 'forward') kernel.forwardViews(vol, proj, job.views);
    else {
      partial.fill(0);
      kernel.adjointViews(proj, partial, job.views);
    }
    port.postMessage({ id: job.id });
  } catch (e) {
    port.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) });
  }
});
port.postMessage({ id: -1 }); // ready
