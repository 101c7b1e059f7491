/**
 * Ray samplers for neural volume rendering (NeRF, Mildenhall et al. 2020, section 5.2; GRAF,
 * Schwarz et al. 2020, section 3.1), all restricted to the grid's bounding box:
 *
 * - `stratifiedSamples`: S samples per ray over [tNear, tFar] (the ray clipped to the box), one
 *   per equal bin, uniformly jittered inside its bin (or at the bin centre without an rng).
 * - `hierarchicalSamples`: importance samples from piecewise-constant weights over bins
 *   (inverse CDF of the normalised weights, NeRF's `sample_pdf`); `mergeSorted` merges them with
 *   the coarse samples; `intervalDeltas` turns sorted sample positions into quadrature lengths
 *   (midpoints between neighbours, the first/last interval reaching tNear/tFar: the deltas of a
 *   ray sum to tFar - tNear exactly).
 * - `patchPixels`: the GRAF patch sampler: a K x K grid of (fractional) pixel positions with a
 *   random scale s (the patch spans s x (image - 1) pixels) and a random shift keeping it inside
 *   the image; `bilinearPixel` reads a target image at those positions.
 *
 * Layouts: per-ray arrays are Float64 [nRays, S] (row = ray). No allocation per sample.
 */
import { MedfieldError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/**
 * Writes S sorted sample positions t (mm along the ray) for one ray into out[off .. off+S):
 * bin k = [tNear + k h, tNear + (k+1) h], h = (tFar - tNear) / S; the sample is at
 * tNear + (k + u) h with u ~ U[0,1) when `rng` is given, else u = 0.5.
 */
export function stratifiedSamples(tNear: number, tFar: number, S: number, rng: Rng | null, out: Float64Array, off = 0): void {
  const h = (tFar - tNear) / S;
  if (rng) for (let k = 0; k < S; k++) out[off + k] = tNear + (k + rng.next()) * h;
  else for (let k = 0; k < S; k++) out[off + k] = tNear + (k + 0.5) * h;
}

/**
 * Quadrature lengths of sorted samples t[off .. off+S) on [tNear, tFar]: interval k runs from the
 * midpoint with the previous sample (tNear for k = 0) to the midpoint with the next one (tFar for
 * the last). Written to deltas[off ..]; their sum is tFar - tNear.
 */
export function intervalDeltas(t: Float64Array, off: number, S: number, tNear: number, tFar: number, deltas: Float64Array): void {
  let left = tNear;
  for (let k = 0; k < S; k++) {
    const right = k + 1 < S ? 0.5 * (t[off + k]! + t[off + k + 1]!) : tFar;
    deltas[off + k] = right - left;
    left = right;
  }
}

/**
 * Inverse-CDF importance sampling (NeRF `sample_pdf`): bins [edges[eOff+k], edges[eOff+k+1]]
 * (k < nBins, edges sorted) carry weights w[wOff+k] >= 0; `nSamples` positions are drawn from the
 * piecewise-constant density proportional to (w + padding) (padding keeps every bin reachable and
 * handles all-zero weights) and written sorted to out[oOff ..]. With `rng` the quantiles are
 * stratified-jittered ((j + u)/n), else the bin centres of the quantiles ((j + 0.5)/n): sorted in
 * both cases, so the output is sorted without a sort. Every output lies within [edges[0], edges[nBins]].
 */
export function hierarchicalSamples(
  edges: Float64Array, eOff: number, w: ArrayLike<number>, wOff: number, nBins: number,
  nSamples: number, rng: Rng | null, out: Float64Array, oOff: number, padding = 1e-3,
): void {
  let total = 0;
  for (let k = 0; k < nBins; k++) total += Math.max(0, w[wOff + k]!);
  // padding relative to the mean weight so a nearly empty ray samples nearly uniformly
  const pad = padding * (total > 0 ? total / nBins : 1) + 1e-12;
  const norm = total + pad * nBins;
  let k = 0;
  let cdfLo = 0; // CDF at edges[k]
  let pk = (Math.max(0, w[wOff]!) + pad) / norm;
  for (let j = 0; j < nSamples; j++) {
    const u = (j + (rng ? rng.next() : 0.5)) / nSamples;
    while (k < nBins - 1 && cdfLo + pk <= u) {
      cdfLo += pk;
      k++;
      pk = (Math.max(0, w[wOff + k]!) + pad) / norm;
    }
    let f = pk > 0 ? (u - cdfLo) / pk : 0.5;
    if (f < 0) f = 0; else if (f > 1) f = 1;
    const a = edges[eOff + k]!, b = edges[eOff + k + 1]!;
    out[oOff + j] = a + f * (b - a);
  }
}

/** Merges sorted a[aOff .. aOff+na) and b[bOff .. bOff+nb) into out[oOff ..] (sorted). */
export function mergeSorted(a: Float64Array, aOff: number, na: number, b: Float64Array, bOff: number, nb: number, out: Float64Array, oOff: number): void {
  let i = 0, j = 0, o = oOff;
  while (i < na && j < nb) out[o++] = a[aOff + i]! <= b[bOff + j]! ? a[aOff + i++]! : b[bOff + j++]!;
  while (i < na) out[o++] = a[aOff + i++]!;
  while (j < nb) out[o++] = b[bOff + j++]!;
}

/** Options of the GRAF patch sampler. */
export interface PatchOptions {
  /** Patch side K (K x K rays). */
  size: number;
  /** Scale s range: the patch spans s x (image side - 1) pixels, s in [minScale, maxScale] subset of (0, 1]. */
  minScale: number;
  maxScale: number;
}

/**
 * GRAF patch: writes K*K (row, col) pairs (fractional pixel coordinates, row-major over the
 * patch) into out[off .. off + 2K^2). Scale s ~ U[minScale, maxScale]; the patch spacing is
 * s (side - 1) / (K - 1) pixels along each axis; the centre is uniform over the positions keeping
 * the patch inside [0, side - 1]. Returns s.
 */
export function patchPixels(rows: number, cols: number, o: PatchOptions, rng: Rng, out: Float64Array, off = 0): number {
  const K = o.size;
  if (!(Number.isInteger(K) && K >= 2)) throw new MedfieldError('bad-option', 'sampler.size', `expected an integer patch side >= 2, got ${K}`);
  if (!(o.minScale > 0 && o.maxScale <= 1 && o.minScale <= o.maxScale)) {
    throw new MedfieldError('bad-option', 'sampler.minScale/maxScale', `expected 0 < minScale <= maxScale <= 1, got ${o.minScale}, ${o.maxScale}`);
  }
  const s = o.minScale + (o.maxScale - o.minScale) * rng.next();
  const spanR = s * (rows - 1), spanC = s * (cols - 1);
  const r0 = rng.next() * (rows - 1 - spanR), c0 = rng.next() * (cols - 1 - spanC);
  const stepR = spanR / (K - 1), stepC = spanC / (K - 1);
  let q = off;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      out[q++] = r0 + i * stepR;
      out[q++] = c0 + j * stepC;
    }
  }
  return s;
}

