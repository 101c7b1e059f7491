/**
 * metrics.json of a run: one record per evaluation (step, seconds, train loss, learning-rate
 * multiplier, 2D PSNR/SSIM on the test views, 3D PSNR/SSIM against the ground truth when there
 * is one) plus events (rollbacks) and the data ranges used, stated:
 *  - 2D: data range = task.viewDataRange (the max of the training views), per-view PSNR/SSIM
 *    averaged over the test views;
 *  - 3D: data range = the ground truth's max - min, volume sampled on the dataset grid.
 * Platform-neutral; src/platform/run-folder.ts writes it.
 */
import type { Volume } from '../core/volume.js';
import type { GridFields } from '../geometry/grid.js';
import { psnr } from '../metrics/psnr.js';
import { ssim2d, ssim3d } from '../metrics/ssim.js';
import type { TrainTask } from './task.js';

export const METRICS_FORMAT = 'medfield-metrics';

export interface EvalRecord {
  step: number;
  timeS: number;
  trainLoss: number;
  lr: number;
  psnr2d: number | null;
  ssim2d: number | null;
  psnr3d: number | null;
  ssim3d: number | null;
}

export interface MetricsEvent { step: number; kind: 'rollback' | 'early-stop' | 'resume'; message: string }

export interface MetricsLog {
  format: typeof METRICS_FORMAT;
  version: 1;
  taskKind: string;
  testViews: number[];
  dataRange2d: number;
  dataRange2dSource: string;
  dataRange3d: number | null;
  dataRange3dSource: string | null;
  evaluations: EvalRecord[];
  events: MetricsEvent[];
  /** Filled at the end of a run. */
  summary: Record<string, unknown> | null;
}

/** What evaluation compares against. */
export interface EvalTarget {
  /** Test view indices (dataset order) and their true values Float32 [n, rows, cols]. */
  readonly testViews: readonly number[];
  readonly trueViews: Float32Array | null;
  readonly rows: number;
  readonly cols: number;
  /** Ground truth and its grid (the dataset grid). */
  readonly groundTruth: Volume | null;
  readonly grid: GridFields;
}

export function createMetricsLog(task: TrainTask, target: EvalTarget): MetricsLog {
  const range3d = target.groundTruth ? gtRange(target.groundTruth) : null;
  return {
    format: METRICS_FORMAT, version: 1, taskKind: task.kind, testViews: [...target.testViews],
    dataRange2d: task.viewDataRange, dataRange2dSource: 'task.viewDataRange (max of the training views)',
    dataRange3d: range3d, dataRange3dSource: range3d === null ? null : 'ground truth max - min',
    evaluations: [], events: [], summary: null,
  };
}

function gtRange(v: Volume): number {
  let lo = Infinity, hi = -Infinity;
  const d = v.data as ArrayLike<number>;
  for (let i = 0; i < d.length; i++) { const x = d[i]!; if (x < lo) lo = x; if (x > hi) hi = x; }
  return hi > lo ? hi - lo : 1;
}

/** Mean per-view PSNR and SSIM of `pred` against `truth` ([n, rows, cols]); SSIM null when a view is smaller than its window. */
export function viewMetrics(pred: Float32Array, truth: Float32Array, n: number, rows: number, cols: number, dataRange: number): { psnr: number; ssim: number | null } {
  const size = rows * cols;
  let p = 0, s = 0;
  let ssimOk = rows >= 11 && cols >= 11;
  for (let v = 0; v < n; v++) {
    const a = truth.subarray(v * size, (v + 1) * size), b = pred.subarray(v * size, (v + 1) * size);
    const pv = psnr(a, b, { dataRange });
    p += Number.isFinite(pv) ? pv : 100; // identical views: cap at 100 dB so the mean stays finite
    if (ssimOk) {
      try { s += ssim2d(a, b, rows, cols, { dataRange }); } catch { ssimOk = false; }
    }
  }
  return { psnr: p / n, ssim: ssimOk ? s / n : null };
}

/** 3D PSNR/SSIM of a sampled volume against the ground truth (data range: gt max - min). */
export function volumeMetrics(pred: Float32Array, gt: Volume, dataRange: number): { psnr: number; ssim: number | null } {
  const ref = gt.data as ArrayLike<number>;
  const p = psnr(ref, pred, { dataRange });
  let s: number | null = null;
  try { s = ssim3d(ref, pred, gt.dims, { dataRange }); } catch { s = null; }
  return { psnr: Number.isFinite(p) ? p : 100, ssim: s };
}

/** Evaluates a task: renders the test views and samples the volume; returns the record. */
export function evaluateTask(task: TrainTask, target: EvalTarget, log: MetricsLog, ctx: { step: number; timeS: number; trainLoss: number; lr: number }): EvalRecord {
  let psnr2d: number | null = null, ssim2dv: number | null = null, psnr3d: number | null = null, ssim3dv: number | null = null;
  if (target.trueViews && target.testViews.length > 0) {
    const pred = task.renderViews(target.testViews);
    const m = viewMetrics(pred, target.trueViews, target.testViews.length, target.rows, target.cols, log.dataRange2d);
    psnr2d = m.psnr; ssim2dv = m.ssim;
  }
  if (target.groundTruth && log.dataRange3d !== null) {
    const vol = task.sampleGrid(target.grid);
    const m = volumeMetrics(vol, target.groundTruth, log.dataRange3d);
    psnr3d = m.psnr; ssim3dv = m.ssim;
  }
  return { step: ctx.step, timeS: ctx.timeS, trainLoss: ctx.trainLoss, lr: ctx.lr, psnr2d, ssim2d: ssim2dv, psnr3d, ssim3d: ssim3dv };
}

/** Adds a record, dropping any later ones (after a rollback or resume the steps repeat). */
export function appendEvaluation(log: MetricsLog, rec: EvalRecord): void {
  while (log.evaluations.length > 0 && log.evaluations[log.evaluations.length - 1]!.step >= rec.step) log.evaluations.pop();
  log.evaluations.push(rec);
}

/** Drops records after `step` (resuming from a checkpoint at `step`). */
export function truncateLog(log: MetricsLog, step: number): void {
  log.evaluations = log.evaluations.filter((e) => e.step <= step);
  log.events = log.events.filter((e) => e.step <= step);
}

/** JSON text (non-finite numbers become null). */
export function formatMetricsLog(log: MetricsLog): string {
  return JSON.stringify(log, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Parses metrics.json text (lenient: returns null when it is not a medfield metrics log). */
export function parseMetricsLog(text: string): MetricsLog | null {
  try {
    const v = JSON.parse(text) as MetricsLog;
    return v && v.format === METRICS_FORMAT && Array.isArray(v.evaluations) ? v : null;
  } catch {
    return null;
  }
}
