/**
 * Learning-rate schedules as plain, JSON-serialisable config (variants by `kind`, zod schema
 * beside it) and a pure function `lrAt(schedule, step)`: the rate depends on nothing but the step,
 * so a resumed run reproduces it exactly from the checkpointed step.
 *
 * Steps count from 0 (the first update uses lrAt(0)).
 *  - constant:    lr
 *  - step:        lr * gamma^floor(step / stepSize)                         (PyTorch StepLR)
 *  - exponential: lr * gamma^(step / decaySteps)                            (NeRF/NAF: gamma 0.1 over the run)
 *  - cosine:      minLr + (lr - minLr) * (1 + cos(pi * min(step, totalSteps) / totalSteps)) / 2
 *                 (Loshchilov & Hutter 2017, SGDR, one cycle without restarts)
 *  - warmup:      wraps any schedule: during the first `warmupSteps` steps the inner rate is
 *                 multiplied by a factor rising linearly from `startFactor` (step 0) towards 1
 *                 (Goyal et al. 2017, "gradual warm-up"); with `shift` the inner schedule's clock
 *                 starts after the warm-up (inner step = max(0, step - warmupSteps)).
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';

const positive = z.number().finite().positive();
const nonNegInt = z.number().int().min(0);

export const constantScheduleSchema = z.strictObject({ kind: z.literal('constant'), lr: positive });
export const stepScheduleSchema = z.strictObject({
  kind: z.literal('step'), lr: positive,
  /** Steps between decays (>= 1). */
  stepSize: z.number().int().min(1),
  /** Factor per decay, in (0, 1]. */
  gamma: z.number().finite().gt(0).max(1).default(0.1),
});
export const exponentialScheduleSchema = z.strictObject({
  kind: z.literal('exponential'), lr: positive,
  /** Factor applied over every `decaySteps` steps, in (0, 1]. */
  gamma: z.number().finite().gt(0).max(1),
  decaySteps: z.number().finite().positive().default(1),
  /** Floor on the rate (default 0). */
  minLr: z.number().finite().min(0).default(0),
});
export const cosineScheduleSchema = z.strictObject({
  kind: z.literal('cosine'), lr: positive,
  /** Steps over which the rate falls from lr to minLr; it stays at minLr afterwards. */
  totalSteps: z.number().int().min(1),
  minLr: z.number().finite().min(0).default(0),
});

const baseScheduleSchema = z.discriminatedUnion('kind', [
  constantScheduleSchema, stepScheduleSchema, exponentialScheduleSchema, cosineScheduleSchema,
]);

export const warmupScheduleSchema = z.strictObject({
  kind: z.literal('warmup'),
  warmupSteps: nonNegInt,
  /** Factor at step 0, in [0, 1]. */
  startFactor: z.number().finite().min(0).max(1).default(0),
  /** true: the inner schedule starts counting after the warm-up. */
  shift: z.boolean().default(false),
  inner: baseScheduleSchema,
});

export const lrScheduleSchema = z.discriminatedUnion('kind', [
  constantScheduleSchema, stepScheduleSchema, exponentialScheduleSchema, cosineScheduleSchema, warmupScheduleSchema,
]);

/** A resolved (defaults filled in) schedule config. */
export type LrSchedule = z.infer<typeof lrScheduleSchema>;
/** What a user may write (defaults optional). */
export type LrScheduleInput = z.input<typeof lrScheduleSchema>;

/** Validates a schedule config and fills defaults; throws a MedfieldError naming the field. */
export function resolveLrSchedule(input: unknown, subject = 'schedule'): LrSchedule {
  const r = lrScheduleSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = [subject, ...issue.path.map(String)].join('.');
    throw new MedfieldError('bad-option', field, issue.message);
  }
  if (r.data.kind === 'cosine' && r.data.minLr > r.data.lr) throw new MedfieldError('bad-option', `${subject}.minLr`, `must be <= lr (${r.data.lr})`);
  if (r.data.kind === 'warmup' && r.data.inner.kind === 'cosine' && r.data.inner.minLr > r.data.inner.lr) {
    throw new MedfieldError('bad-option', `${subject}.inner.minLr`, `must be <= lr (${r.data.inner.lr})`);
  }
  return r.data;
}

/** Learning rate at `step` (integer >= 0) of a resolved schedule. Pure. */
export function lrAt(schedule: LrSchedule, step: number): number {
  if (!(step >= 0) || !Number.isFinite(step)) throw new MedfieldError('bad-option', 'step', `expected a finite step >= 0, got ${step}`);
  switch (schedule.kind) {
    case 'constant':
      return schedule.lr;
    case 'step':
      return schedule.lr * schedule.gamma ** Math.floor(step / schedule.stepSize);
    case 'exponential':
      return Math.max(schedule.minLr, schedule.lr * schedule.gamma ** (step / schedule.decaySteps));
    case 'cosine': {
      const t = Math.min(step, schedule.totalSteps) / schedule.totalSteps;
      return schedule.minLr + (schedule.lr - schedule.minLr) * 0.5 * (1 + Math.cos(Math.PI * t));
    }
    case 'warmup': {
      const w = schedule.warmupSteps;
      const innerStep = schedule.shift ? Math.max(0, step - w) : step;
      const base = lrAt(schedule.inner, innerStep);
      if (step >= w) return base;
      return base * (schedule.startFactor + (1 - schedule.startFactor) * (step / w));
    }
  }
}

/** Validates once and returns `step -> lr`. */
export function createLrSchedule(input: unknown, subject = 'schedule'): (step: number) => number {
  const s = resolveLrSchedule(input, subject);
  return (step: number) => lrAt(s, step);
}
