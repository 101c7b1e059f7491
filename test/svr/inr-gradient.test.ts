/**
 * Finite-difference checks of the INR SVR gradients: motion (rotation vector through the left
 * Jacobian, translation; per slice and per stack), slice log-scale and log-variance, on a fixed
 * batch of a small field after a few training steps.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCpuBackend } from '../../src/engine/cpu/backend.js';
import { createRng } from '../../src/core/rng.js';
import { resolveSvrInrConfig } from '../../src/svr/inr-config.js';
import { createSvrInrState, drawBatch, evaluateBatch, type MotionLevel } from '../../src/svr/inr-model.js';
import { robustIntensityScale } from '../../src/svr/inr.js';
import { leftJacobian } from '../../src/svr/motion.js';
import { rotationMatrix } from '../../src/geometry/slice-stack.js';
import { ellipsoidPhantom, synthStacks } from '../helpers/svr-synth.js';
import { SVR_INR_FD_REL } from '../tolerances.js';

test('left Jacobian: R(r + dr) = exp([J_l(r) dr]x) R(r) to first order (central differences of rotationMatrix)', () => {
  const r = [0.3, -0.5, 0.2], h = 1e-6;
  const J = leftJacobian(r[0]!, r[1]!, r[2]!);
  const R = rotationMatrix(r[0]!, r[1]!, r[2]!);
  for (let c = 0; c < 3; c++) {
    const rp = [...r], rm = [...r];
    rp[c]! += h; rm[c]! -= h;
    const Rp = rotationMatrix(rp[0]!, rp[1]!, rp[2]!), Rm = rotationMatrix(rm[0]!, rm[1]!, rm[2]!);
    // dR R^T = [w]x with w = J_l e_c.
    const dR = new Float64Array(9);
    for (let i = 0; i < 9; i++) dR[i] = (Rp[i]! - Rm[i]!) / (2 * h);
    const W = new Float64Array(9);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) { let s = 0; for (let m = 0; m < 3; m++) s += dR[3 * i + m]! * R[3 * k + m]!; W[3 * i + k] = s; }
    const w = [W[7]!, W[2]!, W[3]!];
    for (let a = 0; a < 3; a++) assert.ok(Math.abs(w[a]! - J[3 * a + c]!) < 1e-7, `J[${a},${c}]: ${J[3 * a + c]} vs ${w[a]}`);
  }
});

function setup() {
  const gt = ellipsoidPhantom(20, 2);
  const { stacks, motion } = synthStacks(gt, { inPlaneMm: 2, sliceMm: 4, maxRotDeg: 4, maxTransMm: 2, noise: 0.01, seed: 3 });
  const cfg = resolveSvrInrConfig({ preset: 'fast', batchPixels: 768, psfRule: 'monte-carlo', psfSamples: 3, regularization: { points: 64, weight: 0.01 } });
  const be = createCpuBackend({ simd: true });
  const st = createSvrInrState(stacks, gt, cfg, be, robustIntensityScale(stacks));
  const rng = createRng(1);
  // A coarse fit first so the field (and its input gradient) is not near zero.
  for (let i = 0; i < 60; i++) { drawBatch(st, rng, true); evaluateBatch(st, 'slice', true, false); st.field.optimizer.step(2e-2); }
  // Non-trivial motion, scale and variance at which to check.
  motion.forEach((m, k) => st.sliceMotion.set(m.map((v) => v * 0.5), 6 * st.geo.sliceOffset[k]!));
  st.stackMotion.set([0.03, -0.02, 0.04, 0.5, -0.3, 0.2, -0.01, 0.02, 0.01, -0.4, 0.1, 0.3, 0.02, 0.01, -0.03, 0.2, 0.4, -0.1]);
  for (let s = 0; s < st.geo.nSlices; s++) { st.bScale[s] = 0.05 * Math.sin(s); st.aVar[s] = Math.log(0.03 ** 2) + 0.3 * Math.cos(s); }
  drawBatch(st, rng, true);
  return { st, be };
}

for (const level of ['slice', 'stack'] as MotionLevel[]) {
  test(`svr-inr ${level} motion gradient matches central differences of the batch loss`, () => {
    const { st, be } = setup();
    evaluateBatch(st, level, true, true);
    const grad = Float64Array.from(st.motionGrad);
    const P = level === 'stack' ? st.stackMotion : st.sliceMotion;
    // Stacks: all three; slices: the four with the largest gradients (slices hit by few pixels of
    // the batch have gradients near the float32 resolution of the loss).
    const norm = (g: number): number => Math.hypot(...grad.subarray(6 * g, 6 * g + 6));
    const groups = level === 'stack' ? [0, 1, 2] : [...Array(st.geo.nSlices).keys()].sort((a, b) => norm(b) - norm(a)).slice(0, 4);
    for (const g of groups) {
      let scaleR = 0, scaleT = 0;
      for (let a = 0; a < 3; a++) { scaleR = Math.max(scaleR, Math.abs(grad[6 * g + a]!)); scaleT = Math.max(scaleT, Math.abs(grad[6 * g + 3 + a]!)); }
      assert.ok(scaleR > 0 && scaleT > 0, `group ${g}: zero gradient`);
      for (let a = 0; a < 6; a++) {
        const h = a < 3 ? 1e-4 : 2e-3, v = P[6 * g + a]!;
        P[6 * g + a] = v + h; const lp = evaluateBatch(st, level, false, false);
        P[6 * g + a] = v - h; const lm = evaluateBatch(st, level, false, false);
        P[6 * g + a] = v;
        const num = (lp - lm) / (2 * h), an = grad[6 * g + a]!, scale = a < 3 ? scaleR : scaleT;
        if (process.env.SVR_DEBUG) console.log(level, g, a, an, num);
        assert.ok(Math.abs(num - an) <= SVR_INR_FD_REL * scale, `${level} ${g} param ${a}: analytic ${an} vs numeric ${num}`);
      }
    }
    be.dispose();
  });
}

test('svr-inr slice log-scale and log-variance gradients match central differences', () => {
  const { st, be } = setup();
  evaluateBatch(st, 'slice', true, false);
  for (const [name, arr, grad] of [['bScale', st.bScale, Float64Array.from(st.bGrad)], ['aVar', st.aVar, Float64Array.from(st.aGrad)]] as const) {
    let scale = 0;
    for (const g of grad) scale = Math.max(scale, Math.abs(g));
    assert.ok(scale > 0, `${name}: zero gradient`);
    for (const s of [0, 5, 13, 22, 28]) {
      const h = 1e-4, v = arr[s]!;
      arr[s] = v + h; const lp = evaluateBatch(st, 'slice', false, false);
      arr[s] = v - h; const lm = evaluateBatch(st, 'slice', false, false);
      arr[s] = v;
      const num = (lp - lm) / (2 * h);
      assert.ok(Math.abs(num - grad[s]!) <= SVR_INR_FD_REL * scale, `${name}[${s}]: analytic ${grad[s]} vs numeric ${num}`);
    }
  }
  be.dispose();
});
