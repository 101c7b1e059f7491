/**
 * The SSIM kernel shared by 2D, 3D and slice-wise SSIM (Wang et al. 2004, IEEE TIP 13(4), eq. 13),
 * written to reproduce scikit-image's `structural_similarity(..., gaussian_weights=True,
 * use_sample_covariance=False)` exactly:
 *
 * - local moments mu_a, mu_b, E[a^2], E[b^2], E[ab] are Gaussian-filtered with
 *   scipy.ndimage.gaussian_filter semantics: 1D kernel exp(-x^2 / 2 sigma^2) normalised to sum 1,
 *   radius int(truncate * sigma + 0.5) with truncate = 3.5, applied separably along every axis,
 *   boundary mode 'reflect' (half-sample symmetric: d c b a | a b c d | d c b a);
 * - variances are the population ones (E[a^2] - mu_a^2), i.e. cov_norm = 1;
 * - S = (2 mu_a mu_b + C1)(2 cov + C2) / ((mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2)),
 *   C1 = (K1 R)^2, C2 = (K2 R)^2.
 *
 * Memory and speed: the volume is streamed slice by slice along z. Each input slice is filtered
 * in x and y once (five interleaved moment channels, Float64) into a ring of 2r+1 slices; the
 * z pass combines the ring. Memory is O((2r+1) * nx * ny) instead of five full-volume buffers,
 * and every inner loop is a contiguous multiply-add, which V8 compiles well.
 */

/** Number of interleaved moment channels: a, b, a^2, b^2, ab. */
const CH = 5;
/** Pixels per block of the z pass, sized so the accumulator stays in L1/L2 cache. */
const Z_BLOCK = 2048;

/** Resolved SSIM constants. */
export interface SsimKernel {
  /** Normalised 1D Gaussian taps, length 2 * radius + 1. */
  weights: Float64Array;
  /** Window radius in voxels (5 for sigma 1.5, truncate 3.5). */
  radius: number;
  /** (K1 * dataRange)^2. */
  c1: number;
  /** (K2 * dataRange)^2. */
  c2: number;
}

/**
 * scipy.ndimage's Gaussian taps: radius int(truncate * sigma + 0.5), weights normalised to 1.
 * @param sigma - Standard deviation in voxels (> 0).
 */
export function gaussianTaps(sigma: number, truncate = 3.5): Float64Array {
  const radius = Math.trunc(truncate * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let t = -radius; t <= radius; t++) {
    const v = Math.exp((-0.5 * t * t) / (sigma * sigma));
    w[t + radius] = v;
    sum += v;
  }
  for (let t = 0; t < w.length; t++) w[t] /= sum;
  return w;
}

/** scipy.ndimage mode 'reflect' index: mirror about the half-sample edges, period 2n. */
export function reflectIndex(i: number, n: number): number {
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/**
 * dst[dstOff + i] = sum_t w[t] * src[offs[t] + i] for i < len: one symmetric Gaussian tap set
 * applied to `len` contiguous values, each tap reading its own source offset (a shifted row in
 * the x pass, a reflected row in the y pass, a ring slot in the z pass). Pairing the symmetric
 * taps and accumulating in a register (instead of one read-modify-write sweep per tap) is ~3x
 * faster in V8; the 11-tap case (sigma 1.5) is unrolled.
 */
function convolveTaps(
  src: Float64Array, offs: Int32Array, w: Float64Array, dst: Float64Array, dstOff: number, len: number,
): void {
  if (w.length === 11) {
    const w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5];
    const o0 = offs[0], o1 = offs[1], o2 = offs[2], o3 = offs[3], o4 = offs[4], o5 = offs[5];
    const o6 = offs[6], o7 = offs[7], o8 = offs[8], o9 = offs[9], o10 = offs[10];
    for (let i = 0; i < len; i++) {
      dst[dstOff + i] =
        w0 * (src[o0 + i] + src[o10 + i]) + w1 * (src[o1 + i] + src[o9 + i]) + w2 * (src[o2 + i] + src[o8 + i]) +
        w3 * (src[o3 + i] + src[o7 + i]) + w4 * (src[o4 + i] + src[o6 + i]) + w5 * src[o5 + i];
    }
    return;
  }
  const taps = w.length, r = (taps - 1) >> 1;
  for (let i = 0; i < len; i++) {
    let acc = w[r] * src[offs[r] + i];
    for (let t = 0; t < r; t++) acc += w[t] * (src[offs[t] + i] + src[offs[taps - 1 - t] + i]);
    dst[dstOff + i] = acc;
  }
}

