import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createLrSchedule, lrAt, resolveLrSchedule } from '../../src/engine/schedule.js';
import { SCHEDULE_ABS } from '../tolerances.js';

const near = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) <= SCHEDULE_ABS * Math.max(1, Math.abs(b)), `${msg ?? ''} ${a} vs ${b}`);

test('schedule: constant and step (StepLR) at known steps', () => {
  const c = createLrSchedule({ kind: 'constant', lr: 0.01 });
  assert.equal(c(0), 0.01);
  assert.equal(c(123456), 0.01);
  const s = createLrSchedule({ kind: 'step', lr: 1, stepSize: 100, gamma: 0.5 });
  assert.equal(s(0), 1);
  assert.equal(s(99), 1);
  assert.equal(s(100), 0.5);
  assert.equal(s(250), 0.25);
  assert.equal(createLrSchedule({ kind: 'step', lr: 2, stepSize: 10 })(10), 2 * 0.1); // default gamma 0.1
});

test('schedule: exponential decays by gamma every decaySteps, with a floor', () => {
  const e = createLrSchedule({ kind: 'exponential', lr: 1e-2, gamma: 0.1, decaySteps: 1000 });
  near(e(0), 1e-2);
  near(e(500), 1e-2 * Math.sqrt(0.1));
  near(e(1000), 1e-3);
  near(e(3000), 1e-5);
  const f = createLrSchedule({ kind: 'exponential', lr: 1, gamma: 0.5, minLr: 0.2 });
  near(f(1), 0.5);
  near(f(2), 0.25);
  near(f(3), 0.2); // 0.125 floored
});

test('schedule: cosine hits lr, midpoint, minLr at the end and stays there', () => {
  const c = createLrSchedule({ kind: 'cosine', lr: 1, totalSteps: 100, minLr: 0.1 });
  near(c(0), 1);
  near(c(50), 0.55); // 0.1 + 0.9 * (1 + cos(pi/2)) / 2
  near(c(25), 0.1 + 0.9 * (1 + Math.SQRT1_2) / 2);
  near(c(100), 0.1);
  near(c(1000), 0.1);
  // monotone non-increasing
  let prev = Infinity;
  for (let k = 0; k <= 100; k++) { const v = c(k); assert.ok(v <= prev + 1e-15); prev = v; }
});

test('schedule: warm-up composes with any schedule (linear factor, optional clock shift)', () => {
  const w = resolveLrSchedule({ kind: 'warmup', warmupSteps: 10, inner: { kind: 'constant', lr: 1 } });
  assert.equal(lrAt(w, 0), 0);
  near(lrAt(w, 5), 0.5);
  assert.equal(lrAt(w, 10), 1);
  const ws = resolveLrSchedule({ kind: 'warmup', warmupSteps: 4, startFactor: 0.2, inner: { kind: 'step', lr: 1, stepSize: 2, gamma: 0.5 } });
  near(lrAt(ws, 0), 0.2);
  near(lrAt(ws, 2), 0.5 * (0.2 + 0.8 * 0.5)); // inner already decayed once at step 2 (no shift)
  near(lrAt(ws, 4), 0.25);
  const shifted = resolveLrSchedule({ kind: 'warmup', warmupSteps: 4, shift: true, inner: { kind: 'cosine', lr: 1, totalSteps: 10 } });
  near(lrAt(shifted, 2), 0.5); // inner at its step 0 = 1, factor 0.5
  near(lrAt(shifted, 4), 1); // inner clock starts after the warm-up
  near(lrAt(shifted, 9), 0.5); // inner step 5 of 10: midpoint
  near(lrAt(shifted, 14), 0);
});

test('schedule: pure (same input, same output) and JSON round-trippable', () => {
  const cfg = resolveLrSchedule({ kind: 'warmup', warmupSteps: 3, inner: { kind: 'exponential', lr: 0.01, gamma: 0.1, decaySteps: 100 } });
  const back = resolveLrSchedule(JSON.parse(JSON.stringify(cfg)));
  for (const s of [0, 1, 2, 3, 57, 1000]) assert.equal(lrAt(back, s), lrAt(cfg, s));
});

test('schedule: bad configs name the field', () => {
  const cases: [unknown, RegExp][] = [
    [{ kind: 'step', lr: 1, stepSize: 0 }, /schedule\.stepSize/],
    [{ kind: 'cosine', lr: -1, totalSteps: 10 }, /schedule\.lr/],
    [{ kind: 'cosine', lr: 1, totalSteps: 10, minLr: 2 }, /schedule\.minLr/],
    [{ kind: 'warmup', warmupSteps: 2, inner: { kind: 'exponential', lr: 1, gamma: 2 } }, /schedule\.inner\.gamma/],
    [{ kind: 'linear', lr: 1 }, /schedule/],
  ];
  for (const [cfg, re] of cases) {
    assert.throws(() => resolveLrSchedule(cfg), (e: unknown) => e instanceof MedfieldError && re.test(e.message), JSON.stringify(cfg));
  }
  assert.throws(() => lrAt(resolveLrSchedule({ kind: 'constant', lr: 1 }), -1), /step/);
});
