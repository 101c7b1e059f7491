import type { Command } from 'commander';
import { MedfieldError } from '../src/core/errors.js';
import { INTENSITY_KINDS, PROTOCOL_NAMES, protocolDefaults, type IntensityKind, type ProtocolParams } from '../src/physics/protocols.js';
import { createProgress } from '../src/platform/progress.js';
import { simulateDataset } from '../src/platform/simulate.js';
import { loadVolume } from '../src/platform/volume-io.js';
import { action, emit, log, parseChoice, parseNumber, type GlobalOptions } from './common.js';
import { addSvrSimulateOptions, runSvrSimulate, SVR_SIMULATE_KEYS, type SvrSimulateCliOpts } from './svr.js';

/** Protocols of `medfield simulate`: the projection/view protocols of src/physics/protocols.ts, and svr (slice stacks, cli/svr.ts). */
const SIMULATE_PROTOCOLS = [...PROTOCOL_NAMES, 'svr'] as const;
type SimulateProtocol = (typeof SIMULATE_PROTOCOLS)[number];
/** Options that only the projection/view protocols take. */
const PROJECTION_KEYS = ['views', 'arc', 'testViews', 'size', 'detector', 'pixel', 'dsd', 'dso', 'mode', 'i0', 'sigma', 'render', 'fit', 'threads'] as const;

interface SimulateOpts extends Omit<SvrSimulateCliOpts, 'output'> {
  protocol: SimulateProtocol; output: string; views?: number; arc?: number; testViews?: number; size?: number;
  detector?: number; pixel?: number; dsd?: number; dso?: number; mode?: 'cone' | 'parallel';
  i0?: number; sigma?: number; render?: 'drr' | 'ea'; fit?: 'fov' | 'foreground'; seed?: number; intensity: IntensityKind;
  threads?: number; overwrite?: boolean;
}

