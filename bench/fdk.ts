/**
 * FDK benchmark: wall time of cone-beam FDK for 128^3 from 180 views of 128^2 and 256^3 from 360
 * views of 256^2 (issue 3 goal: 256^3 <= 10 s on 2 cores), on 1 thread (src/physics/fdk.ts) and
 * on 1 and 2 worker threads (src/platform/recon-pool.ts), plus PSNR against the voxelised
 * Shepp-Logan phantom (data range 1). Projections are the phantom's exact line integrals along
 * pixelRay rays. `cpu_s` is the process's user CPU time (all threads): on a shared machine the
 * wall time can be far above it. Prints one line per run, or one JSON object per line with --json.
 * Single-thread rows give the TypeScript reference kernel ('js', 256^3 only with --js) and the
 * WebAssembly SIMD kernel; worker rows use the default (SIMD when available). `--repeat N` runs
 * each case N times (report the best: the machine is shared).
 * Run: npm run bench:fdk [-- --json] [--size 128] [--repeat 3] [--js]
 */
import { pixelRay, viewFrame, type XrayGeometry } from '../src/geometry/xray.js';
import { psnr } from '../src/metrics/psnr.js';
import { phantomLineIntegrals, sheppLogan3d, voxelizePhantom } from '../src/phantom/index.js';
import { backprojectSlab, filteredViewSize, filterProjections, planFdk } from '../src/physics/fdk.js';
import { backprojectSlabWasm, createWasmFdkMemory, wasmFdkLayout, wasmSimdAvailable } from '../src/physics/fdk-wasm.js';
import { fdkThreaded } from '../src/platform/recon-pool.js';

const json = process.argv.includes('--json');
const sizeArg = process.argv.indexOf('--size');
const only = sizeArg > 0 ? Number(process.argv[sizeArg + 1]) : undefined;
const repArg = process.argv.indexOf('--repeat');
const repeat = repArg > 0 ? Number(process.argv[repArg + 1]) : 1;
const withJs = process.argv.includes('--js');

function emit(row: Record<string, unknown>): void {
  if (json) process.stdout.write(JSON.stringify({ bench: 'fdk', ...row }) + '\n');
  else process.stdout.write(Object.entries(row).map(([k, v]) => `${k}=${typeof v === 'number' ? +v.toFixed(3) : v}`).join('  ') + '\n');
}

for (const [n, views] of [[128, 180], [256, 360]] as const) {
  if (only !== undefined && only !== n) continue;
  const fov = 256;
  const geo: XrayGeometry = {
    mode: 'cone', DSD: 1500, DSO: 1000, nDetector: [n, n], dDetector: [(fov * 1.5 * 1.2) / n, (fov * 1.5 * 1.2) / n],
    offDetector: [0, 0], nVoxel: [n, n, n], dVoxel: [fov / n, fov / n, fov / n], offOrigin: [0, 0, 0],
  };
  const angles = new Float64Array(views).map((_, i) => (2 * Math.PI * i) / views);
  const phantom = sheppLogan3d({ fovMm: fov });
  const t0 = performance.now();
  const proj = new Float32Array(views * n * n);
  const O = new Float64Array(3 * n * n), D = new Float64Array(3 * n * n), frame = new Float64Array(15), ray = new Float64Array(6);
  for (let a = 0; a < views; a++) {
    viewFrame(geo, angles[a]!, frame);
    for (let p = 0; p < n * n; p++) {
      pixelRay(geo, frame, Math.floor(p / n), p % n, ray);
      O.set(ray.subarray(0, 3), 3 * p); D.set(ray.subarray(3, 6), 3 * p);
    }
    phantomLineIntegrals(phantom, { originsMm: O, dirsUnit: D, out: proj.subarray(a * n * n, (a + 1) * n * n) });
  }
  const tProj = (performance.now() - t0) / 1000;
  const ref = voxelizePhantom(phantom, { size: n }).data;
  const label = `${n}^3 from ${views} x ${n}^2`;

  const voxelViews = n * n * n * views;
  // Single thread, stage by stage: the TypeScript reference (Float64 inner loop; 256^3 only with
  // --js, it takes ~30 s) and the WebAssembly SIMD kernel (src/physics/fdk-wasm.ts).
  const plan = planFdk(geo, angles);
  for (const kernel of ['js', 'wasm-simd'] as const) {
    if (kernel === 'js' && n > 128 && !withJs) continue;
    if (kernel === 'wasm-simd' && !wasmSimdAvailable()) continue;
    for (let rep = 0; rep < repeat; rep++) {
      const c0 = process.cpuUsage();
      const s0 = performance.now();
      const out = new Float32Array(n * n * n);
      let s1: number;
      if (kernel === 'js') {
        const filtered = new Float32Array(views * filteredViewSize(plan));
        filterProjections(plan, proj, filtered);
        s1 = performance.now();
        backprojectSlab(plan, filtered, out);
      } else {
        const layout = wasmFdkLayout(plan, [n * n * n])!;
        const memory = createWasmFdkMemory(layout, false)!;
        filterProjections(plan, proj, new Float32Array(memory.buffer, layout.filteredOffset * 4, views * filteredViewSize(plan)));
        s1 = performance.now();
        backprojectSlabWasm(plan, memory, layout.filteredOffset, layout.accOffsets[0]!, out);
      }
      const s2 = performance.now();
      emit({ case: label, threads: 'main', kernel, seconds: (s2 - s0) / 1000, cpu_s: process.cpuUsage(c0).user / 1e6, filter_s: (s1 - s0) / 1000,
        backproject_s: (s2 - s1) / 1000, gvox_views_per_s: voxelViews / ((s2 - s1) / 1000) / 1e9, psnr_db: psnr(ref, out, { dataRange: 1 }), analytic_projection_s: tProj });
    }
  }
  for (const threads of [1, 2]) {
    for (let rep = 0; rep < repeat; rep++) {
      const cu = process.cpuUsage();
      const w0 = performance.now();
      const rec = await fdkThreaded(geo, angles, proj, { threads });
      const sec = (performance.now() - w0) / 1000;
      emit({ case: label, threads, kernel: wasmSimdAvailable() ? 'wasm-simd' : 'js', seconds: sec, cpu_s: process.cpuUsage(cu).user / 1e6, psnr_db: psnr(ref, rec, { dataRange: 1 }) });
    }
  }
}