/**
 * Streams the SSIM map of a grid stored x fastest (index x + nx * (y + ny * z)).
 * With `filterZ` false the grid is a stack of independent 2D images (nz = 1 for plain 2D);
 * otherwise a 3D Gaussian window is used.
 *
 * @param consume - Called once per z in increasing order with the SSIM values of that slice
 *   (length nx * ny, x fastest). The buffer is reused: copy what you keep.
 */
export function streamSsimMap(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  nx: number,
  ny: number,
  nz: number,
  filterZ: boolean,
  kernel: SsimKernel,
  consume: (z: number, slice: Float64Array) => void,
): void {
  const { weights: w, radius: r, c1, c2 } = kernel;
  const taps = w.length;
  const nxy = nx * ny;
  const rowLen = nx * CH;
  const rz = filterZ ? r : 0;
  const slots = 2 * rz + 1;

  const padded = new Float64Array((nx + 2 * r) * CH);
  const tmp = new Float64Array(nxy * CH);
  const ring = new Float64Array(slots * nxy * CH);
  const slotZ = new Int32Array(slots).fill(-1);
  const acc = new Float64Array(Math.min(Z_BLOCK, nxy) * CH);
  const out = new Float64Array(nxy);
  // Source row of each padded position and of each y tap, computed once (not per pixel).
  const xSrc = new Int32Array(nx + 2 * r);
  for (let x = 0; x < xSrc.length; x++) xSrc[x] = reflectIndex(x - r, nx);
  const ySrc = new Int32Array(ny + 2 * r);
  for (let y = 0; y < ySrc.length; y++) ySrc[y] = reflectIndex(y - r, ny) * rowLen;
  const zSlotOff = new Int32Array(slots);
  const xOffs = new Int32Array(taps), yOffs = new Int32Array(taps), zOffs = new Int32Array(slots);
  for (let t = 0; t < taps; t++) xOffs[t] = t * CH;

  /** Fills the ring slot of input slice z with its x- and y-filtered moments. */
  const loadSlice = (z: number): void => {
    // x pass: build the row's moments with reflected borders, then filter it.
    for (let y = 0; y < ny; y++) {
      const row = y * rowLen, src = z * nxy + y * nx;
      for (let x = 0, d = 0; x < xSrc.length; x++, d += CH) {
        const va = +a[src + xSrc[x]], vb = +b[src + xSrc[x]];
        padded[d] = va; padded[d + 1] = vb; padded[d + 2] = va * va; padded[d + 3] = vb * vb; padded[d + 4] = va * vb;
      }
      convolveTaps(padded, xOffs, w, tmp, row, rowLen);
    }
    // y pass: whole rows at a time, straight into the ring slot.
    const slot = (z % slots) * nxy * CH;
    for (let y = 0; y < ny; y++) {
      for (let t = 0; t < taps; t++) yOffs[t] = ySrc[y + t];
      convolveTaps(tmp, yOffs, w, ring, slot + y * rowLen, rowLen);
    }
    slotZ[z % slots] = z;
  };

  for (let z = 0; z < nz; z++) {
    // The slices a z window needs lie in [z - rz, z + rz] even after reflection, so they never
    // collide modulo `slots`; a slice is filtered in x/y only once while it stays in the ring.
    for (let t = 0; t < slots; t++) {
      const zz = reflectIndex(z + t - rz, nz);
      if (slotZ[zz % slots] !== zz) loadSlice(zz);
      zSlotOff[t] = (zz % slots) * nxy * CH;
    }
    for (let p0 = 0; p0 < nxy; p0 += Z_BLOCK) {
      const np = Math.min(Z_BLOCK, nxy - p0);
      const len = np * CH;
      let m: Float64Array, mOff: number;
      if (rz === 0) {
        m = ring; mOff = zSlotOff[0] + p0 * CH;
      } else {
        m = acc; mOff = 0;
        for (let t = 0; t < slots; t++) zOffs[t] = zSlotOff[t] + p0 * CH;
        convolveTaps(ring, zOffs, w, acc, 0, len);
      }
      for (let p = 0, q = mOff; p < np; p++, q += CH) {
        const ux = m[q], uy = m[q + 1];
        const vx = m[q + 2] - ux * ux;
        const vy = m[q + 3] - uy * uy;
        const vxy = m[q + 4] - ux * uy;
        out[p0 + p] = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2));
      }
    }
    consume(z, out);
  }
}
