/**
 * INR slice-to-volume reconstruction on the svr protocol (GUIDE.md section 6, issue 6): a brain
 * MRI (default ../shared/data/stroke-mri-cstar/T1.nii.gz, 124x160x140 at 1 mm) -> three orthogonal
 * stacks of 1 mm in-plane / 4 mm slices, random rigid motion per slice (uniform angle up to
 * --max-rot deg about a random axis, uniform shift up to --max-trans mm in a random direction),
 * Rician noise (--noise x max) by test/helpers/svr-synth.ts -> svrInr on the 1 mm grid. Prints
 * PSNR inside the brain mask (gt > 0; data range = max of gt in the mask) of
 *  - naive fusion (the mean of the stacks trilinearly resampled at their nominal positions),
 *  - the INR reconstruction,
 * the motion error (mean over slices, gauge-aligned: both motions' means removed) before and after,
 * the wall time and the machine load.
 *
 *   npm run bench:svr-inr -- [--input T1.nii.gz] [--preset default] [--steps 1500] [--threads 2]
 *     [--max-rot 5] [--max-trans 5] [--noise 0.02] [--seed 1] [--set '{"motion":{"enabled":false}}'] [--json]
 *     [--cache /tmp/svr-stacks.bin]   (reuse the simulated stacks of an identical earlier run)
 *     [--out dir]   (writes gt, naive, inr, uncertainty, |error| as NIfTI and motion.json)
 *     [--outliers 6]   (corrupts that many random slices after simulation: 0.3 x signal + uniform noise up to 0.4 x max)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeNifti, encodeNifti } from '../src/io/nifti.js';
import { deserialize, serialize } from 'node:v8';
import { loadavg } from 'node:os';
import type { Volume } from '../src/core/volume.js';
import { createEnginePool } from '../src/platform/engine-pool.js';
import { svrInr } from '../src/svr/inr.js';
import { motionError } from '../src/svr/mask.js';
import { flatMotion as flat, maskedPsnr, resampleFusion as naiveFusion, synthStacks } from '../test/helpers/svr-synth.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const json = process.argv.includes('--json');
const input = arg('--input', '../shared/data/stroke-mri-cstar/T1.nii.gz');
const preset = arg('--preset', 'default');
const steps = arg('--steps', '');
const threads = Number(arg('--threads', '2'));
const maxRot = Number(arg('--max-rot', '5')), maxTrans = Number(arg('--max-trans', '5')), noise = Number(arg('--noise', '0.02'));
const seed = Number(arg('--seed', '1'));
const cache = arg('--cache', '');
const outDir = arg('--out', '');
const outliers = Number(arg('--outliers', '0'));
const overrides = JSON.parse(arg('--set', '{}')) as Record<string, unknown>;
const log = (s: string): void => { if (json) process.stderr.write(s + '\n'); else console.log(s); };

async function main(): Promise<void> {
  if (!existsSync(input)) { console.log(`skipped: ${input} not found (run from the repository root with ../shared/data beside it)`); return; }
  const dec = decodeNifti(new Uint8Array(readFileSync(input)), input);
  const v = dec.volume;
  if ('frames' in v) throw new Error(`${input}: expected a single 3D volume`);
  const gt: Volume<Float32Array> = { ...v, data: Float32Array.from(v.data as ArrayLike<number>) };
  log(`input ${input}: ${gt.dims.join('x')} at ${gt.spacingMm.map((s) => s.toFixed(2)).join('x')} mm; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  let t = Date.now();
  const key = JSON.stringify({ input, maxRot, maxTrans, noise, seed });
  let sim: ReturnType<typeof synthStacks> | null = null;
  if (cache && existsSync(cache)) {
    const c = deserialize(readFileSync(cache)) as { key: string; sim: ReturnType<typeof synthStacks> };
    if (c.key === key) sim = c.sim;
  }
  if (!sim) {
    sim = synthStacks(gt, { inPlaneMm: 1, sliceMm: 4, maxRotDeg: maxRot, maxTransMm: maxTrans, noise, seed });
    if (cache) writeFileSync(cache, serialize({ key, sim }));
  }
  const { stacks, motion } = sim;
  // Outlier slices (signal dropout + noise): which ones, to report their fitted std.
  const corrupted: [number, number][] = [];
  if (outliers > 0) {
    let gmax = 0;
    for (const x of gt.data) gmax = Math.max(gmax, x);
    let r = 12345;
    const next = (): number => { r = (r * 16807) % 2147483647; return r / 2147483647; };
    while (corrupted.length < outliers) {
      const st = Math.floor(next() * stacks.length), nz = stacks[st]!.volume.dims[2];
      const k = Math.floor(nz * (0.3 + 0.4 * next()));
      if (corrupted.some(([a, b]) => a === st && b === k)) continue;
      corrupted.push([st, k]);
      const v = stacks[st]!.volume, n = v.dims[0] * v.dims[1];
      for (let i = k * n; i < (k + 1) * n; i++) v.data[i] = 0.3 * v.data[i]! + 0.4 * gmax * next();
    }
    log(`corrupted slices (stack, index): ${corrupted.map(([a, b]) => `(${stacks[a]!.name}, ${b})`).join(' ')}`);
  }
  log(`simulated ${stacks.map((s) => `${s.name} ${s.volume.dims.join('x')}`).join(', ')} (motion <= ${maxRot} deg / ${maxTrans} mm, Rician noise ${noise} x max) in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  t = Date.now();
  const naive = naiveFusion(stacks, gt);
  const naivePsnr = maskedPsnr(gt.data, naive);
  log(`naive fusion: PSNR ${naivePsnr.toFixed(2)} dB (${((Date.now() - t) / 1000).toFixed(1)} s)`);
  const backend = await createEnginePool({ threads });
  const t0 = Date.now();
  const config = { preset: preset as 'default', ...(steps ? { steps: Number(steps) } : {}), ...overrides };
  const res = await svrInr(stacks, gt, config, backend, {
    onProgress: (s, n, l) => { if (s % 100 === 0 || s === n) log(`  step ${s}/${n} loss ${l.toFixed(4)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`); },
  });
  const wall = (Date.now() - t0) / 1000;
  backend.dispose();
  const inrPsnr = maskedPsnr(gt.data, res.volume.data);
  // Does the uncertainty flag the errors? Pearson correlation of the uncertainty with |error| in the mask.
  let n = 0, su = 0, se = 0, suu = 0, see = 0, sue = 0;
  const err = new Float32Array(gt.data.length);
  for (let i = 0; i < gt.data.length; i++) {
    err[i] = Math.abs(res.volume.data[i]! - gt.data[i]!);
    if (!(gt.data[i]! > 0)) continue;
    const u = res.uncertainty.data[i]!, e = err[i]!;
    n++; su += u; se += e; suu += u * u; see += e * e; sue += u * e;
  }
  const uncCorr = (sue / n - (su / n) * (se / n)) / Math.sqrt((suu / n - (su / n) ** 2) * (see / n - (se / n) ** 2));
  if (corrupted.length && res.config.variance.slice) {
    const all = res.sliceStd.flatMap((a) => Array.from(a)).sort((a, b) => a - b), med = all[Math.floor(all.length / 2)]!;
    log(`fitted slice std of the corrupted slices / median of all: ${corrupted.map(([a, b]) => (res.sliceStd[a]![b]! / med).toFixed(1)).join(' ')}`);
  }
  if (outDir) {
    mkdirSync(outDir, { recursive: true });
    const like = (data: Float32Array): Volume<Float32Array> => ({ ...gt, data });
    for (const [name, data] of [['gt', gt.data], ['naive', naive], ['inr', res.volume.data], ['uncertainty', res.uncertainty.data], ['abs-error', err]] as const) {
      writeFileSync(join(outDir, `${name}.nii`), encodeNifti(like(data)));
    }
    writeFileSync(join(outDir, 'motion.json'), JSON.stringify({ convention: 'per stack, per slice [rx, ry, rz (rad), tx, ty, tz (mm)] about the slice centre (src/geometry/slice-stack.ts)',
      estimated: res.motion.map((m) => Array.from(m)), truth: motion.map((m) => Array.from(m)), sliceStd: res.sliceStd.map((s) => Array.from(s)), sliceScale: res.sliceScale.map((s) => Array.from(s)) }));
  }
  const before = motionError([flat(motion)], null), after = motionError([flat(motion)], [flat(res.motion)]);
  const fig = {
    input, dims: gt.dims, stacks: stacks.map((s) => s.volume.dims), maxRotDeg: maxRot, maxTransMm: maxTrans, noise, seed, preset, steps: res.config.steps, threads,
    naivePsnrDb: naivePsnr, inrPsnrDb: inrPsnr, gainDb: inrPsnr - naivePsnr,
    uncertaintyErrorCorrelation: uncCorr,
    motionErrorBefore: before, motionErrorAfter: after, wallSeconds: wall, loadAverage: loadavg(),
  };
  if (json) console.log(JSON.stringify(fig));
  else {
    log(`INR: PSNR ${inrPsnr.toFixed(2)} dB (naive + ${(inrPsnr - naivePsnr).toFixed(2)} dB) in ${wall.toFixed(1)} s on ${threads} threads`);
    log(`motion error (mean over slices): before ${before.meanRotationDeg.toFixed(2)} deg / ${before.meanTranslationMm.toFixed(2)} mm; after ${after.meanRotationDeg.toFixed(2)} deg / ${after.meanTranslationMm.toFixed(2)} mm`);
    if (Number.isFinite(uncCorr)) log(`uncertainty vs |error| in the mask: Pearson r = ${uncCorr.toFixed(3)}`);
    log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
}

await main();
