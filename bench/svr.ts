/**
 * svr benchmark (GUIDE.md section 6): for each brain MRI, simulate three orthogonal stacks of
 * 4 mm slices (1 mm in-plane) with a random rigid motion per slice and Rician noise
 * (src/svr/simulate.ts), reconstruct with every method of SVR_BENCH_METHODS onto the ground
 * truth's own grid (1 mm), and print PSNR / SSIM inside the brain mask (data range = max of the
 * ground truth inside the mask, stated per input), the motion error against the truth and the
 * wall time. The row "naive, no motion" fuses stacks simulated without motion: what naive
 * fusion could reach if the patient had kept still.
 *
 *   npm run bench:svr -- [--input a.nii.gz,b.nii.gz] [--seed 1] [--max-rot-deg 5] [--max-trans-mm 5]
 *     [--noise 0.02] [--slice-mm 4] [--methods naive-slab,naive-point,inr] [--preset default] [--steps N] [--set '{"batchPixels":8192}'] [--threads 2] [--json]
 *   (--set: inr config sections over the preset, src/svr/inr-config.ts)
 *   medfield bench svr [same arguments]
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { toFloat32, type Volume } from '../src/core/volume.js';
import type { SliceMotion } from '../src/geometry/slice-stack.js';
import { brainMask, maskedQuality, motionError } from '../src/svr/mask.js';
import { naiveFusion } from '../src/svr/naive.js';
import { simulateSvr, type SvrSimulation } from '../src/svr/simulate.js';
import { loadVolume } from '../src/platform/volume-io.js';
import { createEnginePool } from '../src/platform/engine-pool.js';
import type { SvrInrPreset } from '../src/svr/inr-config.js';
import { svrInr } from '../src/svr/inr.js';

/** A reconstruction method as the benchmark runs it: stacks (and the truth's grid) in, volume (and motion, if estimated) out. */
export interface SvrBenchMethod {
  name: string;
  /** Reconstructs `sim`'s stacks onto `grid` (zeros; the ground truth's grid). `motions` null = none estimated. */
  run: (sim: SvrSimulation, grid: Volume<Float32Array>) => Promise<{ volume: Volume<Float32Array>; motions: SliceMotion[] | null }>;
}

/** The methods compared; a new method is one entry. */
export const SVR_BENCH_METHODS: SvrBenchMethod[] = [
  { name: 'naive-slab', run: async (sim, grid) => ({ volume: naiveFusion(sim.stacks, grid, { footprint: 'slab' }).volume, motions: null }) },
  { name: 'naive-point', run: async (sim, grid) => ({ volume: naiveFusion(sim.stacks, grid, { footprint: 'point' }).volume, motions: null }) },
  {
    name: 'inr',
    run: async (sim, grid) => {
      const backend = await createEnginePool({ threads: Number(arg('--threads', '2')) });
      try {
        const steps = arg('--steps', '');
        const set = JSON.parse(arg('--set', '{}')) as Record<string, unknown>;
        const r = await svrInr(sim.stacks, grid, { ...set, preset: arg('--preset', 'default') as SvrInrPreset, ...(steps ? { steps: Number(steps) } : {}) }, backend);
        return { volume: r.volume, motions: r.motion };
      } finally { backend.dispose(); }
    },
  },
];

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const json = process.argv.includes('--json');
const inputs = arg('--input', '../shared/data/brats-gli-00001-000/BraTS-GLI-00001-000-t1c.nii.gz,../shared/data/stroke-mri-cstar/T1.nii.gz').split(',');
const seed = Number(arg('--seed', '1'));
const maxRotationDeg = Number(arg('--max-rot-deg', '5'));
const maxTranslationMm = Number(arg('--max-trans-mm', '5'));
const noise = Number(arg('--noise', '0.02'));
const sliceSpacingMm = Number(arg('--slice-mm', '4'));
const only = arg('--methods', '').split(',').filter(Boolean);

function out(o: Record<string, unknown>, text: string): void {
  console.log(json ? JSON.stringify(o) : text);
}

