import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { createRng } from '../src/core/rng.js';
import { createVolume, volumeStats, type Volume } from '../src/core/volume.js';
import { encodePng, floatToGray } from '../src/io/png.js';
import { brainPhantom } from '../src/phantom/index.js';
import { resampleToGrid, INTERPOLATIONS, type Interpolation } from '../src/preprocess/index.js';
import { writeFileAtomic } from '../src/platform/fs.js';
import { createProgress } from '../src/platform/progress.js';
import { loadVolume, writeVolume } from '../src/platform/volume-io.js';
import { action, describeVolume, emit, formatInfo, log, parseNumber, type GlobalOptions } from './common.js';
import { evaluatePair, type EvalResult } from './eval.js';

/**
 * Simulates a thick-slice acquisition along voxel axis 2: each output slice is the mean of
 * `factor` input slices (a box slice profile), then seeded Gaussian noise. The output grid has
 * spacing x factor along k and its origin at the centre of the first block, so it covers the
 * same field of view.
 */
export function simulateThickSlices(v: Volume, factor: number, noiseSigma: number, seed: number): Volume<Float32Array> {
  const [nx, ny, nz] = v.dims;
  const mz = Math.floor(nz / factor);
  const out = new Float32Array(nx * ny * mz);
  const plane = nx * ny;
  for (let k = 0; k < mz; k++) {
    const o = out.subarray(k * plane, (k + 1) * plane);
    for (let s = 0; s < factor; s++) {
      const base = (k * factor + s) * plane;
      for (let p = 0; p < plane; p++) o[p] += v.data[base + p];
    }
    for (let p = 0; p < plane; p++) o[p] /= factor;
  }
  const rng = createRng(seed);
  if (noiseSigma > 0) for (let i = 0; i < out.length; i++) out[i] += noiseSigma * rng.normal();
  const d = v.direction, shift = ((factor - 1) / 2) * v.spacingMm[2];
  return createVolume([nx, ny, mz], {
    data: out,
    spacingMm: [v.spacingMm[0], v.spacingMm[1], v.spacingMm[2] * factor],
    originMm: [v.originMm[0] + d[2] * shift, v.originMm[1] + d[5] * shift, v.originMm[2] + d[8] * shift],
    direction: v.direction,
  });
}

/** Mid-axial / coronal / sagittal slices side by side as one 8-bit PNG, rows = volumes. */
export function orthoMontage(vols: Volume[], lo: number, hi: number): Uint8Array {
  const [nx, ny, nz] = vols[0].dims;
  const cols = nx + ny + nx, rows = Math.max(ny, nz, nz);
  const W = cols, H = rows * vols.length;
  const img = new Float32Array(W * H).fill(lo);
  vols.forEach((v, r) => {
    const at = (i: number, j: number, k: number) => v.data[i + nx * (j + ny * k)];
    const y0 = r * rows;
    // Axial (k = mid): x right, y anterior up. Coronal (j = mid) and sagittal (i = mid): z up.
    for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) img[(y0 + (ny - 1 - j)) * W + i] = at(i, j, nz >> 1);
    for (let k = 0; k < nz; k++) for (let i = 0; i < nx; i++) img[(y0 + (nz - 1 - k)) * W + nx + i] = at(i, ny >> 1, k);
    const iSag = Math.round(nx * 0.4); // just off the midline: the interhemispheric fissure is at nx/2
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) img[(y0 + (nz - 1 - k)) * W + nx + nx + j] = at(iSag, j, k);
  });
  return encodePng(floatToGray(img, H, W, lo, hi));
}

