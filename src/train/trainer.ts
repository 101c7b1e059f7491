/**
 * The trainer: drives a TrainTask (src/train/task.ts) for a budget of steps and/or minutes with a
 * pure learning-rate schedule (src/engine/schedule.ts), evaluates every N steps (and/or every S
 * seconds), stops early on a validation figure (patience + min-delta), checkpoints every N steps
 * and on exit, resumes bit-exactly, and recovers from a diverged step.
 *
 * Platform-neutral: persistence and evaluation are hooks (src/platform/run-folder.ts supplies
 * the on-disk ones), so the same loop runs in a browser worker.
 *
 * Bit-exact resume: the learning rate at step s is lrAt(schedule, s) * lrFactor, where lrFactor
 * (halved on each rollback) is part of the checkpointed trainer state together with the
 * parameters, optimiser state, RNG states, the step, the best figure and patience counter. A run
 * resumed from step k and trained to n gives the same bits as one trained straight to n, as long
 * as evaluation is scheduled by steps (evaluation reads the field but never draws from its RNGs;
 * a time-based evaluation or budget makes *when* things happen depend on the clock).
 *
 * Divergence: a step whose loss is NaN/Inf (or that throws a 'bad-data' MedfieldError, as
 * FieldModel.trainStep does on a non-finite loss), or parameters found non-finite before a
 * checkpoint, rolls the task back to the last good in-memory snapshot (taken at every checkpoint
 * and at the start), halves the learning rate and continues; after `maxRollbacks` rollbacks the
 * run stops with a clear error.
 */
import { z } from 'zod';
import { MedfieldError, isMedfieldError } from '../core/errors.js';
import type { RngState } from '../core/rng.js';
import { restoreCheckpoint, type CheckpointData, type CheckpointInput } from '../engine/checkpoint-data.js';
import { firstNonFinite } from '../engine/finite.js';
import type { Optimizer, OptimizerState } from '../engine/params.js';
import { zeroGrad } from '../engine/params.js';
import { lrAt, lrScheduleSchema, type LrSchedule } from '../engine/schedule.js';
import type { TrainTask } from './task.js';

export const earlyStopSchema = z.strictObject({
  /** Key of the evaluation record to watch, e.g. 'psnr2d', 'psnr3d', 'trainLoss'. */
  metric: z.string().min(1).default('psnr2d'),
  /** 'max': higher is better (PSNR, SSIM); 'min': lower is better (a loss). */
  mode: z.enum(['max', 'min']).default('max'),
  /** Evaluations without an improvement of more than minDelta before stopping (>= 1). */
  patience: z.number().int().min(1).default(5),
  /** Smallest change that counts as an improvement (in the metric's units, >= 0). */
  minDelta: z.number().finite().min(0).default(0.05),
});

export const trainerConfigSchema = z.strictObject({
  /** Step budget (optimiser steps in total, counting resumed ones). */
  steps: z.number().int().min(1).optional(),
  /** Time budget in minutes of training (summed over resumed sessions; evaluation and checkpoints excluded). */
  minutes: z.number().finite().positive().optional(),
  /**
   * Learning-rate multiplier schedule (lr 1 = the task's configured base rate). Default: cosine
   * from 1 to 0.1 over `steps` when a step budget is given, else constant 1.
   */
  schedule: lrScheduleSchema.optional(),
  /** Evaluate every N steps (0 = never by steps). */
  evalEvery: z.number().int().min(0).default(100),
  /** Also evaluate when this many seconds passed since the last evaluation (0 = never by time). */
  evalEverySeconds: z.number().finite().min(0).default(0),
  /** Early stop on a validation figure; null = off. */
  earlyStop: earlyStopSchema.nullable().default(null),
  /** Checkpoint (and in-memory snapshot) every N steps (0 = only at the end). */
  checkpointEvery: z.number().int().min(0).default(500),
  /** Rollbacks after divergence before giving up. */
  maxRollbacks: z.number().int().min(0).default(3),
});
export type TrainerConfigInput = z.input<typeof trainerConfigSchema>;
export type TrainerConfig = Omit<z.infer<typeof trainerConfigSchema>, 'schedule'> & { schedule: LrSchedule };

