import type { Command } from 'commander';
import { MedfieldError } from '../src/core/errors.js';
import type { Vec3, Volume } from '../src/core/volume.js';
import {
  clahe, clipPercentiles, equalizeHistogram, huToMu, normalizeMinMax, normalizeZScore, resampleSlices, resampleVolume,
  INTERPOLATIONS, MU_WATER_PER_MM, type Interpolation,
} from '../src/preprocess/index.js';
import { withSpinner } from '../src/platform/progress.js';
import { registerVolumes, writeTransform, REGISTRATION_TRANSFORMS, type RegistrationTransform } from '../src/platform/register.js';
import { loadVolume, writeVolume } from '../src/platform/volume-io.js';
import { assertSameGrid } from './eval.js';
import { action, assertFinite, describeVolume, emit, parseChoice, parseNumber, parseSize, parseTriple, type GlobalOptions } from './common.js';

interface PreOpts {
  output: string;
  registerTo?: string; transform: RegistrationTransform; transformOut?: string;
  spacing?: Vec3; size?: Vec3; interp: Interpolation; perSlice?: number;
  huToMu?: boolean; muWater: number;
  clipPercentiles?: [number, number];
  histeq?: number | boolean; clahe?: boolean; claheTiles: number; claheClip: number;
  normalize?: 'minmax' | 'zscore';
  mask?: string;
}

function parsePair(name: string) {
  return (value: string): [number, number] => {
    const p = value.split(',').map((s) => Number(s.trim()));
    if (p.length !== 2 || p.some((x) => !Number.isFinite(x))) throw new MedfieldError('bad-option', name, `expected two comma-separated numbers, got "${value}"`);
    return [p[0], p[1]];
  };
}

/** The steps in the order they run (documented in the README). */
export const PREPROCESS_ORDER = ['register', 'resample', 'hu-to-mu', 'clip-percentiles', 'histeq|clahe', 'normalize'] as const;