/** Bilinear value of image [rows, cols] (at imgOff in `img`) at fractional (row, col) inside [0, rows-1] x [0, cols-1]. */
export function bilinearPixel(img: ArrayLike<number>, imgOff: number, rows: number, cols: number, row: number, col: number): number {
  let r = Math.floor(row), c = Math.floor(col);
  if (r > rows - 2) r = Math.max(0, rows - 2);
  if (c > cols - 2) c = Math.max(0, cols - 2);
  if (r < 0) r = 0;
  if (c < 0) c = 0;
  const fr = Math.min(1, Math.max(0, row - r)), fc = Math.min(1, Math.max(0, col - c));
  const r1 = Math.min(rows - 1, r + 1), c1 = Math.min(cols - 1, c + 1);
  const b = imgOff;
  return (1 - fr) * ((1 - fc) * img[b + r * cols + c]! + fc * img[b + r * cols + c1]!)
    + fr * ((1 - fc) * img[b + r1 * cols + c]! + fc * img[b + r1 * cols + c1]!);
}

/** A boolean occupancy grid G[0] x G[1] x G[2] over an axis-aligned box (x fastest). */
export interface OccupancyGrid {
  dims: [number, number, number];
  /** The box, world mm: [xmin, ymin, zmin, xmax, ymax, zmax]. */
  box: Float64Array;
  /** 1 = may hold matter, 0 = empty. */
  occ: Uint8Array;
}

