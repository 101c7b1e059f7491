/**
 * Neural attenuation field vs classical CT on the ct-50 / ct-25-360 protocols (GUIDE.md section 6,
 * issue 5): simulate the protocol from the real CT, run FDK and SART, train an attenuation-field
 * preset for a time budget, and print 3D PSNR/SSIM (data range 1: the ground truth is normalised
 * to [0,1]), 2D PSNR on the held-out test projections (data range: max noiseless test line
 * integral) and wall time, all from the same invocation.
 *
 *   npm run bench:neural-ct -- [--protocol ct-50|ct-25-360] [--minutes 10] [--preset dense-fdk-tv]
 *     [--set '{"tv":{"weight":0.01}}'] [--lr-final 0.1] [--threads 2] [--eval-every 30]
 *     [--no-classical] [--sart-iterations 5] [--size 128] [--warm sart] [--no-render] [--json]
 *
 * --set merges a JSON object into the preset (deep merge) to measure one lever at a time.
 * The neural wall time includes the warm start (FDK of the training views) when the preset uses one.
 */
import { existsSync } from 'node:fs';
import { deepMerge } from '../src/core/merge.js';
import { psnr, ssim3d } from '../src/metrics/index.js';
import { gridVolume } from '../src/geometry/grid.js';
import { protocolDefaults, type ProtocolName } from '../src/physics/protocols.js';
import { createEnginePool } from '../src/platform/engine-pool.js';
import { reconstructDataset } from '../src/platform/reconstruct.js';
import { arg, setupCtBench } from './ct-setup.js';
import { ATTENUATION_PRESETS, resolveAttenuationConfig, type AttenuationConfigInput } from '../src/field/attenuation.js';
import { createAttenuationTask } from '../src/train/attenuation-task.js';

const json = process.argv.includes('--json');
const protocol = arg('--protocol', 'ct-50') as ProtocolName;
const input = arg('--input', '../shared/data/totalseg-ct/example_ct.nii.gz');
const minutes = Number(arg('--minutes', '10'));
const preset = arg('--preset', 'dense-fdk-tv');
const overrides = JSON.parse(arg('--set', '{}')) as Record<string, unknown>;
const lrFinal = Number(arg('--lr-final', '0.1'));
const threads = Number(arg('--threads', '2'));
const evalEvery = Number(arg('--eval-every', '30'));
const classical = !process.argv.includes('--no-classical');
const sartIterations = Number(arg('--sart-iterations', '5'));
const size = Number(arg('--size', '128'));
const maxSteps = Number(arg('--steps', 'Infinity'));
/** --no-render: skip the field's own renders of the test views (slow for hash-grid presets). */
const renderOwn = !process.argv.includes('--no-render');
/** --warm sart: warm-start from the SART volume of this run (config warmStart 'sart'); its time is added to the neural row. */
const warmFrom = arg('--warm', 'preset');

const log = (s: string): void => { if (json) process.stderr.write(s + '\n'); else console.log(s); };