/** Default step budget when neither steps nor minutes is given. */
export const DEFAULT_STEPS = 2000;

/** Validates a trainer config, fills defaults (including the schedule); errors name the key. */
export function resolveTrainerConfig(input: unknown, subject = 'trainer config'): TrainerConfig {
  const r = trainerConfigSchema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    throw new MedfieldError('bad-option', `${subject} ${issue.path.join('.') || '(root)'}${keys}`, issue.message);
  }
  const c = r.data;
  const steps = c.steps ?? (c.minutes === undefined ? DEFAULT_STEPS : undefined);
  const schedule: LrSchedule = c.schedule ?? (steps !== undefined
    ? { kind: 'cosine', lr: 1, totalSteps: steps, minLr: 0.1 }
    : { kind: 'constant', lr: 1 });
  return { ...c, ...(steps !== undefined ? { steps } : {}), schedule };
}

/** What the trainer keeps besides the task's tensors (checkpointed as JSON metadata 'trainer'). */
export interface TrainerState {
  /** Completed steps. */
  step: number;
  /** Training seconds so far (summed over sessions; evaluation and checkpoint writing excluded). */
  elapsedS: number;
  /** Multiplier on the schedule, halved on each rollback. */
  lrFactor: number;
  rollbacks: number;
  /** Best value of the early-stop metric and its step (null before the first evaluation). */
  best: { value: number; step: number } | null;
  /** Evaluations since the best one. */
  evalsSinceBest: number;
  /** Step of the last evaluation (-1: none). */
  lastEvalStep: number;
  /** Why the run stopped, once it has. */
  stopReason: StopReason | null;
}
export type StopReason = 'steps' | 'minutes' | 'early-stop' | 'requested';

/** One evaluation's figures, by name ('psnr2d', 'ssim2d', 'psnr3d', ...). */
export type EvalFigures = Readonly<Record<string, number | null>>;

export interface EvalContext { step: number; elapsedS: number; trainLoss: number; lr: number }
export interface ProgressInfo { step: number; totalSteps: number | null; loss: number; lr: number; elapsedS: number; fraction: number; lastFigures: EvalFigures | null }
export interface RollbackInfo { step: number; toStep: number; loss: number; reason: string; lrFactor: number; rollbacks: number }

export interface TrainerHooks {
  /** Computes validation figures (e.g. test-view PSNR); the early-stop metric must be among them. */
  evaluate?: (ctx: EvalContext) => EvalFigures | Promise<EvalFigures>;
  /** Persists a checkpoint (e.g. saveCheckpoint of src/platform/checkpoint.ts). */
  persist?: (ckpt: CheckpointInput, state: TrainerState) => Promise<void>;
  onProgress?: (p: ProgressInfo) => void;
  onEval?: (ctx: EvalContext, figures: EvalFigures, improved: boolean) => void | Promise<void>;
  onRollback?: (info: RollbackInfo) => void;
  /** Milliseconds clock (default performance.now / Date.now). */
  now?: () => number;
  /** How often (ms of training) the loop yields to the event loop for progress and signals (default 200). */
  yieldMs?: number;
}

export interface TrainSummary {
  steps: number;
  /** Training seconds (all sessions), without evaluation and checkpoint time. */
  elapsedS: number;
  /** Wall seconds of this session, everything included. */
  wallS: number;
  stopReason: StopReason;
  finalLoss: number;
  best: { metric: string; value: number; step: number } | null;
  rollbacks: number;
  lastFigures: EvalFigures | null;
}

const MULTI = 'multi';

/**
 * One Optimizer view over a task's named optimisers, for checkpoints: a single optimiser's state
 * passes through unchanged; several are stored as kind 'multi' with '<name>/' key prefixes.
 */
