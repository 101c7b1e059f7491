/**
 * `medfield svr <stacks...> -o vol.nii.gz`: slice-to-volume reconstruction of thick-slice stacks,
 * and the `svr` branch of `medfield simulate`. Methods are entries of SVR_METHODS: a method gets
 * the checked stacks and the output grid and returns a volume (and, if it estimates them, the
 * slice motions, which are then written as <stem>.motion.json with a <stem>.slices.png of
 * acquired vs re-simulated slices).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { MedfieldError } from '../src/core/errors.js';
import { toFloat32, type Volume } from '../src/core/volume.js';
import type { SliceMotion, SliceStack } from '../src/geometry/slice-stack.js';
import { assertWritableTarget, writeFileAtomic } from '../src/platform/fs.js';
import { createProgress } from '../src/platform/progress.js';
import { formatMotionJson, loadStacks, sliceComparisonPng, writeSvrSimulation } from '../src/platform/svr-io.js';
import { formatOfPath, loadVolume, writeVolume, WRITE_EXTENSIONS } from '../src/platform/volume-io.js';
import { maskOnGrid, SVR_GRID_FRAMES, svrGrid, type SvrGridFrame } from '../src/svr/grid.js';
import { brainMask } from '../src/svr/mask.js';
import { buildSvrReportHtml } from '../src/export/svr-report.js';
import { SVR_INR_PRESETS, type SvrInrPreset } from '../src/svr/inr-config.js';
import { svrInr, type SvrInrConfigArg } from '../src/svr/inr.js';
import { createBackend } from './train.js';
import { NAIVE_FOOTPRINTS, naiveFusion, type NaiveFootprint } from '../src/svr/naive.js';
import { MOTION_DISTRIBUTIONS, NOISE_MODELS, simulateSvr, type MotionDistribution, type NoiseModel, type SvrSimulationOptions } from '../src/svr/simulate.js';
import { action, emit, log, parseChoice, parseNumber, readConfigText, type GlobalOptions } from './common.js';

/** What a method is given. */
export interface SvrMethodInput {
  stacks: SliceStack[];
  /** The output grid (zeros). */
  grid: Volume<Float32Array>;
  opts: SvrOpts;
  /** Progress: fraction done in [0, 1] and a short status. */
  progress: (fraction: number, status?: string) => void;
  /** A line on stderr (not with --json / --quiet). */
  log: (msg: string) => void;
}

/** What a method returns. */
export interface SvrMethodOutput {
  volume: Volume<Float32Array>;
  /** Estimated slice motion per stack (slice-stack.ts convention), when the method estimates it. */
  motions?: SliceMotion[];
  /** Method-specific figures for the JSON output and the summary line. */
  details?: Record<string, unknown>;
  /** Uncertainty (std) on the output grid, written as <stem>.uncertainty.nii.gz. */
  uncertainty?: Volume<Float32Array>;
  /** The model's prediction of each stack's pixels (for the report). */
  simulated?: Float32Array[];
  sliceStd?: Float32Array[];
  history?: { step: number; loss: number }[];
  config?: unknown;
}

export interface SvrMethod { what: string; run: (input: SvrMethodInput) => Promise<SvrMethodOutput> }

