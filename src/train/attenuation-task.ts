/**
 * The attenuation-field training task (TrainTask, src/train/task.ts) on an X-ray dataset: random
 * detector-pixel rays of the training views, sampled only inside the grid box, rendered as the
 * line integral of mu (src/render/xray-rays.ts), MSE against the measured projections, optional
 * TV on mu, coarse-to-fine levels and an FDK warm start (src/field/attenuation.ts has the config).
 *
 * Platform-neutral: the dataset comes in as plain data ({meta, geometry, anglesRad, projections},
 * structurally a src/platform/dataset.ts Dataset) and the backend is passed in.
 */
import { MedfieldError } from '../core/errors.js';
import { createRng, type Rng } from '../core/rng.js';
import type { Backend } from '../engine/backend.js';
import type { Optimizer, ParamTensor } from '../engine/params.js';
import { gridOriginMm, type GridFields } from '../geometry/grid.js';
import { validateXrayGeometry, type XrayGeometry } from '../geometry/xray.js';
import { fdk, fbp } from '../physics/fdk.js';
import {
  AttenuationField, fieldConfigForGrid, resolveAttenuationConfig, type AttenuationConfig, type AttenuationConfigInput,
} from '../field/attenuation.js';
import {
  appendPixelRay, createRayBatch, createRayScratch, lineIntegralBackward, lineIntegralForward, maxSamplesPerRay,
  samplePatchRays, sampleTrainingRays, unitMapOfGrid, viewFrames, type RayScratch, type UnitMap, type XrayRayBatch,
} from '../render/xray-rays.js';
import { patchSsimLoss, pixelLoss } from './losses.js';
import type { TaskStepResult, TrainTask } from './task.js';

/** The dataset as plain data (a src/platform/dataset.ts Dataset fits). */
export interface AttenuationDataset {
  meta: { splits: { train: readonly number[]; test: readonly number[] } };
  geometry: XrayGeometry;
  anglesRad: ArrayLike<number>;
  /** Float32 line integrals [views, rows, cols]. */
  projections: Float32Array;
}

export interface AttenuationTaskOptions {
  /** Warm-start volume on the dataset grid (Float32 [nz, ny, nx], 1/mm): required by warmStart 'volume'; with 'fdk' it replaces the FDK computed here. */
  initialVolume?: Float32Array;
}

export interface AttenuationTask extends TrainTask {
  readonly config: AttenuationConfig;
  readonly field: AttenuationField;
  /** mu = muScale * field output, resolved. */
  readonly muScale: number;
  /** How the warm start was done: 'none', 'copy' (dense level on the voxel centres) or 'regression'; with its final MSE. */
  readonly warmStart: { kind: 'none' | 'copy' | 'regression'; mse: number };
}

/**
 * Builds the task; with warmStart 'fdk' this runs FDK of the training views (unless
 * `opts.initialVolume` is given) and fits the field to it before returning.
 */
