// Figures for docs/svr.md from `medfield svr` outputs (run from the repository root after `npm run build`
// or `npx tsc`): node scripts/svr-figures.mjs <naive.nii.gz> <inr.nii.gz> <inr.motion.json> <out-prefix>
// Writes <out-prefix>-slices.png (axial, coronal: naive | inr, 4x nearest) and <out-prefix>-motion.svg
// (the estimated rotation about the S axis per slice, one line per stack).
import { writeFileSync } from 'node:fs';
import { loadVolume } from '../dist/src/platform/volume-io.js';
import { readMotionJson } from '../dist/src/platform/svr-io.js';
import { encodePng } from '../dist/src/io/png.js';
import { linePlot, orthogonalSlices } from '../dist/src/export/report.js';

const [naiveFile, inrFile, motionFile, prefix] = process.argv.slice(2);
if (!prefix) { console.error('usage: node scripts/svr-figures.mjs naive.nii.gz inr.nii.gz inr.motion.json out-prefix'); process.exit(2); }
const vols = [(await loadVolume(naiveFile)).volume, (await loadVolume(inrFile)).volume];
const up = 4, gap = 4;
const panels = vols.map((v) => orthogonalSlices(v).slice(0, 2));
let hi = 0;
for (const v of vols) { const s = Float32Array.from(v.data).sort(); hi = Math.max(hi, s[Math.floor(0.995 * s.length)]); }
const width = panels[0].reduce((w, p) => w + p.cols * up + gap, 0) * 2;
const height = Math.max(...panels[0].map((p) => p.rows)) * up;
const img = new Uint8Array(width * height);
let x0 = 0;
for (let k = 0; k < 2; k++) for (const v of [0, 1]) {
  const p = panels[v][k];
  for (let r = 0; r < p.rows * up; r++) for (let c = 0; c < p.cols * up; c++) {
    const val = p.data[Math.floor(r / up) * p.cols + Math.floor(c / up)];
    img[r * width + x0 + c] = Math.max(0, Math.min(255, Math.round((255 * val) / hi)));
  }
  x0 += p.cols * up + gap;
}
writeFileSync(`${prefix}-slices.png`, encodePng({ width, height, channels: 1, bitDepth: 8, data: img }));
const m = await readMotionJson(motionFile);
const colors = ['#c33', '#36c', '#393', '#c90', '#939', '#399', '#666', '#000'];
const series = m.motions.map((M, s) => ({ name: m.names[s], color: colors[s % colors.length], x: Array.from({ length: M.length / 6 }, (_, i) => i), y: Array.from({ length: M.length / 6 }, (_, i) => (M[6 * i + 2] * 180) / Math.PI) }));
writeFileSync(`${prefix}-motion.svg`, linePlot('estimated rotation about S (deg) per slice', 'slice (acquisition order)', series));
console.log(`wrote ${prefix}-slices.png (${width}x${height}) and ${prefix}-motion.svg`);