/** Registered reconstruction methods; adding one is one entry here. */
export const SVR_METHODS: Record<string, SvrMethod> = {
  naive: {
    what: 'scattered-data average of the stack voxels at their nominal positions (no motion correction, no PSF)',
    run: async ({ stacks, grid, opts, progress }) => {
      const r = naiveFusion(stacks, grid, { footprint: opts.footprint, onProgress: (d, t) => progress(d / t, `stack ${d}/${t}`) });
      return { volume: r.volume, details: { footprint: opts.footprint, coveredVoxels: r.covered, voxels: r.volume.data.length } };
    },
  },
  inr: {
    what: 'implicit neural representation (hash grid + MLP) fitted to every slice pixel through the slice profile, with per-slice rigid motion, intensity scale and variance (NeSVoR-style)',
    run: async ({ stacks, grid, opts, progress }) => {
      let config: Record<string, unknown> = {};
      if (opts.config) {
        const text = await readConfigText(opts.config);
        try { config = JSON.parse(text) as Record<string, unknown>; } catch (e) { throw new MedfieldError('bad-file', opts.config, `not valid JSON (${(e as Error).message})`); }
        if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new MedfieldError('bad-file', opts.config, 'expected a JSON object of svr inr config keys');
      }
      const cfg = { ...config, preset: opts.preset ?? (config['preset'] as SvrInrPreset | undefined) ?? 'default', ...(opts.steps !== undefined ? { steps: opts.steps } : {}) } as SvrInrConfigArg;
      const backend = await createBackend(opts.threads);
      try {
        const r = await svrInr(stacks, grid, cfg, backend, { onProgress: (s, t, loss) => progress(s / t, `step ${s}/${t} loss ${loss.toFixed(4)}`) });
        return {
          volume: r.volume, motions: r.motion, uncertainty: r.uncertainty, simulated: r.simulated, sliceStd: r.sliceStd, history: r.history, config: r.config,
          details: { steps: r.config.steps, finalLoss: r.history.length ? r.history[r.history.length - 1]!.loss : null },
        };
      } finally { backend.dispose(); }
    },
  },
};

/** The method used without --method: the full reconstruction when registered, else naive fusion. */
export function defaultSvrMethod(): string {
  return 'inr' in SVR_METHODS ? 'inr' : 'naive';
}

export interface SvrOpts {
  output: string; method?: string; spacing?: number; mask?: string; like?: string; frame?: number | 'all'; thickness?: number;
  footprint: NaiveFootprint; gridFrame: SvrGridFrame; margin?: number;
  preset?: SvrInrPreset; steps?: number; config?: string; threads?: number;
}

/** File stem without the volume extension: out.nii.gz -> out. */
function stemOf(file: string): string {
  return file.replace(/\.(nii\.gz|nii|nrrd|mha|npy)$/i, '');
}

