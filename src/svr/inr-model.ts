/**
 * The state and one loss/gradient evaluation of the INR slice-to-volume reconstruction
 * (src/svr/inr.ts has the model equations and the training loop). Split out so tests can fix a
 * batch (drawBatch) and evaluate the loss for perturbed motion, scale and variance parameters
 * (evaluateBatch) to check the analytic gradients by finite differences.
 */
import { MedfieldError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Volume } from '../core/volume.js';
import type { Backend } from '../engine/backend.js';
import { FieldModel } from '../engine/field.js';
import { rotationMatrix, type SliceStack } from '../geometry/slice-stack.js';
import type { SvrInrConfig } from './inr-config.js';
import { gridUnitMap, stackGeometry, type StackGeometry, type UnitMap } from './inr-geometry.js';
import { rotationGradFromTorque } from './motion.js';
import { drawPsfNormals, gaussHermitePsfRule } from './psf-sampling.js';

/** Which parameters the motion is expressed in: one rigid motion per stack (about its centre) or per slice. */
export type MotionLevel = 'stack' | 'slice';

export interface SvrInrState {
  readonly cfg: SvrInrConfig;
  readonly stacks: readonly SliceStack[];
  readonly geo: StackGeometry;
  readonly map: UnitMap;
  readonly field: FieldModel;
  /** Intensity scale (input units per field unit). */
  readonly norm: number;
  /** Output dimension of the field (1: intensity; 2: + pixel log-variance). */
  readonly D: number;
  readonly logV0: number;
  readonly floorVar: number;
  /** Per slice motion (6 per slice) and per stack motion (6 per stack, about the stack centre). */
  readonly sliceMotion: Float64Array;
  readonly stackMotion: Float64Array;
  /** Per slice log scale b_s and log variance a_s, and their gradients. */
  readonly bScale: Float64Array;
  readonly aVar: Float64Array;
  readonly bGrad: Float64Array;
  readonly aGrad: Float64Array;
  /** Gradient of the loss w.r.t. the motion parameters of the level last evaluated (6 per group). */
  readonly motionGrad: Float64Array;
  /** Pixel ids (global) inside the output grid's box, and those above the intensity threshold. */
  readonly pool: Float64Array;
  readonly fg: Float64Array;
  // batch
  readonly B: number; readonly K: number; readonly N: number; readonly R: number; readonly total: number;
  readonly bPid: Float64Array;
  readonly normals: Float64Array;
  /** PSF sample weights (K; sum 1) and whether the normals are redrawn (Monte-Carlo). */
  readonly psfW: Float64Array;
  readonly psfRandom: boolean;
  readonly regBase: Float32Array;
  // buffers
  readonly xIn: Float32Array; readonly yOut: Float32Array; readonly dOut: Float32Array; readonly gU: Float32Array;
  readonly aBuf: Float64Array; readonly clampMask: Uint8Array; readonly bSlice: Int32Array; readonly bTarget: Float64Array;
  readonly gR: Float64Array; readonly gC: Float64Array; readonly gT: Float64Array;
  /** 3x3 scratch (a rotation matrix, a left Jacobian) reused every step. */
  readonly m9: Float64Array;
  /** Output grid voxel counts (the regulariser's step is one voxel). */
  readonly gridDims: readonly number[];
}

/** Largest number of points per field call outside training (volume sampling, simulation). */
export const SVR_CHUNK = 16384;

