/**
 * Separable (axis-by-axis) resampling of a Float32 volume with precomputed tap tables.
 *
 * The passes stream through the volume slice by slice: each input z-slice is resampled in-plane
 * (x then y) into a small ring cache of K planes, and every output z-plane is a K-term weighted
 * sum of cached planes. Intermediates therefore stay a few planes big (cache resident), and the
 * only large allocation is the output, which matters because first-touching fresh memory costs
 * as much as the arithmetic here. When z shrinks more than x and y, z goes first instead
 * (fewer planes then need in-plane work).
 */
import type { Vec3 } from '../core/volume.js';
import type { TapTable } from './interpolation.js';

/**
 * Resamples `src` (dims `inDims`) to `outDims` with per-axis tap tables (null = axis unchanged,
 * in which case its out count equals its in count). Returns a new Float32Array.
 */
export function separableResample(src: Float32Array, inDims: Vec3, outDims: Vec3, tables: readonly (TapTable | null)[]): Float32Array {
  const [tx, ty, tz] = tables;
  const zFirst = tz !== null && outDims[2] / inDims[2] < Math.min(outDims[0] / inDims[0], outDims[1] / inDims[1]);
  if (zFirst) {
    const mid = zPass(inDims[0] * inDims[1], inDims[2], tz, (s, dst, off) => dst.set(src.subarray(s * inDims[0] * inDims[1], (s + 1) * inDims[0] * inDims[1]), off));
    return separableResample(mid, [inDims[0], inDims[1], outDims[2]], outDims, [tx, ty, null]);
  }
  const [nx, ny, nz] = inDims;
  const [mx, my] = outDims;
  const inPlane = nx * ny;
  const tmp = new Float32Array(tx !== null && ty !== null ? mx * ny : 0);
  const planeInto = (s: number, dst: Float32Array, off: number): void => resamplePlane(src, s * inPlane, nx, ny, tx, ty, tmp, dst, off);
  if (tz === null) {
    const out = new Float32Array(mx * my * nz);
    for (let s = 0; s < nz; s++) planeInto(s, out, s * mx * my);
    return out;
  }
  return zPass(mx * my, nz, tz, planeInto);
}

/**
 * Output z-planes as K-term sums of input planes; `fill(s, buf, off)` writes input plane s
 * (length `plane`) at buf[off]. Each input plane is produced once, into a ring of K slots.
 */
function zPass(plane: number, nz: number, tz: TapTable, fill: (s: number, dst: Float32Array, off: number) => void): Float32Array {
  const K = tz.taps, mz = tz.outN, idx = tz.index, w = tz.weight;
  const out = new Float32Array(plane * mz);
  const cache = new Float32Array(plane * K);
  const slotKey = new Int32Array(K).fill(-1);
  const slotOf = new Int32Array(K);
  for (let o = 0; o < mz; o++) {
    const b = o * K;
    let lo = nz, hi = -1;
    for (let t = 0; t < K; t++) { lo = Math.min(lo, idx[b + t]); hi = Math.max(hi, idx[b + t]); }
    for (let t = 0; t < K; t++) {
      const s = idx[b + t];
      let slot = slotKey.indexOf(s);
      if (slot < 0) {
        // Tap indices never decrease with o, so a slot outside [lo, hi] will not be needed again.
        slot = 0;
        while (slotKey[slot] >= lo && slotKey[slot] <= hi) slot++;
        fill(s, cache, slot * plane);
        slotKey[slot] = s;
      }
      slotOf[t] = slot * plane;
    }
    combine(cache, slotOf, w, b, K, plane, out, o * plane);
  }
  return out;
}

/** In-plane resampling of one nx*ny plane (x rows, then y columns); tmp holds mx*ny. */
function resamplePlane(
  src: Float32Array, srcOff: number, nx: number, ny: number, tx: TapTable | null, ty: TapTable | null,
  tmp: Float32Array, dst: Float32Array, dstOff: number,
): void {
  if (tx === null && ty === null) { dst.set(src.subarray(srcOff, srcOff + nx * ny), dstOff); return; }
  if (ty === null) { rowPass(src, srcOff, nx, ny, tx as TapTable, dst, dstOff); return; }
  let from = src, fromOff = srcOff, mx = nx;
  if (tx !== null) { rowPass(src, srcOff, nx, ny, tx, tmp, 0); from = tmp; fromOff = 0; mx = tx.outN; }
  const K = ty.taps, idx = ty.index;
  const offs = new Int32Array(K);
  for (let o = 0; o < ty.outN; o++) {
    const b = o * K;
    for (let t = 0; t < K; t++) offs[t] = fromOff + idx[b + t] * mx;
    combine(from, offs, ty.weight, b, K, mx, dst, dstOff + o * mx);
  }
}

/** Resamples `rows` contiguous rows of length nx along x into rows of length tt.outN. */
function rowPass(src: Float32Array, srcOff: number, nx: number, rows: number, tt: TapTable, dst: Float32Array, dstOff: number): void {
  const m = tt.outN, idx = tt.index, w = tt.weight;
  for (let r = 0; r < rows; r++) {
    const ib = srcOff + r * nx, ob = dstOff + r * m;
    if (tt.taps === 4) {
      for (let o = 0, b = 0; o < m; o++, b += 4) {
        dst[ob + o] = w[b] * src[ib + idx[b]] + w[b + 1] * src[ib + idx[b + 1]] + w[b + 2] * src[ib + idx[b + 2]] + w[b + 3] * src[ib + idx[b + 3]];
      }
    } else if (tt.taps === 2) {
      for (let o = 0, b = 0; o < m; o++, b += 2) dst[ob + o] = w[b] * src[ib + idx[b]] + w[b + 1] * src[ib + idx[b + 1]];
    } else {
      for (let o = 0; o < m; o++) dst[ob + o] = src[ib + idx[o]];
    }
  }
}

/** dst[dstOff + q] = sum_t w[b + t] * src[offs[t] + q] for q < len (K = 1, 2 or 4). */
function combine(src: Float32Array, offs: Int32Array, w: Float64Array, b: number, K: number, len: number, dst: Float32Array, dstOff: number): void {
  if (K === 4) {
    const p0 = offs[0], p1 = offs[1], p2 = offs[2], p3 = offs[3];
    const w0 = w[b], w1 = w[b + 1], w2 = w[b + 2], w3 = w[b + 3];
    for (let q = 0; q < len; q++) dst[dstOff + q] = w0 * src[p0 + q] + w1 * src[p1 + q] + w2 * src[p2 + q] + w3 * src[p3 + q];
  } else if (K === 2) {
    const p0 = offs[0], p1 = offs[1], w0 = w[b], w1 = w[b + 1];
    for (let q = 0; q < len; q++) dst[dstOff + q] = w0 * src[p0 + q] + w1 * src[p1 + q];
  } else {
    dst.set(src.subarray(offs[0], offs[0] + len), dstOff);
  }
}
