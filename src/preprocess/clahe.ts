/**
 * CLAHE: contrast-limited adaptive histogram equalisation (Zuiderveld, "Contrast Limited
 * Adaptive Histogram Equalization", Graphics Gems IV, 1994), on 2D slices or 3D tiles.
 *
 * The volume is quantised to `bins` levels over one global range (so all slices share a grey
 * scale), split into a grid of contextual regions (tiles); each tile's histogram is clipped at
 * the clip limit and the excess redistributed, and its CDF becomes the tile's mapping. Each
 * voxel's output interpolates the mappings of the (up to 4 in 2D, 8 in 3D) nearest tile
 * centres bilinearly (trilinearly); voxels beyond the outermost tile centres use the nearest
 * centres only, which is Zuiderveld's treatment of border and corner regions.
 *
 * 2D mode is the 3D algorithm with one tile per slice across the slice axis, so neighbouring
 * slices never mix.
 */
import { check } from '../core/errors.js';
import { withData, type Volume } from '../core/volume.js';
import { quantizeLevel, resolveRange } from './histogram.js';
import { checkInt, checkVolume } from './validate.js';

export interface ClaheOptions {
  /** '2d' (default): every slice across `axis` on its own; '3d': 3D contextual regions. */
  mode?: '2d' | '3d';
  /** Slice axis for 2D mode (default 2, i.e. k; axial slices for an RAS-like volume). */
  axis?: 0 | 1 | 2;
  /**
   * Number of tiles per axis. 2D: [a, b] for the two in-plane axes in increasing order;
   * 3D: [tx, ty, tz]. Default 8 per axis (capped at the axis length), like skimage's default
   * kernel_size of 1/8 of each dimension. Each entry is an integer in [1, axis length].
   */
  tiles?: number[];
  /**
   * Clip limit normalised like skimage.exposure.equalize_adapthist's clip_limit, in [0, 1]
   * (default 0.01): a tile's histogram bins are capped at max(1, clipLimit * voxels in tile)
   * counts. Higher = more contrast; 1 = no clipping (plain AHE); 0 also means no clipping, as
   * in skimage. A cap below the uniform level (voxels / bins) gives a uniform histogram, i.e.
   * a linear mapping in that tile.
   */
  clipLimit?: number;
  /** Number of histogram bins (grey levels), integer in [2, 65535] (default 256). */
  bins?: number;
  /** Quantisation range [lo, hi]; default the finite [min, max] of the whole volume. */
  range?: [number, number];
}

/**
 * Contrast-limited adaptive histogram equalisation.
 * The clipped excess is redistributed by "water filling": every bin gets the same increment r
 * but none above the cap, with r chosen so the total count is preserved (Zuiderveld spreads it
 * uniformly and then hands out the remainder in integer steps; this is the exact real-valued
 * version of the same rule).
 * @returns Float32 volume in [0, 1] (tile CDF values); non-finite voxels pass through unchanged.
 * @throws MedfieldError 'bad-option' for bad tiles, clip limit, bins or range.
 */