export function registerSvr(program: Command): void {
  program
    .command('svr <stacks...>')
    .description('slice-to-volume reconstruction: thick-slice stacks (NIfTI) with patient motion -> one isotropic volume')
    .requiredOption('-o, --output <file>', `output volume (${WRITE_EXTENSIONS.join(', ')})`)
    .option('--method <m>', `reconstruction method (${Object.keys(SVR_METHODS).join(', ')}; default ${defaultSvrMethod()})`)
    .option('--spacing <mm>', 'isotropic output voxel size, mm (default: the finest in-plane spacing of the stacks)', parseNumber('--spacing', { min: 0, exclusiveMin: true }))
    .option('--mask <file>', 'reconstruct over the box of this mask\'s nonzero voxels and zero the output outside it')
    .option('--like <file>', 'write onto the grid of this volume (e.g. the simulation\'s gt.nii.gz, for `medfield eval`)')
    .option('--frame <t>', "frame of 4D stack files to use (0-based), or 'all': every frame is a stack of its own", (v: string) => (v === 'all' ? 'all' : parseNumber('--frame', { integer: true, min: 0 })(v)))
    .option('--thickness <mm>', 'slice thickness of every stack, mm (default: each stack\'s slice spacing)', parseNumber('--thickness', { min: 0, exclusiveMin: true }))
    .option('--footprint <f>', `naive: splat each voxel at its centre (point) or over its slice thickness (slab)`, parseChoice('--footprint', NAIVE_FOOTPRINTS), 'slab')
    .option('--grid-frame <f>', 'output orientation: ras (identity direction) or first-stack', parseChoice('--grid-frame', SVR_GRID_FRAMES), 'ras')
    .option('--preset <p>', `inr: preset (${Object.keys(SVR_INR_PRESETS).join(', ')}; default 'default')`, parseChoice('--preset', Object.keys(SVR_INR_PRESETS) as SvrInrPreset[]))
    .option('--steps <n>', 'inr: optimisation steps (default: the preset\'s)', parseNumber('--steps', { integer: true, min: 1 }))
    .option('--config <file>', 'inr: JSON object of config keys over the preset (src/svr/inr-config.ts)')
    .option('--threads <n>', 'inr: compute threads (default: up to 2)', parseNumber('--threads', { integer: true, min: 1, max: 256 }))
    .option('--margin <mm>', 'extra margin around the stacks\' box, mm', parseNumber('--margin', { min: 0 }))
    .action(action(async (files: string[], opts: SvrOpts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const method = opts.method ?? defaultSvrMethod();
      const m = SVR_METHODS[method];
      if (!m) throw new MedfieldError('bad-option', '--method', `unknown method "${method}"; expected one of ${Object.keys(SVR_METHODS).join(', ')}`);
      const inrOnly = (['preset', 'steps', 'config', 'threads'] as const).filter((k) => opts[k] !== undefined);
      if (method !== 'inr' && inrOnly.length > 0) throw new MedfieldError('bad-option', `--${inrOnly[0]}`, `is an option of --method inr; the ${method} method takes no ${inrOnly.map((k) => `--${k}`).join(', ')}`);
      const fmt = formatOfPath(opts.output);
      if (fmt === null || fmt === 'dicom') throw new MedfieldError('bad-option', opts.output, `cannot write this extension; expected one of ${WRITE_EXTENSIONS.join(', ')}`);
      if (opts.like && (opts.spacing !== undefined || opts.margin !== undefined)) throw new MedfieldError('bad-option', '--like', '--like fixes the grid; drop --spacing / --margin');
      await assertWritableTarget(opts.output);
      const t0 = performance.now();
      const { stacks, notes, sources } = await loadStacks(files, { frame: opts.frame, thicknessMm: opts.thickness });
      for (const n of notes) log(g, `note: ${n}`);
      let maskVol: Volume | undefined;
      if (opts.mask) {
        const { volume } = await loadVolume(opts.mask);
        if ('frames' in volume && volume.frames > 1) throw new MedfieldError('bad-file', opts.mask, `mask is a 4D series (${volume.frames} frames); expected one 3D mask`);
        maskVol = volume;
      }
      let grid: Volume<Float32Array>;
      if (opts.like) {
        const { volume } = await loadVolume(opts.like);
        if ('frames' in volume && volume.frames > 1) throw new MedfieldError('bad-file', opts.like, `is a 4D series (${volume.frames} frames); expected one 3D volume whose grid to use`);
        grid = toFloat32(volume);
        grid.data.fill(0);
      } else {
        grid = svrGrid(stacks, { spacingMm: opts.spacing, mask: maskVol, frame: opts.gridFrame, marginMm: opts.margin });
      }
      log(g, `svr (${method}): ${stacks.length} stack${stacks.length > 1 ? 's' : ''} (${stacks.map((s) => `${s.name} ${s.volume.dims.join('x')} at ${s.volume.spacingMm.map((x) => x.toFixed(2)).join('x')} mm`).join('; ')}) -> ${grid.dims.join('x')} at ${grid.spacingMm[0].toFixed(3)} mm`);
      const bar = createProgress(method, 1, { silent: g.quiet || g.json });
      const out = await m.run({ stacks, grid, opts, progress: (f, s) => bar.update(f, s), log: (s) => log(g, s) });
      bar.done();
      if (maskVol) {
        const inside = maskOnGrid(maskVol, out.volume);
        for (let p = 0; p < inside.length; p++) if (!inside[p]) out.volume.data[p] = 0;
      }
      // everything is computed before anything is written; a failed write removes what was written
      const written: string[] = [];
      const stem = stemOf(opts.output);
      try {
        await writeVolume(opts.output, out.volume);
        written.push(opts.output);
        if (out.motions) {
          await writeFileAtomic(`${stem}.motion.json`, formatMotionJson(stacks, out.motions, { method }, sources.map((f) => path.basename(f))));
          written.push(`${stem}.motion.json`);
          await writeFileAtomic(`${stem}.slices.png`, sliceComparisonPng(stacks, out.volume, out.motions));
          written.push(`${stem}.slices.png`);
        }
        if (out.uncertainty) {
          const uFile = `${stem}.uncertainty${opts.output.slice(stem.length)}`;
          await writeVolume(uFile, out.uncertainty);
          written.push(uFile);
        }
        await writeFileAtomic(`${stem}.report.html`, buildSvrReportHtml({
          title: `medfield svr: ${path.basename(opts.output)}`,
          subtitle: [`stacks: ${files.join(', ')}`, ...notes.map((n) => `note: ${n}`)],
          stacks, method, seconds: (performance.now() - t0) / 1000, volume: out.volume, uncertainty: out.uncertainty ?? null,
          motion: out.motions ?? null, simulated: out.simulated ?? null, sliceStd: out.sliceStd ?? null, history: out.history ?? [],
          ...(out.config !== undefined ? { config: out.config } : {}),
        }));
        written.push(`${stem}.report.html`);
      } catch (e) {
        for (const f of written) await fsp.rm(f, { force: true }).catch(() => undefined);
        throw e;
      }
      const seconds = (performance.now() - t0) / 1000;
      emit(g, {
        output: opts.output, method, stacks: stacks.map((s) => ({ name: s.name, dims: s.volume.dims, spacingMm: s.volume.spacingMm, sliceThicknessMm: s.sliceThicknessMm })),
        grid: { dims: grid.dims, spacingMm: grid.spacingMm, originMm: grid.originMm, direction: grid.direction }, files: written, notes, seconds, ...(out.details ?? {}),
      }, `wrote ${written.join(', ')} (${method}, ${stacks.length} stacks -> ${grid.dims.join('x')} at ${grid.spacingMm[0].toFixed(3)} mm) in ${seconds.toFixed(1)} s`);
    }));
}

