/**
 * `medfield recon`: classical reconstruction of a dataset's training views onto the dataset's
 * grid (so the result compares voxel for voxel with gt.nii.gz): FDK (cone) / FBP (parallel, fan),
 * SIRT, OS-SART / SART and CGLS with the exact Siddon projector and its adjoint, optional TV.
 */
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import { gridVolume } from '../geometry/grid.js';
import type { XrayGeometry } from '../geometry/xray.js';
import type { Dataset } from './dataset.js';
import { createThreadedProjector } from './physics-pool.js';
import { fdkThreaded } from './recon-pool.js';
import { cgls, osSart, sirt } from '../physics/iterative.js';
import { FILTER_WINDOWS, type FilterWindow } from '../physics/filters.js';

export { FILTER_WINDOWS, type FilterWindow };

export const RECON_METHODS = ['fdk', 'fbp', 'sirt', 'sart', 'os-sart', 'cgls'] as const;
export type ReconMethod = (typeof RECON_METHODS)[number];

export interface ReconOptions {
  method: ReconMethod;
  /** Iterations of the iterative methods (default: sirt 100, sart 10, os-sart 20, cgls 20). */
  iterations?: number;
  /** Relaxation lambda of SIRT/SART. */
  lambda?: number;
  /** OS-SART subsets (default: 10 views per subset). */
  subsets?: number;
  /** TV steps per iteration (ASD-POCS style); 0 = none. */
  tvIterations?: number;
  /** TV step size relative to the data update. */
  tvAlpha?: number;
  window?: FilterWindow;
  /** FDK/FBP cut-off as a fraction of Nyquist (default 1). */
  frequencyScaling?: number;
  threads?: number;
  /** Which views: 'train' (default) or 'all'. */
  views?: 'train' | 'all';
  onIteration?: (it: number, total: number) => void;
}

export const DEFAULT_ITERATIONS: Record<Exclude<ReconMethod, 'fdk' | 'fbp'>, number> = { sirt: 100, sart: 10, 'os-sart': 20, cgls: 20 };

/** The training views of a dataset: their angles and projections (copied, contiguous). */
export function selectViews(ds: Dataset, which: 'train' | 'all'): { anglesRad: Float64Array; projections: Float32Array } {
  const ids = which === 'all' ? ds.meta.anglesRad.map((_, i) => i) : ds.meta.splits.train;
  if (ids.length === 0) throw new MedfieldError('bad-file', `${ds.dir ?? 'dataset'}: splits.train`, 'the dataset has no training views to reconstruct from');
  const [, nv, nu] = ds.meta.projections.shape;
  const vs = nv * nu;
  const anglesRad = new Float64Array(ids.length);
  const projections = new Float32Array(ids.length * vs);
  ids.forEach((v, k) => {
    anglesRad[k] = ds.anglesRad[v]!;
    projections.set(ds.projections.subarray(v * vs, (v + 1) * vs), k * vs);
  });
  return { anglesRad, projections };
}

/** Reconstructs the dataset's training views; returns the volume on the dataset grid. */
export async function reconstructDataset(ds: Dataset, opts: ReconOptions): Promise<Volume<Float32Array>> {
  if (ds.meta.modality !== 'xray' && ds.meta.projections.quantity !== 'line-integral') {
    throw new MedfieldError('bad-option', '--method', `classical reconstruction needs line integrals; this dataset holds ${ds.meta.projections.quantity} views (${ds.meta.modality})`);
  }
  const geo: XrayGeometry = ds.geometry;
  const { anglesRad, projections } = selectViews(ds, opts.views ?? 'train');
  let data: Float32Array;
  const m = opts.method;
  if (m === 'fdk' || m === 'fbp') {
    if (m === 'fdk' && geo.mode !== 'cone') throw new MedfieldError('bad-option', '--method', 'fdk is for cone beam; use fbp for a parallel-beam dataset');
    if (m === 'fbp' && geo.mode === 'cone' && geo.nDetector[1] !== 1) throw new MedfieldError('bad-option', '--method', `fbp is for parallel and fan beam (one detector row); this cone beam has ${geo.nDetector[1]} rows: use fdk`);
    data = await fdkThreaded(geo, anglesRad, projections, { window: opts.window ?? 'ram-lak', frequencyScaling: opts.frequencyScaling, threads: opts.threads });
  } else {
    const iterations = opts.iterations ?? DEFAULT_ITERATIONS[m];
    const op = await createThreadedProjector(geo, anglesRad, { method: 'siddon', threads: opts.threads });
    try {
      const onIteration = (it: number) => { opts.onIteration?.(it, iterations); };
      const tv = opts.tvIterations ? { iterations: opts.tvIterations, ...(opts.tvAlpha !== undefined ? { alpha: opts.tvAlpha } : {}) } : undefined;
      const common = { iterations, nonneg: true, onIteration, tv, lambda: opts.lambda ?? 1 };
      if (m === 'sirt') data = (await sirt(op, projections, common)).x;
      else if (m === 'sart') data = (await osSart(op, projections, { ...common, subsets: anglesRad.length })).x;
      else if (m === 'os-sart') data = (await osSart(op, projections, { ...common, subsets: opts.subsets ?? Math.max(1, Math.round(anglesRad.length / 10)) })).x;
      else {
        if (tv) throw new MedfieldError('bad-option', '--tv', 'CGLS has no TV step; use sirt, sart or os-sart with --tv');
        data = (await cgls(op, projections, { iterations, onIteration })).x;
      }
    } finally {
      op.dispose();
    }
  }
  return gridVolume(geo, data);
}