export function combineOptimizers(opts: Readonly<Record<string, Optimizer>>): Optimizer | undefined {
  const names = Object.keys(opts);
  if (names.length === 0) return undefined;
  if (names.length === 1) return opts[names[0]!]!;
  return {
    step(lr: number) { for (const n of names) opts[n]!.step(lr); },
    state(): OptimizerState {
      const tensors: Record<string, Float32Array> = {};
      const scalars: Record<string, number> = {};
      const kinds: string[] = [];
      for (const n of names) {
        const s = opts[n]!.state();
        kinds.push(`${n}=${s.kind}`);
        for (const [k, v] of Object.entries(s.tensors)) tensors[`${n}/${k}`] = v;
        for (const [k, v] of Object.entries(s.scalars)) scalars[`${n}/${k}`] = v;
      }
      return { kind: `${MULTI}:${kinds.join(',')}`, tensors, scalars };
    },
    loadState(state: OptimizerState) {
      for (const n of names) {
        const cur = opts[n]!.state();
        const tensors: Record<string, Float32Array> = {};
        const scalars: Record<string, number> = {};
        for (const k of Object.keys(cur.tensors)) tensors[k] = state.tensors[`${n}/${k}`]!;
        for (const k of Object.keys(cur.scalars)) scalars[k] = state.scalars[`${n}/${k}`]!;
        opts[n]!.loadState({ kind: cur.kind, tensors, scalars });
      }
    },
  };
}

interface Snapshot {
  params: Float32Array[];
  optimizer: OptimizerState | undefined;
  rngs: Record<string, RngState>;
  state: TrainerState;
}

