/** `medfield export <run/> [--spacing mm | --size N] -o vol.nii.gz`: the trained field sampled on any grid over the dataset box. */
import type { Command } from 'commander';
import { MedfieldError } from '../src/core/errors.js';
import { exportGrid } from '../src/export/export-grid.js';
import { gridVolume } from '../src/geometry/grid.js';
import { assertWritableTarget } from '../src/platform/fs.js';
import { openRun } from '../src/platform/run-folder.js';
import { writeVolume } from '../src/platform/volume-io.js';
import { action, emit, log, parseNumber, parseSize, parseTriple, type GlobalOptions } from './common.js';
import { createBackend } from './train.js';

export function registerExport(program: Command): void {
  program
    .command('export <run>')
    .description('sample the trained field of a run folder on a grid covering the dataset box (default: the dataset grid)')
    .requiredOption('-o, --output <file>', 'output volume (.nii.gz, .nii, .nrrd, .mha, .npy)')
    .option('--spacing <mm>', 'voxel spacing in mm (a or a,b,c)', parseTriple('--spacing'))
    .option('--size <n>', 'voxels per axis (N or NxNxN)', parseSize('--size'))
    .option('--threads <n>', 'compute threads (default: up to 2)', parseNumber('--threads', { integer: true, min: 1, max: 256 }))
    .action(action(async (runDir: string, opts: { output: string; spacing?: [number, number, number]; size?: [number, number, number]; threads?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.spacing && opts.size) throw new MedfieldError('bad-option', '--spacing/--size', 'give one of them, not both');
      await assertWritableTarget(opts.output);
      const backend = await createBackend(opts.threads);
      try {
        const run = await openRun(runDir, backend);
        try {
          const box = run.dataset.geometry;
          const grid = opts.spacing || opts.size ? exportGrid(box, opts.spacing ? { spacingMm: opts.spacing } : { size: opts.size! }) : box;
          log(g, `sampling the field of ${runDir} (step ${run.step}) on ${grid.nVoxel.join('x')} at ${grid.dVoxel.map((d) => d.toPrecision(4)).join(' x ')} mm`);
          const vol = gridVolume(grid, run.task.sampleGrid(grid));
          await writeVolume(opts.output, vol);
          emit(g, { run: runDir, output: opts.output, step: run.step, dims: vol.dims, spacingMm: vol.spacingMm, originMm: vol.originMm, direction: Array.from(vol.direction) },
            `wrote ${opts.output}: ${vol.dims.join('x')} at ${vol.spacingMm.map((d) => d.toPrecision(4)).join(' x ')} mm, origin ${vol.originMm.map((o) => o.toFixed(3)).join(', ')} mm`);
        } finally {
          run.task.dispose();
        }
      } finally {
        backend.dispose();
      }
    }));
}
