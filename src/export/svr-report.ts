/**
 * report.html of a slice-to-volume reconstruction (`medfield svr`): one static page, no network.
 * The input stacks and the estimated motion per slice (table and plots), the loss curve,
 * orthogonal slices of the volume and of the uncertainty, and acquired vs simulated slices (the
 * model's prediction of each acquired slice after motion correction). Platform-neutral.
 */
import type { Volume } from '../core/volume.js';
import type { SliceMotion, SliceStack } from '../geometry/slice-stack.js';
import { esc, img, num, pageHead, pngUri, range } from './html.js';
import { linePlot, orthogonalSlices } from './report.js';

export interface SvrReportInput {
  title: string;
  subtitle?: string[];
  stacks: readonly SliceStack[];
  method: string;
  seconds: number;
  volume: Volume<Float32Array>;
  uncertainty?: Volume<Float32Array> | null;
  /** Estimated motion per stack (slice-stack.ts convention). */
  motion?: readonly SliceMotion[] | null;
  /** The model's prediction of each stack's pixels (same layout as the stack). */
  simulated?: readonly Float32Array[] | null;
  /** Per stack, per slice noise std (input units). */
  sliceStd?: readonly Float32Array[] | null;
  history?: readonly { step: number; loss: number }[];
  /** Rows of a quality table (e.g. versus a reference volume), data range stated per row. */
  figures?: readonly { method: string; psnr?: number | null; ssim?: number | null; dataRange?: number | null; seconds?: number | null }[];
  config?: unknown;
}

const DEG = 180 / Math.PI;

/** Per slice |t| (mm) and rotation angle (deg) of a stack's motion. */
export function motionMagnitudes(m: SliceMotion): { transMm: Float64Array; rotDeg: Float64Array } {
  const n = m.length / 6;
  const transMm = new Float64Array(n), rotDeg = new Float64Array(n);
  for (let s = 0; s < n; s++) {
    rotDeg[s] = Math.hypot(m[6 * s]!, m[6 * s + 1]!, m[6 * s + 2]!) * DEG;
    transMm[s] = Math.hypot(m[6 * s + 3]!, m[6 * s + 4]!, m[6 * s + 5]!);
  }
  return { transMm, rotDeg };
}

const mean = (a: ArrayLike<number>): number => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]!; return a.length ? s / a.length : NaN; };
const max = (a: ArrayLike<number>): number => { let s = -Infinity; for (let i = 0; i < a.length; i++) if (a[i]! > s) s = a[i]!; return s; };