function defaultNow(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Drives one task. Create, optionally `restore` a checkpoint, then `await run()`. */
export class Trainer {
  readonly config: TrainerConfig;
  state: TrainerState;
  private readonly optimizer: Optimizer | undefined;
  private snapshot: Snapshot | null = null;
  private stopRequested = false;
  private lastFigures: EvalFigures | null = null;
  private lastLoss = NaN;

  constructor(readonly task: TrainTask, config: unknown, private readonly hooks: TrainerHooks = {}, private readonly runConfig?: Record<string, unknown>) {
    this.config = resolveTrainerConfig(config);
    this.optimizer = combineOptimizers(task.optimizers());
    this.state = { step: 0, elapsedS: 0, lrFactor: 1, rollbacks: 0, best: null, evalsSinceBest: 0, lastEvalStep: -1, stopReason: null };
  }

  /** Asks the loop to stop after the current step (it then checkpoints and returns). */
  requestStop(): void { this.stopRequested = true; }

  /** Learning-rate multiplier passed to the task at `step`. */
  lrScaleAt(step: number): number {
    return lrAt(this.config.schedule, step) * this.state.lrFactor;
  }

  /** Everything a checkpoint holds (tensors are views of live buffers: persist before the next step). */
  checkpointInput(): CheckpointInput {
    const rngs: Record<string, RngState> = {};
    for (const [n, r] of Object.entries(this.task.rngs())) rngs[n] = r.getState();
    return {
      step: this.state.step,
      params: this.task.params(),
      ...(this.optimizer ? { optimizer: this.optimizer.state() } : {}),
      rngs,
      config: this.runConfig ?? { task: this.task.resolvedConfig(), trainer: this.config },
      metadata: { trainer: JSON.stringify(this.state), task_kind: this.task.kind },
    };
  }

  /** Restores task tensors and trainer state from a decoded checkpoint (validated first). */
  restore(data: CheckpointData, subject = 'checkpoint'): void {
    const text = data.metadata['trainer'];
    let st: TrainerState | null = null;
    if (text !== undefined) {
      try { st = JSON.parse(text) as TrainerState; } catch { throw new MedfieldError('bad-file', subject, "metadata 'trainer' is not valid JSON"); }
    }
    const step = restoreCheckpoint(data, { params: this.task.params(), ...(this.optimizer ? { optimizer: this.optimizer } : {}), rngs: this.task.rngs() }, subject);
    this.state = st ? { ...st, step, stopReason: null } : { ...this.state, step };
    this.snapshot = null;
  }

  private takeSnapshot(): void {
    const rngs: Record<string, RngState> = {};
    for (const [n, r] of Object.entries(this.task.rngs())) rngs[n] = r.getState();
    const prev = this.snapshot;
    const params = this.task.params().map((p, i) => {
      const buf = prev && prev.params[i] && prev.params[i]!.length === p.data.length ? prev.params[i]! : new Float32Array(p.data.length);
      buf.set(p.data);
      return buf;
    });
    this.snapshot = { params, optimizer: this.optimizer?.state(), rngs, state: { ...this.state, best: this.state.best && { ...this.state.best } } };
  }

  private paramsFinite(): string | null {
    for (const p of this.task.params()) if (firstNonFinite(p.data) >= 0) return p.name;
    return null;
  }

  private rollback(loss: number, reason: string, now: number, t0: number, elapsed0: number): void {
    const snap = this.snapshot;
    const failedStep = this.state.step;
    const rollbacks = this.state.rollbacks + 1;
    if (!snap || rollbacks > this.config.maxRollbacks) {
      throw new MedfieldError('bad-data', 'training',
        `diverged at step ${failedStep} (${reason}) after ${rollbacks - 1} rollback(s) with the learning rate halved each time; `
        + `giving up (maxRollbacks ${this.config.maxRollbacks}). Lower the learning rate or check the data`);
    }
    const params = this.task.params();
    params.forEach((p, i) => p.data.set(snap.params[i]!));
    if (this.optimizer && snap.optimizer) this.optimizer.loadState(snap.optimizer);
    for (const [n, r] of Object.entries(this.task.rngs())) r.setState(snap.rngs[n]!);
    zeroGrad(params);
    // Time keeps counting; everything else returns to the snapshot, at half the rate.
    const elapsedS = elapsed0 + (now - t0) / 1000;
    this.state = { ...snap.state, best: snap.state.best && { ...snap.state.best }, elapsedS, rollbacks, lrFactor: snap.state.lrFactor * 0.5 };
    snap.state.rollbacks = rollbacks;
    snap.state.lrFactor = this.state.lrFactor;
    this.hooks.onRollback?.({ step: failedStep, toStep: this.state.step, loss, reason, lrFactor: this.state.lrFactor, rollbacks });
  }

  private async persist(): Promise<void> {
    if (this.hooks.persist) await this.hooks.persist(this.checkpointInput(), this.state);
  }

  private async evaluate(loss: number): Promise<boolean> {
    const ctx: EvalContext = { step: this.state.step, elapsedS: this.state.elapsedS, trainLoss: loss, lr: this.lrScaleAt(Math.max(0, this.state.step - 1)) };
    const figures = this.hooks.evaluate ? await this.hooks.evaluate(ctx) : { trainLoss: loss };
    const all: EvalFigures = { trainLoss: loss, ...figures };
    this.lastFigures = all;
    this.state.lastEvalStep = this.state.step;
    let improved = false;
    const es = this.config.earlyStop;
    if (es) {
      const v = all[es.metric];
      if (v === undefined) throw new MedfieldError('bad-option', 'trainer config earlyStop.metric', `'${es.metric}' is not among the evaluation figures (${Object.keys(all).join(', ')})`);
      if (typeof v === 'number' && Number.isFinite(v)) {
        const b = this.state.best;
        improved = !b || (es.mode === 'max' ? v > b.value + es.minDelta : v < b.value - es.minDelta);
        if (improved) { this.state.best = { value: v, step: this.state.step }; this.state.evalsSinceBest = 0; }
        else this.state.evalsSinceBest++;
      } else this.state.evalsSinceBest++;
    }
    await this.hooks.onEval?.(ctx, all, improved);
    return Boolean(es && this.state.evalsSinceBest >= es.patience);
  }

  /** Trains until a budget is spent, early stop fires, or a stop is requested; checkpoints at the end. */
  async run(): Promise<TrainSummary> {
    const cfg = this.config;
    const now = this.hooks.now ?? defaultNow;
    const yieldMs = this.hooks.yieldMs ?? 200;
    const t0 = now();
    // Training time excludes evaluation and checkpoint writing (they are reported separately as wall time).
    let pausedMs = 0;
    const trainT0 = (): number => t0 + pausedMs;
    const elapsed0 = this.state.elapsedS;
    let lastYield = t0, lastEvalT = t0;
    this.state.stopReason = null;
    this.takeSnapshot();
    const budgetS = cfg.minutes !== undefined ? cfg.minutes * 60 : Infinity;
    const totalSteps = cfg.steps ?? null;
    let reason: StopReason | null = null;
    while (reason === null) {
      if (totalSteps !== null && this.state.step >= totalSteps) { reason = 'steps'; break; }
      if (this.state.elapsedS >= budgetS) { reason = 'minutes'; break; }
      if (this.stopRequested) { reason = 'requested'; break; }
      const s = this.state.step;
      const lrScale = this.lrScaleAt(s);
      let loss: number;
      let failure: string | null = null;
      try {
        loss = this.task.step(s, lrScale).loss;
        if (!Number.isFinite(loss)) failure = `loss is ${loss}`;
      } catch (e) {
        if (!(isMedfieldError(e) && e.code === 'bad-data')) throw e;
        loss = NaN;
        failure = e.message;
      }
      const tNow = now();
      if (failure !== null) {
        this.rollback(loss, failure, tNow, trainT0(), elapsed0);
        continue;
      }
      this.lastLoss = loss;
      this.state.step = s + 1;
      this.state.elapsedS = elapsed0 + (tNow - trainT0()) / 1000;
      const step = this.state.step;
      const doEval = (cfg.evalEvery > 0 && step % cfg.evalEvery === 0)
        || (cfg.evalEverySeconds > 0 && (tNow - lastEvalT) / 1000 >= cfg.evalEverySeconds);
      if (doEval) {
        lastEvalT = tNow;
        if (await this.evaluate(loss)) reason = 'early-stop';
        pausedMs += now() - tNow;
      }
      if (cfg.checkpointEvery > 0 && step % cfg.checkpointEvery === 0 && reason === null) {
        const tc = now();
        const bad = this.paramsFinite();
        if (bad !== null) { this.rollback(loss, `parameter '${bad}' holds NaN/Inf`, tc, trainT0(), elapsed0); continue; }
        this.takeSnapshot();
        await this.persist();
        pausedMs += now() - tc;
      }
      if (this.hooks.onProgress || yieldMs >= 0) {
        const t = now();
        if (t - lastYield >= yieldMs) {
          lastYield = t;
          this.reportProgress(totalSteps, budgetS);
          await new Promise<void>((res) => setTimeout(res, 0));
        }
      }
    }
    this.state.stopReason = reason;
    this.state.elapsedS = elapsed0 + (now() - trainT0()) / 1000;
    const bad = this.paramsFinite();
    if (bad !== null) {
      throw new MedfieldError('bad-data', bad, `parameter holds NaN/Inf at the end of training (step ${this.state.step}); the last good checkpoint was kept`);
    }
    // A final evaluation unless the last step was just evaluated.
    if (this.state.lastEvalStep !== this.state.step && this.state.step > 0 && Number.isFinite(this.lastLoss)) await this.evaluate(this.lastLoss);
    this.reportProgress(totalSteps, budgetS);
    await this.persist();
    const es = cfg.earlyStop;
    return {
      steps: this.state.step, elapsedS: this.state.elapsedS, wallS: (now() - t0) / 1000, stopReason: reason, finalLoss: this.lastLoss,
      best: es && this.state.best ? { metric: es.metric, ...this.state.best } : null,
      rollbacks: this.state.rollbacks, lastFigures: this.lastFigures,
    };
  }

  private reportProgress(totalSteps: number | null, budgetS: number): void {
    if (!this.hooks.onProgress) return;
    const fs = totalSteps !== null ? this.state.step / totalSteps : 0;
    const ft = Number.isFinite(budgetS) ? this.state.elapsedS / budgetS : 0;
    this.hooks.onProgress({
      step: this.state.step, totalSteps, loss: this.lastLoss, lr: this.lrScaleAt(this.state.step), elapsedS: this.state.elapsedS,
      fraction: Math.min(1, Math.max(fs, ft)), lastFigures: this.lastFigures,
    });
  }
}