export function createSvrInrState(stacks: readonly SliceStack[], grid: Volume, cfg: SvrInrConfig, backend: Backend, norm: number): SvrInrState {
  const geo = stackGeometry(stacks);
  const map = gridUnitMap(grid);
  const nS = geo.nSlices, nSt = geo.nStacks;
  const D = cfg.field.mlp!.outputDim;
  // Pixel pools (global ids): `inside` = pixels whose nominal centre lies in the output grid's box
  // (pixels outside it would be fitted by the clamped boundary of the field), `fg` = those above
  // the threshold.
  const thr = cfg.sampling.threshold * norm;
  const inside: number[] = [], fgList: number[] = [];
  const M = map.M, u0 = map.u0;
  stacks.forEach((s, stk) => {
    const d = s.volume.data, off = geo.pixelOffset[stk]!, [nx, ny, nz] = s.volume.dims, cb = 9 * stk, cl = geo.columns;
    for (let k = 0; k < nz; k++) {
      const sl = geo.sliceOffset[stk]! + k;
      for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
        let ok = true;
        for (let a = 0; a < 3 && ok; a++) {
          let u = u0[a]!;
          for (let r = 0; r < 3; r++) u += M[3 * a + r]! * (geo.sliceOrigin[3 * sl + r]! + cl[cb + r]! * i + cl[cb + 3 + r]! * j);
          ok = u >= 0 && u <= 1;
        }
        if (!ok) continue;
        const local = i + nx * (j + ny * k);
        inside.push(off + local);
        if (d[local]! > thr) fgList.push(off + local);
      }
    }
  });
  if (inside.length === 0) throw new MedfieldError('bad-data', 'svr stacks', 'no slice pixel lies inside the output grid; expected the grid to cover the stacks');
  const fg = Float64Array.from(fgList), pool = Float64Array.from(inside);
  const gh = cfg.psfRule === 'gauss-hermite' ? gaussHermitePsfRule(cfg.psfNodes) : null;
  const B = cfg.batchPixels, K = gh ? gh.count : cfg.psfSamples, N = B * K;
  const normals = new Float64Array(3 * N);
  if (gh) for (let b = 0; b < B; b++) normals.set(gh.normals, 3 * K * b);
  const reg = cfg.regularization, R = reg.kind === 'none' || reg.weight === 0 ? 0 : reg.points;
  const total = N + 4 * R, cap = Math.max(total, SVR_CHUNK);
  const field = new FieldModel(backend, cfg.field, { maxBatch: cap });
  const G = Math.max(nS, nSt);
  return {
    cfg, stacks, geo, map, field, norm, D, logV0: Math.log(cfg.variance.initStd ** 2), floorVar: cfg.variance.floorStd ** 2,
    sliceMotion: new Float64Array(6 * nS), stackMotion: new Float64Array(6 * nSt),
    bScale: new Float64Array(nS), aVar: new Float64Array(nS).fill(Math.log(cfg.variance.initStd ** 2)),
    bGrad: new Float64Array(nS), aGrad: new Float64Array(nS), motionGrad: new Float64Array(6 * G), pool, fg,
    B, K, N, R, total,
    bPid: new Float64Array(B), normals, psfW: gh ? gh.weights : new Float64Array(K).fill(1 / K), psfRandom: !gh, regBase: new Float32Array(3 * R),
    xIn: new Float32Array(3 * cap), yOut: new Float32Array(D * cap), dOut: new Float32Array(D * total), gU: new Float32Array(3 * total),
    aBuf: new Float64Array(3 * cap), clampMask: new Uint8Array(cap), bSlice: new Int32Array(B), bTarget: new Float64Array(B),
    gR: new Float64Array(9 * G), gC: new Float64Array(3 * G), gT: new Float64Array(3 * G), m9: new Float64Array(9),
    gridDims: [...grid.dims],
  };
}

/** Draws a batch: B pixels (foreground pool + a fraction from all pixels inside the grid), Monte-Carlo PSF normals (when `psf`), regularisation base points. */
export function drawBatch(st: SvrInrState, rng: Rng, psf: boolean): void {
  const nFg = st.fg.length, bgFrac = nFg === 0 ? 1 : st.cfg.sampling.backgroundFraction;
  for (let b = 0; b < st.B; b++) st.bPid[b] = rng.next() < bgFrac ? st.pool[rng.int(st.pool.length)]! : st.fg[rng.int(nFg)]!;
  if (psf && st.psfRandom) drawPsfNormals(rng, st.normals);
  for (let i = 0; i < st.regBase.length; i++) st.regBase[i] = rng.next();
}

/** Loads the per-group rotation, centre and translation of a motion level. */
export function loadGroups(st: SvrInrState, level: MotionLevel): void {
  const byStack = level === 'stack', geo = st.geo;
  const n = byStack ? geo.nStacks : geo.nSlices, P = byStack ? st.stackMotion : st.sliceMotion, C = byStack ? geo.stackCentre : geo.sliceCentre;
  const rot = st.m9;
  for (let g = 0; g < n; g++) {
    rotationMatrix(P[6 * g]!, P[6 * g + 1]!, P[6 * g + 2]!, rot);
    st.gR.set(rot, 9 * g);
    for (let a = 0; a < 3; a++) { st.gC[3 * g + a] = C[3 * g + a]!; st.gT[3 * g + a] = P[6 * g + 3 + a]!; }
  }
}

/**
 * Maps stack voxel coordinate (fi, fj, fk relative to slice s) of stack `stk` through group g
 * (loaded by loadGroups) to unit coordinates at xIn[3q..]; stores R(p - c) in aBuf and the
 * clamped-axis bits in clampMask.
 */
