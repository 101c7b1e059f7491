/**
 * INR slice-to-volume reconstruction (NeSVoR: Xu et al., IEEE TMI 2023) on the engine's field,
 * on a CPU. Model of an acquired pixel (stack st, slice s, pixel (i, j)):
 *
 *   I_pix ~ N( c_s * mean_k f(T_s(p_k)),  var_pix ),   p_k = Monte-Carlo PSF samples of the pixel,
 *   T_s(p) = R(r_s)(p - c_s) + c_s + t_s  (src/geometry/slice-stack.ts),
 *   var_pix = exp(a_s) + exp(v(p) + log initStd^2) + floorStd^2,
 *
 * with f the intensity (field output 0), v the pixel log-variance head (field output 1, PSF-
 * averaged), c_s = exp(b_s) the slice intensity scale and exp(a_s) the slice variance. The loss is
 * the Gaussian negative log-likelihood averaged over a batch of random pixels plus an
 * edge-preserving (or TV) penalty on finite differences of f at random points. Field parameters,
 * motion (6 per slice), b and a each have their own Adam. See docs/svr-inr.md.
 *
 * Schedule: the field alone first; then one rigid motion per stack (about the stack's centre:
 * stack-to-stack alignment); then one per slice; motion frozen for the last part. Gauge: the mean
 * of each motion parameter over the groups and the mean of b are projected to zero after every
 * update (src/svr/motion.ts).
 *
 * Intensities are learned divided by a robust scale of the input (the 99.5th percentile of the
 * positive pixels); volume, uncertainty, sliceStd and simulated are returned in input units.
 */
import { MedfieldError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import type { Volume } from '../core/volume.js';
import type { Backend } from '../engine/backend.js';
import type { SliceMotion, SliceStack } from '../geometry/slice-stack.js';
import { resolveSvrInrConfig, type SvrInrConfig, type SvrInrConfigInput, type SvrInrPreset } from './inr-config.js';
import { createSvrInrState, drawBatch, evaluateBatch, loadGroups, placePoint, SVR_CHUNK, type MotionLevel, type SvrInrState } from './inr-model.js';
import { removeMeanMotion, stackToSliceMotion } from './motion.js';
import { gaussHermitePsfRule } from './psf-sampling.js';

export interface SvrInrOptions {
  /** Called every config.logEvery steps and at the end. */
  onProgress?: (step: number, total: number, loss: number) => void;
  /** Start from this per-slice motion (per stack, 6 per slice); skips the stack-level stage. */
  initialMotion?: readonly SliceMotion[];
}

export interface SvrInrResult {
  /** The intensity field sampled at the output grid's voxel centres (input intensity units). */
  readonly volume: Volume<Float32Array>;
  /** Std-dev of the pixel variance head at the voxel centres (input units); see docs/svr-inr.md. */
  readonly uncertainty: Volume<Float32Array>;
  /** Per stack, Float64Array(6 * nSlices): [rx, ry, rz (rad), tx, ty, tz (mm)] per slice. */
  readonly motion: SliceMotion[];
  /** Per stack, slice intensity scale c_s (geometric mean 1 over all slices). */
  readonly sliceScale: Float32Array[];
  /** Per stack, slice noise std sqrt(exp(a_s)) in input units (0 when slice variance is off). */
  readonly sliceStd: Float32Array[];
  /** Per stack, the model's prediction of every acquired pixel, same layout as stack.volume.data. */
  readonly simulated: Float32Array[];
  readonly history: { step: number; loss: number }[];
  readonly config: SvrInrConfig;
  /** The intensity scale the field learned in (input units per field unit). */
  readonly intensityScale: number;
}

export type SvrInrConfigArg = SvrInrConfigInput | SvrInrPreset | (Partial<SvrInrConfigInput> & { preset?: SvrInrPreset });

/** Robust intensity scale: 99.5th percentile of positive pixels (on a strided subsample). */
export function robustIntensityScale(stacks: readonly SliceStack[]): number {
  const vals: number[] = [];
  let total = 0;
  for (const s of stacks) total += s.volume.data.length;
  const stride = Math.max(1, Math.floor(total / 400000));
  for (const s of stacks) {
    const d = s.volume.data;
    for (let i = 0; i < d.length; i += stride) { const v = d[i]!; if (v > 0 && Number.isFinite(v)) vals.push(v); }
  }
  if (vals.length === 0) throw new MedfieldError('bad-data', 'svr stacks', 'no positive pixel: expected intensity images');
  vals.sort((a, b) => a - b);
  return vals[Math.min(vals.length - 1, Math.floor(0.995 * vals.length))]!;
}

/** Small Adam over Float64 parameters (motion, slice scale/variance), lr per index mod `period`. */
export function adam64(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, n: number, t: number, lr: ArrayLike<number>, period: number): void {
  const b1 = 0.9, b2 = 0.999, bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    m[i] = b1 * m[i]! + (1 - b1) * gi;
    v[i] = b2 * v[i]! + (1 - b2) * gi * gi;
    p[i] -= (lr[i % period]! * (m[i]! / bc1)) / (Math.sqrt(v[i]! / bc2) + 1e-12);
  }
}

