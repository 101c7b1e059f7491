import type { Command } from 'commander';
import { allocate, DTYPES, type DType, type Volume, type VolumeSeries } from '../src/core/volume.js';
import { loadVolume, writeVolume } from '../src/platform/volume-io.js';
import { action, emit, parseChoice, type GlobalOptions } from './common.js';

/** Casts a volume's values to another dtype (rounding and clamping for integer types). */
export function castVolume<V extends Volume | VolumeSeries>(v: V, dtype: DType): V {
  const out = allocate(dtype, v.data.length);
  const integer = !dtype.startsWith('float');
  const [lo, hi] = integer ? intRange(dtype) : [-Infinity, Infinity];
  for (let i = 0; i < out.length; i++) {
    let x = v.data[i];
    if (integer) x = Math.min(hi, Math.max(lo, Math.round(x)));
    out[i] = x;
  }
  return { ...v, data: out };
}

function intRange(t: DType): [number, number] {
  switch (t) {
    case 'int8': return [-128, 127];
    case 'uint8': return [0, 255];
    case 'int16': return [-32768, 32767];
    case 'uint16': return [0, 65535];
    case 'int32': return [-2147483648, 2147483647];
    default: return [0, 4294967295];
  }
}

export function registerConvert(program: Command): void {
  program
    .command('convert <input> <output>')
    .description('convert between NIfTI (.nii/.nii.gz), NRRD, MetaImage (.mha), DICOM (read) and .npy, keeping geometry')
    .option('--dtype <type>', `cast values (${DTYPES.join(', ')}); integers are rounded and clamped`, parseChoice('--dtype', DTYPES))
    .option('--series <uid>', 'DICOM SeriesInstanceUID when the input folder holds several series')
    .action(action(async (input: string, output: string, opts: { dtype?: DType; series?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const loaded = await loadVolume(input, { dicomSeriesUid: opts.series });
      const vol = opts.dtype ? castVolume(loaded.volume, opts.dtype) : loaded.volume;
      await writeVolume(output, vol);
      emit(g, { input, output, inputFormat: loaded.format, dims: vol.dims, spacingMm: vol.spacingMm },
        `wrote ${output} (${vol.dims.join('x')}, ${vol.spacingMm.map((s) => +s.toFixed(4)).join('x')} mm)`);
    }));
}
