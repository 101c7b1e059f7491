import type { Command } from 'commander';
import { MedfieldError } from '../src/core/errors.js';
import type { Vec3 } from '../src/core/volume.js';
import { brainPhantom, sheppLogan3d, voxelizePhantom, BRAIN_CONTRASTS, SHEPP_LOGAN_VARIANTS, type BrainContrast, type SheppLoganVariant } from '../src/phantom/index.js';
import { withSpinner } from '../src/platform/progress.js';
import { writeVolume } from '../src/platform/volume-io.js';
import { action, describeVolume, emit, parseChoice, parseNumber, parseSize, type GlobalOptions } from './common.js';

export const PHANTOM_KINDS = ['shepp-logan', 'brain'] as const;
export type PhantomKind = (typeof PHANTOM_KINDS)[number];

interface PhantomOpts {
  size: Vec3; output: string; fov: number; variant: SheppLoganVariant; contrast: BrainContrast;
  seed: number; labels?: string; supersample: number; noise: number;
}

export function registerPhantom(program: Command): void {
  program
    .command('phantom <kind>')
    .description('write a built-in phantom volume: shepp-logan (analytic ellipsoids) or brain (procedural, with labels)')
    .requiredOption('--size <N|NxNxN>', 'voxels per axis', parseSize('--size'))
    .requiredOption('-o, --output <file>', 'output volume (.nii.gz, .nii, .nrrd, .mha, .npy)')
    .option('--fov <mm>', 'field of view (cube edge) in mm, centred at the world origin', parseNumber('--fov', { min: 0, exclusiveMin: true }), 256)
    .option('--variant <v>', `Shepp-Logan table (${SHEPP_LOGAN_VARIANTS.join(', ')})`, parseChoice('--variant', SHEPP_LOGAN_VARIANTS), 'modified')
    .option('--contrast <c>', `brain contrast (${BRAIN_CONTRASTS.join(', ')})`, parseChoice('--contrast', BRAIN_CONTRASTS), 't1')
    .option('--seed <n>', 'brain anatomy seed', parseNumber('--seed', { integer: true, min: 0 }), 1)
    .option('--noise <sigma>', 'brain: Gaussian noise std (intensity units, 0 = none)', parseNumber('--noise', { min: 0 }), 0)
    .option('--labels <file>', 'brain: also write the label map')
    .option('--supersample <s>', 'sub-samples per axis per voxel (anti-aliasing)', parseNumber('--supersample', { integer: true, min: 1, max: 16 }), 1)
    .action(action(async (kind: string, opts: PhantomOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      if (!(PHANTOM_KINDS as readonly string[]).includes(kind)) {
        throw new MedfieldError('bad-option', 'kind', `unknown phantom "${kind}"; expected one of ${PHANTOM_KINDS.join(', ')}`);
      }
      if (opts.labels && kind !== 'brain') throw new MedfieldError('bad-option', '--labels', 'only the brain phantom has a label map');
      const silent = g.quiet;
      if (kind === 'shepp-logan') {
        const ph = sheppLogan3d({ variant: opts.variant, fovMm: opts.fov });
        const vol = await withSpinner('voxelising Shepp-Logan', () => voxelizePhantom(ph, { size: opts.size, supersample: opts.supersample }), { silent });
        await writeVolume(opts.output, vol);
        emit(g, { kind, output: opts.output, variant: opts.variant, ...describeVolume(vol) }, `wrote ${opts.output} (Shepp-Logan ${opts.variant}, ${vol.dims.join('x')}, ${vol.spacingMm[0].toFixed(3)} mm)`);
        return;
      }
      const { volume, labels } = await withSpinner('generating brain phantom', () => brainPhantom({
        size: opts.size, seed: opts.seed, contrast: opts.contrast, fovMm: opts.fov, supersample: opts.supersample,
        noise: opts.noise > 0 ? { sigma: opts.noise, seed: opts.seed + 1 } : undefined,
      }), { silent });
      await writeVolume(opts.output, volume);
      if (opts.labels) await writeVolume(opts.labels, labels);
      emit(g, { kind, output: opts.output, labels: opts.labels ?? null, contrast: opts.contrast, seed: opts.seed, ...describeVolume(volume) },
        `wrote ${opts.output} (brain ${opts.contrast}, seed ${opts.seed}, ${volume.dims.join('x')}, ${volume.spacingMm[0].toFixed(3)} mm)${opts.labels ? ` and ${opts.labels}` : ''}`);
    }));
}