interface DemoOpts { output: string; size: number; seed: number; factor: number; noise: number }

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the main job end to end on a built-in phantom (today: phantom -> thick-slice acquisition -> restoration -> evaluation)')
    .option('-o, --output <dir>', 'output folder', 'medfield-demo')
    .option('--size <N>', 'phantom voxels per axis', parseNumber('--size', { integer: true, min: 16, max: 512 }), 96)
    .option('--seed <n>', 'phantom and noise seed', parseNumber('--seed', { integer: true, min: 0 }), 1)
    .option('--factor <k>', 'slice thickness of the simulated acquisition, in phantom voxels', parseNumber('--factor', { integer: true, min: 2, max: 8 }), 4)
    .option('--noise <sigma>', 'noise std of the acquisition, as a fraction of the phantom range', parseNumber('--noise', { min: 0 }), 0.02)
    .action(action(async (opts: DemoOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const t0 = performance.now();
      const dir = path.resolve(opts.output);
      mkdirSync(dir, { recursive: true });
      const p = createProgress('demo', 6, { silent: g.quiet });
      p.update(0, 'brain phantom');
      const { volume: truth, labels } = brainPhantom({ size: opts.size, seed: opts.seed, contrast: 't1c', fovMm: 240 });
      const phantomFile = path.join(dir, 'phantom-t1c.nii.gz');
      await writeVolume(phantomFile, truth);
      await writeVolume(path.join(dir, 'labels.nii.gz'), labels);
      p.update(1, 'info');
      const reread = await loadVolume(phantomFile);
      const info = { file: phantomFile, format: reread.format, ...describeVolume(reread.volume) };
      const st = volumeStats(truth.data);
      const dataRange = st.max - st.min;
      p.update(2, 'thick-slice acquisition');
      const acquired = simulateThickSlices(truth, opts.factor, opts.noise * dataRange, opts.seed + 7);
      await writeVolume(path.join(dir, 'acquired-thick-slices.nii.gz'), acquired);
      p.update(3, 'restoration');
      const restored: Record<Interpolation, Volume> = {} as Record<Interpolation, Volume>;
      for (const interp of INTERPOLATIONS) {
        restored[interp] = resampleToGrid(acquired, truth, interp);
        await writeVolume(path.join(dir, `restored-${interp}.nii.gz`), restored[interp]);
      }
      p.update(4, 'evaluation');
      const brainMask = new Uint8Array(labels.data.length);
      for (let i = 0; i < brainMask.length; i++) brainMask[i] = labels.data[i] >= 3 ? 1 : 0; // CSF and inward
      const rows: { method: string; whole: EvalResult; brain: EvalResult }[] = [];
      for (const interp of INTERPOLATIONS) {
        rows.push({
          method: `thick slices + ${interp}`,
          whole: evaluatePair(restored[interp], truth, { dataRange, names: [`restored-${interp}`, 'phantom'], quiet: true, sliceWise: false }),
          brain: evaluatePair(restored[interp], truth, { dataRange, mask: brainMask, names: [`restored-${interp}`, 'phantom'], quiet: true, sliceWise: false }),
        });
      }
      p.update(5, 'figures');
      const err = createVolume(truth.dims, { data: new Float32Array(truth.data.length) });
      for (let i = 0; i < err.data.length; i++) err.data[i] = st.min + Math.abs(restored.cubic.data[i] - truth.data[i]) * 4;
      const png = path.join(dir, 'slices.png');
      await writeFileAtomic(png, orthoMontage([truth, restored.nearest, restored.cubic, err], st.min, st.max));
      const summary = {
        outputDir: dir, phantom: info, dataRange, dataRangeSource: 'phantom max - min',
        acquisition: { sliceFactor: opts.factor, noiseSigma: opts.noise * dataRange, dims: acquired.dims, spacingMm: acquired.spacingMm },
        results: rows.map((r) => ({ method: r.method, psnr: r.whole.psnr, ssim3d: r.whole.ssim3d, psnrBrain: r.brain.psnr, ssimBrain: r.brain.ssim3d })),
        figures: png, seconds: (performance.now() - t0) / 1000,
      };
      await writeFileAtomic(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
      p.done();
      emit(g, summary, () => {
        const line = (a: string, b: string, c: string, d: string, e: string) => `${a.padEnd(26)}${b.padStart(10)}${c.padStart(9)}${d.padStart(13)}${e.padStart(12)}`;
        return [
          formatInfo(info), '',
          `acquisition: ${acquired.dims.join('x')} at ${acquired.spacingMm.map((s) => s.toFixed(2)).join('x')} mm, noise sigma ${(opts.noise * 100).toFixed(1)}% of range`,
          `metrics vs phantom, data range ${dataRange.toFixed(4)} (phantom max - min); "brain" = inside labels >= CSF`, '',
          line('method', 'PSNR dB', 'SSIM', 'PSNR brain', 'SSIM brain'),
          ...rows.map((r) => line(r.method, r.whole.psnr.toFixed(2), r.whole.ssim3d.toFixed(4), r.brain.psnr.toFixed(2), r.brain.ssim3d.toFixed(4))),
          '', `figures: ${png} (rows: phantom, nearest, cubic, |error| x4)`, `results: ${path.join(dir, 'summary.json')}`,
          `done in ${summary.seconds.toFixed(1)} s`,
        ].join('\n');
      });
      log(g, '');
    }));
}
