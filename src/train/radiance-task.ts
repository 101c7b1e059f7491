/**
 * The radiance-field training task (views-72 protocol, NeRF / MedNeRF style): a density +
 * single-channel radiance field (src/field/radiance.ts) rendered along the cone-beam (or
 * parallel) rays of the dataset's X-ray geometry (pixelRay of src/geometry/xray.ts), trained on the
 * dataset's train split.
 *
 * - 'radiance' datasets (emission-absorption views, `simulate --render ea`): EA compositing
 *   (src/render/volume-render.ts), background 0, the same model as src/physics/render-views.ts.
 * - 'line-integral' datasets (`--render drr`): the additive rendering sum sigma_i delta_i of the
 *   density (radiance unused), targets divided by the largest training value.
 *
 * Rays are clipped to the grid box; samples are stratified (jittered in training, bin centres
 * when rendering) with optional hierarchical importance samples drawn from the coarse weights of
 * the same field (one network, as mip-NeRF). Lengths: points are mapped to the unit cube per
 * axis; interval lengths are measured in units of the box's largest side Lref (so sigma is per
 * Lref; sigma / Lref is per mm; in line mode the normalised target is sum sigma delta, so
 * sigma x targetNorm / Lref is the volume value per mm).
 */
import { MedfieldError } from '../core/errors.js';
import { createRng, type Rng } from '../core/rng.js';
import type { Backend } from '../engine/backend.js';
import type { FieldConfigInput } from '../engine/config.js';
import { gridAabb, gridOriginMm, type GridFields } from '../geometry/grid.js';
import { rayAabb } from '../geometry/ray-box.js';
import { pixelRay, projectPoint, validateXrayGeometry, viewFrame, type XrayGeometry } from '../geometry/xray.js';
import type { DatasetMeta } from '../io/dataset.js';
import { RadianceField, type RadianceFieldPreset } from '../field/radiance.js';
import { patchSsimLoss, pixelLoss } from './losses.js';
import { bilinearPixel, carveVisualHull, hierarchicalSamples, occupiedSegment, type OccupancyGrid, intervalDeltas, mergeSorted, patchPixels, stratifiedSamples } from '../render/samplers.js';
import { compositeEa, compositeEaBackward, compositeLine, compositeLineBackward } from '../render/volume-render.js';
import type { TaskStepResult, TrainTask } from './task.js';
import { resolveRadianceTaskConfig, type RadianceTaskConfig, type RadianceTaskConfigInput } from './radiance-config.js';

export * from './radiance-config.js';

/** What the radiance task reads from a dataset (plain data, e.g. loadDataset or simulateProtocol). */
export interface RadianceDataset {
  meta: DatasetMeta;
  geometry: XrayGeometry;
  anglesRad: ArrayLike<number>;
  /** Float32 [views, rows, cols]. */
  projections: Float32Array;
}

/** The radiance task: a TrainTask plus its visual hull. */
export interface RadianceTrainTask extends TrainTask {
  /** The visual hull the samples are restricted to (null when config.hull.enabled is false). */
  occupancy(): OccupancyGrid | null;
}

/**
 * Creates the task. `configInput`: a preset name ('hash', 'hash-small', 'nerf', 'dense') or a
 * config (see radianceTaskSchema). The backend is used for the field only (caller disposes it).
 */
export function createRadianceTask(dataset: RadianceDataset, configInput: RadianceTaskConfigInput | RadianceFieldPreset, backend: Backend): RadianceTrainTask {
  return new RadianceTask(dataset, resolveRadianceTaskConfig(configInput), backend);
}

/** Visual hull of the given views of a dataset (see carveVisualHull); threshold in projection units. */
function buildHull(geo: XrayGeometry, frames: readonly Float64Array[], proj: Float32Array, views: readonly number[], res: number, threshold: number): OccupancyGrid {
  const [nu, nv] = geo.nDetector;
  const P = nu * nv;
  return carveVisualHull(gridAabb(geo), res, views, nv, nu, (v) => proj.subarray(v * P, (v + 1) * P),
    (v, x, y, z, out) => projectPoint(geo, frames[v]!, x, y, z, out), threshold);
}

