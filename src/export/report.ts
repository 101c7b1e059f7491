/**
 * report.html of a run: one static page, no network (images are inline PNG data URIs, plots are
 * inline SVG): the figures table beside classical baselines, loss and PSNR curves, orthogonal
 * slices of reconstruction / ground truth / error, rendered vs true test views.
 * Platform-neutral: returns the HTML text.
 */
import { esc, img, num, pageHead, pngUri, range } from './html.js';

export { base64 } from './html.js';
import type { MetricsLog } from '../train/metrics-log.js';

/** One row of the figures table. */
export interface ReportFigures {
  method: string;
  psnr3d?: number | null;
  ssim3d?: number | null;
  psnr2d?: number | null;
  ssim2d?: number | null;
  seconds?: number | null;
}

/** A volume as plain data (x fastest). */
export interface ReportVolume { data: ArrayLike<number>; dims: readonly [number, number, number] }

export interface ReportInput {
  title: string;
  /** Extra lines under the title (dataset, task, stop reason, ...). */
  subtitle?: string[];
  metrics: MetricsLog;
  /** The neural field's row first, then classical baselines (FDK, SART, ...). */
  figures: ReportFigures[];
  recon?: ReportVolume;
  groundTruth?: ReportVolume | null;
  views?: { indices: readonly number[]; rendered: Float32Array; truth: Float32Array | null; rows: number; cols: number; dataRange: number };
  config?: unknown;
}


/** The three central orthogonal slices, each with +y / +z up: [axial (z mid), coronal (y mid), sagittal (x mid)]. */
export function orthogonalSlices(v: ReportVolume): { name: string; rows: number; cols: number; data: Float32Array }[] {
  const [nx, ny, nz] = v.dims;
  const at = (i: number, j: number, k: number): number => v.data[i + nx * (j + ny * k)]!;
  const kz = nz >> 1, jy = ny >> 1, ix = nx >> 1;
  const ax = new Float32Array(nx * ny), co = new Float32Array(nx * nz), sa = new Float32Array(ny * nz);
  for (let r = 0; r < ny; r++) for (let c = 0; c < nx; c++) ax[r * nx + c] = at(c, ny - 1 - r, kz);
  for (let r = 0; r < nz; r++) for (let c = 0; c < nx; c++) co[r * nx + c] = at(c, jy, nz - 1 - r);
  for (let r = 0; r < nz; r++) for (let c = 0; c < ny; c++) sa[r * ny + c] = at(ix, c, nz - 1 - r);
  return [
    { name: 'axial', rows: ny, cols: nx, data: ax },
    { name: 'coronal', rows: nz, cols: nx, data: co },
    { name: 'sagittal', rows: nz, cols: ny, data: sa },
  ];
}

interface Series { name: string; color: string; x: number[]; y: number[] }

/** An inline SVG line plot (linear axes, or log10 y). */
export function linePlot(title: string, xLabel: string, series: Series[], opts: { logY?: boolean } = {}): string {
  const W = 420, H = 240, L = 56, R = 12, T = 24, Bm = 36;
  const tf = (y: number): number => (opts.logY ? Math.log10(Math.max(y, 1e-30)) : y);
  const pts = series.flatMap((s) => s.x.map((x, i) => [x, tf(s.y[i]!)] as const)).filter(([, y]) => Number.isFinite(y));
  if (pts.length === 0) return `<p>${esc(title)}: no data yet</p>`;
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(...pts.map((p) => p[1])), y1 = Math.max(...pts.map((p) => p[1]));
  if (x1 === x0) { x0 -= 1; x1 += 1; }
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const px = (x: number): number => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const py = (y: number): number => H - Bm - ((y - y0) / (y1 - y0)) * (H - T - Bm);
  const fmt = (v: number): string => (opts.logY ? `1e${v.toFixed(1)}` : Math.abs(v) >= 100 || v === 0 ? v.toFixed(0) : v.toPrecision(3));
  const ticks: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const yv = y0 + ((y1 - y0) * t) / 4, xv = x0 + ((x1 - x0) * t) / 4;
    ticks.push(`<text x="${L - 4}" y="${py(yv) + 4}" text-anchor="end">${fmt(yv)}</text><line x1="${L}" x2="${W - R}" y1="${py(yv)}" y2="${py(yv)}" stroke="#eee"/>`);
    ticks.push(`<text x="${px(xv)}" y="${H - Bm + 14}" text-anchor="middle">${Math.round(xv)}</text>`);
  }
  const lines = series.map((s, si) => {
    const d = s.x.map((x, i) => [x, tf(s.y[i]!)] as const).filter(([, y]) => Number.isFinite(y))
      .map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/><text x="${L + 8 + si * 110}" y="${T - 8}" fill="${s.color}">${esc(s.name)}</text>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="10" role="img" aria-label="${esc(title)}">`
    + `<text x="${W / 2}" y="12" text-anchor="middle" font-size="12">${esc(title)}</text>${ticks.join('')}`
    + `<line x1="${L}" y1="${H - Bm}" x2="${W - R}" y2="${H - Bm}" stroke="#000"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - Bm}" stroke="#000"/>`
    + `<text x="${(L + W - R) / 2}" y="${H - 6}" text-anchor="middle">${esc(xLabel)}</text>${lines}</svg>`;
}

