/**
 * Projector benchmark (issue 3): ray-samples per second of the Siddon projector (a sample = one
 * voxel crossing with positive length) and the trilinear ray-marching projector (a sample = one
 * trilinear interpolation, step = half a voxel), forward and adjoint, on the calling thread and on
 * 1 and 2 worker threads. Volume: Shepp-Logan 128^3 at 2 mm; geometry: the ct-50 protocol's cone
 * beam (DSD/DSO scaled to the volume, detector covering it) with 50 views over 180 deg of 128^2.
 * Each figure is the fastest of --repeat runs (default 3), with the CPU time of the whole process
 * (all threads) during that run: on a shared machine samples per CPU-second is the stable figure. Prints a table, or one JSON object per
 * line with --json.
 * Run: npm run bench:projector [-- --json] [-- --threads inline,1,2] [-- --methods siddon,trilinear] [-- --repeat 3]
 */
import { gridOfVolume } from '../src/geometry/grid.js';
import { sheppLogan3d, voxelizePhantom } from '../src/phantom/index.js';
import type { ProjectionOperator } from '../src/physics/operator.js';
import {
  createInlineProjector, createProjectorKernel, takeSiddonCount, takeTrilinearCount, type ProjectorMethod,
} from '../src/physics/projectors.js';
import { protocolAngles, protocolDefaults, protocolGeometry } from '../src/physics/protocols.js';
import { createThreadedProjector } from '../src/platform/physics-pool.js';

const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1]! : def;
};
const threadList = opt('--threads', 'inline,1,2').split(',');
const methods = opt('--methods', 'siddon,trilinear').split(',') as ProjectorMethod[];
/** Each figure is the fastest of this many runs: the machine is shared, so slower runs measure other load. */
const repeat = Math.max(1, Number(opt('--repeat', '3')));

const vol = voxelizePhantom(sheppLogan3d({ fovMm: 256 }), { size: 128 });
const grid = gridOfVolume(vol)!;
const params = { ...protocolDefaults('ct-50'), detectorPixels: 128, testViews: 0 }; // the 50 training views
const geo = protocolGeometry(params, grid);
const angles = protocolAngles(params).anglesRad;
const nViews = angles.length, viewSize = geo.nDetector[0] * geo.nDetector[1];
const rays = nViews * viewSize;
const y = new Float32Array(nViews * viewSize);
const x = new Float32Array(vol.data.length);

if (!json) {
  process.stdout.write(`medfield projector benchmark (node ${process.version}): ${grid.nVoxel.join('x')} volume at ${grid.dVoxel[0]} mm, `
    + `cone DSD ${geo.DSD.toFixed(0)} / DSO ${geo.DSO.toFixed(0)} mm, ${nViews} views of ${geo.nDetector.join('x')} (${geo.dDetector[0].toFixed(2)} mm pixels)\n`);
  process.stdout.write(`${'method'.padEnd(10)}${'threads'.padEnd(9)}${'op'.padEnd(9)}${'wall s'.padStart(9)}${'cpu s'.padStart(9)}`
    + `${'samples'.padStart(14)}${'Msamples/s'.padStart(12)}${'Msamples/cpu'.padStart(13)}${'Mrays/s'.padStart(10)}\n`);
}

for (const method of methods) {
  // samples per full forward (the adjoint visits the same samples: same traversal)
  const kernel = createProjectorKernel(geo, angles, { method });
  takeSiddonCount(); takeTrilinearCount();
  kernel.forwardViews(vol.data, y, Array.from({ length: nViews }, (_, i) => i));
  const samples = method === 'siddon' ? takeSiddonCount() : takeTrilinearCount();
  for (const t of threadList) {
    const op: ProjectionOperator = t === 'inline'
      ? createInlineProjector(geo, angles, { method })
      : await createThreadedProjector(geo, angles, { method, threads: Number(t) });
    try {
      await op.forward(vol.data, y, Int32Array.from([0, nViews - 1])); // warm-up (JIT, worker start)
      for (const which of ['forward', 'adjoint'] as const) {
        let seconds = Infinity, cpuSeconds = 0;
        for (let rep = 0; rep < repeat; rep++) {
          if (which === 'adjoint') y.fill(1); // non-zero on every ray (zero rays are skipped)
          const c0 = process.cpuUsage(), t0 = performance.now();
          if (which === 'forward') await op.forward(vol.data, y);
          else await op.adjoint(y, x);
          const s = (performance.now() - t0) / 1000, c = process.cpuUsage(c0);
          if (s < seconds) { seconds = s; cpuSeconds = (c.user + c.system) / 1e6; }
        }
        const row = {
          bench: 'projector', method, threads: t, op: which, seconds: +seconds.toFixed(3), cpuSeconds: +cpuSeconds.toFixed(3), samples,
          samplesPerSecond: Math.round(samples / seconds), samplesPerCpuSecond: Math.round(samples / cpuSeconds),
          raysPerSecond: Math.round(rays / seconds),
          volume: grid.nVoxel.join('x'), views: nViews, detector: geo.nDetector.join('x'), repeat,
        };
        if (json) process.stdout.write(JSON.stringify(row) + '\n');
        else {
          process.stdout.write(`${method.padEnd(10)}${t.padEnd(9)}${which.padEnd(9)}${seconds.toFixed(3).padStart(9)}${cpuSeconds.toFixed(3).padStart(9)}`
            + `${samples.toExponential(3).padStart(14)}${(samples / seconds / 1e6).toFixed(1).padStart(12)}${(samples / cpuSeconds / 1e6).toFixed(1).padStart(13)}`
            + `${(rays / seconds / 1e6).toFixed(2).padStart(10)}\n`);
        }
      }
    } finally {
      op.dispose();
    }
  }
}