export function placePoint(st: SvrInrState, q: number, stk: number, s: number, g: number, fi: number, fj: number, fk: number): void {
  const geo = st.geo, cb = 9 * stk, cl = geo.columns, gR = st.gR, gC = st.gC, gT = st.gT, M = st.map.M, u0 = st.map.u0, xIn = st.xIn;
  const px = geo.sliceOrigin[3 * s]! + cl[cb]! * fi + cl[cb + 3]! * fj + cl[cb + 6]! * fk;
  const py = geo.sliceOrigin[3 * s + 1]! + cl[cb + 1]! * fi + cl[cb + 4]! * fj + cl[cb + 7]! * fk;
  const pz = geo.sliceOrigin[3 * s + 2]! + cl[cb + 2]! * fi + cl[cb + 5]! * fj + cl[cb + 8]! * fk;
  const qx = px - gC[3 * g]!, qy = py - gC[3 * g + 1]!, qz = pz - gC[3 * g + 2]!;
  const r = 9 * g;
  const ax = gR[r]! * qx + gR[r + 1]! * qy + gR[r + 2]! * qz;
  const ay = gR[r + 3]! * qx + gR[r + 4]! * qy + gR[r + 5]! * qz;
  const az = gR[r + 6]! * qx + gR[r + 7]! * qy + gR[r + 8]! * qz;
  const x = ax + gC[3 * g]! + gT[3 * g]!, y = ay + gC[3 * g + 1]! + gT[3 * g + 1]!, z = az + gC[3 * g + 2]! + gT[3 * g + 2]!;
  let mask = 0;
  for (let a = 0; a < 3; a++) {
    let u = M[3 * a]! * x + M[3 * a + 1]! * y + M[3 * a + 2]! * z + u0[a]!;
    if (u < 0) { u = 0; mask |= 1 << a; } else if (u > 1) { u = 1; mask |= 1 << a; }
    xIn[3 * q + a] = u;
  }
  st.aBuf[3 * q] = ax; st.aBuf[3 * q + 1] = ay; st.aBuf[3 * q + 2] = az; st.clampMask[q] = mask;
}

/** Stack of a global pixel id. */
export function stackOfPixel(geo: StackGeometry, pid: number): number {
  let s = 0;
  while (pid >= geo.pixelOffset[s + 1]!) s++;
  return s;
}

/**
 * Loss of the drawn batch under the current parameters (motion at `level`). With `grad`: field
 * parameter gradients are accumulated (backward), and bGrad, aGrad and (with `motion`) motionGrad
 * (dL/d of the level's 6 parameters per group: rotation vector via the left Jacobian) are written.
 */
