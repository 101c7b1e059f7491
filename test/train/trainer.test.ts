import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/engine/checkpoint-data.js';
import { psnr } from '../../src/metrics/psnr.js';
import { resolveTrainerConfig, Trainer, type RollbackInfo } from '../../src/train/trainer.js';
import type { TrainTask } from '../../src/train/task.js';
import { tinyTask } from '../helpers/train-fixtures.js';
import { TRAIN_FIT_MIN_PSNR_DB } from '../tolerances.js';

/** psnr3d of a task's sampled grid against the target volume (data range 1: the phantom is in [0, 1]). */
function fitPsnr(t: ReturnType<typeof tinyTask>): number {
  return psnr(t.volume.data, t.task.sampleGrid(t.grid), { dataRange: 1 });
}

describe('trainer', () => {
  test('volume-fit: the loss falls and the fitted volume approaches the phantom', async () => {
    const t = tinyTask();
    const before = fitPsnr(t);
    const losses: number[] = [];
    const tr = new Trainer(t.task, { steps: 300, evalEvery: 50, checkpointEvery: 0 }, {
      evaluate: () => ({ psnr3d: fitPsnr(t) }),
      onEval: (ctx) => { losses.push(ctx.trainLoss); },
    });
    const s = await tr.run();
    assert.equal(s.steps, 300);
    assert.equal(s.stopReason, 'steps');
    assert.ok(losses[losses.length - 1]! < losses[0]! * 0.7, `loss ${losses.join(', ')}`);
    const after = fitPsnr(t);
    assert.ok(after > before + 4 && after > TRAIN_FIT_MIN_PSNR_DB, `psnr ${before.toFixed(2)} -> ${after.toFixed(2)}`);
    t.backend.dispose();
  });

  test('early stop fires on a plateau (patience and min-delta), and not without it', async () => {
    // The tiny field plateaus within a few hundred steps at a constant rate; asking for +3 dB per
    // evaluation makes the patience run out long before the 5000-step budget.
    const cfg = { steps: 5000, evalEvery: 25, checkpointEvery: 0, schedule: { kind: 'constant', lr: 1 }, earlyStop: { metric: 'psnr3d', mode: 'max', patience: 3, minDelta: 3 } };
    const t = tinyTask();
    const seen: { step: number; v: number; improved: boolean }[] = [];
    const s = await new Trainer(t.task, cfg, {
      evaluate: () => ({ psnr3d: fitPsnr(t) }),
      onEval: (ctx, f, improved) => { seen.push({ step: ctx.step, v: f['psnr3d'] as number, improved }); },
    }).run();
    assert.equal(s.stopReason, 'early-stop');
    assert.ok(s.steps < 5000);
    assert.ok(s.best !== null);
    // It stopped exactly `patience` evaluations after the best one, and those did not improve by minDelta.
    assert.equal(s.steps, s.best!.step + 3 * 25);
    const after = seen.filter((e) => e.step > s.best!.step);
    assert.equal(after.length, 3);
    for (const e of after) { assert.equal(e.improved, false); assert.ok(e.v <= s.best!.value + 3); }
    // min-delta 0 (any improvement counts) with a huge patience: runs to the budget.
    const t2 = tinyTask();
    const s2 = await new Trainer(t2.task, { ...cfg, steps: 200, earlyStop: { metric: 'psnr3d', patience: 100, minDelta: 0 } }, { evaluate: () => ({ psnr3d: fitPsnr(t2) }) }).run();
    assert.equal(s2.stopReason, 'steps');
    assert.equal(s2.steps, 200);
    // A metric the evaluation does not produce is a clear error naming it.
    const t3 = tinyTask();
    await assert.rejects(new Trainer(t3.task, { ...cfg, earlyStop: { metric: 'psnr9d' } }, { evaluate: () => ({ psnr3d: 1 }) }).run(), /earlyStop\.metric.*'psnr9d'/);
    for (const x of [t, t2, t3]) x.backend.dispose();
  });

  test('NaN loss rolls back to the last good state, halves the rate, and gives up after maxRollbacks', async () => {
    const t = tinyTask();
    // Poison one weight at step 70 (once): the next loss is NaN and FieldModel.trainStep refuses it.
    let poisoned = 0;
    const wrap = (task: TrainTask, when: (s: number) => boolean): TrainTask => ({
      ...task,
      step(s, lr) {
        if (when(s)) { poisoned++; task.params()[task.params().length - 1]!.data[0] = NaN; }
        return task.step(s, lr);
      },
    });
    const rollbacks: RollbackInfo[] = [];
    const tr = new Trainer(wrap(t.task, (s) => s === 70 && poisoned === 0), { steps: 120, evalEvery: 0, checkpointEvery: 50 }, { onRollback: (r) => rollbacks.push(r) });
    const s = await tr.run();
    assert.equal(rollbacks.length, 1);
    assert.equal(rollbacks[0]!.step, 70);
    assert.equal(rollbacks[0]!.toStep, 50, 'back to the snapshot taken with the step-50 checkpoint');
    assert.equal(rollbacks[0]!.lrFactor, 0.5);
    assert.match(rollbacks[0]!.reason, /NaN/);
    assert.equal(s.steps, 120);
    assert.equal(s.rollbacks, 1);
    assert.ok(Number.isFinite(s.finalLoss));
    for (const p of t.task.params()) for (const v of p.data) assert.ok(Number.isFinite(v));
    assert.equal(tr.state.lrFactor, 0.5);
    assert.equal(tr.lrScaleAt(100), 0.5 * tr.lrScaleAt(100) / tr.state.lrFactor);
    // An update that leaves a NaN in a parameter (the step's loss, computed before the update, is
    // finite) is caught before the checkpoint that would save it.
    const t3 = tinyTask();
    let hit = false;
    const rb3: RollbackInfo[] = [];
    const task3: TrainTask = { ...t3.task, step(s, lr) { const r = t3.task.step(s, lr); if (s === 39 && !hit) { hit = true; t3.task.params()[0]!.data[7] = NaN; } return r; } };
    const s3 = await new Trainer(task3, { steps: 60, evalEvery: 0, checkpointEvery: 20 }, { onRollback: (r) => rb3.push(r) }).run();
    assert.equal(rb3.length, 1);
    assert.equal(rb3[0]!.step, 40, 'found at the step-40 checkpoint');
    assert.equal(rb3[0]!.toStep, 20);
    assert.match(rb3[0]!.reason, /parameter 'encoding\.level00\.table' holds NaN/);
    assert.equal(s3.steps, 60);
    assert.ok(Number.isFinite(t3.task.params()[0]!.data[7]));
    t3.backend.dispose();
    // Always diverging: gives up after maxRollbacks with a clear error.
    const t2 = tinyTask();
    const tr2 = new Trainer(wrap(t2.task, (s) => s >= 10), { steps: 100, evalEvery: 0, checkpointEvery: 5, maxRollbacks: 2 });
    await assert.rejects(tr2.run(), (e: unknown) => e instanceof MedfieldError && /diverged at step 10 .*after 2 rollback\(s\).*maxRollbacks 2/.test(e.message));
    t.backend.dispose(); t2.backend.dispose();
  });

  test('resume from a checkpoint is bit-exact (params, optimiser, rng, trainer state)', async () => {
    const cfg = { steps: 80, evalEvery: 20, checkpointEvery: 0, schedule: { kind: 'cosine', lr: 1, totalSteps: 80, minLr: 0.1 }, earlyStop: { metric: 'trainLoss', mode: 'min', patience: 50, minDelta: 0 } };
    const a = tinyTask();
    const sa = await new Trainer(a.task, cfg).run();
    // Same run in two halves through the checkpoint bytes.
    const b = tinyTask();
    const tb = new Trainer(b.task, { ...cfg, steps: 35 });
    await tb.run();
    const bytes = encodeCheckpoint(tb.checkpointInput());
    b.backend.dispose();
    const c = tinyTask();
    const tc = new Trainer(c.task, cfg);
    tc.restore(decodeCheckpoint(bytes));
    assert.equal(tc.state.step, 35);
    const sc = await tc.run();
    assert.equal(sc.steps, 80);
    assert.equal(sc.finalLoss, sa.finalLoss);
    const pa = a.task.params(), pc = c.task.params();
    for (let i = 0; i < pa.length; i++) assert.deepEqual(pc[i]!.data, pa[i]!.data, pa[i]!.name);
    a.backend.dispose(); c.backend.dispose();
  });

  test('a minutes budget counts training time only (evaluation excluded), on an injected clock', async () => {
    const t = tinyTask();
    let clock = 0;
    const task: TrainTask = { ...t.task, step(s, lr) { clock += 10; return t.task.step(s, lr); } };
    const s = await new Trainer(task, { minutes: 0.01, evalEvery: 10, checkpointEvery: 0 }, {
      now: () => clock,
      evaluate: () => { clock += 5000; return { psnr3d: 0 }; },
    }).run();
    assert.equal(s.stopReason, 'minutes');
    assert.equal(s.steps, 60, '600 ms of training at 10 ms a step');
    assert.ok(Math.abs(s.elapsedS - 0.6) < 1e-9);
    assert.ok(s.wallS > 30, 'the wall time includes the evaluations');
    t.backend.dispose();
  });

  test('trainer config: unknown keys and bad values are named', () => {
    assert.throws(() => resolveTrainerConfig({ stepz: 3 }), /trainer config .*stepz/);
    assert.throws(() => resolveTrainerConfig({ earlyStop: { patiense: 3 } }), /earlyStop.*patiense/);
    assert.throws(() => resolveTrainerConfig({ schedule: { kind: 'cosine', lr: 1 } }), /schedule\.totalSteps/);
    const c = resolveTrainerConfig({ steps: 100 });
    assert.deepEqual(c.schedule, { kind: 'cosine', lr: 1, totalSteps: 100, minLr: 0.1 });
    assert.deepEqual(resolveTrainerConfig({ minutes: 2 }).schedule, { kind: 'constant', lr: 1 });
  });
});