/**
 * Visual hull of the training views (space carving): a cell of a res^3 grid over `box` is kept
 * when, in every training view whose detector sees it, some pixel of the cell's (conservatively
 * dilated) footprint exceeds `threshold`; a view whose pixel values are all below the threshold
 * there proves the whole footprint empty (the views are emission-absorption radiance or line
 * integrals of a non-negative volume, background 0). Footprint: the projected cell centre
 * +- (projected half-diagonal + 1) pixels. Cells projecting outside a view's detector are not
 * carved by that view. `project(view, x, y, z, out)` writes [col, row, magnification] (pixel
 * coordinates and the length scale at the point, pixels per mm) or returns false.
 */
export function carveVisualHull(
  box: Float64Array, res: number, views: readonly number[], rows: number, cols: number,
  image: (view: number) => ArrayLike<number>,
  project: (view: number, x: number, y: number, z: number, out: Float64Array) => boolean,
  threshold: number,
): OccupancyGrid {
  const occ = new Uint8Array(res * res * res).fill(1);
  const h = [0, 1, 2].map((a) => (box[a + 3]! - box[a]!) / res);
  const halfDiag = 0.5 * Math.hypot(h[0]!, h[1]!, h[2]!);
  const pr = new Float64Array(3);
  for (const v of views) {
    const img = image(v);
    for (let k = 0; k < res; k++) for (let j = 0; j < res; j++) for (let i = 0; i < res; i++) {
      const id = i + res * (j + res * k);
      if (!occ[id]) continue;
      const x = box[0]! + (i + 0.5) * h[0]!, y = box[1]! + (j + 0.5) * h[1]!, z = box[2]! + (k + 0.5) * h[2]!;
      if (!project(v, x, y, z, pr)) continue;
      const rad = halfDiag * pr[2]! + 1;
      const c0 = Math.floor(pr[0]! - rad), c1 = Math.ceil(pr[0]! + rad), r0 = Math.floor(pr[1]! - rad), r1 = Math.ceil(pr[1]! + rad);
      if (c1 < 0 || r1 < 0 || c0 > cols - 1 || r0 > rows - 1) continue; // not seen by this view
      if (c0 < 0 || r0 < 0 || c1 > cols - 1 || r1 > rows - 1) continue; // partly outside the detector: keep
      let seen = false;
      for (let r = r0; r <= r1 && !seen; r++) for (let c = c0; c <= c1; c++) if (img[r * cols + c]! > threshold) { seen = true; break; }
      if (!seen) occ[id] = 0;
    }
  }
  return { dims: [res, res, res], box: Float64Array.from(box), occ };
}

/**
 * Tightens the segment [nf[0], nf[1]] of ray o + t d (inside the grid's box) to the occupied
 * cells: marches with steps of half the smallest cell and keeps from one step before the first
 * occupied sample to one step after the last. Returns false (segment untouched) when no sample
 * is occupied.
 */
export function occupiedSegment(g: OccupancyGrid, ox: number, oy: number, oz: number, dx: number, dy: number, dz: number, nf: Float64Array): boolean {
  const [gx, gy, gz] = g.dims, b = g.box;
  const sx = gx / (b[3]! - b[0]!), sy = gy / (b[4]! - b[1]!), sz = gz / (b[5]! - b[2]!);
  const step = 0.5 / Math.max(sx, sy, sz);
  const t0 = nf[0]!, t1 = nf[1]!;
  const n = Math.max(1, Math.ceil((t1 - t0) / step));
  const hs = (t1 - t0) / n;
  let first = -1, last = -1;
  for (let k = 0; k <= n; k++) {
    const t = t0 + k * hs;
    let i = Math.floor((ox + t * dx - b[0]!) * sx), j = Math.floor((oy + t * dy - b[1]!) * sy), l = Math.floor((oz + t * dz - b[2]!) * sz);
    if (i < 0) i = 0; else if (i >= gx) i = gx - 1;
    if (j < 0) j = 0; else if (j >= gy) j = gy - 1;
    if (l < 0) l = 0; else if (l >= gz) l = gz - 1;
    if (g.occ[i + gx * (j + gy * l)]) { if (first < 0) first = k; last = k; }
  }
  if (first < 0) return false;
  nf[0] = Math.max(t0, t0 + (first - 1) * hs);
  nf[1] = Math.min(t1, t0 + (last + 1) * hs);
  return true;
}
