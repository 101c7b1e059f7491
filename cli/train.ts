/** `medfield train <dataset/> -o <run/>`: neural reconstruction into a run folder (src/platform/run-folder.ts). */
import type { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { MedfieldError } from '../src/core/errors.js';
import type { Backend } from '../src/engine/backend.js';
import { createCpuBackend } from '../src/engine/cpu/backend.js';
import type { ReportFigures } from '../src/export/report.js';
import { psnr } from '../src/metrics/psnr.js';
import { ssim3d } from '../src/metrics/ssim.js';
import { createEnginePool } from '../src/platform/engine-pool.js';
import { createProgress } from '../src/platform/progress.js';
import { parseTrainConfigFile, trainRun } from '../src/platform/run-folder.js';
import { readVolume } from '../src/platform/volume-io.js';
import { readDataset } from '../src/platform/dataset.js';
import { deepMerge } from '../src/core/merge.js';
import { action, emit, log, parseChoice, parseNumber, readConfigText, type GlobalOptions } from './common.js';
import { DEFAULT_ATTENUATION_PRESET } from './tasks.js';

interface TrainOpts {
  output: string; preset?: string; config?: string; task?: string; minutes?: number; steps?: number;
  resume?: boolean; threads?: number; evalEvery?: number; evalSeconds?: number; checkpointEvery?: number; baseline?: string[];
  warm?: 'fdk' | 'sart' | 'none';
}

/** A compute backend: inline for 1 thread, else a worker pool. */
export async function createBackend(threads: number | undefined): Promise<Backend> {
  const n = threads ?? Math.min(2, availableParallelism());
  return n <= 1 ? createCpuBackend() : createEnginePool({ threads: n });
}

function fmtLoss(x: number): string {
  return Number.isFinite(x) ? x.toExponential(3) : String(x);
}

/** Figures of a classical reconstruction (a volume file) against the dataset's ground truth. */
async function baselineFigures(file: string, datasetDir: string): Promise<ReportFigures> {
  const ds = await readDataset(datasetDir, { loadGroundTruth: true });
  const gt = ds.groundTruth;
  const v = await readVolume(file);
  const name = file.replace(/^.*[\\/]/, '').replace(/\.(nii\.gz|nii|nrrd|mha|npy)$/i, '');
  if (!gt) return { method: name };
  if (v.data.length !== gt.data.length) throw new MedfieldError('bad-data', file, `baseline has ${v.data.length} voxels, the dataset grid ${gt.data.length}`);
  let lo = Infinity, hi = -Infinity;
  const g = gt.data as ArrayLike<number>;
  for (let i = 0; i < g.length; i++) { if (g[i]! < lo) lo = g[i]!; if (g[i]! > hi) hi = g[i]!; }
  const range = hi > lo ? hi - lo : 1;
  return { method: name, psnr3d: psnr(g, v.data as ArrayLike<number>, { dataRange: range }), ssim3d: ssim3d(g, v.data as ArrayLike<number>, gt.dims, { dataRange: range }) };
}

export function registerTrain(program: Command): void {
  program
    .command('train <dataset>')
    .description('train a neural field on a dataset folder into a run folder (config, checkpoint, metrics, volume, renders, report)')
    .requiredOption('-o, --output <run>', 'run folder')
    .option('--preset <p>', 'model preset (e.g. naf, dense-128)')
    .option('--config <file>', 'JSON config: { kind?, preset?, task?: {...}, trainer?: {...} }')
    .option('--task <kind>', "task kind (default from the dataset: 'attenuation' for X-ray line integrals, 'radiance' for views; 'volume-fit' fits the dataset's gt.nii.gz)")
    .option('--minutes <m>', 'time budget in minutes', parseNumber('--minutes', { min: 0, exclusiveMin: true }))
    .option('--steps <n>', 'step budget', parseNumber('--steps', { integer: true, min: 1 }))
    .option('--eval-every <n>', 'evaluate every N steps', parseNumber('--eval-every', { integer: true, min: 0 }))
    .option('--eval-seconds <s>', 'also evaluate every S seconds of training', parseNumber('--eval-seconds', { min: 0 }))
    .option('--checkpoint-every <n>', 'checkpoint every N steps', parseNumber('--checkpoint-every', { integer: true, min: 0 }))
    .option('--resume', 'continue the run in -o from its checkpoint')
    .option('--threads <n>', 'compute threads (default: up to 2)', parseNumber('--threads', { integer: true, min: 1, max: 256 }))
    .option('--warm <kind>', "attenuation fields: warm start from 'fdk', 'sart' (warmStart.sartEpochs epochs of the training views) or 'none' (over the preset)", parseChoice('--warm', ['fdk', 'sart', 'none'] as const))
    .option('--baseline <vol...>', 'classical reconstructions (volume files on the dataset grid) for the report table')
    .action(action(async (dir: string, opts: TrainOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.minutes !== undefined && opts.steps !== undefined) throw new MedfieldError('bad-option', '--minutes/--steps', 'give one budget, not both');
      let file: ReturnType<typeof parseTrainConfigFile> = {};
      if (opts.config) {
        file = parseTrainConfigFile(await readConfigText(opts.config), opts.config);
      }
      if (opts.resume && (opts.config || opts.preset || opts.task || opts.evalEvery !== undefined || opts.evalSeconds !== undefined || opts.checkpointEvery !== undefined)) {
        throw new MedfieldError('bad-option', '--resume', 'a resumed run keeps its config (only --steps/--minutes may change); drop --config/--preset/--task/--eval-every/--eval-seconds/--checkpoint-every');
      }
      const trainerConfig: Record<string, unknown> = { ...(file.trainer ?? {}) };
      if (opts.evalEvery !== undefined) trainerConfig['evalEvery'] = opts.evalEvery;
      if (opts.checkpointEvery !== undefined) trainerConfig['checkpointEvery'] = opts.checkpointEvery;
      if (opts.evalSeconds !== undefined) trainerConfig['evalEverySeconds'] = opts.evalSeconds;
      // --warm: one key over the preset (or over the config file's task); the default attenuation preset when neither is named
      let warmPreset = opts.preset ?? file.preset;
      let taskConfig = file.task;
      if (opts.warm) {
        if (opts.resume) throw new MedfieldError('bad-option', '--warm', 'a resumed run keeps its warm start; drop --warm');
        if (!warmPreset && !taskConfig) warmPreset = DEFAULT_ATTENUATION_PRESET;
        taskConfig = deepMerge(taskConfig ?? {}, { warmStart: { kind: opts.warm } });
      }
      const baselines: ReportFigures[] = [];
      for (const b of opts.baseline ?? []) baselines.push(await baselineFigures(b, dir));
      const backend = await createBackend(opts.threads);
      const bar = createProgress('train', 1000, { silent: g.quiet || g.json });
      let lastPsnr = '';
      try {
        const r = await trainRun({
          datasetDir: dir, runDir: opts.output, backend,
          ...(opts.task ?? file.kind ? { kind: opts.task ?? file.kind } : {}),
          ...(warmPreset ? { preset: warmPreset } : {}),
          ...(taskConfig ? { taskConfig } : {}),
          trainerConfig,
          ...(opts.resume ? { resume: true } : {}),
          ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
          ...(opts.minutes !== undefined ? { minutes: opts.minutes } : {}),
          baselines,
          log: (m) => log(g, m),
          hooks: {
            onProgress: (p) => bar.update(Math.round(p.fraction * 1000), `step ${p.step}${p.totalSteps ? `/${p.totalSteps}` : ''} loss ${fmtLoss(p.loss)}${lastPsnr}`),
            onEval: (_c, f) => {
              const v = f['psnr2d'] ?? f['psnr3d'];
              if (typeof v === 'number') lastPsnr = ` PSNR ${v.toFixed(2)} dB${f['psnr2d'] !== undefined && f['psnr2d'] !== null ? ' (test views)' : ' (3D)'}`;
            },
            onRollback: (rb) => log(g, `\nstep ${rb.step}: ${rb.reason}; rolled back to step ${rb.toStep} with the learning rate x${rb.lrFactor} (rollback ${rb.rollbacks})`),
          },
          onTrainer: (t) => {
            const stop = (): void => { log(g, '\nstopping: finishing the step and writing a checkpoint (signal again to abort)'); t.requestStop(); process.once('SIGINT', () => process.exit(130)); };
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          },
        });
        bar.done(`${r.summary.steps} steps, ${r.summary.stopReason}`);
        const s = r.summary;
        const last = r.metrics.evaluations[r.metrics.evaluations.length - 1] ?? null;
        emit(g, {
          run: r.runDir, dataset: r.config.dataset, task: r.config.taskOptions.kind, steps: s.steps, seconds: s.elapsedS, wallSeconds: s.wallS, stopReason: s.stopReason,
          finalLoss: s.finalLoss, rollbacks: s.rollbacks, best: s.best, resumedFrom: r.resumedFrom, metrics: last,
          dataRange2d: r.metrics.dataRange2d, dataRange3d: r.metrics.dataRange3d, files: r.files,
        }, [
          `trained ${r.config.taskOptions.kind} for ${s.steps} steps in ${s.elapsedS.toFixed(1)} s (${s.stopReason})${r.resumedFrom !== null ? `, resumed at step ${r.resumedFrom}` : ''}`,
          last ? `  test views: PSNR ${last.psnr2d?.toFixed(2) ?? '-'} dB SSIM ${last.ssim2d?.toFixed(4) ?? '-'} (data range ${r.metrics.dataRange2d.toPrecision(4)})`
            + `; volume: PSNR ${last.psnr3d?.toFixed(2) ?? '-'} dB SSIM ${last.ssim3d?.toFixed(4) ?? '-'}${r.metrics.dataRange3d !== null ? ` (data range ${r.metrics.dataRange3d.toPrecision(4)}, gt max - min)` : ''}` : '',
          `  report: ${r.files['report']}`,
        ].filter(Boolean).join('\n'));
      } finally {
        backend.dispose();
      }
    }));
}
