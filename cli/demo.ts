/**
 * `medfield demo`: the main job end to end. A built-in phantom (or --input volume) -> a sparse-
 * view cone-beam CT dataset (the ct-50 protocol at a demo size) -> FDK and SART baselines -> a
 * neural attenuation field trained for a time budget -> one table (method, 3D PSNR/SSIM with the
 * data range stated, seconds) and a static HTML report.
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import type { Volume } from '../src/core/volume.js';
import type { ReportFigures } from '../src/export/report.js';
import { psnr, ssim3d } from '../src/metrics/index.js';
import { brainPhantom, sheppLogan3d, voxelizePhantom } from '../src/phantom/index.js';
import { protocolDefaults, type IntensityKind } from '../src/physics/protocols.js';
import { readDataset } from '../src/platform/dataset.js';
import { createProgress, withSpinner } from '../src/platform/progress.js';
import { reconstructDataset } from '../src/platform/reconstruct.js';
import { trainRun } from '../src/platform/run-folder.js';
import { simulateDataset } from '../src/platform/simulate.js';
import { loadVolume, writeVolume } from '../src/platform/volume-io.js';
import { action, emit, log, parseChoice, parseNumber, type GlobalOptions } from './common.js';
import { DEFAULT_ATTENUATION_PRESET } from './tasks.js';
import { createBackend } from './train.js';

interface DemoOpts {
  output: string; input?: string; phantom: 'shepp-logan' | 'brain'; size: number; detector: number; views: number;
  minutes?: number; steps?: number; preset: string; sartEpochs: number; threads?: number; seed: number;
}

interface Row { method: string; psnr3d: number; ssim3d: number; seconds: number; file: string }

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job end to end: phantom (or --input) -> sparse-view CT -> FDK, SART and a neural field -> table + report')
    .option('-o, --output <dir>', 'output folder', 'medfield-demo')
    .option('--input <volume>', 'your own volume (CT in HU or attenuation) instead of the built-in phantom')
    .option('--phantom <kind>', 'built-in phantom: shepp-logan or brain', parseChoice('--phantom', ['shepp-logan', 'brain'] as const), 'shepp-logan')
    .option('--size <N>', 'reconstruction grid voxels per axis', parseNumber('--size', { integer: true, min: 16, max: 256 }), 64)
    .option('--detector <N>', 'detector pixels per side', parseNumber('--detector', { integer: true, min: 16, max: 1024 }), 96)
    .option('--views <n>', 'training views over 180 degrees', parseNumber('--views', { integer: true, min: 2, max: 720 }), 50)
    .option('--minutes <m>', 'training budget of the neural field in minutes (default 1.5)', parseNumber('--minutes', { min: 0, exclusiveMin: true }))
    .option('--steps <n>', 'training budget in steps instead of minutes', parseNumber('--steps', { integer: true, min: 1 }))
    .option('--preset <p>', 'neural field preset', DEFAULT_ATTENUATION_PRESET)
    .option('--sart-epochs <n>', 'SART epochs', parseNumber('--sart-epochs', { integer: true, min: 1, max: 1000 }), 5)
    .option('--threads <n>', 'worker threads (default: up to 2)', parseNumber('--threads', { integer: true, min: 1, max: 256 }))
    .option('--seed <n>', 'noise and phantom seed', parseNumber('--seed', { integer: true, min: 0 }), 0)
    .action(action(async (opts: DemoOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const silent = Boolean(g.quiet || g.json);
      const out = path.resolve(opts.output);
      mkdirSync(out, { recursive: true });
      const t00 = performance.now();
      // 1. the volume
      let volume: Volume;
      let intensity: IntensityKind = 'auto';
      let source: string;
      if (opts.input) {
        volume = (await loadVolume(opts.input)).volume;
        source = opts.input;
      } else if (opts.phantom === 'brain') {
        // a head-like attenuation map: the procedural brain's T1 intensities as attenuation
        volume = await withSpinner('brain phantom', () => brainPhantom({ size: [opts.size * 2, opts.size * 2, opts.size * 2], seed: opts.seed + 1, contrast: 't1', fovMm: 256 }).volume, { silent });
        intensity = 'attenuation';
        source = 'brain phantom (T1 intensities as attenuation)';
      } else {
        volume = await withSpinner('Shepp-Logan phantom', () => voxelizePhantom(sheppLogan3d({ variant: 'modified', fovMm: 256 }), { size: [opts.size * 2, opts.size * 2, opts.size * 2], supersample: 2 }), { silent });
        intensity = 'attenuation';
        source = 'Shepp-Logan 3D (modified)';
      }
      const phantomFile = path.join(out, 'input.nii.gz');
      if (!opts.input) await writeVolume(phantomFile, volume);
      // 2. the dataset
      const p = protocolDefaults('ct-50');
      Object.assign(p, { size: opts.size, detectorPixels: opts.detector, trainViews: opts.views, testViews: 20, seed: opts.seed });
      const dsDir = path.join(out, 'dataset');
      log(g, `demo: ${source} -> ${p.trainViews} cone-beam views over 180 deg (${p.detectorPixels}^2 detector, I0 ${p.I0}, sigma ${p.sigma}) -> ${p.size}^3`);
      await withSpinner('simulating projections', () => simulateDataset(volume, p, dsDir, { intensity, threads: opts.threads, overwrite: true, inputName: opts.input ?? 'phantom' }), { silent });
      const ds = await readDataset(dsDir, { loadGroundTruth: true });
      const gt = ds.groundTruth!;
      const rows: Row[] = [];
      const score = (method: string, v: Volume<Float32Array>, seconds: number, file: string): Row => {
        const r: Row = { method, psnr3d: psnr(gt.data, v.data, { dataRange: 1 }), ssim3d: ssim3d(gt, v, { dataRange: 1 }), seconds, file };
        rows.push(r);
        return r;
      };
      // 3. classical baselines
      for (const [method, o] of [['FDK', { method: 'fdk' as const }], [`SART (${opts.sartEpochs} epochs)`, { method: 'sart' as const, iterations: opts.sartEpochs }]] as const) {
        const bar = createProgress(method, 1, { silent });
        const t0 = performance.now();
        const v = await reconstructDataset(ds, { ...o, threads: opts.threads, onIteration: (it, n) => bar.update(it / n) });
        const seconds = (performance.now() - t0) / 1000;
        bar.done();
        const file = path.join(out, `${o.method}.nii.gz`);
        await writeVolume(file, v);
        score(method, v, seconds, file);
      }
      // 4. the neural field
      const minutes = opts.steps ? undefined : (opts.minutes ?? 1.5);
      const backend = await createBackend(opts.threads);
      const runDir = path.join(out, 'run');
      // the demo owns its run folder: a new demo replaces the previous one
      rmSync(runDir, { recursive: true, force: true });
      let neural: Row;
      try {
        const baselines: ReportFigures[] = rows.map((r) => ({ method: r.method, psnr3d: r.psnr3d, ssim3d: r.ssim3d, seconds: r.seconds }));
        const bar = createProgress(`neural field (${opts.preset})`, minutes ? minutes * 60 : opts.steps!, { silent });
        const t0 = performance.now();
        const res = await trainRun({
          datasetDir: dsDir, runDir, backend, preset: opts.preset, baselines,
          ...(minutes ? { minutes } : { steps: opts.steps }),
          hooks: { onProgress: (pr) => bar.update(minutes ? pr.elapsedS : pr.step, `step ${pr.step} loss ${pr.loss.toExponential(2)}`) },
        });
        bar.done();
        const seconds = (performance.now() - t0) / 1000;
        const v = (await loadVolume(res.files.volume ?? path.join(runDir, 'volume.nii.gz'))).volume as Volume<Float32Array>;
        neural = score(`neural field (${opts.preset}, ${res.summary.steps} steps)`, v, seconds, path.join(runDir, 'volume.nii.gz'));
      } finally {
        backend.dispose();
      }
      const total = (performance.now() - t00) / 1000;
      const report = path.join(runDir, 'report.html');
      emit(g, { source, dataset: dsDir, dataRange: 1, dataRangeNote: 'ground truth normalised to [0,1]', results: rows, report, seconds: total }, () => [
        '',
        `method${' '.repeat(34)}3D PSNR   3D SSIM   seconds`,
        ...rows.map((r) => `${r.method.padEnd(40)}${r.psnr3d.toFixed(2).padStart(7)}   ${r.ssim3d.toFixed(4).padStart(7)}   ${r.seconds.toFixed(1).padStart(7)}`),
        `(3D metrics against ${path.join(dsDir, 'gt.nii.gz')}, data range 1: the ground truth is normalised to [0,1])`,
        '',
        `neural field vs FDK: ${(neural.psnr3d - rows[0]!.psnr3d >= 0 ? '+' : '')}${(neural.psnr3d - rows[0]!.psnr3d).toFixed(2)} dB; vs SART: ${(neural.psnr3d - rows[1]!.psnr3d >= 0 ? '+' : '')}${(neural.psnr3d - rows[1]!.psnr3d).toFixed(2)} dB`,
        `report: ${report}`,
        `all outputs in ${out}/ (${total.toFixed(0)} s)`,
      ].join('\n'));
    }));
}