export function clahe(v: Volume, opts: ClaheOptions = {}): Volume<Float32Array> {
  checkVolume(v);
  const mode = opts.mode ?? '2d';
  check(mode === '2d' || mode === '3d', 'mode', `expected '2d' or '3d', got ${String(mode)}`);
  const axis = opts.axis ?? 2;
  check(axis === 0 || axis === 1 || axis === 2, 'axis', `expected 0, 1 or 2, got ${String(axis)}`);
  const bins = opts.bins ?? 256;
  checkInt(bins, 2, 65535, 'bins');
  const clipLimit = opts.clipLimit ?? 0.01;
  check(Number.isFinite(clipLimit) && clipLimit >= 0 && clipLimit <= 1, 'clipLimit', `expected a value in [0, 1], got ${clipLimit}`);
  const dims = v.dims;
  const grid = [0, 0, 0];
  const inPlane = [0, 1, 2].filter((c) => mode === '3d' || c !== axis);
  if (opts.tiles !== undefined) {
    check(opts.tiles.length === inPlane.length, 'tiles', `expected ${inPlane.length} tile counts for ${mode} mode, got ${opts.tiles.length}`);
  }
  inPlane.forEach((c, t) => {
    const g = opts.tiles?.[t] ?? Math.min(8, dims[c]);
    checkInt(g, 1, dims[c], `tiles[${t}]`);
    grid[c] = g;
  });
  if (mode === '2d') grid[axis] = dims[axis];
  const [lo, hi] = resolveRange(v, opts.range);

  // Level of every voxel once; `bins` marks a non-finite voxel.
  const d = v.data, n = d.length;
  const level = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const x = d[i];
    level[i] = Number.isFinite(x) ? quantizeLevel(x, lo, hi, bins) : bins;
  }

  const bounds = [0, 1, 2].map((c) => tileBounds(dims[c], grid[c]));
  const [gx, gy, gz] = grid;
  const maps = new Float32Array(gx * gy * gz * bins);
  const hist = new Float64Array(bins), scratch = new Float64Array(bins);
  const [nx, ny] = dims;
  for (let tz = 0; tz < gz; tz++) {
    for (let ty = 0; ty < gy; ty++) {
      for (let tx = 0; tx < gx; tx++) {
        hist.fill(0);
        let count = 0;
        for (let k = bounds[2][tz]; k < bounds[2][tz + 1]; k++) {
          for (let j = bounds[1][ty]; j < bounds[1][ty + 1]; j++) {
            const row = nx * (j + ny * k);
            for (let i = bounds[0][tx]; i < bounds[0][tx + 1]; i++) {
              const b = level[row + i];
              if (b < bins) { hist[b]++; count++; }
            }
          }
        }
        const off = (tx + gx * (ty + gy * tz)) * bins;
        if (count === 0) { for (let b = 0; b < bins; b++) maps[off + b] = (b + 1) / bins; continue; }
        if (clipLimit > 0 && clipLimit < 1) clipHistogram(hist, Math.max(1, clipLimit * count), count, scratch);
        let cum = 0;
        for (let b = 0; b < bins; b++) { cum += hist[b]; maps[off + b] = cum / count; }
      }
    }
  }

  // Per axis: the two tile centres bracketing each index and the weight of the second.
  const interp = [0, 1, 2].map((c) => bracketCentres(bounds[c], dims[c]));
  const out = new Float32Array(n);
  const [ix, iy, iz] = interp;
  const sy = gx * bins, sz = gx * gy * bins;
  let p = 0;
  for (let k = 0; k < dims[2]; k++) {
    const z0 = iz.t0[k] * sz, z1 = iz.t1[k] * sz, wz = iz.w[k];
    for (let j = 0; j < ny; j++) {
      const y0 = iy.t0[j] * sy, y1 = iy.t1[j] * sy, wy = iy.w[j];
      const a00 = z0 + y0, a01 = z0 + y1, a10 = z1 + y0, a11 = z1 + y1;
      for (let i = 0; i < nx; i++, p++) {
        const b = level[p];
        if (b === bins) { out[p] = d[p]; continue; }
        const x0 = ix.t0[i] * bins + b, x1 = ix.t1[i] * bins + b, wx = ix.w[i];
        const c00 = maps[a00 + x0] + wx * (maps[a00 + x1] - maps[a00 + x0]);
        const c01 = maps[a01 + x0] + wx * (maps[a01 + x1] - maps[a01 + x0]);
        const c10 = maps[a10 + x0] + wx * (maps[a10 + x1] - maps[a10 + x0]);
        const c11 = maps[a11 + x0] + wx * (maps[a11 + x1] - maps[a11 + x0]);
        const c0 = c00 + wy * (c01 - c00), c1 = c10 + wy * (c11 - c10);
        out[p] = c0 + wz * (c1 - c0);
      }
    }
  }
  return withData(v, out);
}

/** Tile t spans [b[t], b[t+1]); g near-equal tiles covering [0, n). */
function tileBounds(n: number, g: number): Int32Array {
  const b = new Int32Array(g + 1);
  for (let t = 0; t <= g; t++) b[t] = Math.floor((t * n) / g);
  return b;
}

/** For each index p in [0, n): tiles t0 <= t1 whose centres bracket p, and the weight of t1. */
function bracketCentres(bounds: Int32Array, n: number): { t0: Int32Array; t1: Int32Array; w: Float64Array } {
  const g = bounds.length - 1;
  const centre = (t: number): number => (bounds[t] + bounds[t + 1] - 1) / 2;
  const t0 = new Int32Array(n), t1 = new Int32Array(n), w = new Float64Array(n);
  let t = 0;
  for (let p = 0; p < n; p++) {
    while (t < g - 1 && centre(t + 1) <= p) t++;
    if (p <= centre(0) || t === g - 1) { // before the first or after the last centre: one tile
      const only = p <= centre(0) ? 0 : g - 1;
      t0[p] = only; t1[p] = only; w[p] = 0;
    } else {
      t0[p] = t; t1[p] = t + 1; w[p] = (p - centre(t)) / (centre(t + 1) - centre(t));
    }
  }
  return { t0, t1, w };
}

/**
 * Caps `hist` at `limit` and redistributes the clipped counts: h_i <- min(h_i + r, limit) with
 * r >= 0 solving sum_i h_i = total. `scratch` (same length) is overwritten.
 */
export function clipHistogram(hist: Float64Array, limit: number, total: number, scratch: Float64Array): void {
  const m = hist.length;
  if (limit * m <= total) { hist.fill(total / m); return; }
  let over = false;
  for (let i = 0; i < m; i++) if (hist[i] > limit) { over = true; break; }
  if (!over) return;
  scratch.set(hist);
  scratch.sort();
  // With the k largest bins capped, r = (total - k*limit - sum of the m-k smallest) / (m-k); the
  // smallest k for which the largest uncapped bin stays <= limit is the solution (r grows with k).
  let prefix = 0;
  for (let i = 0; i < m; i++) prefix += scratch[i];
  let r = 0;
  for (let k = 1; k < m; k++) {
    prefix -= scratch[m - k];
    r = (total - k * limit - prefix) / (m - k);
    if (scratch[m - k - 1] + r <= limit) break;
  }
  for (let i = 0; i < m; i++) {
    const h = hist[i] + r;
    hist[i] = h < limit ? h : limit;
  }
}