const pad = (s: string, n: number) => s.padEnd(n);

async function runOne(input: string): Promise<void> {
  if (!existsSync(input)) {
    out({ input, skipped: 'not found' }, `skipped: ${input} not found (run from the repository root with ../shared/data beside it)`);
    return;
  }
  const { volume } = await loadVolume(input);
  const gt = toFloat32(volume);
  const name = path.basename(input);
  let t0 = performance.now();
  const sim = simulateSvr(gt, { seed, maxRotationDeg, maxTranslationMm, noise, sliceSpacingMm });
  const simSeconds = (performance.now() - t0) / 1000;
  const still = simulateSvr(gt, { seed, maxRotationDeg: 0, maxTranslationMm: 0, noise, sliceSpacingMm });
  const mask = brainMask(gt);
  let maskVoxels = 0;
  for (let p = 0; p < mask.data.length; p++) maskVoxels += mask.data[p]!;
  const o = sim.options;
  out({ input, dims: gt.dims, spacingMm: gt.spacingMm, stacks: sim.stacks.map((s) => s.volume.dims), psfNodes: sim.psfNodes, simSeconds, maskVoxels, options: o }, [
    `${name}: ${gt.dims.join('x')} at ${gt.spacingMm.map((x) => x.toFixed(2)).join('x')} mm; stacks ${sim.stacks.map((s, i) => `${sim.orientations[i]} ${s.volume.dims.join('x')}`).join(', ')}`,
    `  ${o.inPlaneMm} mm in-plane, ${o.sliceSpacingMm} mm slices (thickness ${o.sliceThicknessMm} mm, PSF nodes ${sim.psfNodes.join('x')}), motion up to ${o.maxRotationDeg} deg / ${o.maxTranslationMm} mm (${o.motion}), ${o.noiseModel} noise ${o.noise} of max (sigma ${sim.noiseSigma.toPrecision(4)}), seed ${o.seed}; simulated in ${simSeconds.toFixed(1)} s`,
    `  mask: ${maskVoxels} voxels (ground truth > 2% of max, largest component, holes filled); metrics on the ground-truth grid inside it`,
    `  ${pad('method', 22)}${pad('PSNR dB', 9)}${pad('SSIM', 8)}${pad('data range', 12)}${pad('motion error mm / deg', 32)}seconds`,
  ].join('\n'));
  const rows: { name: string; sim: SvrSimulation; run: SvrBenchMethod['run'] }[] = [
    ...SVR_BENCH_METHODS.filter((m) => only.length === 0 || only.includes(m.name)).map((m) => ({ name: m.name, sim, run: m.run })),
    { name: 'naive, no motion', sim: still, run: SVR_BENCH_METHODS[0]!.run },
  ];
  for (const r of rows) {
    const grid: Volume<Float32Array> = { ...gt, data: new Float32Array(gt.data.length), direction: new Float64Array(gt.direction) };
    t0 = performance.now();
    const res = await r.run(r.sim, grid);
    const seconds = (performance.now() - t0) / 1000;
    const q = maskedQuality(gt, res.volume, mask.data);
    const me = motionError(r.sim.motions, res.motions);
    const motionText = r.sim === still ? 'none (no motion)' : res.motions ? `${me.meanTranslationMm.toFixed(2)} / ${me.meanRotationDeg.toFixed(2)}` : `none estimated (${me.meanTrueTranslationMm.toFixed(2)} / ${me.meanTrueRotationDeg.toFixed(2)})`;
    out({ input, method: r.name, psnr: q.psnr, ssim: q.ssim, dataRange: q.dataRange, dataRangeSource: q.dataRangeSource, motion: r.sim === still ? null : me, motionEstimated: res.motions !== null, seconds }, `  ${pad(r.name, 22)}${pad(q.psnr.toFixed(2), 9)}${pad(q.ssim.toFixed(4), 8)}${pad(q.dataRange.toPrecision(5), 12)}${pad(motionText, 32)}${seconds.toFixed(1)}`);
  }
}

for (const input of inputs) await runOne(input);
