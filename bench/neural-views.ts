/**
 * views-72 benchmark of the radiance field (GUIDE.md section 6): for each input brain MRI,
 * simulate the views-72 protocol in-process (72 emission-absorption views at 5 deg, 128 x 128,
 * train on every 5th view = 15, test on the other 57), train `createRadianceTask` for a wall-time
 * budget, then print PSNR / SSIM of every test view and their means (data range 1: EA views of
 * the [0,1]-normalised MRI are in [0,1]) and the wall times.
 *
 *   npm run bench:neural-views -- [--minutes 10] [--input a.nii.gz,b.nii.gz] [--preset hash]
 *     [--config '{"samples":{"fine":0}}'] [--threads 2] [--lr-decay 0.1] [--eval-every 120]
 *     [--render ea|drr] [--size 128] [--detector 128] [--test-stride 1] [--per-view] [--json]
 *
 * --lr-decay: the learning rate falls exponentially with elapsed time to this fraction of the
 * base rate at the end of the budget (1 = constant). --eval-every: seconds between interim
 * evaluations on 6 test views (not counted in the training time).
 */
import { existsSync } from 'node:fs';
import { psnr, ssim2d } from '../src/metrics/index.js';
import { protocolDefaults } from '../src/physics/protocols.js';
import { createEnginePool } from '../src/platform/engine-pool.js';
import { simulateProtocol } from '../src/platform/simulate.js';
import { loadVolume } from '../src/platform/volume-io.js';
import type { RadianceFieldPreset } from '../src/field/radiance.js';
import { createRadianceTask, RADIANCE_TASK_PRESETS, type RadianceTaskConfigInput } from '../src/train/radiance-task.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const json = process.argv.includes('--json');
const perView = process.argv.includes('--per-view') || json;
const minutes = Number(arg('--minutes', '10'));
const inputs = arg('--input', '../shared/data/brats-gli-00001-000/BraTS-GLI-00001-000-t1c.nii.gz,../shared/data/tcga-fg-6692-brainles/OtherEXampleFromTCIA_t1c_bet.nii.gz').split(',');
const preset = arg('--preset', 'hash');
const extra = JSON.parse(arg('--config', '{}')) as RadianceTaskConfigInput;
const threads = Number(arg('--threads', '2'));
const lrDecay = Number(arg('--lr-decay', '0.1'));
const evalEvery = Number(arg('--eval-every', '0'));
const render = arg('--render', 'ea') as 'ea' | 'drr';
const size = Number(arg('--size', '128'));
/** Evaluate every Nth test view only (lever sweeps; 1 = all 57). */
const testStride = Number(arg('--test-stride', '1'));
const detector = Number(arg('--detector', '128'));

function out(o: Record<string, unknown>, text: string): void {
  console.log(json ? JSON.stringify(o) : text);
}

async function runOne(input: string): Promise<void> {
  if (!existsSync(input)) {
    out({ input, skipped: 'not found' }, `skipped: ${input} not found (run from the repository root with ../shared/data beside it)`);
    return;
  }
  const { volume } = await loadVolume(input);
  let t0 = performance.now();
  const p = { ...protocolDefaults('views-72'), render, size, detectorPixels: detector };
  const sim = await simulateProtocol(volume, p, { threads, intensity: 'mri' });
  const simSeconds = (performance.now() - t0) / 1000;
  const [, rows, cols] = sim.meta.projections.shape;
  const P = rows * cols;
  const { train } = sim.meta.splits;
  const test = sim.meta.splits.test.filter((_, i) => i % testStride === 0);
  const backend = await createEnginePool({ threads });
  const base = RADIANCE_TASK_PRESETS[preset as RadianceFieldPreset];
  if (!base) throw new Error(`unknown preset ${preset}; expected one of ${Object.keys(RADIANCE_TASK_PRESETS).join(', ')}`);
  const task = createRadianceTask(sim, { ...base, ...extra }, backend);
  out({ input, event: 'start', simSeconds, train: train.length, test: test.length, rows, cols, grid: sim.geometry.nVoxel, config: task.resolvedConfig() },
    `views-72 (${render}) on ${input}: ${train.length} train / ${test.length} test views of ${rows}x${cols}, grid ${sim.geometry.nVoxel.join('x')} at ${sim.geometry.dVoxel[0].toFixed(3)} mm; simulated in ${simSeconds.toFixed(1)} s; preset ${preset} ${JSON.stringify(extra)}; ${threads} threads; ${minutes} min; lr decay ${lrDecay}`);
  const range = task.viewDataRange;
  const budget = minutes * 60 * 1000;
  const probe = test.filter((_, i) => i % 10 === 0);
  let trainMs = 0, steps = 0, lastEval = 0, lossSum = 0, lossN = 0;
  while (trainMs < budget) {
    const s0 = performance.now();
    const r = task.step(steps, Math.pow(lrDecay, trainMs / budget));
    trainMs += performance.now() - s0;
    steps++;
    lossSum += r.loss; lossN++;
    if (evalEvery > 0 && trainMs - lastEval >= evalEvery * 1000) {
      lastEval = trainMs;
      const img = task.renderViews(probe);
      let ps = 0;
      probe.forEach((v, i) => { ps += psnr(sim.projections.subarray(v * P, (v + 1) * P), img.subarray(i * P, (i + 1) * P), { dataRange: range }); });
      out({ input, event: 'eval', step: steps, trainSeconds: trainMs / 1000, loss: lossSum / lossN, probePsnr: ps / probe.length },
        `  step ${steps}  ${(trainMs / 1000).toFixed(0)} s  loss ${(lossSum / lossN).toExponential(3)}  PSNR(${probe.length} test views) ${(ps / probe.length).toFixed(2)} dB`);
      lossSum = 0; lossN = 0;
    }
  }
  t0 = performance.now();
  const img = task.renderViews(test);
  const renderSeconds = (performance.now() - t0) / 1000;
  let mp = 0, ms = 0;
  const rowsOut: string[] = [];
  test.forEach((v, i) => {
    const a = sim.projections.subarray(v * P, (v + 1) * P), b = img.subarray(i * P, (i + 1) * P);
    const pv = psnr(a, b, { dataRange: range }), sv = ssim2d(a, b, rows, cols, { dataRange: range });
    mp += pv; ms += sv;
    if (perView) {
      if (json) console.log(JSON.stringify({ input, event: 'view', view: v, angleDeg: (sim.anglesRad[v]! * 180) / Math.PI, psnr: pv, ssim: sv }));
      else rowsOut.push(`  view ${String(v).padStart(2)} (${((sim.anglesRad[v]! * 180) / Math.PI).toFixed(0).padStart(3)} deg)  PSNR ${pv.toFixed(2)}  SSIM ${sv.toFixed(4)}`);
    }
  });
  if (rowsOut.length) console.log(rowsOut.join('\n'));
  mp /= test.length; ms /= test.length;
  out({ input, event: 'result', preset, config: extra, steps, trainSeconds: trainMs / 1000, renderSeconds, meanPsnr: mp, meanSsim: ms, dataRange: range },
    `RESULT ${input.split('/').pop()}: mean over ${test.length} test views PSNR ${mp.toFixed(2)} dB, SSIM ${ms.toFixed(4)} (data range ${range}); ${steps} steps in ${(trainMs / 1000).toFixed(0)} s train + ${renderSeconds.toFixed(1)} s render (published: 25.01 / 0.879)`);
  task.dispose();
  backend.dispose();
}

async function main(): Promise<void> {
  for (const input of inputs) await runOne(input);
}

main().catch((e: unknown) => { console.error(e); process.exit(1); });