/**
 * Adam for the motion with the second moment shared by all groups per parameter kind (rx..tz):
 * a per-parameter Adam moves a weakly determined parameter (e.g. the tilt of a small slice) as far
 * per step as a well determined one, driven by noise; sharing the normaliser keeps steps
 * proportional to each slice's own gradient.
 */
export function adamSharedV(p: Float64Array, g: Float64Array, m: Float64Array, v6: Float64Array, nG: number, t: number, lr: ArrayLike<number>): void {
  const b1 = 0.9, b2 = 0.999, bc1 = 1 - b1 ** t, bc2 = 1 - b2 ** t;
  for (let a = 0; a < 6; a++) {
    let sq = 0;
    for (let k = 0; k < nG; k++) sq += g[6 * k + a]! ** 2;
    v6[a] = b2 * v6[a]! + (1 - b2) * (sq / nG);
    const den = Math.sqrt(v6[a]! / bc2) + 1e-12;
    for (let k = 0; k < nG; k++) {
      const i = 6 * k + a;
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      p[i] -= (lr[a]! * (m[i]! / bc1)) / den;
    }
  }
}

type Stage = 'field' | MotionLevel | 'frozen';

/** Converts the stack-level motion into per-slice motion (sliceMotion). */
function stackToSlices(st: SvrInrState): void {
  const geo = st.geo;
  for (let k = 0; k < geo.nStacks; k++) {
    const off = geo.sliceOffset[k]!, n = geo.dims[3 * k + 2]!;
    stackToSliceMotion(st.stackMotion, 6 * k, geo.stackCentre.subarray(3 * k, 3 * k + 3), geo.sliceCentre.subarray(3 * off, 3 * (off + n)), st.sliceMotion, 6 * off, n);
  }
}

