/** `medfield render <run/> [--split test | --angles a,b,c | --orbit N] -o dir/`: views of a trained field. */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import * as path from 'node:path';
import { MedfieldError } from '../src/core/errors.js';
import { encodeGif } from '../src/io/gif.js';
import { floatToGray } from '../src/io/png.js';
import { writeFileAtomic } from '../src/platform/fs.js';
import { openRun, writeViewImages } from '../src/platform/run-folder.js';
import { action, emit, log, parseChoice, parseNumber, type GlobalOptions } from './common.js';
import { createBackend } from './train.js';

interface RenderOpts { output: string; split?: 'train' | 'test' | 'all'; angles?: number[]; orbit?: number; delay: number; threads?: number }

function parseAngles(value: string): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length === 0 || parts.some((p) => !Number.isFinite(p)) || value.trim() === '') throw new InvalidArgumentError(`--angles must be comma-separated degrees, got "${value}"`);
  return parts;
}

export function registerRender(program: Command): void {
  program
    .command('render <run>')
    .description('render views of a run folder\'s trained field: PNGs + views.npy [views, rows, cols] (float32, in the order asked); an orbit also as orbit.gif')
    .requiredOption('-o, --output <dir>', 'output folder')
    .option('--split <s>', 'the dataset\'s views of a split (test, train, all; default test)', parseChoice('--split', ['test', 'train', 'all'] as const))
    .option('--angles <deg>', 'views at these angles, degrees (a,b,c)', parseAngles)
    .option('--orbit <n>', 'n views evenly over 360 degrees, also as an animated GIF', parseNumber('--orbit', { integer: true, min: 1, max: 3600 }))
    .option('--delay <cs>', 'orbit GIF frame delay in 1/100 s', parseNumber('--delay', { integer: true, min: 1, max: 65535 }), 8)
    .option('--threads <n>', 'compute threads (default: up to 2)', parseNumber('--threads', { integer: true, min: 1, max: 256 }))
    .action(action(async (runDir: string, opts: RenderOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const modes = [opts.split !== undefined, opts.angles !== undefined, opts.orbit !== undefined].filter(Boolean).length;
      if (modes > 1) throw new MedfieldError('bad-option', '--split/--angles/--orbit', 'give one of them');
      const backend = await createBackend(opts.threads);
      try {
        const run = await openRun(runDir, backend);
        try {
          const [nViews, rows, cols] = run.dataset.meta.projections.shape;
          let views: Float32Array;
          let names: string[];
          let anglesDeg: number[];
          if (opts.angles || opts.orbit) {
            anglesDeg = opts.angles ?? Array.from({ length: opts.orbit! }, (_, i) => (360 * i) / opts.orbit!);
            views = run.task.renderAngles(anglesDeg.map((d) => (d * Math.PI) / 180));
            names = anglesDeg.map((_, i) => `${opts.orbit ? 'orbit' : 'angle'}-${String(i).padStart(3, '0')}`);
          } else {
            const split = opts.split ?? 'test';
            const idx = split === 'all' ? Array.from({ length: nViews }, (_, i) => i) : run.dataset.meta.splits[split];
            if (idx.length === 0) throw new MedfieldError('bad-data', `dataset.json: splits.${split}`, 'holds no views to render');
            views = run.task.renderViews(idx);
            names = idx.map((v) => `view-${String(v).padStart(3, '0')}`);
            anglesDeg = idx.map((v) => (run.dataset.anglesRad[v]! * 180) / Math.PI);
          }
          log(g, `rendering ${names.length} views of ${runDir} (step ${run.step})`);
          const range = run.task.viewDataRange;
          const files = await writeViewImages(opts.output, views, names, rows, cols, range);
          if (opts.orbit) {
            const size = rows * cols;
            const frames = names.map((_, i) => floatToGray(views.subarray(i * size, (i + 1) * size), rows, cols, 0, range).data as Uint8Array);
            const gif = path.join(opts.output, 'orbit.gif');
            await writeFileAtomic(gif, encodeGif(frames, cols, rows, { delayCs: opts.delay }));
            files.push(gif);
          }
          emit(g, { run: runDir, output: opts.output, step: run.step, views: names.length, rows, cols, anglesDeg, dataRange: range, files },
            `wrote ${names.length} views (${rows}x${cols}) to ${opts.output}${opts.orbit ? ' with orbit.gif' : ''}`);
        } finally {
          run.task.dispose();
        }
      } finally {
        backend.dispose();
      }
    }));
}