export function evaluateBatch(st: SvrInrState, level: MotionLevel, grad: boolean, motion: boolean): number {
  const { cfg, geo, B, K, N, R, D, yOut, dOut, bSlice, bTarget } = st;
  const byStack = level === 'stack';
  loadGroups(st, level);
  const ps = geo.psfScale;
  for (let b = 0; b < B; b++) {
    const pid = st.bPid[b]!, stk = stackOfPixel(geo, pid), local = pid - geo.pixelOffset[stk]!;
    const nx = geo.dims[3 * stk]!, ny = geo.dims[3 * stk + 1]!;
    const i = local % nx, rr = (local - i) / nx, j = rr % ny, k = (rr - j) / ny;
    const s = geo.sliceOffset[stk]! + k;
    bSlice[b] = s;
    bTarget[b] = st.stacks[stk]!.volume.data[local]! / st.norm;
    const g = byStack ? stk : s;
    for (let kk = 0; kk < K; kk++) {
      const q = b * K + kk, nq = st.normals;
      placePoint(st, q, stk, s, g, i + nq[3 * q]! * ps[3 * stk]!, j + nq[3 * q + 1]! * ps[3 * stk + 1]!, nq[3 * q + 2]! * ps[3 * stk + 2]!);
    }
  }
  const xIn = st.xIn;
  for (let r = 0; r < R; r++) {
    const q = N + 4 * r;
    for (let a = 0; a < 3; a++) {
      const h = regStep(st, a), u = st.regBase[3 * r + a]! * (1 - h);
      xIn[3 * q + a] = u; xIn[3 * (q + 1) + a] = u; xIn[3 * (q + 2) + a] = u; xIn[3 * (q + 3) + a] = u;
      xIn[3 * (q + 1 + a) + a] = u + h;
    }
  }
  st.field.forward(xIn, st.total, yOut);

  const useScale = cfg.sliceScale.enabled, useSliceVar = cfg.variance.slice, usePixVar = cfg.variance.pixel;
  let loss = 0;
  if (grad) { dOut.fill(0); st.bGrad.fill(0); st.aGrad.fill(0); }
  const invB = 1 / B, w = st.psfW;
  for (let b = 0; b < B; b++) {
    let mI = 0, mV = 0;
    for (let kk = 0; kk < K; kk++) { const q = b * K + kk; mI += w[kk]! * yOut[D * q]!; if (D === 2) mV += w[kk]! * yOut[D * q + 1]!; }
    const s = bSlice[b]!;
    const c = useScale ? Math.exp(st.bScale[s]!) : 1;
    const res = c * mI - bTarget[b]!;
    const sv = useSliceVar ? Math.exp(st.aVar[s]!) : 0;
    const pv = usePixVar ? Math.exp(mV + st.logV0) : 0;
    const variance = (useSliceVar || usePixVar ? sv + pv : Math.exp(st.logV0)) + st.floorVar;
    const inv = 1 / variance;
    loss += 0.5 * res * res * inv + 0.5 * Math.log(variance);
    if (!grad) continue;
    const dm = invB * c * res * inv;
    const dVar = invB * 0.5 * (inv - res * res * inv * inv);
    st.bGrad[s] += invB * mI * res * inv * c;
    st.aGrad[s] += dVar * sv;
    const dv = dVar * pv;
    for (let kk = 0; kk < K; kk++) {
      const q = b * K + kk;
      dOut[D * q] = dm * w[kk]!;
      if (D === 2) dOut[D * q + 1] = dv * w[kk]!;
    }
  }
  loss *= invB;
  if (R > 0) {
    const reg = cfg.regularization, w = reg.weight / R, d2 = reg.delta * reg.delta, tv = reg.kind === 'tv';
    for (let r = 0; r < R; r++) {
      const q = N + 4 * r, f0 = yOut[D * q]!;
      for (let a = 0; a < 3; a++) {
        const d = yOut[D * (q + 1 + a)]! - f0;
        let phi: number, dphi: number;
        if (tv) { phi = Math.abs(d) / reg.delta; dphi = (d > 0 ? 1 : d < 0 ? -1 : 0) / reg.delta; } else { const sq = Math.sqrt(1 + (d * d) / d2); phi = sq - 1; dphi = d / (d2 * sq); }
        loss += w * phi;
        if (grad) { dOut[D * (q + 1 + a)] += w * dphi; dOut[D * q] -= w * dphi; }
      }
    }
  }
  if (!Number.isFinite(loss)) throw new MedfieldError('bad-data', 'svr-inr loss', `loss is ${loss} (NaN/Inf in the stacks or a diverged fit)`);
  if (!grad) return loss;
  st.field.backward(dOut, motion ? { inputGrad: st.gU } : {});
  if (motion) {
    const nG = byStack ? geo.nStacks : geo.nSlices, mg = st.motionGrad, M = st.map.M, gU = st.gU, aBuf = st.aBuf, cm = st.clampMask;
    mg.fill(0, 0, 6 * nG);
    for (let b = 0; b < B; b++) {
      const s = bSlice[b]!, g = byStack ? geo.sliceStack[s]! : s;
      let tx = 0, ty = 0, tz = 0, wx = 0, wy = 0, wz = 0;
      for (let kk = 0; kk < K; kk++) {
        const q = b * K + kk, mask = cm[q]!;
        // dL/dx = M^T dL/du (clamped axes carry no gradient); torque a x dL/dx.
        const du0 = mask & 1 ? 0 : gU[3 * q]!, du1 = mask & 2 ? 0 : gU[3 * q + 1]!, du2 = mask & 4 ? 0 : gU[3 * q + 2]!;
        const gx = M[0]! * du0 + M[3]! * du1 + M[6]! * du2;
        const gy = M[1]! * du0 + M[4]! * du1 + M[7]! * du2;
        const gz = M[2]! * du0 + M[5]! * du1 + M[8]! * du2;
        const ax = aBuf[3 * q]!, ay = aBuf[3 * q + 1]!, az = aBuf[3 * q + 2]!;
        tx += gx; ty += gy; tz += gz;
        wx += ay * gz - az * gy; wy += az * gx - ax * gz; wz += ax * gy - ay * gx;
      }
      const o = 6 * g;
      mg[o] += wx; mg[o + 1] += wy; mg[o + 2] += wz; mg[o + 3] += tx; mg[o + 4] += ty; mg[o + 5] += tz;
    }
    const P = byStack ? st.stackMotion : st.sliceMotion, jac = st.m9;
    for (let g = 0; g < nG; g++) rotationGradFromTorque(P, 6 * g, mg, 6 * g, jac);
  }
  return loss;
}

/** Finite-difference step of the regulariser along unit axis a: one output voxel. */
function regStep(st: SvrInrState, a: number): number {
  return 1 / st.gridDims[a]!;
}