export function registerPreprocess(program: Command): void {
  program
    .command('preprocess <input>')
    .description(`preprocess a volume; steps run in this order: ${PREPROCESS_ORDER.join(' -> ')}`)
    .requiredOption('-o, --output <file>', 'output volume')
    .option('--register-to <fixed>', '1. register the input to this volume with elastix (output on its grid)')
    .option('--transform <t>', `registration transform (${REGISTRATION_TRANSFORMS.join(', ')})`, parseChoice('--transform', REGISTRATION_TRANSFORMS), 'rigid')
    .option('--transform-out <file>', 'write the elastix transform parameters here')
    .option('--spacing <mm|a,b,c>', '2. resample to this voxel size (mm), keeping the field of view', parseTriple('--spacing'))
    .option('--size <N|NxNxN>', '2. resample to this many voxels, keeping the field of view', parseSize('--size'))
    .option('--interp <i>', `interpolation (${INTERPOLATIONS.join(', ')})`, parseChoice('--interp', INTERPOLATIONS), 'cubic')
    .option('--per-slice <axis>', 'resample only within slices normal to this voxel axis (0, 1 or 2)', parseNumber('--per-slice', { integer: true, min: 0, max: 2 }))
    .option('--hu-to-mu', '3. CT Hounsfield units -> linear attenuation (1/mm)')
    .option('--mu-water <perMm>', 'mu of water (1/mm) for --hu-to-mu', parseNumber('--mu-water', { min: 0, exclusiveMin: true }), MU_WATER_PER_MM)
    .option('--clip-percentiles <lo,hi>', '4. clip to these percentiles (0-100)', parsePair('--clip-percentiles'))
    .option('--histeq [levels]', '5. histogram equalisation with L levels (default 256)', parseNumber('--histeq', { integer: true, min: 2 }))
    .option('--clahe', '5. CLAHE (per axial slice) instead of global equalisation')
    .option('--clahe-tiles <n>', 'CLAHE tiles per slice axis', parseNumber('--clahe-tiles', { integer: true, min: 1 }), 8)
    .option('--clahe-clip <c>', 'CLAHE clip limit (normalised, as scikit-image)', parseNumber('--clahe-clip', { min: 0 }), 0.01)
    .option('--normalize <kind>', '6. minmax (to [0,1]) or zscore', parseChoice('--normalize', ['minmax', 'zscore'] as const))
    .option('--mask <file>', 'mask (same grid as the output) for percentile, equalisation and normalisation statistics')
    .action(action(async (input: string, opts: PreOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (opts.spacing && opts.size) throw new MedfieldError('bad-option', '--spacing', 'give either --spacing or --size, not both');
      if (opts.histeq !== undefined && opts.clahe) throw new MedfieldError('bad-option', '--clahe', 'give either --histeq or --clahe, not both');
      if (opts.transformOut && !opts.registerTo) throw new MedfieldError('bad-option', '--transform-out', 'needs --register-to');
      if (opts.perSlice !== undefined && !opts.spacing && !opts.size) throw new MedfieldError('bad-option', '--per-slice', 'needs --spacing or --size');
      const silent = g.quiet;
      const loaded = await loadVolume(input);
      let v: Volume = loaded.volume;
      if ('frames' in loaded.volume && loaded.volume.frames > 1) throw new MedfieldError('bad-file', input, `is a 4-D series (${loaded.volume.frames} frames); preprocess takes one 3-D volume`);
      assertFinite(v, input);
      const steps: Record<string, unknown>[] = [];
      if (opts.registerTo) {
        const fixed = (await loadVolume(opts.registerTo)).volume;
        const res = await withSpinner(`registering (${opts.transform}, elastix)`, () => registerVolumes(fixed, v, { transform: opts.transform }), { silent });
        v = res.registered;
        if (opts.transformOut) await writeTransform(opts.transformOut, res);
        steps.push({ step: 'register', fixed: opts.registerTo, transform: opts.transform, parameters: res.transform.parameters, seconds: res.seconds });
      }
      if (opts.spacing || opts.size) {
        const target = opts.spacing ? { spacingMm: opts.spacing } : { dims: opts.size as Vec3 };
        const before = v.dims;
        if (opts.perSlice !== undefined) {
          const ax = opts.perSlice as 0 | 1 | 2;
          const plane = [0, 1, 2].filter((c) => c !== ax);
          const t2 = opts.spacing
            ? { spacingMm: [opts.spacing[plane[0]], opts.spacing[plane[1]]] as [number, number] }
            : { dims: [(opts.size as Vec3)[plane[0]], (opts.size as Vec3)[plane[1]]] as [number, number] };
          const src = v;
          v = await withSpinner('resampling slices', () => resampleSlices(src, ax, t2, opts.interp), { silent });
        } else {
          const src = v;
          v = await withSpinner('resampling', () => resampleVolume(src, target, opts.interp), { silent });
        }
        steps.push({ step: 'resample', interp: opts.interp, perSliceAxis: opts.perSlice ?? null, from: before, to: v.dims, spacingMm: v.spacingMm });
      }
      let mask: Volume | undefined;
      if (opts.mask) {
        mask = (await loadVolume(opts.mask)).volume;
        assertSameGrid(mask, v, opts.mask, 'the volume at this step');
      }
      if (opts.huToMu) { v = huToMu(v, { muWaterPerMm: opts.muWater }); steps.push({ step: 'hu-to-mu', muWaterPerMm: opts.muWater }); }
      if (opts.clipPercentiles) {
        const [lower, upper] = opts.clipPercentiles;
        v = clipPercentiles(v, { lower, upper, mask });
        steps.push({ step: 'clip-percentiles', lower, upper });
      }
      if (opts.histeq !== undefined) {
        const levels = typeof opts.histeq === 'number' ? opts.histeq : 256;
        v = equalizeHistogram(v, { levels, mask });
        steps.push({ step: 'histeq', levels });
      } else if (opts.clahe) {
        const src = v;
        v = await withSpinner('CLAHE', () => clahe(src, { tiles: [opts.claheTiles, opts.claheTiles], clipLimit: opts.claheClip }), { silent });
        steps.push({ step: 'clahe', tiles: opts.claheTiles, clipLimit: opts.claheClip });
      }
      if (opts.normalize === 'minmax') { v = normalizeMinMax(v, { mask }); steps.push({ step: 'normalize', kind: 'minmax' }); }
      else if (opts.normalize === 'zscore') {
        const r = normalizeZScore(v, { mask });
        v = r.volume;
        steps.push({ step: 'normalize', kind: 'zscore', mean: r.mean, std: r.std });
      }
      if (steps.length === 0) throw new MedfieldError('bad-option', 'preprocess', 'no step given; see medfield preprocess --help');
      await writeVolume(opts.output, v);
      emit(g, { input, output: opts.output, steps, ...describeVolume(v) },
        () => steps.map((s) => `  ${String(s.step)}`).join('\n') + `\nwrote ${opts.output} (${v.dims.join('x')}, ${v.spacingMm.map((s) => +s.toFixed(4)).join('x')} mm)`);
    }));
}