class RadianceTask implements RadianceTrainTask {
  readonly kind = 'radiance';
  readonly viewDataRange: number;
  private readonly cfg: RadianceTaskConfig;
  private readonly field: RadianceField;
  private readonly geo: XrayGeometry;
  private readonly angles: Float64Array;
  private readonly proj: Float32Array;
  private readonly rows: number;
  private readonly cols: number;
  private readonly train: readonly number[];
  private readonly mode: 'ea' | 'line';
  /** Training targets are projections / targetNorm. */
  private readonly targetNorm: number;
  private readonly box: Float64Array;
  private readonly lref: number;
  private readonly lineScale: number;
  private readonly rng: Rng;
  private readonly baseLr: number;
  private readonly S: number;
  private readonly Sc: number;
  private readonly Sf: number;
  private readonly B: number;
  /** Train pixels whose ray meets the box: view slot * rows*cols + pixel. */
  private readonly hitPixels: Int32Array;
  private readonly frames: Float64Array[];
  // per-step buffers
  private readonly rays: Float64Array;
  private readonly nearFar: Float64Array;
  private readonly target: Float64Array;
  private readonly tc: Float64Array;
  private readonly tf: Float64Array;
  private readonly t: Float64Array;
  private readonly edges: Float64Array;
  private readonly delta: Float64Array;
  private readonly x: Float32Array;
  private readonly sigma: Float64Array;
  private readonly c: Float64Array;
  private readonly w: Float64Array;
  private readonly pred: Float64Array;
  private readonly dLdC: Float64Array;
  private readonly dSigma: Float64Array;
  private readonly dC: Float64Array;
  private readonly patch: Float64Array;
  private readonly hull: OccupancyGrid | null;
  private readonly tmpRay = new Float64Array(6);
  private readonly tmpNf = new Float64Array(2);

