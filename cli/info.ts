import type { Command } from 'commander';
import { loadVolume } from '../src/platform/volume-io.js';
import { action, describeVolume, emit, formatInfo, type GlobalOptions } from './common.js';

export function registerInfo(program: Command): void {
  program
    .command('info <file>')
    .description('print format, dims, spacing (mm), origin, direction (RAS), dtype and value range of an image or DICOM series')
    .option('--series <uid>', 'DICOM SeriesInstanceUID to read when a folder holds several series')
    .action(action(async (file: string, opts: { series?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const loaded = await loadVolume(file, { dicomSeriesUid: opts.series });
      const info = { file, format: loaded.format, ...describeVolume(loaded.volume), ...loaded.details };
      emit(g, info, () => formatInfo(info));
    }));
}