/** Builds the page. */
export function buildSvrReportHtml(r: SvrReportInput): string {
  const out: string[] = [pageHead(r.title), `<h1>${esc(r.title)}</h1>`];
  for (const s of r.subtitle ?? []) out.push(`<p>${esc(s)}</p>`);
  out.push(`<p>Method <b>${esc(r.method)}</b>, ${num(r.seconds, 1)} s; output ${r.volume.dims.join(' x ')} voxels at ${r.volume.spacingMm.map((x) => x.toFixed(3)).join(' x ')} mm.</p>`);
  if (r.figures && r.figures.length > 0) {
    out.push('<h2>Figures</h2><table><tr><th>method</th><th>PSNR (dB)</th><th>SSIM</th><th>data range</th><th>seconds</th></tr>');
    for (const f of r.figures) out.push(`<tr><td>${esc(f.method)}</td><td>${num(f.psnr, 2)}</td><td>${num(f.ssim, 4)}</td><td>${num(f.dataRange, 1)}</td><td>${num(f.seconds, 1)}</td></tr>`);
    out.push('</table>');
  }
  out.push('<h2>Stacks and estimated motion</h2><table><tr><th>stack</th><th>voxels</th><th>spacing (mm)</th><th>thickness (mm)</th>'
    + '<th>mean |t| (mm)</th><th>max |t| (mm)</th><th>mean angle (deg)</th><th>max angle (deg)</th><th>mean slice noise std</th></tr>');
  r.stacks.forEach((st, k) => {
    const m = r.motion?.[k];
    const mm = m ? motionMagnitudes(m) : null;
    const sd = r.sliceStd?.[k];
    out.push(`<tr><td>${esc(st.name)}</td><td>${st.volume.dims.join(' x ')}</td><td>${st.volume.spacingMm.map((x) => x.toFixed(2)).join(' x ')}</td>`
      + `<td>${num(st.sliceThicknessMm, 2)}</td><td>${num(mm ? mean(mm.transMm) : null, 2)}</td><td>${num(mm ? max(mm.transMm) : null, 2)}</td>`
      + `<td>${num(mm ? mean(mm.rotDeg) : null, 2)}</td><td>${num(mm ? max(mm.rotDeg) : null, 2)}</td><td>${num(sd ? mean(sd) : null, 3)}</td></tr>`);
  });
  out.push('</table><p>Motion: rotation vector about each slice\'s nominal centre and translation in RAS mm (docs/coordinate-systems.md, "Slice stacks"); the mean over all slices is fixed at zero.</p>');
  if (r.motion) {
    out.push('<div class="row">');
    r.stacks.forEach((st, k) => {
      const mm = motionMagnitudes(r.motion![k]!);
      const x = Array.from(mm.transMm, (_, i) => i);
      out.push(linePlot(`${st.name}: motion per slice`, 'slice', [
        { name: '|t| (mm)', color: '#c33', x, y: Array.from(mm.transMm) },
        { name: 'angle (deg)', color: '#36c', x, y: Array.from(mm.rotDeg) },
      ]));
    });
    out.push('</div>');
  }
  if (r.history && r.history.length > 1) {
    out.push('<h2>Training loss</h2>');
    out.push(linePlot('loss (Gaussian negative log-likelihood + regulariser)', 'step', [{ name: 'loss', color: '#c33', x: r.history.map((h) => h.step), y: r.history.map((h) => h.loss) }]));
  }
  out.push('<h2>Orthogonal slices</h2>');
  const [lo, hi] = range(r.volume.data);
  const vs = orthogonalSlices(r.volume);
  const us = r.uncertainty ? orthogonalSlices(r.uncertainty) : null;
  const uhi = r.uncertainty ? range(r.uncertainty.data)[1] : 1;
  for (let i = 0; i < 3; i++) {
    const s = vs[i]!;
    out.push('<div class="row">');
    out.push(img(pngUri(s.data, s.rows, s.cols, lo, hi), s.rows, s.cols, `${s.name} (voxel axes): reconstruction`));
    if (us) out.push(img(pngUri(us[i]!.data, s.rows, s.cols, 0, uhi), s.rows, s.cols, `${s.name}: uncertainty (std, white = ${uhi.toPrecision(3)})`));
    out.push('</div>');
  }
  if (r.simulated) {
    out.push('<h2>Acquired vs simulated slices</h2><p>For each stack: its middle slice and the slice with the largest estimated motion; the simulated slice is the model (volume, motion, slice profile, scale) seen by that slice.</p>');
    r.stacks.forEach((st, k) => {
      const sim = r.simulated![k]!;
      const [nx, ny, nz] = st.volume.dims;
      const picks = new Set<number>([Math.floor(nz / 2)]);
      if (r.motion?.[k]) { const mm = motionMagnitudes(r.motion[k]!); let b = 0; for (let s = 1; s < nz; s++) if (mm.transMm[s]! > mm.transMm[b]!) b = s; picks.add(b); }
      const [slo, shi] = range(st.volume.data);
      for (const z of picks) {
        const a = st.volume.data.subarray(z * nx * ny, (z + 1) * nx * ny), b = sim.subarray(z * nx * ny, (z + 1) * nx * ny);
        const d = new Float32Array(a.length);
        for (let p = 0; p < d.length; p++) d[p] = Math.abs(a[p]! - b[p]!);
        // image rows = voxel j descending so +j is up
        const flip = (v: Float32Array): Float32Array => { const o = new Float32Array(v.length); for (let j = 0; j < ny; j++) o.set(v.subarray(j * nx, (j + 1) * nx), (ny - 1 - j) * nx); return o; };
        out.push('<div class="row">');
        out.push(img(pngUri(flip(Float32Array.from(a)), ny, nx, slo, shi), ny, nx, `${st.name} slice ${z}: acquired`));
        out.push(img(pngUri(flip(Float32Array.from(b)), ny, nx, slo, shi), ny, nx, `${st.name} slice ${z}: simulated`));
        out.push(img(pngUri(flip(d), ny, nx, 0, (shi - slo) * 0.25), ny, nx, `|difference| (white = 25% of range)`));
        out.push('</div>');
      }
    });
  }
  if (r.config !== undefined) out.push(`<h2>Resolved config</h2><pre>${esc(JSON.stringify(r.config, null, 2))}</pre>`);
  out.push('</body></html>\n');
  return out.join('\n');
}
