/**
 * X-ray projectors behind the ProjectionOperator contract (src/physics/operator.ts): the exact
 * Siddon projector (siddon.ts) and the trilinear ray-marching projector (ray-march.ts), each with
 * its exact adjoint, run on the calling thread. src/platform/physics-pool.ts runs the same
 * kernels on worker threads. docs/projectors.md describes conventions, units and accuracy.
 */
import { MedfieldError } from '../core/errors.js';
import { validateXrayGeometry, type XrayGeometry } from '../geometry/xray.js';
import type { ProjectionOperator } from './operator.js';
import { defaultStepMm, trilinearBackprojectRays, trilinearProjectRays } from './ray-march.js';
import { computeViewRays, packGrid, SIDDON_STATE, siddonBackprojectRays, siddonProjectRays } from './siddon.js';

export * from './siddon.js';
export * from './ray-march.js';
export * from './render-views.js';

export const PROJECTOR_METHODS = ['siddon', 'trilinear'] as const;
/** 'siddon': exact voxel-intersection lengths. 'trilinear': midpoint samples of trilinear interpolation. */
export type ProjectorMethod = (typeof PROJECTOR_METHODS)[number];

/** Options of the projectors. */
export interface ProjectorOptions {
  /** Default 'siddon'. */
  method?: ProjectorMethod;
  /** Trilinear only: largest step along the ray, mm (default half the smallest voxel). */
  stepMm?: number;
}

/** Options with defaults filled in (plain data, posted to workers). */
export interface ResolvedProjectorOptions {
  method: ProjectorMethod;
  stepMm: number;
}

/** Checks the options (MedfieldError naming the field) and fills in the defaults. */
export function resolveProjectorOptions(geo: XrayGeometry, opts: ProjectorOptions = {}): ResolvedProjectorOptions {
  const method = opts.method ?? 'siddon';
  if (!(PROJECTOR_METHODS as readonly string[]).includes(method)) {
    throw new MedfieldError('bad-option', 'method', `expected one of ${PROJECTOR_METHODS.join(', ')}, got ${String(method)}`);
  }
  const stepMm = opts.stepMm ?? defaultStepMm(geo.dVoxel);
  if (!(typeof stepMm === 'number' && Number.isFinite(stepMm) && stepMm > 0)) {
    throw new MedfieldError('bad-option', 'stepMm', `expected a finite step > 0 mm, got ${String(stepMm)}`);
  }
  return { method, stepMm };
}

/** Throws unless `a` is a Float32Array of exactly `n` values. */
export function checkFloat32Length(a: unknown, n: number, subject: string, what: string): asserts a is Float32Array {
  if (!(a instanceof Float32Array)) throw new MedfieldError('bad-data', subject, `expected a Float32Array (${what}), got ${Object.prototype.toString.call(a)}`);
  if (a.length !== n) throw new MedfieldError('bad-data', subject, `expected ${n} values (${what}), got ${a.length}`);
}

/** The view indices to process: all views, or a checked Int32Array of indices in [0, nViews). */
export function resolveViews(views: Int32Array | undefined, nViews: number): Int32Array {
  if (views === undefined) {
    const all = new Int32Array(nViews);
    for (let i = 0; i < nViews; i++) all[i] = i;
    return all;
  }
  if (!(views instanceof Int32Array)) throw new MedfieldError('bad-option', 'views', 'expected an Int32Array of view indices');
  for (let i = 0; i < views.length; i++) {
    const v = views[i]!;
    if (v < 0 || v >= nViews) throw new MedfieldError('bad-option', `views[${i}]`, `expected a view index in [0, ${nViews - 1}], got ${v}`);
  }
  return views;
}

/**
 * A synchronous projector for one geometry with its scratch buffers (one view of rays): the
 * unit of work of the inline operator and of each worker thread.
 */
export interface ProjectorKernel {
  readonly volumeSize: number;
  readonly viewSize: number;
  readonly options: ResolvedProjectorOptions;
  /** y[v*viewSize ...] = A_v x for each listed view (writes those views only). */
  forwardViews(x: Float32Array, y: Float32Array, views: ArrayLike<number>): void;
  /** x += A_v^T y_v for each listed view, in list order (adds; the caller zeroes x). */
  adjointViews(y: Float32Array, x: Float32Array, views: ArrayLike<number>): void;
}

/** Builds the kernel; geometry and angles are validated. */
export function createProjectorKernel(geo: XrayGeometry, anglesRad: ArrayLike<number>, opts: ProjectorOptions = {}): ProjectorKernel {
  validateXrayGeometry(geo, anglesRad);
  const options = resolveProjectorOptions(geo, opts);
  const g = packGrid(geo);
  const nRays = geo.nDetector[0] * geo.nDetector[1];
  const rays = new Float64Array(nRays * 6);
  const frame = new Float64Array(15);
  const clip = new Float64Array(SIDDON_STATE); // traversal state (also holds the clip interval)
  const angles = Float64Array.from(anglesRad);
  const volumeSize = geo.nVoxel[0] * geo.nVoxel[1] * geo.nVoxel[2];
  const step = options.stepMm;
  const siddon = options.method === 'siddon';
  return {
    volumeSize,
    viewSize: nRays,
    options,
    forwardViews(x, y, views) {
      for (let i = 0; i < views.length; i++) {
        const v = views[i]!;
        computeViewRays(geo, angles[v]!, rays, frame);
        if (siddon) siddonProjectRays(rays, nRays, g, x, y, v * nRays, clip);
        else trilinearProjectRays(rays, nRays, g, step, x, y, v * nRays, clip);
      }
    },
    adjointViews(y, x, views) {
      for (let i = 0; i < views.length; i++) {
        const v = views[i]!;
        computeViewRays(geo, angles[v]!, rays, frame);
        if (siddon) siddonBackprojectRays(rays, nRays, g, y, v * nRays, x, clip);
        else trilinearBackprojectRays(rays, nRays, g, step, y, v * nRays, x, clip);
      }
    },
  };
}

/**
 * The projection operator on the calling thread (browser-safe): forward = Siddon or trilinear
 * line integrals (value x mm), adjoint = the matching exact back-projection. Layouts as in
 * operator.ts. Deterministic: views are processed in index order.
 */
export function createInlineProjector(geo: XrayGeometry, anglesRad: ArrayLike<number>, opts: ProjectorOptions = {}): ProjectionOperator {
  const kernel = createProjectorKernel(geo, anglesRad, opts);
  const angles = Float64Array.from(anglesRad);
  const nViews = angles.length;
  const { volumeSize, viewSize } = kernel;
  return {
    geometry: geo,
    anglesRad: angles,
    volumeSize,
    viewSize,
    async forward(x, y, views) {
      checkFloat32Length(x, volumeSize, 'volume', `nVoxel ${geo.nVoxel.join('x')}, x fastest`);
      checkFloat32Length(y, nViews * viewSize, 'projections', `${nViews} views x ${geo.nDetector[1]} rows x ${geo.nDetector[0]} cols`);
      kernel.forwardViews(x, y, resolveViews(views, nViews));
    },
    async adjoint(y, x, views) {
      checkFloat32Length(y, nViews * viewSize, 'projections', `${nViews} views x ${geo.nDetector[1]} rows x ${geo.nDetector[0]} cols`);
      checkFloat32Length(x, volumeSize, 'volume', `nVoxel ${geo.nVoxel.join('x')}, x fastest`);
      const list = resolveViews(views, nViews);
      x.fill(0);
      kernel.adjointViews(y, x, list);
    },
    dispose() { /* nothing to release */ },
  };
}