  constructor(ds: RadianceDataset, cfg: RadianceTaskConfig, backend: Backend) {
    this.cfg = cfg;
    const geo = ds.geometry;
    validateXrayGeometry(geo, ds.anglesRad, 'dataset geometry');
    this.geo = geo;
    this.angles = Float64Array.from(ds.anglesRad);
    const [nu, nv] = geo.nDetector;
    this.rows = nv; this.cols = nu;
    const nViews = this.angles.length;
    if (!(ds.projections instanceof Float32Array) || ds.projections.length !== nViews * nu * nv) {
      throw new MedfieldError('bad-data', 'dataset projections', `expected Float32 [${nViews}, ${nv}, ${nu}] (${nViews * nu * nv} values), got ${ds.projections?.length}`);
    }
    this.proj = ds.projections;
    const train = ds.meta.splits.train;
    if (train.length === 0) throw new MedfieldError('bad-data', 'dataset splits.train', 'no training views');
    for (const v of train) if (!(Number.isInteger(v) && v >= 0 && v < nViews)) throw new MedfieldError('bad-data', 'dataset splits.train', `view ${v} out of range 0..${nViews - 1}`);
    this.train = [...train];
    const q = ds.meta.projections.quantity;
    if (q === 'mip') throw new MedfieldError('unsupported', 'dataset projections.quantity', "'mip' views cannot be rendered by a radiance field; expected 'radiance' or 'line-integral'");
    this.mode = cfg.rendering === 'auto' ? (q === 'radiance' ? 'ea' : 'line') : cfg.rendering;
    let maxTrain = 0;
    const P = nu * nv;
    for (const v of train) for (let i = v * P; i < (v + 1) * P; i++) if (this.proj[i]! > maxTrain) maxTrain = this.proj[i]!;
    if (this.mode === 'ea') {
      this.targetNorm = 1;
      this.viewDataRange = 1;
    } else {
      if (!(maxTrain > 0)) throw new MedfieldError('bad-data', 'dataset projections', 'every training view is zero');
      this.targetNorm = maxTrain;
      this.viewDataRange = maxTrain;
    }
    this.box = gridAabb(geo);
    this.lref = Math.max(this.box[3]! - this.box[0]!, this.box[4]! - this.box[1]!, this.box[5]! - this.box[2]!);
    // line mode: normalised target = sum sigma delta (delta per Lref), i.e. sigma is in units of targetNorm / Lref
    this.lineScale = 1;
    this.rng = createRng(cfg.seed);
    this.frames = Array.from(this.angles, (a) => viewFrame(geo, a));
    this.hull = cfg.hull.enabled ? buildHull(geo, this.frames, this.proj, train, cfg.hull.resolution, cfg.hull.threshold * maxTrain) : null;
    this.Sc = cfg.samples.coarse; this.Sf = cfg.samples.fine; this.S = this.Sc + this.Sf;
    const fieldIn = cfg.field;
    const fieldCfg = typeof fieldIn === 'string' ? fieldIn : { ...(fieldIn as object), seed: (fieldIn as { seed?: number }).seed ?? cfg.seed } as FieldConfigInput;
    let B = cfg.raysPerStep;
    if (cfg.sampler.kind === 'patch') {
      const K2 = cfg.sampler.size * cfg.sampler.size;
      B = Math.max(1, Math.round(B / K2)) * K2;
    }
    this.B = B;
    const maxBatch = Math.max(B, Math.min(cfg.renderChunkRays, B)) * this.S;
    this.field = new RadianceField(backend, fieldCfg, cfg.density, maxBatch);
    this.baseLr = cfg.lr ?? this.field.config.optimizer.lr;
    // rays of the training pixels that meet the box
    const hits: number[] = [];
    for (let s = 0; s < train.length; s++) {
      const f = this.frames[train[s]!]!;
      for (let r = 0; r < nv; r++) for (let c = 0; c < nu; c++) {
        pixelRay(geo, f, r, c, this.tmpRay);
        if (this.clip(this.tmpRay, this.tmpNf)) hits.push(s * P + r * nu + c);
      }
    }
    if (hits.length === 0) throw new MedfieldError('bad-data', 'dataset geometry', 'no training ray meets the grid box');
    this.hitPixels = Int32Array.from(hits);
    const n = maxBatch / this.S;
    this.rays = new Float64Array(n * 6);
    this.nearFar = new Float64Array(n * 2);
    this.target = new Float64Array(n);
    this.tc = new Float64Array(n * this.Sc);
    this.tf = new Float64Array(n * Math.max(1, this.Sf));
    this.t = new Float64Array(n * this.S);
    this.edges = new Float64Array(n * (this.Sc + 1));
    this.delta = new Float64Array(n * this.S);
    this.x = new Float32Array(n * this.S * 3);
    this.sigma = new Float64Array(n * this.S);
    this.c = new Float64Array(n * this.S);
    this.w = new Float64Array(n * this.S);
    this.pred = new Float64Array(n);
    this.dLdC = new Float64Array(n);
    this.dSigma = new Float64Array(n * this.S);
    this.dC = new Float64Array(n * this.S);
    this.patch = new Float64Array(cfg.sampler.kind === 'patch' ? 2 * cfg.sampler.size * cfg.sampler.size : 2);
  }

  /** Clips a ray to the box: near/far in out, false when it misses. */
  private clip(ray: Float64Array, out: Float64Array): boolean {
    if (!rayAabb(ray[0]!, ray[1]!, ray[2]!, ray[3]!, ray[4]!, ray[5]!, this.box, out)) return false;
    return this.hull ? occupiedSegment(this.hull, ray[0]!, ray[1]!, ray[2]!, ray[3]!, ray[4]!, ray[5]!, out) : true;
  }

  /** The visual hull in use (null when off). */
  occupancy(): OccupancyGrid | null { return this.hull; }

