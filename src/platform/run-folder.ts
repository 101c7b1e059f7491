/**
 * The run folder written by `medfield train` (GUIDE.md section 4):
 *
 *   run/config.resolved.json   the run's fully resolved config (dataset, task options, trainer)
 *   run/checkpoint.safetensors everything to resume bit-exactly (docs/checkpoints.md)
 *   run/metrics.json           one record per evaluation (src/train/metrics-log.ts)
 *   run/volume.nii.gz          the field sampled on the dataset grid, in the ground truth's geometry and units
 *   run/renders/               test views rendered by the field: test-<view>.png + views.npy [views, rows, cols]
 *   run/report.html            static report (src/export/report.ts)
 *
 * `trainRun` does a whole training run into a folder (new or resumed); `openRun` rebuilds the
 * trained task of a run for render/export.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import type { Backend } from '../engine/backend.js';
import { buildReportHtml, type ReportFigures } from '../export/report.js';
import { gridVolume } from '../geometry/grid.js';
import { encodeNpy } from '../io/npy.js';
import { encodePng, floatToGray } from '../io/png.js';
import {
  appendEvaluation, createMetricsLog, evaluateTask, formatMetricsLog, parseMetricsLog, truncateLog, type EvalTarget, type MetricsLog,
} from '../train/metrics-log.js';
import { createTaskForDataset, type TaskDataset } from '../train/registry.js';
import type { TrainTask } from '../train/task.js';
import { Trainer, resolveTrainerConfig, type TrainerConfig, type TrainerHooks, type TrainSummary } from '../train/trainer.js';
import { CHECKPOINT_FILE, loadCheckpoint, saveCheckpoint, type ChunkWriter } from './checkpoint.js';
import { readDataset, type Dataset } from './dataset.js';
import { readFileChecked, writeFileAtomic } from './fs.js';
import { writeVolume } from './volume-io.js';

export const RUN_FILES = {
  config: 'config.resolved.json', checkpoint: CHECKPOINT_FILE, metrics: 'metrics.json',
  volume: 'volume.nii.gz', renders: 'renders', report: 'report.html',
} as const;

/** config.resolved.json. */
export interface RunConfig {
  format: 'medfield-run';
  version: 1;
  /** Absolute path of the dataset folder. */
  dataset: string;
  /** What the task was built from (replayed by openRun and --resume). */
  taskOptions: { kind: string; preset?: string; config?: Record<string, unknown> };
  /** The task's fully resolved config, for people and scripts. */
  task: Record<string, unknown>;
  trainer: TrainerConfig;
}

/** A --config file: { kind?, preset?, task?: {...}, trainer?: {...} }; unknown keys are errors. */
export const trainConfigFileSchema = z.strictObject({
  kind: z.string().optional(),
  preset: z.string().optional(),
  task: z.record(z.string(), z.unknown()).optional(),
  trainer: z.record(z.string(), z.unknown()).optional(),
});
export type TrainConfigFile = z.infer<typeof trainConfigFileSchema>;

