/**
 * Classical reconstructions of the two real projection data sets in ../shared/data (issue 3):
 * - TomoPy's tooth (parallel beam, raw counts + flats/darks, 181 views over 180 deg): FBP and SIRT;
 * - HTC2022's limited-angle fan beam (0-60 deg, 121 views): FBP and SART (and SART + TV).
 * Writes side-by-side PNGs (one grey window per data set, shared by its methods) and prints the
 * wall time of each method. The PNGs in docs/images/ come from this program:
 *
 *   npm run bench:real-xray -- [--out docs/images] [--json]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodePng, floatToGray } from '../src/io/png.js';
import { fbp } from '../src/physics/fdk.js';
import { osSart, sirt } from '../src/physics/iterative.js';
import type { XrayGeometry } from '../src/geometry/xray.js';
import { createThreadedProjector } from '../src/platform/physics-pool.js';
import { loadHtcFanbeam, loadToothParallel } from '../src/platform/xray-data.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}
const json = process.argv.includes('--json');
const outDir = arg('--out', 'docs/images');
const data = arg('--data', '../shared/data');
const threads = Number(arg('--threads', '2'));

/** Percentile of the values (sorted copy). */
function percentile(a: Float32Array, q: number): number {
  const s = Float32Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.round((q / 100) * (s.length - 1))))]!;
}

/** Slice k of a volume [nz, ny, nx] as an image with row 0 = +y (anterior up, as a viewer shows an axial slice). */
function axialSlice(x: Float32Array, geo: XrayGeometry, k: number): Float32Array {
  const [nx, ny] = geo.nVoxel;
  const out = new Float32Array(nx * ny);
  for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) out[(ny - 1 - j) * nx + i] = x[k * nx * ny + j * nx + i]!;
  return out;
}

/** Images side by side with a 4-pixel gap, grey window [lo, hi]. */
function sideBySide(images: Float32Array[], rows: number, cols: number, lo: number, hi: number): Uint8Array {
  const gap = 4, W = images.length * cols + (images.length - 1) * gap;
  const canvas = new Float32Array(rows * W).fill(lo);
  images.forEach((img, n) => {
    for (let r = 0; r < rows; r++) canvas.set(img.subarray(r * cols, (r + 1) * cols), r * W + n * (cols + gap));
  });
  return encodePng(floatToGray(canvas, rows, W, lo, hi, 8));
}

function report(rec: Record<string, unknown>, line: string): void {
  console.log(json ? JSON.stringify(rec) : line);
}

async function tooth(): Promise<void> {
  const file = path.join(data, 'xray-tomopy-tooth/tooth.h5');
  if (!existsSync(file)) { console.log(`skipped: ${file} not found`); return; }
  let t0 = performance.now();
  const d = await loadToothParallel(file);
  report({ data: 'tooth', step: 'read + flat/dark', seconds: (performance.now() - t0) / 1000, shape: d.shape, axisColumn: d.rotationCentre.axisColumn },
    `tooth: ${d.shape.views} views x ${d.shape.rows} rows x ${d.shape.cols} cols, rotation axis at column ${d.rotationCentre.axisColumn.toFixed(2)} (offDetector ${d.geometry.offDetector[0].toFixed(2)} px); read + flat/dark ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const geo = d.geometry;
  t0 = performance.now();
  const xf = fbp(geo, d.anglesRad, d.lineIntegrals, { window: 'hann' });
  const tf = (performance.now() - t0) / 1000;
  report({ data: 'tooth', method: 'fbp', window: 'hann', seconds: tf }, `  FBP (Hann window)     ${tf.toFixed(2)} s`);
  const iterations = 50;
  t0 = performance.now();
  const op = await createThreadedProjector(geo, d.anglesRad, { method: 'siddon', threads });
  const xs = (await sirt(op, d.lineIntegrals, { iterations, nonneg: true })).x;
  op.dispose();
  const ts = (performance.now() - t0) / 1000;
  report({ data: 'tooth', method: 'sirt', iterations, seconds: ts }, `  SIRT (${iterations} iterations) ${ts.toFixed(2)} s`);
  const a = axialSlice(xf, geo, 0), b = axialSlice(xs, geo, 0);
  const hi = percentile(a, 99.8);
  const [nx, ny] = geo.nVoxel;
  writeFileSync(path.join(outDir, 'tooth-fbp-sirt.png'), sideBySide([a, b], ny, nx, 0, hi));
}

async function htc(): Promise<void> {
  const file = path.join(data, 'xray-htc2022-fanbeam/htc2022_ta_sparse_example.mat');
  if (!existsSync(file)) { console.log(`skipped: ${file} not found`); return; }
  let t0 = performance.now();
  const d = await loadHtcFanbeam(file);
  const geo = d.geometry;
  report({ data: 'htc2022', step: 'read', seconds: (performance.now() - t0) / 1000, shape: d.shape },
    `htc2022: ${d.shape.views} views over ${(((d.anglesRad[d.anglesRad.length - 1]! - d.anglesRad[0]!) * 180) / Math.PI).toFixed(1)} deg, ${d.shape.cols} detector pixels, DSD ${geo.DSD} mm, DSO ${geo.DSO} mm, grid ${geo.nVoxel.join('x')} at ${geo.dVoxel[0].toFixed(4)} mm`);
  t0 = performance.now();
  const xf = fbp(geo, d.anglesRad, d.sinogram, { window: 'hann' });
  const tf = (performance.now() - t0) / 1000;
  report({ data: 'htc2022', method: 'fbp', window: 'hann', seconds: tf }, `  FBP (Hann window)        ${tf.toFixed(2)} s`);
  const op = await createThreadedProjector(geo, d.anglesRad, { method: 'siddon', threads });
  const epochs = 20;
  t0 = performance.now();
  const xs = (await osSart(op, d.sinogram, { iterations: epochs, subsets: d.anglesRad.length, nonneg: true })).x;
  const ts = (performance.now() - t0) / 1000;
  report({ data: 'htc2022', method: 'sart', iterations: epochs, seconds: ts }, `  SART (${epochs} epochs)        ${ts.toFixed(2)} s`);
  t0 = performance.now();
  const xt = (await osSart(op, d.sinogram, { iterations: epochs, subsets: d.anglesRad.length, nonneg: true, tv: { iterations: 20 } })).x;
  const tt = (performance.now() - t0) / 1000;
  op.dispose();
  report({ data: 'htc2022', method: 'sart+tv', iterations: epochs, tvIterations: 20, seconds: tt }, `  SART + TV (${epochs} epochs)   ${tt.toFixed(2)} s`);
  const imgs = [axialSlice(xf, geo, 0), axialSlice(xs, geo, 0), axialSlice(xt, geo, 0)];
  const hi = percentile(imgs[1]!, 99.8);
  const [nx, ny] = geo.nVoxel;
  writeFileSync(path.join(outDir, 'htc2022-fbp-sart-tv.png'), sideBySide(imgs, ny, nx, 0, hi));
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await tooth();
  await htc();
  if (!json) console.log(`images written to ${outDir}/`);
}

main().catch((e) => { console.error(e); process.exit(1); });