  /** Fills rays/nearFar/target for the training batch. */
  private sampleBatch(): void {
    const B = this.B, P = this.rows * this.cols, rng = this.rng;
    const cfg = this.cfg;
    if (cfg.sampler.kind === 'random') {
      for (let b = 0; b < B; b++) {
        const id = this.hitPixels[rng.int(this.hitPixels.length)]!;
        const slot = (id / P) | 0, pix = id - slot * P;
        const view = this.train[slot]!;
        const r = (pix / this.cols) | 0, c = pix - r * this.cols;
        this.setRay(b, this.frames[view]!, r, c);
        this.target[b] = this.proj[view * P + pix]! / this.targetNorm;
      }
    } else {
      const K2 = cfg.sampler.size * cfg.sampler.size;
      for (let p = 0; p < B / K2; p++) {
        const view = this.train[rng.int(this.train.length)]!;
        patchPixels(this.rows, this.cols, cfg.sampler, rng, this.patch);
        for (let k = 0; k < K2; k++) {
          const b = p * K2 + k, r = this.patch[2 * k]!, c = this.patch[2 * k + 1]!;
          this.setRay(b, this.frames[view]!, r, c);
          this.target[b] = bilinearPixel(this.proj, view * P, this.rows, this.cols, r, c) / this.targetNorm;
        }
      }
    }
  }

  private setRay(b: number, frame: Float64Array, row: number, col: number): void {
    const ray = this.tmpRay;
    pixelRay(this.geo, frame, row, col, ray);
    for (let q = 0; q < 6; q++) this.rays[6 * b + q] = ray[q]!;
    if (this.clip(ray, this.tmpNf)) { this.nearFar[2 * b] = this.tmpNf[0]!; this.nearFar[2 * b + 1] = this.tmpNf[1]!; }
    else { this.nearFar[2 * b] = 0; this.nearFar[2 * b + 1] = 0; }
  }

  /** Writes unit-cube points of samples t [n, S'] into x. */
  private points(t: Float64Array, n: number, Sp: number): void {
    const box = this.box, x = this.x;
    const e0 = 1 / (box[3]! - box[0]!), e1 = 1 / (box[4]! - box[1]!), e2 = 1 / (box[5]! - box[2]!);
    for (let r = 0; r < n; r++) {
      const ox = this.rays[6 * r]! - box[0]!, oy = this.rays[6 * r + 1]! - box[1]!, oz = this.rays[6 * r + 2]! - box[2]!;
      const dx = this.rays[6 * r + 3]!, dy = this.rays[6 * r + 4]!, dz = this.rays[6 * r + 5]!;
      for (let k = 0, i = r * Sp; k < Sp; k++, i++) {
        const tt = t[i]!;
        let u = (ox + tt * dx) * e0, v = (oy + tt * dy) * e1, w = (oz + tt * dz) * e2;
        u = u < 0 ? 0 : u > 1 ? 1 : u; v = v < 0 ? 0 : v > 1 ? 1 : v; w = w < 0 ? 0 : w > 1 ? 1 : w;
        x[3 * i] = u; x[3 * i + 1] = v; x[3 * i + 2] = w;
      }
    }
  }