export function createAttenuationTask(dataset: AttenuationDataset, configInput: AttenuationConfigInput | string, backend: Backend, opts: AttenuationTaskOptions = {}): AttenuationTask {
  const cfg = resolveAttenuationConfig(configInput);
  const geo = dataset.geometry;
  const angles = Float64Array.from(dataset.anglesRad);
  validateXrayGeometry(geo, angles, 'dataset.geometry');
  const nu = geo.nDetector[0], nv = geo.nDetector[1], viewSize = nu * nv;
  const nViews = angles.length;
  if (dataset.projections.length !== nViews * viewSize) {
    throw new MedfieldError('bad-data', 'dataset.projections', `expected ${nViews} x ${nv} x ${nu} = ${nViews * viewSize} values, got ${dataset.projections.length}`);
  }
  const train = Int32Array.from(dataset.meta.splits.train);
  if (train.length === 0) throw new MedfieldError('bad-data', 'dataset.splits.train', 'the dataset has no training views');
  for (const v of train) if (!(v >= 0 && v < nViews)) throw new MedfieldError('bad-data', 'dataset.splits.train', `view index ${v} is out of range (${nViews} views)`);
  const proj = dataset.projections;

  let maxTrain = 0;
  for (const v of train) for (let i = v * viewSize, e = i + viewSize; i < e; i++) if (proj[i]! > maxTrain) maxTrain = proj[i]!;
  const grid: GridFields = { nVoxel: [...geo.nVoxel], dVoxel: [...geo.dVoxel], offOrigin: [...geo.offOrigin] };
  const meanSide = (grid.nVoxel[0] * grid.dVoxel[0] + grid.nVoxel[1] * grid.dVoxel[1] + grid.nVoxel[2] * grid.dVoxel[2]) / 3;
  const muScale = cfg.muScale === 'auto' ? Math.max(1e-6, (2 * maxTrain) / meanSide) : cfg.muScale;
  const minVoxel = Math.min(grid.dVoxel[0], grid.dVoxel[1], grid.dVoxel[2]);
  const stepMm = cfg.stepVoxels * minVoxel;
  const renderStepMm = cfg.renderStepVoxels * minVoxel;

  const K = cfg.ssim.patchSize, K2 = K * K;
  const usePatches = cfg.ssim.weight > 0;
  if (usePatches && (K > nu || K > nv)) throw new MedfieldError('bad-option', 'attenuation config ssim.patchSize', `expected a patch side <= the detector (${nu} x ${nv}), got ${K}`);
  const nPatches = usePatches ? Math.max(1, Math.floor(cfg.raysPerStep / K2)) : 0;
  const trainRays = usePatches ? Math.max(cfg.raysPerStep, K2) : cfg.raysPerStep;
  const trainMax = trainRays * maxSamplesPerRay(grid, stepMm);
  const renderMax = Math.max(65536, 64 * maxSamplesPerRay(grid, renderStepMm));
  const tvMax = cfg.tv.weight > 0 && cfg.tv.mode === 'points' ? 4 * cfg.tv.points : 0;
  const warmMax = cfg.warmStart.kind !== 'none' ? cfg.warmStart.pointsPerStep : 0;
  const maxBatch = Math.max(trainMax, renderMax, tvMax, warmMax);
  const fieldCfg = fieldConfigForGrid(cfg, grid);
  const field = new AttenuationField(backend, fieldCfg, muScale, maxBatch);

  const map: UnitMap = unitMapOfGrid(grid);
  const frames = viewFrames(geo, angles);
  const scratch: RayScratch = createRayScratch(grid);
  const batch: XrayRayBatch = createRayBatch(trainRays, trainMax);
  const renderBatch = createRayBatch(Math.max(64, Math.floor(renderMax / 8)), renderMax);
  const rng: Rng = createRng(cfg.seed);
  const mu = new Float32Array(maxBatch);
  const dmu = new Float32Array(maxBatch);
  const pred = new Float64Array(Math.max(trainRays, renderBatch.maxRays));
  const dpred = new Float64Array(trainRays);
  const target = new Float64Array(trainRays);
  const tvX = new Float32Array(tvMax * 3);
  const lr0 = fieldCfg.optimizer.lr;

  // --- warm start ---
  let warm: AttenuationTask['warmStart'] = { kind: 'none', mse: NaN };
  if ((cfg.warmStart.kind === 'volume' || cfg.warmStart.kind === 'sart') && !opts.initialVolume) {
    throw new MedfieldError('bad-option', 'attenuation config warmStart.kind', `'${cfg.warmStart.kind}' needs the initialVolume option`
      + (cfg.warmStart.kind === 'sart' ? ' (SART of the training views, e.g. reconstructDataset(ds, { method: \'sart\', iterations: warmStart.sartEpochs }); medfield train computes it)' : ''));
  }
  if (cfg.warmStart.kind !== 'none') {
    let vol = opts.initialVolume;
    if (vol && vol.length !== grid.nVoxel[0] * grid.nVoxel[1] * grid.nVoxel[2]) {
      throw new MedfieldError('bad-data', 'initialVolume', `expected ${grid.nVoxel.join('x')} values on the dataset grid, got ${vol.length}`);
    }
    if (!vol) {
      const tAngles = Float64Array.from(train, (v) => angles[v]!);
      const tProj = new Float32Array(train.length * viewSize);
      train.forEach((v, i) => tProj.set(proj.subarray(v * viewSize, (v + 1) * viewSize), i * viewSize));
      vol = geo.mode === 'cone' && nv > 1 ? fdk(geo, tAngles, tProj) : fbp(geo, tAngles, tProj);
    }
    warm = fitVolume(field, vol, grid, cfg.warmStart.steps, cfg.warmStart.pointsPerStep, rng, lr0);
  }

  function renderFrames(fr: Float64Array, count: number): Float32Array {
    const out = new Float32Array(count * viewSize);
    const b = renderBatch;
    const flush = (): void => {
      if (b.nSamples > 0) field.forward(b.points, b.nSamples, mu);
      lineIntegralForward(b, mu, pred);
      for (let r = 0; r < b.nRays; r++) out[b.pixel[r]!] = pred[r]!;
      b.nRays = 0; b.nSamples = 0; b.rayStart[0] = 0;
    };
    b.nRays = 0; b.nSamples = 0; b.rayStart[0] = 0;
    for (let k = 0; k < count; k++) {
      const frame = fr.subarray(15 * k, 15 * k + 15);
      for (let row = 0; row < nv; row++) {
        for (let col = 0; col < nu; col++) {
          const pix = k * viewSize + row * nu + col;
          if (!appendPixelRay(b, geo, frame, row, col, renderStepMm, map, scratch, null, pix)) {
            flush();
            if (!appendPixelRay(b, geo, frame, row, col, renderStepMm, map, scratch, null, pix)) throw new MedfieldError('bad-option', 'render batch', 'a single ray does not fit the render batch');
          }
        }
      }
    }
    flush();
    return out;
  }

  const task: AttenuationTask = {
    kind: 'attenuation',
    viewDataRange: maxTrain > 0 ? maxTrain : 1,
    config: cfg,
    field,
    muScale,
    warmStart: warm,
    step(stepIndex: number, lrScale: number): TaskStepResult {
      if (cfg.coarseToFine) field.setTrainableLevels(Math.floor(stepIndex / cfg.coarseToFine.stepsPerLevel));
      let patches = 0;
      if (usePatches) patches = samplePatchRays(batch, geo, frames, train, nPatches, K, stepMm, map, scratch, rng);
      else sampleTrainingRays(batch, geo, frames, train, cfg.raysPerStep, stepMm, map, scratch, rng);
      const nR = batch.nRays, nS = batch.nSamples;
      if (nS > 0) field.forward(batch.points, nS, mu);
      lineIntegralForward(batch, mu, pred);
      for (let r = 0; r < nR; r++) target[r] = proj[batch.pixel[r]!]!;
      const { loss, mse } = pixelLoss(cfg.loss, pred, target, nR, dpred);
      if (!Number.isFinite(loss)) throw new MedfieldError('bad-data', 'attenuation loss', `loss is ${loss} at step ${stepIndex} (NaN/Inf in the field or the projections)`);
      let totalLoss = loss;
      if (patches > 0) totalLoss += cfg.ssim.weight * (1 - patchSsimLoss(pred, target, patches, K2, task.viewDataRange, cfg.ssim.weight, dpred));
      if (nS > 0) {
        lineIntegralBackward(batch, dpred, dmu);
        field.backward(dmu, nS);
      }
      if (cfg.tv.weight > 0 && stepIndex % cfg.tv.every === 0) {
        totalLoss += cfg.tv.mode === 'grid' ? gridTvStep(field, cfg.tv.weight, cfg.tv.epsilon) : tvStep(field, cfg, grid, map, rng, tvX, mu, dmu);
      }
      field.model.optimizer.step(lr0 * lrScale);
      if (cfg.nonNegative) for (const p of field.model.params) { const d = p.data; for (let i = 0; i < d.length; i++) if (d[i]! < 0) d[i] = 0; }
      const psnr = 10 * Math.log10((task.viewDataRange * task.viewDataRange) / Math.max(mse, 1e-30));
      return { loss, totalLoss, psnr };
    },
    renderViews(viewIndices: readonly number[]): Float32Array {
      const fr = new Float64Array(viewIndices.length * 15);
      viewIndices.forEach((v, k) => {
        if (!(Number.isInteger(v) && v >= 0 && v < nViews)) throw new MedfieldError('bad-option', 'renderViews', `view index ${v} is out of range (${nViews} views)`);
        fr.set(frames.subarray(15 * v, 15 * v + 15), 15 * k);
      });
      return renderFrames(fr, viewIndices.length);
    },
    renderAngles(anglesRad: ArrayLike<number>): Float32Array {
      return renderFrames(viewFrames(geo, anglesRad), anglesRad.length);
    },
    sampleGrid(g: GridFields): Float32Array {
      return sampleFieldOnGrid(field, g, map, maxBatch, cfg.clampNonNegative);
    },
    params(): readonly ParamTensor[] { return field.model.params; },
    optimizers(): Readonly<Record<string, Optimizer>> { return { field: field.model.optimizer }; },
    rngs(): Readonly<Record<string, Rng>> { return { rays: rng }; },
    resolvedConfig(): Record<string, unknown> {
      return { task: 'attenuation', ...structuredClone(cfg), muScale, field: structuredClone(fieldCfg) } as Record<string, unknown>;
    },
    dispose(): void { /* the backend belongs to the caller; the field holds no other resources */ },
  };
  return task;
}

