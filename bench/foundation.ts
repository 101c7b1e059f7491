/**
 * Foundation benchmark: wall time of the I/O, preprocessing and metric steps every later
 * pipeline runs, on the real BraTS T1c volume (240 x 240 x 155) and the JPEG 2000 CT series.
 * Prints a table, or one JSON object per line with --json. Run: node dist/bench/foundation.js
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toFloat32, volumeStats, type Volume } from '../src/core/volume.js';
import { meanSliceSsim, psnr, ssim3d } from '../src/metrics/index.js';
import { brainPhantom, sheppLogan3d, voxelizePhantom } from '../src/phantom/index.js';
import { clahe, equalizeHistogram, resampleVolume } from '../src/preprocess/index.js';
import { loadVolume } from '../src/platform/volume-io.js';

const json = process.argv.includes('--json');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const data = path.resolve(root, '../shared/data');
const rows: { step: string; seconds: number; note: string }[] = [];

async function time<T>(step: string, note: string, fn: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const seconds = (performance.now() - t0) / 1000;
  rows.push({ step, seconds, note });
  if (json) process.stdout.write(JSON.stringify({ bench: 'foundation', step, seconds: +seconds.toFixed(4), note }) + '\n');
  return out;
}

const brats = path.join(data, 'brats-gli-00001-000/BraTS-GLI-00001-000-t1c.nii.gz');
if (!existsSync(brats)) {
  process.stderr.write(`skipping: ${brats} not found (../shared/data is absent)\n`);
  process.exit(0);
}
const vol = (await time('read NIfTI .nii.gz (own codec)', '240x240x155 int16', () => loadVolume(brats))).volume as Volume;
await time('read DICOM series (ITK/GDCM)', '512x512x20 JPEG 2000', () => loadVolume(path.join(data, 'totalseg-ct/example_ct_dicom')));
const f = toFloat32(vol);
const half = await time('resample tricubic 1 mm -> 0.5 mm', '-> 480x480x310', () => resampleVolume(f, { spacingMm: [0.5, 0.5, 0.5] }, 'cubic'));
void half;
const two = await time('resample trilinear 1 mm -> 2 mm', '-> 120x120x78', () => resampleVolume(f, { spacingMm: [2, 2, 2] }, 'linear'));
void two;
await time('histogram equalisation L=256', '240x240x155', () => equalizeHistogram(f, { levels: 256 }));
await time('CLAHE 2D per slice', '8x8 tiles', () => clahe(f));
const st = volumeStats(f.data);
const noisy = toFloat32(f);
for (let i = 0; i < noisy.data.length; i++) noisy.data[i] += ((i * 2654435761) % 1000) / 1000 * 50;
await time('PSNR', 'data range = max - min', () => psnr(f.data, noisy.data, { dataRange: st.max - st.min }));
await time('SSIM 3D', '240x240x155', () => ssim3d(noisy, f, { dataRange: st.max - st.min }));
await time('SSIM slice-wise, axis 2', '155 slices', () => meanSliceSsim(noisy, f, 2, { dataRange: st.max - st.min }));
await time('Shepp-Logan voxelise 256^3', 'supersample 1', () => voxelizePhantom(sheppLogan3d(), { size: 256 }));
await time('brain phantom 128^3', 'seed 1', () => brainPhantom({ size: 128 }));

if (!json) {
  process.stdout.write(`medfield foundation benchmark (node ${process.version})\n`);
  for (const r of rows) process.stdout.write(`${r.step.padEnd(36)}${r.seconds.toFixed(3).padStart(9)} s  ${r.note}\n`);
}