/** Reconstructs a volume on `grid` (its data is ignored) from slice stacks. See the file comment. */
export async function svrInr(stacks: readonly SliceStack[], grid: Volume, config: SvrInrConfigArg, backend: Backend, opts: SvrInrOptions = {}): Promise<SvrInrResult> {
  const cfg = resolveSvrInrConfig(config);
  const norm = robustIntensityScale(stacks);
  const st = createSvrInrState(stacks, grid, cfg, backend, norm);
  const geo = st.geo, nS = geo.nSlices, nSt = geo.nStacks;
  if (opts.initialMotion) {
    if (opts.initialMotion.length !== nSt) throw new MedfieldError('bad-option', 'svr initialMotion', `expected ${nSt} arrays (one per stack), got ${opts.initialMotion.length}`);
    opts.initialMotion.forEach((m, k) => {
      const n = geo.dims[3 * k + 2]!;
      if (m.length !== 6 * n) throw new MedfieldError('bad-option', `svr initialMotion[${k}]`, `expected ${6 * n} numbers (6 per slice), got ${m.length}`);
      st.sliceMotion.set(m, 6 * geo.sliceOffset[k]!);
    });
  }
  const rng = createRng(cfg.seed);
  const mc = cfg.motion, steps = cfg.steps;
  const stackStart = Math.round(mc.stackStart * steps), sliceStart = Math.round(mc.sliceStart * steps), stopAt = Math.round(mc.stop * steps);
  const stageAt = (step: number): Stage => {
    if (!mc.enabled || step < stackStart) return 'field';
    if (step >= stopAt) return 'frozen';
    if (step < sliceStart) return opts.initialMotion ? 'field' : 'stack';
    return 'slice';
  };
  const G = Math.max(nS, nSt);
  const gM = new Float64Array(6 * G), gV = new Float64Array(6 * G);
  const bM = new Float64Array(nS), bV = new Float64Array(nS), aM = new Float64Array(nS), aV = new Float64Array(nS);
  const motionLr = new Float64Array(6);
  let motionT = 0, scaleT = 0, stageStartStep = 0;
  const history: { step: number; loss: number }[] = [];
  const baseLr = cfg.field.optimizer.lr;
  let stage: Stage = 'field';
  drawBatch(st, rng, true);
  const levelParams = st.field.params.filter((p) => p.name.startsWith('encoding.level'));
  const c2f = cfg.coarseToFine.startLevels;

  for (let step = 0; step < steps; step++) {
    const newStage = stageAt(step);
    if (newStage !== stage) {
      if (stage === 'stack') stackToSlices(st);
      if (newStage === 'stack' || newStage === 'slice') { motionT = 0; gM.fill(0); gV.fill(0); stageStartStep = step; }
      stage = newStage;
    }
    const level: MotionLevel = stage === 'stack' ? 'stack' : 'slice';
    const moving = stage === 'stack' || stage === 'slice';
    drawBatch(st, rng, cfg.resamplePsf);
    const loss = evaluateBatch(st, level, true, moving);
    if (c2f > 0) {
      const active = Math.min(levelParams.length, c2f + Math.floor(((levelParams.length - c2f + 1) * step) / Math.max(1, cfg.coarseToFine.fullAt * steps)));
      for (let l = active; l < levelParams.length; l++) { levelParams[l]!.grad.fill(0); levelParams[l]!.touched?.fill(0); }
    }
    st.field.optimizer.step(baseLr * cfg.fieldLrFinal ** (step / steps));

    // Slice scale (from the per-slice stage on: earlier it would absorb the misfit of a coarse
    // field and of unaligned stacks) and slice variance.
    if (cfg.sliceScale.enabled && (stage === 'slice' || stage === 'frozen' || !mc.enabled && step >= sliceStart)) {
      scaleT++;
      adam64(st.bScale, st.bGrad, bM, bV, nS, scaleT, [cfg.sliceScale.lr], 1);
      let m = 0;
      for (let s = 0; s < nS; s++) m += st.bScale[s]!;
      m /= nS;
      for (let s = 0; s < nS; s++) st.bScale[s] -= m;
    }
    if (cfg.variance.slice) adam64(st.aVar, st.aGrad, aM, aV, nS, step + 1, [cfg.variance.lr], 1);

    if (moving) {
      const nG = level === 'stack' ? nSt : nS, P = level === 'stack' ? st.stackMotion : st.sliceMotion;
      motionT++;
      const warm = (mc.warmupSteps > 0 ? Math.min(1, (step - stageStartStep + 1) / mc.warmupSteps) : 1)
        * mc.lrFinal ** ((step - stackStart) / Math.max(1, stopAt - stackStart));
      motionLr[0] = motionLr[1] = motionLr[2] = mc.lrRotRad * warm;
      motionLr[3] = motionLr[4] = motionLr[5] = mc.lrTransMm * warm;
      if (mc.optimizer === 'adam-shared') adamSharedV(P, st.motionGrad, gM, gV, nG, motionT, motionLr);
      else adam64(P, st.motionGrad, gM, gV, 6 * nG, motionT, motionLr, 6);
      removeMeanMotion(P, nG);
    }

    if ((step + 1) % cfg.logEvery === 0 || step === steps - 1) {
      history.push({ step: step + 1, loss });
      opts.onProgress?.(step + 1, steps, loss);
      await Promise.resolve();
    }
  }
  if (stage === 'stack') stackToSlices(st);
  return finish(st, grid, history);
}