// ---------------------------------------------------------------------------------------------
// medfield simulate --protocol svr

export interface SvrSimulateCliOpts {
  output: string; seed?: number; overwrite?: boolean; frame?: number;
  stacks?: number; sliceMm?: number; inplaneMm?: number; thicknessMm?: number; maxRotDeg?: number; maxTransMm?: number;
  noise?: number; noiseModel?: NoiseModel; motionDist?: MotionDistribution; maskThreshold?: number;
}

/** The svr-only options of `medfield simulate` (added to the command in cli/simulate.ts). */
export function addSvrSimulateOptions(cmd: Command): Command {
  return cmd
    .option('--stacks <n>', 'svr: number of stacks (axial, coronal, sagittal, repeating; default 3)', parseNumber('--stacks', { integer: true, min: 1, max: 64 }))
    .option('--slice-mm <mm>', 'svr: slice spacing, mm (default 4)', parseNumber('--slice-mm', { min: 0, exclusiveMin: true }))
    .option('--inplane-mm <mm>', 'svr: in-plane pixel size, mm (default 1)', parseNumber('--inplane-mm', { min: 0, exclusiveMin: true }))
    .option('--thickness-mm <mm>', 'svr: slice thickness (PSF FWHM), mm (default: the slice spacing)', parseNumber('--thickness-mm', { min: 0, exclusiveMin: true }))
    .option('--max-rot-deg <deg>', 'svr: largest rotation of a slice, degrees (default 5)', parseNumber('--max-rot-deg', { min: 0, max: 90 }))
    .option('--max-trans-mm <mm>', 'svr: largest translation of a slice, mm (default 5)', parseNumber('--max-trans-mm', { min: 0 }))
    .option('--motion-dist <d>', `svr: motion distribution (${MOTION_DISTRIBUTIONS.join(', ')}; default uniform)`, parseChoice('--motion-dist', MOTION_DISTRIBUTIONS))
    .option('--noise <f>', 'svr: noise std as a fraction of the volume maximum (default 0.02)', parseNumber('--noise', { min: 0 }))
    .option('--noise-model <m>', `svr: ${NOISE_MODELS.join(' or ')} (default rician)`, parseChoice('--noise-model', NOISE_MODELS))
    .option('--frame <t>', 'svr: frame of a 4D input to simulate from (0-based)', parseNumber('--frame', { integer: true, min: 0 }));
}