  /**
   * Sample positions for n rays (rays/nearFar filled): t [n, S] and delta [n, S] (in Lref units).
   * Runs the coarse pass of the field (no gradients) when hierarchical sampling is on.
   */
  private placeSamples(n: number, rng: Rng | null): void {
    const { Sc, Sf, S } = this;
    const inv = 1 / this.lref;
    for (let r = 0; r < n; r++) stratifiedSamples(this.nearFar[2 * r]!, this.nearFar[2 * r + 1]!, Sc, rng, this.tc, r * Sc);
    if (Sf === 0) {
      this.t.set(this.tc.subarray(0, n * Sc));
    } else {
      for (let r = 0; r < n; r++) intervalDeltas(this.tc, r * Sc, Sc, this.nearFar[2 * r]!, this.nearFar[2 * r + 1]!, this.delta);
      for (let i = 0; i < n * Sc; i++) this.delta[i]! *= inv;
      this.points(this.tc, n, Sc);
      this.field.forward(this.x, n * Sc, this.sigma, this.c);
      if (this.mode === 'ea') compositeEa(this.sigma, this.c, this.delta, n, Sc, this.pred, 0, this.w);
      else for (let i = 0; i < n * Sc; i++) this.w[i] = this.sigma[i]! * this.delta[i]!;
      for (let r = 0; r < n; r++) {
        const e = r * (Sc + 1), o = r * Sc;
        const near = this.nearFar[2 * r]!, far = this.nearFar[2 * r + 1]!;
        this.edges[e] = near;
        for (let k = 1; k < Sc; k++) this.edges[e + k] = 0.5 * (this.tc[o + k - 1]! + this.tc[o + k]!);
        this.edges[e + Sc] = far;
        hierarchicalSamples(this.edges, e, this.w, o, Sc, Sf, rng, this.tf, r * Sf);
        mergeSorted(this.tc, o, Sc, this.tf, r * Sf, Sf, this.t, r * S);
      }
    }
    for (let r = 0; r < n; r++) intervalDeltas(this.t, r * S, S, this.nearFar[2 * r]!, this.nearFar[2 * r + 1]!, this.delta);
    for (let i = 0; i < n * S; i++) this.delta[i]! *= inv;
    this.points(this.t, n, S);
  }

  /** Renders n prepared rays into pred (normalised units). */
  private renderPrepared(n: number): void {
    const S = this.S;
    this.field.forward(this.x, n * S, this.sigma, this.c);
    if (this.mode === 'ea') compositeEa(this.sigma, this.c, this.delta, n, S, this.pred);
    else compositeLine(this.sigma, this.delta, n, S, this.lineScale, this.pred);
  }

  step(_stepIndex: number, lrScale: number): TaskStepResult {
    const B = this.B, S = this.S;
    this.sampleBatch();
    this.placeSamples(B, this.rng);
    this.renderPrepared(B);
    const { loss, mse } = pixelLoss(this.cfg.loss, this.pred, this.target, B, this.dLdC);
    let totalLoss = loss;
    const range = this.viewDataRange / this.targetNorm;
    if (this.cfg.ssim.weight > 0 && this.cfg.sampler.kind === 'patch') {
      const K2 = this.cfg.sampler.size * this.cfg.sampler.size;
      totalLoss += this.cfg.ssim.weight * (1 - patchSsimLoss(this.pred, this.target, Math.floor(B / K2), K2, range, this.cfg.ssim.weight, this.dLdC));
    }
    if (!Number.isFinite(totalLoss)) throw new MedfieldError('bad-data', 'radiance loss', `loss is ${loss} (NaN/Inf in the field or the targets)`);
    if (this.mode === 'ea') compositeEaBackward(this.sigma, this.c, this.delta, B, S, this.dLdC, this.dSigma, this.dC);
    else { compositeLineBackward(this.delta, B, S, this.lineScale, this.dLdC, this.dSigma); this.dC.fill(0, 0, B * S); }
    this.field.backward(this.dSigma, this.dC);
    this.field.model.optimizer.step(this.baseLr * lrScale);
    // PSNR in dataset units: normalised mse x norm^2 over range^2
    const psnr = mse > 0 ? 10 * Math.log10((range * range) / mse) : Infinity;
    return { loss, totalLoss, psnr };
  }

  renderViews(viewIndices: readonly number[]): Float32Array {
    const a = new Float64Array(viewIndices.length);
    viewIndices.forEach((v, i) => {
      if (!(Number.isInteger(v) && v >= 0 && v < this.angles.length)) throw new MedfieldError('bad-option', `viewIndices[${i}]`, `expected a view index in 0..${this.angles.length - 1}, got ${v}`);
      a[i] = this.angles[v]!;
    });
    return this.renderAngles(a);
  }