async function main(): Promise<void> {
  if (!existsSync(input)) {
    console.log(`skipped: ${input} not found (run from the repository root with ../shared/data beside it)`);
    return;
  }
  const base = (ATTENUATION_PRESETS as Record<string, AttenuationConfigInput>)[preset];
  if (!base) throw new Error(`unknown preset ${preset}`);
  const configInput = deepMerge(structuredClone(base) as Record<string, unknown>, overrides) as AttenuationConfigInput;
  resolveAttenuationConfig(configInput);
  const p = { ...protocolDefaults(protocol), size };
  const { sim, simSeconds, ds, testIds, testOp, trueTest, testRange } = await setupCtBench(input, p, threads);
  const [, nv, nu] = sim.meta.projections.shape;
  let t0 = performance.now();
  const gt = sim.groundTruth;
  log(`${protocol} on ${input}: ${sim.meta.splits.train.length} train views, ${testIds.length} test, grid ${sim.geometry.nVoxel.join('x')} at ${sim.geometry.dVoxel[0].toFixed(3)} mm, detector ${nv}x${nu}, I0 ${p.I0}; simulated in ${simSeconds.toFixed(1)} s`);
  log('3D: data range 1 (ground truth normalised to [0,1]); 2D: test projections (Siddon of the volume), data range ' + testRange.toFixed(3));
  if (!json) console.log('method              3D PSNR   3D SSIM   2D PSNR   seconds');
  const est = new Float32Array(trueTest.length);
  const report = async (method: string, data: Float32Array, seconds: number, extra: Record<string, unknown> = {}): Promise<void> => {
    const vol = gridVolume(sim.geometry, data);
    const p3 = psnr(gt.data, data, { dataRange: 1 });
    const s3 = ssim3d(gt, vol, { dataRange: 1 });
    await testOp.forward(data, est);
    const p2 = psnr(trueTest, est, { dataRange: testRange });
    if (json) console.log(JSON.stringify({ bench: `neural-${protocol}`, input, method, psnr3d: p3, ssim3d: s3, psnr2dTest: p2, seconds, threads, dataRange3d: 1, dataRange2d: testRange, ...extra }));
    else console.log(`${method.padEnd(18)} ${p3.toFixed(2).padStart(9)} ${s3.toFixed(4).padStart(9)} ${p2.toFixed(2).padStart(9)} ${seconds.toFixed(1).padStart(9)}`);
  };

  // FDK is also the warm start when the preset asks for one (its time is counted in the neural row too)
  t0 = performance.now();
  const fdkVol = await reconstructDataset(ds, { method: 'fdk', threads });
  const fdkSeconds = (performance.now() - t0) / 1000;
  if (classical) await report('fdk', fdkVol.data, fdkSeconds);
  let sartVol: Float32Array | undefined, sartSeconds = 0;
  if (classical || warmFrom === 'sart') {
    t0 = performance.now();
    sartVol = (await reconstructDataset(ds, { method: 'sart', iterations: sartIterations, threads })).data;
    sartSeconds = (performance.now() - t0) / 1000;
    if (classical) await report(`sart-${sartIterations}`, sartVol, sartSeconds);
  }
  if (warmFrom === 'sart') (configInput as { warmStart?: Record<string, unknown> }).warmStart = { ...((configInput as { warmStart?: Record<string, unknown> }).warmStart ?? {}), kind: 'sart' };

  const backend = await createEnginePool({ threads });
  const cfg = resolveAttenuationConfig(configInput);
  if (cfg.warmStart.kind === 'sart' && !sartVol) {
    t0 = performance.now();
    sartVol = (await reconstructDataset(ds, { method: 'sart', iterations: cfg.warmStart.sartEpochs, threads })).data;
    sartSeconds = (performance.now() - t0) / 1000;
  }
  t0 = performance.now();
  const initialVolume = cfg.warmStart.kind === 'fdk' ? fdkVol.data : cfg.warmStart.kind === 'sart' ? sartVol : undefined;
  const task = createAttenuationTask(ds, configInput, backend, initialVolume ? { initialVolume } : {});
  const warmSeconds = (performance.now() - t0) / 1000 + (cfg.warmStart.kind === 'fdk' ? fdkSeconds : cfg.warmStart.kind === 'sart' ? sartSeconds : 0);
  const budget = minutes * 60;
  const curve: { step: number; seconds: number; psnr3d: number; loss: number }[] = [];
  let step = 0, lossAcc = 0, lossN = 0, nextEval = evalEvery, evalSeconds = 0;
  const trainStart = performance.now();
  const elapsed = (): number => (performance.now() - trainStart) / 1000 - evalSeconds + warmSeconds;
  while (elapsed() < budget && step < maxSteps) {
    // the learning-rate decay runs over the step budget when one is given (contention-proof lever runs), else over the time budget
    const frac = Number.isFinite(maxSteps) ? step / maxSteps : Math.min(1, elapsed() / budget);
    const r = task.step(step, lrFinal ** frac);
    lossAcc += r.loss; lossN++;
    step++;
    if (elapsed() >= nextEval) {
      const te = performance.now();
      const v = task.sampleGrid(sim.geometry);
      const p3 = psnr(gt.data, v, { dataRange: 1 });
      const point = { step, seconds: elapsed(), psnr3d: p3, loss: lossAcc / lossN };
      curve.push(point);
      process.stderr.write(`  step ${step}  ${point.seconds.toFixed(0)} s  loss ${point.loss.toExponential(3)}  3D PSNR ${p3.toFixed(2)} dB  lr x${(lrFinal ** frac).toFixed(3)}\n`);
      lossAcc = 0; lossN = 0;
      nextEval += evalEvery;
      evalSeconds += (performance.now() - te) / 1000;
    }
  }
  const trainSeconds = elapsed();
  const vol = task.sampleGrid(sim.geometry);
  // the field's own renders of the test views (not the Siddon projection of its grid)
  const p2render = renderOwn ? psnr(trueTest, task.renderViews(sim.meta.splits.test), { dataRange: testRange }) : NaN;
  await report(`neural:${preset}`, vol, trainSeconds, { preset, overrides, warmFrom, steps: step, lrFinal, warmStart: task.warmStart.kind, psnr2dRender: p2render, muScale: task.muScale, curve });
  if (!json) console.log(`  ${step} steps (${(step / Math.max(1e-9, trainSeconds - warmSeconds)).toFixed(1)} steps/s), warm start ${task.warmStart.kind} ${warmSeconds.toFixed(1)} s, 2D PSNR of the field's own test renders ${p2render.toFixed(2)} dB; overrides ${JSON.stringify(overrides)}`);
  task.dispose();
  backend.dispose();
  testOp.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