/** Samples the volume and uncertainty on the grid and simulates every acquired slice. */
function finish(st: SvrInrState, grid: Volume, history: { step: number; loss: number }[]): SvrInrResult {
  const { cfg, geo, field, D, norm, xIn, yOut } = st;
  const useScale = cfg.sliceScale.enabled, useSliceVar = cfg.variance.slice, usePixVar = cfg.variance.pixel;
  const nS = geo.nSlices;
  const [gx, gy, gz] = grid.dims;
  const nVox = gx * gy * gz;
  const vol = new Float32Array(nVox), unc = new Float32Array(nVox);
  const sliceStdMean = useSliceVar ? Math.sqrt(st.aVar.reduce((s, a) => s + Math.exp(a), 0) / nS) : Math.exp(0.5 * st.logV0);
  for (let start = 0; start < nVox; start += SVR_CHUNK) {
    const n = Math.min(SVR_CHUNK, nVox - start);
    for (let p = 0; p < n; p++) {
      const idx = start + p, i = idx % gx, r = (idx - i) / gx, j = r % gy, k = (r - j) / gy;
      xIn[3 * p] = (i + 0.5) / gx; xIn[3 * p + 1] = (j + 0.5) / gy; xIn[3 * p + 2] = (k + 0.5) / gz;
    }
    field.forward(xIn, n, yOut);
    for (let p = 0; p < n; p++) {
      vol[start + p] = yOut[D * p]! * norm;
      unc[start + p] = (usePixVar ? Math.sqrt(Math.exp(yOut[D * p + 1]! + st.logV0) + st.floorVar) : sliceStdMean) * norm;
    }
  }
  const like = (data: Float32Array): Volume<Float32Array> => ({ data, dims: [...grid.dims], spacingMm: [...grid.spacingMm], originMm: [...grid.originMm], direction: Float64Array.from(grid.direction) });

  // Simulated slices: Gauss-Hermite PSF rule through the final per-slice motion.
  loadGroups(st, 'slice');
  const rule = gaussHermitePsfRule(cfg.simulateNodes);
  const Q = rule.count, perChunk = Math.max(1, Math.floor(SVR_CHUNK / Q)), ps = geo.psfScale;
  const simulated = st.stacks.map((s) => new Float32Array(s.volume.data.length));
  for (let stk = 0; stk < geo.nStacks; stk++) {
    const nx = geo.dims[3 * stk]!, ny = geo.dims[3 * stk + 1]!, nPix = simulated[stk]!.length;
    for (let start = 0; start < nPix; start += perChunk) {
      const n = Math.min(perChunk, nPix - start);
      for (let p = 0; p < n; p++) {
        const local = start + p, i = local % nx, rr = (local - i) / nx, j = rr % ny, k = (rr - j) / ny, s = geo.sliceOffset[stk]! + k;
        for (let qq = 0; qq < Q; qq++) placePoint(st, p * Q + qq, stk, s, s, i + rule.normals[3 * qq]! * ps[3 * stk]!, j + rule.normals[3 * qq + 1]! * ps[3 * stk + 1]!, rule.normals[3 * qq + 2]! * ps[3 * stk + 2]!);
      }
      field.forward(xIn, n * Q, yOut);
      for (let p = 0; p < n; p++) {
        const local = start + p, s = geo.sliceOffset[stk]! + Math.floor(local / (nx * ny));
        let acc = 0;
        for (let qq = 0; qq < Q; qq++) acc += rule.weights[qq]! * yOut[D * (p * Q + qq)]!;
        simulated[stk]![local] = (useScale ? Math.exp(st.bScale[s]!) : 1) * acc * norm;
      }
    }
  }
  const split = <T extends Float32Array | Float64Array>(make: (n: number) => T, per: number, get: (s: number, a: number) => number): T[] =>
    st.stacks.map((_, stk) => {
      const off = geo.sliceOffset[stk]!, n = geo.dims[3 * stk + 2]!, out = make(per * n);
      for (let s = 0; s < n; s++) for (let a = 0; a < per; a++) out[per * s + a] = get(off + s, a);
      return out;
    });
  return {
    volume: like(vol),
    uncertainty: like(unc),
    motion: split((n) => new Float64Array(n), 6, (s, a) => st.sliceMotion[6 * s + a]!),
    sliceScale: split((n) => new Float32Array(n), 1, (s) => (useScale ? Math.exp(st.bScale[s]!) : 1)),
    sliceStd: split((n) => new Float32Array(n), 1, (s) => (useSliceVar ? Math.sqrt(Math.exp(st.aVar[s]!)) * norm : 0)),
    simulated,
    history,
    config: cfg,
    intensityScale: norm,
  };
}