  renderAngles(anglesRad: ArrayLike<number>): Float32Array {
    const rows = this.rows, cols = this.cols, P = rows * cols;
    const out = new Float32Array(anglesRad.length * P);
    const chunk = Math.max(1, Math.min(this.cfg.renderChunkRays, Math.floor(this.field.maxBatch / this.S)));
    const frame = new Float64Array(15);
    const ids = new Int32Array(chunk);
    for (let v = 0; v < anglesRad.length; v++) {
      const ang = anglesRad[v]!;
      if (!Number.isFinite(ang)) throw new MedfieldError('bad-option', `anglesRad[${v}]`, `expected a finite angle in rad, got ${ang}`);
      viewFrame(this.geo, ang, frame);
      let n = 0;
      const flush = (): void => {
        if (n === 0) return;
        this.placeSamples(n, null);
        this.renderPrepared(n);
        for (let i = 0; i < n; i++) out[v * P + ids[i]!] = this.pred[i]! * this.targetNorm;
        n = 0;
      };
      for (let p = 0; p < P; p++) {
        const r = (p / cols) | 0, c = p - r * cols;
        pixelRay(this.geo, frame, r, c, this.tmpRay);
        if (!this.clip(this.tmpRay, this.tmpNf)) continue; // misses the box: 0
        for (let q = 0; q < 6; q++) this.rays[6 * n + q] = this.tmpRay[q]!;
        this.nearFar[2 * n] = this.tmpNf[0]!; this.nearFar[2 * n + 1] = this.tmpNf[1]!;
        ids[n++] = p;
        if (n === chunk) flush();
      }
      flush();
    }
    return out;
  }

  sampleGrid(grid: GridFields): Float32Array {
    const [nx, ny, nz] = grid.nVoxel;
    const o = gridOriginMm(grid);
    const box = this.box;
    const N = nx * ny * nz;
    const out = new Float32Array(N);
    const cap = this.field.maxBatch;
    const x = new Float32Array(cap * 3), sig = new Float64Array(cap), cc = new Float64Array(cap);
    const clamp = (u: number): number => (u < 0 ? 0 : u > 1 ? 1 : u);
    const wantDensity = this.cfg.volumeQuantity === 'density';
    // EA: sigma per Lref -> per mm; line: sigma in targetNorm per Lref -> dataset value per mm
    const densityUnit = this.mode === 'ea' ? 1 / this.lref : this.targetNorm / this.lref;
    for (let start = 0; start < N; start += cap) {
      const n = Math.min(cap, N - start);
      for (let q = 0; q < n; q++) {
        const idx = start + q;
        const i = idx % nx, j = ((idx / nx) | 0) % ny, k = (idx / (nx * ny)) | 0;
        x[3 * q] = clamp((o[0] + i * grid.dVoxel[0] - box[0]!) / (box[3]! - box[0]!));
        x[3 * q + 1] = clamp((o[1] + j * grid.dVoxel[1] - box[1]!) / (box[4]! - box[1]!));
        x[3 * q + 2] = clamp((o[2] + k * grid.dVoxel[2] - box[2]!) / (box[5]! - box[2]!));
      }
      this.field.forward(x, n, sig, cc);
      for (let q = 0; q < n; q++) out[start + q] = wantDensity ? sig[q]! * densityUnit : cc[q]!;
    }
    return out;
  }

  params() { return this.field.model.params; }
  optimizers() { return { field: this.field.model.optimizer }; }
  rngs() { return { rays: this.rng }; }
  resolvedConfig(): Record<string, unknown> {
    return { kind: 'radiance', ...structuredClone(this.cfg) as Record<string, unknown>, rendering: this.mode, fieldResolved: structuredClone(this.field.config) as unknown as Record<string, unknown>, lrResolved: this.baseLr };
  }
  dispose(): void { /* the backend belongs to the caller */ }
}