/** Builds the report page. */
export function buildReportHtml(r: ReportInput): string {
  const m = r.metrics;
  const ev = m.evaluations;
  const steps = ev.map((e) => e.step);
  const out: string[] = [];
  out.push(pageHead(r.title));
  out.push(`<h1>${esc(r.title)}</h1>`);
  for (const s of r.subtitle ?? []) out.push(`<p>${esc(s)}</p>`);
  out.push('<h2>Figures</h2><table><tr><th>method</th><th>3D PSNR (dB)</th><th>3D SSIM</th><th>2D PSNR (dB)</th><th>2D SSIM</th><th>seconds</th></tr>');
  for (const f of r.figures) {
    out.push(`<tr><td>${esc(f.method)}</td><td>${num(f.psnr3d, 2)}</td><td>${num(f.ssim3d, 4)}</td><td>${num(f.psnr2d, 2)}</td><td>${num(f.ssim2d, 4)}</td><td>${num(f.seconds, 1)}</td></tr>`);
  }
  out.push('</table>');
  out.push(`<p>3D data range: ${m.dataRange3d === null ? 'no ground truth' : `${m.dataRange3d.toPrecision(4)} (${esc(m.dataRange3dSource ?? '')})`}; `
    + `2D data range: ${m.dataRange2d.toPrecision(4)} (${esc(m.dataRange2dSource)}), mean over ${m.testViews.length} test views.</p>`);
  out.push('<h2>Training curves</h2><div class="row">');
  out.push(linePlot('train loss', 'step', [{ name: 'loss', color: '#c33', x: steps, y: ev.map((e) => e.trainLoss) }], { logY: true }));
  const ps: Series[] = [];
  if (ev.some((e) => e.psnr3d !== null)) ps.push({ name: '3D PSNR', color: '#36c', x: steps, y: ev.map((e) => e.psnr3d ?? NaN) });
  if (ev.some((e) => e.psnr2d !== null)) ps.push({ name: '2D test PSNR', color: '#393', x: steps, y: ev.map((e) => e.psnr2d ?? NaN) });
  out.push(linePlot('PSNR (dB)', 'step', ps));
  out.push('</div>');
  if (m.events.length > 0) out.push(`<ul>${m.events.map((e) => `<li>step ${e.step}: ${esc(e.kind)} — ${esc(e.message)}</li>`).join('')}</ul>`);
  if (r.recon) {
    out.push('<h2>Orthogonal slices</h2>');
    const gt = r.groundTruth ?? null;
    const [lo, hi] = range(gt ? gt.data : r.recon.data);
    const rs = orthogonalSlices(r.recon);
    const gs = gt ? orthogonalSlices(gt) : null;
    const errHi = (hi - lo) * 0.25;
    for (let i = 0; i < 3; i++) {
      const s = rs[i]!;
      out.push('<div class="row">');
      out.push(img(pngUri(s.data, s.rows, s.cols, lo, hi), s.rows, s.cols, `${s.name}: reconstruction`));
      if (gs) {
        const g = gs[i]!;
        const err = new Float32Array(s.data.length);
        for (let p = 0; p < err.length; p++) err[p] = Math.abs(s.data[p]! - g.data[p]!);
        out.push(img(pngUri(g.data, g.rows, g.cols, lo, hi), g.rows, g.cols, `${s.name}: ground truth`));
        out.push(img(pngUri(err, s.rows, s.cols, 0, errHi), s.rows, s.cols, `${s.name}: |error| (white = 25% of range)`));
      }
      out.push('</div>');
    }
    out.push(`<p>Window [${lo.toPrecision(4)}, ${hi.toPrecision(4)}] (${gt ? 'ground truth' : 'reconstruction'} min..max).</p>`);
  }
  if (r.views && r.views.indices.length > 0) {
    const v = r.views, size = v.rows * v.cols;
    out.push('<h2>Test views: rendered vs true</h2>');
    const show = v.indices.slice(0, 6);
    for (let i = 0; i < show.length; i++) {
      out.push('<div class="row">');
      out.push(img(pngUri(v.rendered.subarray(i * size, (i + 1) * size), v.rows, v.cols, 0, v.dataRange), v.rows, v.cols, `view ${show[i]}: rendered`));
      if (v.truth) out.push(img(pngUri(v.truth.subarray(i * size, (i + 1) * size), v.rows, v.cols, 0, v.dataRange), v.rows, v.cols, `view ${show[i]}: true`));
      out.push('</div>');
    }
  }
  if (r.config !== undefined) out.push(`<h2>Resolved config</h2><pre>${esc(JSON.stringify(r.config, null, 2))}</pre>`);
  out.push('</body></html>\n');
  return out.join('\n');
}
