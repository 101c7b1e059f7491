import type { Command } from 'commander';
import { readDataset } from '../src/platform/dataset.js';
import { createProgress } from '../src/platform/progress.js';
import { DEFAULT_ITERATIONS, FILTER_WINDOWS, RECON_METHODS, reconstructDataset, type FilterWindow, type ReconMethod } from '../src/platform/reconstruct.js';
import { assertWritableTarget } from '../src/platform/fs.js';
import { writeVolume } from '../src/platform/volume-io.js';
import { action, emit, log, parseChoice, parseNumber, type GlobalOptions } from './common.js';
import { evaluatePair } from './eval.js';

interface ReconOpts {
  method: ReconMethod; output: string; iterations?: number; lambda?: number; subsets?: number; tv?: number; tvAlpha?: number;
  window: FilterWindow; frequencyScaling?: number; threads?: number; views: 'train' | 'all';
}

export function registerRecon(program: Command): void {
  program
    .command('recon <dataset>')
    .description('classical reconstruction of a dataset folder\'s training views onto its grid (FDK/FBP, SIRT, SART, OS-SART, CGLS)')
    .requiredOption('--method <m>', `method (${RECON_METHODS.join(', ')})`, parseChoice('--method', RECON_METHODS))
    .requiredOption('-o, --output <file>', 'output volume (.nii.gz, .nii, .nrrd, .mha, .npy)')
    .option('--iterations <n>', `iterations of an iterative method (defaults: ${Object.entries(DEFAULT_ITERATIONS).map(([k, v]) => `${k} ${v}`).join(', ')})`, parseNumber('--iterations', { integer: true, min: 1, max: 100000 }))
    .option('--lambda <l>', 'relaxation of SIRT/SART (default 1)', parseNumber('--lambda', { min: 0, exclusiveMin: true, max: 2 }))
    .option('--subsets <n>', 'OS-SART: number of ordered subsets', parseNumber('--subsets', { integer: true, min: 1 }))
    .option('--tv <n>', 'TV denoising steps after each iteration (ASD-POCS style; 0 = none)', parseNumber('--tv', { integer: true, min: 0, max: 1000 }), 0)
    .option('--tv-alpha <a>', 'TV step relative to the size of the data update', parseNumber('--tv-alpha', { min: 0, exclusiveMin: true }))
    .option('--window <w>', `FDK/FBP ramp window (${FILTER_WINDOWS.join(', ')})`, parseChoice('--window', FILTER_WINDOWS), 'ram-lak')
    .option('--frequency-scaling <f>', 'FDK/FBP: ramp cut-off as a fraction of Nyquist, (0, 1]', parseNumber('--frequency-scaling', { min: 0, exclusiveMin: true, max: 1 }))
    .option('--threads <n>', 'worker threads (default: up to 2)', parseNumber('--threads', { integer: true, min: 1, max: 256 }))
    .option('--views <which>', 'reconstruct from the train split (default) or all views', parseChoice('--views', ['train', 'all'] as const), 'train')
    .action(action(async (dir: string, opts: ReconOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      await assertWritableTarget(opts.output);
      const ds = await readDataset(dir, { loadGroundTruth: true });
      const nViews = opts.views === 'all' ? ds.anglesRad.length : ds.meta.splits.train.length;
      log(g, `reconstructing ${dir} (${ds.meta.protocol}, ${ds.geometry.mode} beam) from ${nViews} ${opts.views} views with ${opts.method} onto ${ds.geometry.nVoxel.join('x')}`);
      const iterative = !(opts.method === 'fdk' || opts.method === 'fbp');
      const total = iterative ? (opts.iterations ?? DEFAULT_ITERATIONS[opts.method as keyof typeof DEFAULT_ITERATIONS]) : 1;
      const bar = createProgress(opts.method, total, { silent: g.quiet || g.json });
      const t0 = performance.now();
      const vol = await reconstructDataset(ds, {
        method: opts.method, iterations: opts.iterations, lambda: opts.lambda, subsets: opts.subsets,
        tvIterations: opts.tv, tvAlpha: opts.tvAlpha, window: opts.window, frequencyScaling: opts.frequencyScaling, threads: opts.threads, views: opts.views,
        onIteration: (it, n) => bar.update(it, `iteration ${it}/${n}`),
      });
      const seconds = (performance.now() - t0) / 1000;
      bar.done();
      await writeVolume(opts.output, vol);
      let metrics: { psnr: number; ssim3d: number; dataRange: number; dataRangeSource: string } | null = null;
      if (ds.groundTruth) {
        const e = evaluatePair(vol, ds.groundTruth, { names: [opts.output, 'gt'], quiet: true });
        metrics = { psnr: e.psnr, ssim3d: e.ssim3d, dataRange: e.dataRange, dataRangeSource: e.dataRangeSource };
      }
      emit(g, { dataset: dir, output: opts.output, method: opts.method, views: nViews, iterations: iterative ? total : null, seconds, grid: ds.geometry.nVoxel, voxelMm: ds.geometry.dVoxel, metrics }, [
        `wrote ${opts.output} (${opts.method}, ${nViews} views, ${ds.geometry.nVoxel.join('x')} at ${ds.geometry.dVoxel[0].toFixed(4)} mm) in ${seconds.toFixed(1)} s`,
        metrics ? `  vs gt: PSNR ${metrics.psnr.toFixed(2)} dB, SSIM ${metrics.ssim3d.toFixed(4)} (data range ${metrics.dataRange.toPrecision(4)}, ${metrics.dataRangeSource})` : '  (no ground truth in the dataset)',
      ].join('\n'));
    }));
}