/** Option keys that only the svr protocol takes. */
export const SVR_SIMULATE_KEYS = ['stacks', 'sliceMm', 'inplaneMm', 'thicknessMm', 'maxRotDeg', 'maxTransMm', 'motionDist', 'noise', 'noiseModel', 'frame'] as const;

/** `medfield simulate <volume> --protocol svr -o dir/`. */
export async function runSvrSimulate(input: string, o: SvrSimulateCliOpts, g: GlobalOptions): Promise<void> {
  const { volume } = await loadVolume(input);
  const frames = 'frames' in volume ? volume.frames : 1;
  if (frames > 1 && o.frame === undefined) throw new MedfieldError('bad-file', input, `is a 4D series of ${frames} volumes; choose one with --frame t (0..${frames - 1})`);
  const t = o.frame ?? 0;
  if (t >= frames) throw new MedfieldError('bad-option', '--frame', `${input} has ${frames} frame${frames > 1 ? 's' : ''}; expected 0..${frames - 1}, got ${t}`);
  const n = volume.dims[0] * volume.dims[1] * volume.dims[2];
  const gt = toFloat32({ ...volume, data: volume.data.subarray(t * n, (t + 1) * n) });
  for (let p = 0; p < n; p++) if (!Number.isFinite(gt.data[p]!)) throw new MedfieldError('bad-data', input, 'contains NaN/Inf values; expected finite intensities');
  const so: SvrSimulationOptions = {
    stacks: o.stacks, sliceSpacingMm: o.sliceMm, inPlaneMm: o.inplaneMm, sliceThicknessMm: o.thicknessMm, maxRotationDeg: o.maxRotDeg,
    maxTranslationMm: o.maxTransMm, motion: o.motionDist, noise: o.noise, noiseModel: o.noiseModel, seed: o.seed,
  };
  const bar = createProgress('simulating stacks', 1, { silent: g.quiet || g.json });
  const t0 = performance.now();
  const sim = simulateSvr(gt, { ...so, onProgress: (d, tot) => bar.update(d / tot, `stack ${d}/${tot}`) });
  bar.done();
  const mask = brainMask(gt);
  const files = await writeSvrSimulation(o.output, {
    stacks: sim.stacks, motions: sim.motions, groundTruth: gt, mask,
    extra: { simulation: { input: path.basename(input), ...sim.options, psfNodes: sim.psfNodes, noiseSigma: sim.noiseSigma, orientations: sim.orientations } },
  }, { overwrite: o.overwrite });
  const seconds = (performance.now() - t0) / 1000;
  const r = sim.options;
  emit(g, { output: o.output, protocol: 'svr', files, ...r, stacks: sim.stacks.map((s, i) => ({ file: files[i], orientation: sim.orientations[i], dims: s.volume.dims, spacingMm: s.volume.spacingMm })), psfNodes: sim.psfNodes, noiseSigma: sim.noiseSigma, seconds }, [
    `wrote ${o.output}: ${sim.stacks.length} stacks (${sim.stacks.map((s, i) => `${sim.orientations[i]} ${s.volume.dims.join('x')}`).join(', ')}), motion.json, gt.nii.gz, mask.nii.gz`,
    `  ${r.inPlaneMm} mm in-plane, ${r.sliceSpacingMm} mm slices (thickness ${r.sliceThicknessMm} mm), motion up to ${r.maxRotationDeg} deg / ${r.maxTranslationMm} mm (${r.motion}), ${r.noiseModel} noise ${r.noise} of max, seed ${r.seed}; ${seconds.toFixed(1)} s`,
  ].join('\n'));
}
