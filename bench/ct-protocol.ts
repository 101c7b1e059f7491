/**
 * Classical baselines of the ct-50 / ct-25-360 protocols (GUIDE.md section 6) on a real CT:
 * simulate the protocol, then FDK, SART, OS-SART, SIRT and CGLS from the training views; print
 * 3D PSNR/SSIM against the ground truth (data range 1: the ground truth is normalised to [0,1]),
 * 2D PSNR on the held-out test projections (data range: max of the noiseless test projections)
 * and wall time.
 *
 *   npm run bench:ct -- [--protocol ct-50|ct-25-360] [--input file] [--methods fdk,sart,...] [--json]
 */
import { existsSync } from 'node:fs';
import { psnr, ssim3d } from '../src/metrics/index.js';
import { protocolDefaults, type ProtocolName } from '../src/physics/protocols.js';
import { reconstructDataset, RECON_METHODS, type ReconMethod } from '../src/platform/reconstruct.js';
import { arg, setupCtBench } from './ct-setup.js';

const json = process.argv.includes('--json');
const protocol = arg('--protocol', 'ct-50') as ProtocolName;
const input = arg('--input', '../shared/data/totalseg-ct/example_ct.nii.gz');
const methods = arg('--methods', 'fdk,sart,os-sart,sirt,cgls').split(',') as ReconMethod[];
const iterations: Partial<Record<ReconMethod, number>> = { sart: Number(arg('--sart-iterations', '5')), 'os-sart': Number(arg('--os-sart-iterations', '20')), sirt: Number(arg('--sirt-iterations', '50')), cgls: Number(arg('--cgls-iterations', '15')) };
const threads = Number(arg('--threads', '2'));

async function main(): Promise<void> {
  if (!existsSync(input)) {
    console.log(`skipped: ${input} not found (run from the repository root with ../shared/data beside it)`);
    return;
  }
  for (const m of methods) if (!(RECON_METHODS as readonly string[]).includes(m)) throw new Error(`unknown method ${m}`);
  const p = protocolDefaults(protocol);
  const { sim, simSeconds, ds, testIds, testOp, trueTest, testRange } = await setupCtBench(input, p, threads);
  const [, nv, nu] = sim.meta.projections.shape;
  let t0 = performance.now();
  const header = `${protocol} on ${input}: ${sim.meta.splits.train.length} train views, ${testIds.length} test, grid ${sim.geometry.nVoxel.join('x')} at ${sim.geometry.dVoxel[0].toFixed(3)} mm, detector ${nv}x${nu}, I0 ${p.I0}, sigma ${p.sigma}; simulated in ${simSeconds.toFixed(1)} s`;
  if (!json) {
    console.log(header);
    console.log('3D: data range 1 (ground truth normalised to [0,1]); 2D: test projections, data range = max noiseless test line integral ' + testRange.toFixed(3));
    console.log('method    iters   3D PSNR   3D SSIM   2D PSNR   seconds');
  }
  const est = new Float32Array(trueTest.length);
  for (const m of methods) {
    t0 = performance.now();
    const vol = await reconstructDataset(ds, { method: m, iterations: iterations[m], threads });
    const seconds = (performance.now() - t0) / 1000;
    const p3 = psnr(sim.groundTruth.data, vol.data, { dataRange: 1 });
    const s3 = ssim3d(sim.groundTruth, vol, { dataRange: 1 });
    await testOp.forward(vol.data, est);
    const p2 = psnr(trueTest, est, { dataRange: testRange });
    const it = iterations[m] ?? null;
    if (json) console.log(JSON.stringify({ bench: protocol, input, method: m, iterations: it, psnr3d: p3, ssim3d: s3, psnr2dTest: p2, seconds, threads, dataRange3d: 1, dataRange2d: testRange }));
    else console.log(`${m.padEnd(9)} ${String(it ?? '-').padStart(5)} ${p3.toFixed(2).padStart(9)} ${s3.toFixed(4).padStart(9)} ${p2.toFixed(2).padStart(9)} ${seconds.toFixed(1).padStart(9)}`);
  }
  testOp.dispose();
}

main().catch((e) => { console.error(e); process.exit(1); });