/** mu of the field at the voxel centres of `g` (any grid in the same world frame), Float32 [nz, ny, nx]. */
export function sampleFieldOnGrid(field: AttenuationField, g: GridFields, map: UnitMap, maxBatch: number, clamp: boolean): Float32Array {
  const [nx, ny, nz] = g.nVoxel;
  const o = gridOriginMm(g);
  const total = nx * ny * nz;
  const out = new Float32Array(total);
  const chunk = Math.min(maxBatch, 1 << 16);
  const x = new Float32Array(chunk * 3);
  const m = new Float32Array(chunk);
  for (let i0 = 0; i0 < total; i0 += chunk) {
    const n = Math.min(chunk, total - i0);
    for (let p = 0; p < n; p++) {
      const idx = i0 + p;
      const i = idx % nx, j = Math.floor(idx / nx) % ny, k = Math.floor(idx / (nx * ny));
      x[3 * p] = (o[0] + i * g.dVoxel[0] - map.lo[0]!) * map.scale[0]!;
      x[3 * p + 1] = (o[1] + j * g.dVoxel[1] - map.lo[1]!) * map.scale[1]!;
      x[3 * p + 2] = (o[2] + k * g.dVoxel[2] - map.lo[2]!) * map.scale[2]!;
    }
    field.forward(x, n, m);
    for (let p = 0; p < n; p++) out[i0 + p] = clamp && m[p]! < 0 ? 0 : m[p]!;
  }
  return out;
}