export function registerSimulate(program: Command): void {
  const cmd = program
    .command('simulate <volume>')
    .description('simulate an acquisition of a volume under a protocol and write a dataset folder (dataset.json, projections.npy, gt.nii.gz; svr: stack1.nii.gz..., motion.json, gt.nii.gz, mask.nii.gz)')
    .requiredOption('--protocol <name>', `protocol (${SIMULATE_PROTOCOLS.join(', ')})`, parseChoice('--protocol', SIMULATE_PROTOCOLS))
    .requiredOption('-o, --output <dir>', 'dataset folder to write (must not exist or be empty, unless --overwrite)')
    .option('--views <n>', 'number of training views (views-72: total views)', parseNumber('--views', { integer: true, min: 1, max: 10000 }))
    .option('--arc <deg>', 'arc covered by the views, degrees', parseNumber('--arc', { min: 0, exclusiveMin: true, max: 360 }))
    .option('--test-views <n>', 'number of random held-out test views (ct protocols)', parseNumber('--test-views', { integer: true, min: 0, max: 10000 }))
    .option('--size <n>', 'ground-truth grid voxels per axis (cube)', parseNumber('--size', { integer: true, min: 2, max: 1024 }))
    .option('--detector <n>', 'detector pixels per side', parseNumber('--detector', { integer: true, min: 1, max: 8192 }))
    .option('--pixel <mm>', 'detector pixel size in mm (default: detector covers the volume)', parseNumber('--pixel', { min: 0, exclusiveMin: true }))
    .option('--dsd <mm>', 'source-to-detector distance, mm', parseNumber('--dsd', { min: 0, exclusiveMin: true }))
    .option('--dso <mm>', 'source-to-rotation-axis distance, mm', parseNumber('--dso', { min: 0, exclusiveMin: true }))
    .option('--mode <m>', 'beam: cone or parallel', parseChoice('--mode', ['cone', 'parallel'] as const))
    .option('--i0 <photons>', 'incident photons per pixel for the noise model (0 = no noise)', parseNumber('--i0', { min: 0 }))
    .option('--sigma <counts>', 'electronic (Gaussian) noise std in counts', parseNumber('--sigma', { min: 0 }))
    .option('--render <r>', 'views-72: drr (line integrals) or ea (emission-absorption views)', parseChoice('--render', ['drr', 'ea'] as const))
    .option('--fit <f>', 'ground-truth cube: fov (the whole input) or foreground (around the object; views-72 default)', parseChoice('--fit', ['fov', 'foreground'] as const))
    .option('--seed <n>', 'seed of the test angles and the noise', parseNumber('--seed', { integer: true, min: 0 }))
    .option('--intensity <kind>', `how input values become the ground truth (${INTENSITY_KINDS.join(', ')})`, parseChoice('--intensity', INTENSITY_KINDS), 'auto')
    .option('--threads <n>', 'worker threads (default: up to 2)', parseNumber('--threads', { integer: true, min: 1, max: 256 }))
    .option('--overwrite', 'replace an existing dataset folder');
  addSvrSimulateOptions(cmd)
    .action(action(async (input: string, opts: SimulateOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const given = (keys: readonly string[]) => keys.filter((k) => (opts as unknown as Record<string, unknown>)[k] !== undefined);
      const flag = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      if (opts.protocol === 'svr') {
        const wrong = given(PROJECTION_KEYS);
        if (wrong.length) throw new MedfieldError('bad-option', flag(wrong[0]!), `does not apply to --protocol svr (slice stacks); see --help for the svr options`);
        if (cmd.getOptionValueSource('intensity') === 'cli') throw new MedfieldError('bad-option', '--intensity', 'does not apply to --protocol svr: the stacks keep the input volume\'s intensities');
        await runSvrSimulate(input, { ...opts, output: opts.output }, g);
        return;
      }
      const wrongSvr = given(SVR_SIMULATE_KEYS);
      if (wrongSvr.length) throw new MedfieldError('bad-option', flag(wrongSvr[0]!), `applies to --protocol svr only`);
      const p: ProtocolParams = protocolDefaults(opts.protocol);
      if (opts.views !== undefined) p.trainViews = opts.views;
      if (opts.arc !== undefined) p.arcDeg = opts.arc;
      if (opts.testViews !== undefined) {
        if (p.testMode === 'interleaved') throw new MedfieldError('bad-option', '--test-views', 'views-72 tests on the views between the training views; use --views to change the total');
        p.testViews = opts.testViews;
      }
      if (opts.size !== undefined) p.size = opts.size;
      if (opts.detector !== undefined) p.detectorPixels = opts.detector;
      if (opts.pixel !== undefined) p.detectorPixelMm = opts.pixel;
      if (opts.dsd !== undefined) p.DSD = opts.dsd;
      if (opts.dso !== undefined) p.DSO = opts.dso;
      if (opts.mode !== undefined) p.mode = opts.mode;
      if (opts.i0 !== undefined) p.I0 = opts.i0;
      if (opts.sigma !== undefined) p.sigma = opts.sigma;
      if (opts.render !== undefined) p.render = opts.render;
      if (opts.fit !== undefined) p.fit = opts.fit;
      if (opts.seed !== undefined) p.seed = opts.seed;
      if (p.mode === 'cone' && !(p.DSO < p.DSD)) throw new MedfieldError('bad-option', '--dso', `DSO (${p.DSO} mm) must be smaller than DSD (${p.DSD} mm)`);
      const { volume } = await loadVolume(input);
      log(g, `simulating ${p.name} from ${input}: ${p.size}^3 grid, ${p.trainViews} views over ${p.arcDeg} deg, detector ${p.detectorPixels}^2${p.I0 > 0 ? `, I0 ${p.I0}, sigma ${p.sigma}` : ', no noise'}`);
      const bar = createProgress('projecting', 1, { silent: g.quiet || g.json });
      const t0 = performance.now();
      const r = await simulateDataset(volume, p, opts.output, {
        intensity: opts.intensity, threads: opts.threads, overwrite: opts.overwrite, inputName: input,
        onProgress: (d, t) => bar.update(d / t, `${d}/${t} views`),
      });
      bar.done();
      const seconds = (performance.now() - t0) / 1000;
      const geo = r.geometry;
      emit(g, {
        output: opts.output, protocol: p.name, views: r.anglesRad.length, train: r.meta.splits.train.length, test: r.meta.splits.test.length,
        projectionsShape: r.meta.projections.shape, quantity: r.meta.projections.quantity, grid: geo.nVoxel, voxelMm: geo.dVoxel,
        DSD: geo.DSD, DSO: geo.DSO, detectorPixelMm: geo.dDetector, noise: r.meta.noise, maxValue: r.maxValue, seconds,
      }, [
        `wrote ${opts.output}: ${r.anglesRad.length} views (${r.meta.splits.train.length} train, ${r.meta.splits.test.length} test) of ${geo.nDetector[1]}x${geo.nDetector[0]} ${r.meta.projections.quantity}`,
        `  grid ${geo.nVoxel.join('x')} at ${geo.dVoxel[0].toFixed(4)} mm, ${geo.mode} beam DSD ${geo.DSD.toFixed(1)} mm DSO ${geo.DSO.toFixed(1)} mm, detector pixel ${geo.dDetector[0].toFixed(4)} mm`,
        `  noise ${r.meta.noise ? `I0 ${r.meta.noise.I0}, sigma ${r.meta.noise.sigma}, seed ${r.meta.noise.seed}` : 'none'}; ${seconds.toFixed(1)} s`,
      ].join('\n'));
    }));
}