/** Parses a --config file's text; errors name the file and the key. */
export function parseTrainConfigFile(text: string, file: string): TrainConfigFile {
  let raw: unknown;
  try { raw = JSON.parse(text); } catch (e) { throw new MedfieldError('bad-option', file, `not valid JSON (${(e as Error).message})`); }
  const r = trainConfigFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.map((k) => `'${k}'`).join(', ')}; expected kind, preset, task, trainer` : issue.message;
    throw new MedfieldError('bad-option', `${file}${issue.path.length ? `: ${issue.path.join('.')}` : ''}`, keys);
  }
  return r.data;
}

export async function readRunConfig(runDir: string): Promise<RunConfig> {
  const file = path.join(runDir, RUN_FILES.config);
  const text = new TextDecoder().decode(await readFileChecked(file));
  let c: RunConfig;
  try { c = JSON.parse(text) as RunConfig; } catch (e) { throw new MedfieldError('bad-file', file, `not valid JSON (${(e as Error).message})`); }
  if (c?.format !== 'medfield-run' || typeof c.dataset !== 'string' || typeof c.taskOptions?.kind !== 'string') {
    throw new MedfieldError('bad-file', file, "not a medfield run config (expected format 'medfield-run' with dataset and taskOptions)");
  }
  return c;
}

export async function readMetrics(runDir: string): Promise<MetricsLog | null> {
  try {
    return parseMetricsLog(await fsp.readFile(path.join(runDir, RUN_FILES.metrics), 'utf8'));
  } catch {
    return null;
  }
}

export async function writeMetrics(runDir: string, log: MetricsLog): Promise<void> {
  await writeFileAtomic(path.join(runDir, RUN_FILES.metrics), formatMetricsLog(log));
}

/** The evaluation target of a dataset: its test split and ground truth. */
export function evalTargetOf(ds: TaskDataset): EvalTarget {
  const [, rows, cols] = ds.meta.projections.shape;
  const test = ds.meta.splits.test;
  const size = rows * cols;
  const trueViews = new Float32Array(test.length * size);
  test.forEach((v, i) => trueViews.set(ds.projections.subarray(v * size, (v + 1) * size), i * size));
  return { testViews: test, trueViews, rows, cols, groundTruth: ds.groundTruth ?? null, grid: ds.geometry };
}

/** Samples the task on the dataset grid as a Volume in the ground truth's geometry (or the grid's). */
export function runVolume(task: TrainTask, ds: TaskDataset): Volume<Float32Array> {
  const data = task.sampleGrid(ds.geometry);
  const gt = ds.groundTruth;
  if (gt) return { data, dims: [...gt.dims], spacingMm: [...gt.spacingMm], originMm: [...gt.originMm], direction: Float64Array.from(gt.direction) } as Volume<Float32Array>;
  return gridVolume(ds.geometry, data);
}

/** Writes views as PNGs (window [0, dataRange]) and views.npy [n, rows, cols] into `dir`. */
export async function writeViewImages(dir: string, views: Float32Array, names: readonly string[], rows: number, cols: number, dataRange: number): Promise<string[]> {
  await fsp.mkdir(dir, { recursive: true });
  const size = rows * cols;
  const files: string[] = [];
  for (let i = 0; i < names.length; i++) {
    const f = path.join(dir, `${names[i]}.png`);
    await writeFileAtomic(f, encodePng(floatToGray(views.subarray(i * size, (i + 1) * size), rows, cols, 0, dataRange)));
    files.push(f);
  }
  const npy = path.join(dir, 'views.npy');
  await writeFileAtomic(npy, encodeNpy({ data: views, shape: [names.length, rows, cols] }));
  files.push(npy);
  return files;
}

export interface TrainRunOptions {
  datasetDir: string;
  runDir: string;
  backend: Backend;
  /** Task kind (default: from the dataset), preset and task config. */
  kind?: string;
  preset?: string;
  taskConfig?: Record<string, unknown>;
  trainerConfig?: Record<string, unknown>;
  /** Continue the run in runDir from its checkpoint (config from config.resolved.json; steps/minutes may be raised). */
  resume?: boolean;
  steps?: number;
  minutes?: number;
  /** Classical baselines for the report's figures table. */
  baselines?: ReportFigures[];
  hooks?: Pick<TrainerHooks, 'onProgress' | 'onRollback' | 'onEval'>;
  /** Receives the trainer before it starts (e.g. to call requestStop on SIGINT). */
  onTrainer?: (t: Trainer) => void;
  /** Test hook: how checkpoint bytes reach the disk. */
  writeChunk?: ChunkWriter;
  /** Log lines (resume, files written). */
  log?: (msg: string) => void;
}

export interface TrainRunResult {
  summary: TrainSummary;
  runDir: string;
  config: RunConfig;
  metrics: MetricsLog;
  files: Record<string, string>;
  resumedFrom: number | null;
}

async function exists(p: string): Promise<boolean> {
  try { await fsp.stat(p); return true; } catch { return false; }
}

/** A whole training run into a run folder (new or resumed). */
export async function trainRun(o: TrainRunOptions): Promise<TrainRunResult> {
  const runDir = path.resolve(o.runDir);
  const ckptPath = path.join(runDir, RUN_FILES.checkpoint);
  let prev: RunConfig | null = null;
  if (o.resume) {
    if (!(await exists(ckptPath))) throw new MedfieldError('bad-option', '--resume', `${runDir} holds no ${RUN_FILES.checkpoint} to resume from`);
    prev = await readRunConfig(runDir);
  } else if (await exists(ckptPath)) {
    throw new MedfieldError('bad-option', runDir, `already holds a training run (${RUN_FILES.checkpoint}); pass --resume to continue it or choose another -o`);
  }
  const ds: Dataset & { groundTruth?: Volume } = await readDataset(o.datasetDir, { loadGroundTruth: true });
  const taskOptions: RunConfig['taskOptions'] = prev ? prev.taskOptions : {
    kind: o.kind ?? '', ...(o.preset !== undefined ? { preset: o.preset } : {}), ...(o.taskConfig !== undefined ? { config: o.taskConfig } : {}),
  };
  const task = await createTaskForDataset(ds, { ...(taskOptions.kind ? { kind: taskOptions.kind } : {}), ...(taskOptions.preset !== undefined ? { preset: taskOptions.preset } : {}), ...(taskOptions.config ? { config: taskOptions.config } : {}) }, o.backend);
  try {
    taskOptions.kind = task.kind;
    let trainerInput: Record<string, unknown> = prev ? { ...prev.trainer } : { ...(o.trainerConfig ?? {}) };
    if (o.steps !== undefined || o.minutes !== undefined) {
      const { steps: _s, minutes: _m, ...rest } = trainerInput;
      trainerInput = { ...rest, ...(o.steps !== undefined ? { steps: o.steps } : {}), ...(o.minutes !== undefined ? { minutes: o.minutes } : {}) };
    }
    const trainerCfg = resolveTrainerConfig(trainerInput);
    const config: RunConfig = { format: 'medfield-run', version: 1, dataset: path.resolve(o.datasetDir), taskOptions, task: task.resolvedConfig(), trainer: trainerCfg };
    const target = evalTargetOf(ds);
    let log = createMetricsLog(task, target);
    const persist: TrainerHooks['persist'] = async (ckpt) => {
      await saveCheckpoint(runDir, ckpt, o.writeChunk ? { writeChunk: o.writeChunk } : {});
    };
    const trainer = new Trainer(task, trainerCfg, {
      persist,
      evaluate: (ctx) => {
        const rec = evaluateTask(task, target, log, { step: ctx.step, timeS: ctx.elapsedS, trainLoss: ctx.trainLoss, lr: ctx.lr });
        appendEvaluation(log, rec);
        return { psnr2d: rec.psnr2d, ssim2d: rec.ssim2d, psnr3d: rec.psnr3d, ssim3d: rec.ssim3d };
      },
      onEval: async (ctx, f, improved) => {
        await writeMetrics(runDir, log);
        await o.hooks?.onEval?.(ctx, f, improved);
      },
      onRollback: (r) => {
        log.events.push({ step: r.step, kind: 'rollback', message: `${r.reason}; rolled back to step ${r.toStep}, learning rate x${r.lrFactor}` });
        o.hooks?.onRollback?.(r);
      },
      ...(o.hooks?.onProgress ? { onProgress: o.hooks.onProgress } : {}),
    }, config as unknown as Record<string, unknown>);
    let resumedFrom: number | null = null;
    if (prev) {
      trainer.restore(await loadCheckpoint(runDir), ckptPath);
      resumedFrom = trainer.state.step;
      const old = await readMetrics(runDir);
      if (old) { truncateLog(old, resumedFrom); log = old; }
      // A write cut short by a kill leaves its temp file (.<name>.tmp-<pid>-<hex>...): remove them.
      for (const f of await fsp.readdir(runDir)) if (/^\.[\w-]+\.tmp-\d+-[0-9a-f]+/.test(f)) await fsp.rm(path.join(runDir, f), { force: true });
      log.events.push({ step: resumedFrom, kind: 'resume', message: `resumed from the checkpoint at step ${resumedFrom}` });
      o.log?.(`resuming ${runDir} at step ${resumedFrom}`);
    } else {
      await fsp.mkdir(runDir, { recursive: true });
      await writeFileAtomic(path.join(runDir, RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
    }
    o.onTrainer?.(trainer);
    const summary = await trainer.run();
    if (summary.stopReason === 'early-stop') log.events.push({ step: summary.steps, kind: 'early-stop', message: `no improvement of ${trainerCfg.earlyStop?.metric} by more than ${trainerCfg.earlyStop?.minDelta} in ${trainerCfg.earlyStop?.patience} evaluations` });
    // Outputs.
    const files: Record<string, string> = { config: path.join(runDir, RUN_FILES.config), checkpoint: ckptPath };
    const vol = runVolume(task, ds);
    files['volume'] = path.join(runDir, RUN_FILES.volume);
    await writeVolume(files['volume'], vol);
    const [, rows, cols] = ds.meta.projections.shape;
    const test = ds.meta.splits.test;
    let rendered: Float32Array | null = null;
    if (test.length > 0) {
      rendered = task.renderViews(test);
      await writeViewImages(path.join(runDir, RUN_FILES.renders), rendered, test.map((v) => `test-${String(v).padStart(3, '0')}`), rows, cols, task.viewDataRange);
      files['renders'] = path.join(runDir, RUN_FILES.renders);
    }
    const last = log.evaluations[log.evaluations.length - 1] ?? null;
    log.summary = { steps: summary.steps, seconds: summary.elapsedS, stopReason: summary.stopReason, finalLoss: summary.finalLoss, best: summary.best, rollbacks: summary.rollbacks, last };
    files['metrics'] = path.join(runDir, RUN_FILES.metrics);
    await writeMetrics(runDir, log);
    const html = buildReportHtml({
      title: `medfield ${task.kind} run`,
      subtitle: [`dataset ${config.dataset} (${ds.meta.protocol}, ${ds.meta.modality}), ${ds.meta.splits.train.length} train / ${test.length} test views`,
        `${summary.steps} steps in ${summary.elapsedS.toFixed(1)} s of training (${summary.wallS.toFixed(1)} s wall this session), stopped: ${summary.stopReason}${summary.rollbacks ? `, ${summary.rollbacks} rollback(s)` : ''}`],
      metrics: log,
      figures: [{ method: `neural field (${task.kind})`, psnr3d: last?.psnr3d, ssim3d: last?.ssim3d, psnr2d: last?.psnr2d, ssim2d: last?.ssim2d, seconds: summary.elapsedS }, ...(o.baselines ?? [])],
      recon: vol, groundTruth: ds.groundTruth ?? null,
      ...(rendered ? { views: { indices: test, rendered, truth: target.trueViews, rows, cols, dataRange: task.viewDataRange } } : {}),
      config,
    });
    files['report'] = path.join(runDir, RUN_FILES.report);
    await writeFileAtomic(files['report'], html);
    return { summary, runDir, config, metrics: log, files, resumedFrom };
  } finally {
    task.dispose();
  }
}

/** Rebuilds the trained task of a run folder (dataset, task, checkpoint). The caller disposes it. */
export async function openRun(runDir: string, backend: Backend): Promise<{ config: RunConfig; dataset: Dataset & { groundTruth?: Volume }; task: TrainTask; step: number }> {
  const config = await readRunConfig(runDir);
  const dataset = await readDataset(config.dataset, { loadGroundTruth: true });
  const t = config.taskOptions;
  const task = await createTaskForDataset(dataset, { kind: t.kind, ...(t.preset !== undefined ? { preset: t.preset } : {}), ...(t.config ? { config: t.config } : {}) }, backend);
  try {
    const trainer = new Trainer(task, config.trainer);
    trainer.restore(await loadCheckpoint(runDir), path.join(runDir, RUN_FILES.checkpoint));
    return { config, dataset, task, step: trainer.state.step };
  } catch (e) {
    task.dispose();
    throw e;
  }
}