/**
 * Isotropic TV of mu on `points` random positions with one-voxel forward differences:
 * weight * mean sqrt(eps^2 + |grad|^2). Adds its gradient to the field; returns its value.
 */
function tvStep(field: AttenuationField, cfg: AttenuationConfig, grid: GridFields, map: UnitMap, rng: Rng,
  x: Float32Array, mu: Float32Array, dmu: Float32Array): number {
  const M = cfg.tv.points, eps2 = cfg.tv.epsilon * cfg.tv.epsilon, w = cfg.tv.weight;
  const h = [0, 1, 2].map((a) => Math.min(0.5, grid.dVoxel[a]! * map.scale[a]!));
  for (let p = 0; p < M; p++) {
    const px = rng.next() * (1 - h[0]!), py = rng.next() * (1 - h[1]!), pz = rng.next() * (1 - h[2]!);
    let q = 3 * 4 * p;
    x[q++] = px; x[q++] = py; x[q++] = pz;
    x[q++] = px + h[0]!; x[q++] = py; x[q++] = pz;
    x[q++] = px; x[q++] = py + h[1]!; x[q++] = pz;
    x[q++] = px; x[q++] = py; x[q++] = pz + h[2]!;
  }
  field.forward(x, 4 * M, mu);
  let tv = 0;
  const s = w / M;
  for (let p = 0; p < M; p++) {
    const m0 = mu[4 * p]!, gx = mu[4 * p + 1]! - m0, gy = mu[4 * p + 2]! - m0, gz = mu[4 * p + 3]! - m0;
    const n = Math.sqrt(eps2 + gx * gx + gy * gy + gz * gz);
    tv += n;
    const c = s / n;
    dmu[4 * p + 1] = c * gx; dmu[4 * p + 2] = c * gy; dmu[4 * p + 3] = c * gz;
    dmu[4 * p] = -c * (gx + gy + gz);
  }
  field.backward(dmu, 4 * M);
  return (w * tv) / M;
}

/**
 * Isotropic TV of each dense level (as mu = muScale * table), one-vertex forward differences
 * (none across the far faces): weight * mean over vertices of sqrt(eps^2 + |grad|^2). Adds the
 * gradient to every table (all rows marked touched for the lazy optimiser); returns the value.
 */
export function gridTvStep(field: AttenuationField, weight: number, epsilon: number): number {
  const s = field.muScale, eps2 = epsilon * epsilon;
  let total = 0;
  for (const p of field.model.params) {
    if (!p.name.startsWith('encoding.level')) continue;
    const T = p.data, G = p.grad, nv = p.shape[0]!;
    const r1 = Math.round(Math.cbrt(nv)), r2 = r1 * r1;
    const c = (weight / nv) * s;
    let tv = 0;
    // rows split so the inner loop over x has no branches (all three neighbours exist there)
    for (let z = 0; z < r1; z++) {
      const hz = z + 1 < r1;
      for (let y = 0; y < r1; y++) {
        const hy = y + 1 < r1;
        const row = r1 * (y + r1 * z), end = row + r1 - 1;
        if (hy && hz) {
          for (let i = row; i < end; i++) {
            const t0 = T[i]!;
            const gx = s * (T[i + 1]! - t0), gy = s * (T[i + r1]! - t0), gz = s * (T[i + r2]! - t0);
            const n = Math.sqrt(eps2 + gx * gx + gy * gy + gz * gz);
            tv += n;
            const k = c / n;
            G[i + 1] += k * gx; G[i + r1] += k * gy; G[i + r2] += k * gz;
            G[i] -= k * (gx + gy + gz);
          }
        } else {
          for (let i = row; i < end; i++) {
            const t0 = T[i]!;
            const gx = s * (T[i + 1]! - t0), gy = hy ? s * (T[i + r1]! - t0) : 0, gz = hz ? s * (T[i + r2]! - t0) : 0;
            const n = Math.sqrt(eps2 + gx * gx + gy * gy + gz * gz);
            tv += n;
            const k = c / n;
            G[i + 1] += k * gx;
            if (hy) G[i + r1] += k * gy;
            if (hz) G[i + r2] += k * gz;
            G[i] -= k * (gx + gy + gz);
          }
        }
        // the last vertex of the row has no +x neighbour
        const t0 = T[end]!;
        const gy = hy ? s * (T[end + r1]! - t0) : 0, gz = hz ? s * (T[end + r2]! - t0) : 0;
        const n = Math.sqrt(eps2 + gy * gy + gz * gz);
        tv += n;
        const k = c / n;
        if (hy) G[end + r1] += k * gy;
        if (hz) G[end + r2] += k * gz;
        G[end] -= k * (gy + gz);
      }
    }
    p.touched?.fill(1);
    total += (weight * tv) / nv;
  }
  return total;
}

/**
 * Fits the field to a volume on the dataset grid. A dense level whose vertices are the voxel
 * centres takes the values directly ('copy'; other levels are zeroed); any other field is
 * regressed with Adam on random voxel centres for `steps` steps.
 */
function fitVolume(field: AttenuationField, vol: Float32Array, grid: GridFields, steps: number, points: number, rng: Rng, lr: number): AttenuationTask['warmStart'] {
  const [nx, ny, nz] = grid.nVoxel;
  const fc = field.fieldConfig;
  const e = fc.encoding;
  if (!fc.mlp && e.kind === 'dense-grid' && e.featuresPerLevel === 1) {
    const tables = field.model.params.filter((p) => p.name.startsWith('encoding.level'));
    const last = tables[tables.length - 1]!;
    const r1 = Math.round(Math.cbrt(last.shape[0]!));
    if (r1 === nx && r1 === ny && r1 === nz) {
      for (const t of tables) t.data.fill(0);
      const inv = 1 / field.muScale;
      for (let i = 0; i < vol.length; i++) last.data[i] = vol[i]! * inv;
      return { kind: 'copy', mse: 0 };
    }
  }
  const x = new Float32Array(points * 3), t = new Float32Array(points), m = new Float32Array(points), d = new Float32Array(points);
  let mse = NaN;
  for (let s = 0; s < steps; s++) {
    for (let p = 0; p < points; p++) {
      const i = rng.int(nx), j = rng.int(ny), k = rng.int(nz);
      x[3 * p] = nx > 1 ? i / (nx - 1) : 0.5; x[3 * p + 1] = ny > 1 ? j / (ny - 1) : 0.5; x[3 * p + 2] = nz > 1 ? k / (nz - 1) : 0.5;
      t[p] = vol[i + nx * (j + ny * k)]!;
    }
    field.forward(x, points, m);
    let sse = 0;
    for (let p = 0; p < points; p++) { const r = m[p]! - t[p]!; sse += r * r; d[p] = (2 * r) / points; }
    mse = sse / points;
    field.backward(d, points);
    field.model.optimizer.step(lr);
  }
  return { kind: 'regression', mse };
}
