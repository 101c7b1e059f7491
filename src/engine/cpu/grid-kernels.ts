/**
 * Multiresolution grid kernels (instant-NGP, Mueller et al. 2022, eq. 4 hash; trilinear /
 * bilinear interpolation of the 2^d cell corners). Plain loops over typed arrays, generic over
 * Float32Array (production) and Float64Array (finite-difference reference path).
 *
 * Layouts: inputs x are AoS [n, dim] in [0,1]^dim (clamped); encoded features are SoA rows:
 * feature (level l, channel f) of point p is out[outBase + (l*F + f)*pitch + p]. Table of a level
 * is [size, F] row-major. Position on level l: x * res_l, vertices 0..res_l per axis.
 */
export type FloatArray = Float32Array | Float64Array;

/** One level of a grid as the kernels see it. `dense`: index = x + (res+1)(y + (res+1) z); else hashed mod size (a power of two). */
export interface GridLevelRef {
  readonly res: number;
  readonly size: number;
  readonly dense: boolean;
  readonly table: FloatArray;
  readonly grad?: FloatArray;
  readonly touched?: Uint8Array;
}

const P1 = 2654435761 | 0;
const P2 = 805459861 | 0;

/** Forward for points [p0, p1) on all levels. */
export function gridForward(
  dim: number, F: number, levels: readonly GridLevelRef[], x: FloatArray, xBase: number,
  p0: number, p1: number, out: FloatArray, outBase: number, pitch: number,
): void {
  for (let l = 0; l < levels.length; l++) {
    const L = levels[l]!;
    const res = L.res, r1 = res + 1, mask = L.size - 1, dense = L.dense, T = L.table;
    const o0 = outBase + l * F * pitch;
    if (dim === 3) {
      for (let p = p0; p < p1; p++) {
        const xi = xBase + p * 3;
        let px = x[xi]!, py = x[xi + 1]!, pz = x[xi + 2]!;
        px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res; pz = (pz < 0 ? 0 : pz > 1 ? 1 : pz) * res;
        let ix = Math.floor(px), iy = Math.floor(py), iz = Math.floor(pz);
        if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1; if (iz >= res) iz = res - 1;
        const fx = px - ix, fy = py - iy, fz = pz - iz, gx = 1 - fx, gy = 1 - fy, gz = 1 - fz;
        for (let f = 0; f < F; f++) out[o0 + f * pitch + p] = 0;
        for (let c = 0; c < 8; c++) {
          const cx = ix + (c & 1), cy = iy + ((c >> 1) & 1), cz = iz + (c >> 2);
          const w = (c & 1 ? fx : gx) * (c & 2 ? fy : gy) * (c & 4 ? fz : gz);
          const idx = dense ? cx + r1 * (cy + r1 * cz) : (cx ^ Math.imul(cy, P1) ^ Math.imul(cz, P2)) & mask;
          const t = idx * F;
          for (let f = 0; f < F; f++) out[o0 + f * pitch + p] += w * T[t + f]!;
        }
      }
    } else {
      for (let p = p0; p < p1; p++) {
        const xi = xBase + p * 2;
        let px = x[xi]!, py = x[xi + 1]!;
        px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res;
        let ix = Math.floor(px), iy = Math.floor(py);
        if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1;
        const fx = px - ix, fy = py - iy, gx = 1 - fx, gy = 1 - fy;
        for (let f = 0; f < F; f++) out[o0 + f * pitch + p] = 0;
        for (let c = 0; c < 4; c++) {
          const cx = ix + (c & 1), cy = iy + (c >> 1);
          const w = (c & 1 ? fx : gx) * (c & 2 ? fy : gy);
          const idx = dense ? cx + r1 * cy : (cx ^ Math.imul(cy, P1)) & mask;
          const t = idx * F;
          for (let f = 0; f < F; f++) out[o0 + f * pitch + p] += w * T[t + f]!;
        }
      }
    }
  }
}

/**
 * Backward to the tables for points [0, n) on the levels in `levelIds`: grad[idx*F+f] += w * dOut,
 * touched[idx] = 1. Levels are independent, so threads split levels and never collide.
 */
export function gridBackwardParams(
  dim: number, F: number, levels: readonly GridLevelRef[], levelIds: readonly number[], x: FloatArray, xBase: number,
  n: number, dOut: FloatArray, dBase: number, pitch: number,
): void {
  for (const l of levelIds) {
    const L = levels[l]!;
    const res = L.res, r1 = res + 1, mask = L.size - 1, dense = L.dense, G = L.grad!, touched = L.touched;
    const d0 = dBase + l * F * pitch;
    for (let p = 0; p < n; p++) {
      let any = false;
      for (let f = 0; f < F; f++) if (dOut[d0 + f * pitch + p] !== 0) { any = true; break; }
      if (!any) continue;
      if (dim === 3) {
        const xi = xBase + p * 3;
        let px = x[xi]!, py = x[xi + 1]!, pz = x[xi + 2]!;
        px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res; pz = (pz < 0 ? 0 : pz > 1 ? 1 : pz) * res;
        let ix = Math.floor(px), iy = Math.floor(py), iz = Math.floor(pz);
        if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1; if (iz >= res) iz = res - 1;
        const fx = px - ix, fy = py - iy, fz = pz - iz, gx = 1 - fx, gy = 1 - fy, gz = 1 - fz;
        for (let c = 0; c < 8; c++) {
          const cx = ix + (c & 1), cy = iy + ((c >> 1) & 1), cz = iz + (c >> 2);
          const w = (c & 1 ? fx : gx) * (c & 2 ? fy : gy) * (c & 4 ? fz : gz);
          const idx = dense ? cx + r1 * (cy + r1 * cz) : (cx ^ Math.imul(cy, P1) ^ Math.imul(cz, P2)) & mask;
          const t = idx * F;
          for (let f = 0; f < F; f++) G[t + f] += w * dOut[d0 + f * pitch + p]!;
          if (touched) touched[idx] = 1;
        }
      } else {
        const xi = xBase + p * 2;
        let px = x[xi]!, py = x[xi + 1]!;
        px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res;
        let ix = Math.floor(px), iy = Math.floor(py);
        if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1;
        const fx = px - ix, fy = py - iy, gx = 1 - fx, gy = 1 - fy;
        for (let c = 0; c < 4; c++) {
          const cx = ix + (c & 1), cy = iy + (c >> 1);
          const w = (c & 1 ? fx : gx) * (c & 2 ? fy : gy);
          const idx = dense ? cx + r1 * cy : (cx ^ Math.imul(cy, P1)) & mask;
          const t = idx * F;
          for (let f = 0; f < F; f++) G[t + f] += w * dOut[d0 + f * pitch + p]!;
          if (touched) touched[idx] = 1;
        }
      }
    }
  }
}

/**
 * Backward to the inputs for points [p0, p1): dx[p*dim + a] = sum over levels, corners, channels
 * of dOut * table * dw/dx_a, with dw/dx_a = res * (+-) product of the other axes' weights; zero
 * where x_a was clamped (outside [0,1]). Overwrites dx.
 */
export function gridBackwardInput(
  dim: number, F: number, levels: readonly GridLevelRef[], x: FloatArray, xBase: number,
  p0: number, p1: number, dOut: FloatArray, dBase: number, pitch: number, dx: FloatArray, dxBase: number,
): void {
  for (let p = p0; p < p1; p++) {
    const xi = xBase + p * dim;
    let sx = 0, sy = 0, sz = 0;
    for (let l = 0; l < levels.length; l++) {
      const L = levels[l]!;
      const res = L.res, r1 = res + 1, mask = L.size - 1, dense = L.dense, T = L.table;
      const d0 = dBase + l * F * pitch;
      if (dim === 3) {
        let px = x[xi]!, py = x[xi + 1]!, pz = x[xi + 2]!;
        px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res; pz = (pz < 0 ? 0 : pz > 1 ? 1 : pz) * res;
        let ix = Math.floor(px), iy = Math.floor(py), iz = Math.floor(pz);
        if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1; if (iz >= res) iz = res - 1;
        const fx = px - ix, fy = py - iy, fz = pz - iz, gx = 1 - fx, gy = 1 - fy, gz = 1 - fz;
        let ax = 0, ay = 0, az = 0;
        for (let c = 0; c < 8; c++) {
          const cx = ix + (c & 1), cy = iy + ((c >> 1) & 1), cz = iz + (c >> 2);
          const idx = dense ? cx + r1 * (cy + r1 * cz) : (cx ^ Math.imul(cy, P1) ^ Math.imul(cz, P2)) & mask;
          let v = 0;
          for (let f = 0; f < F; f++) v += T[idx * F + f]! * dOut[d0 + f * pitch + p]!;
          const wx = c & 1 ? fx : gx, wy = c & 2 ? fy : gy, wz = c & 4 ? fz : gz;
          ax += (c & 1 ? 1 : -1) * wy * wz * v;
          ay += (c & 2 ? 1 : -1) * wx * wz * v;
          az += (c & 4 ? 1 : -1) * wx * wy * v;
        }
        sx += ax * res; sy += ay * res; sz += az * res;
      } else {
        let px = x[xi]!, py = x[xi + 1]!;
        px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res;
        let ix = Math.floor(px), iy = Math.floor(py);
        if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1;
        const fx = px - ix, fy = py - iy, gx = 1 - fx, gy = 1 - fy;
        let ax = 0, ay = 0;
        for (let c = 0; c < 4; c++) {
          const cx = ix + (c & 1), cy = iy + (c >> 1);
          const idx = dense ? cx + r1 * cy : (cx ^ Math.imul(cy, P1)) & mask;
          let v = 0;
          for (let f = 0; f < F; f++) v += T[idx * F + f]! * dOut[d0 + f * pitch + p]!;
          ax += (c & 1 ? 1 : -1) * (c & 2 ? fy : gy) * v;
          ay += (c & 2 ? 1 : -1) * (c & 1 ? fx : gx) * v;
        }
        sx += ax * res; sy += ay * res;
      }
    }
    const x0 = x[xi]!, y0 = x[xi + 1]!;
    dx[dxBase + p * dim] = x0 < 0 || x0 > 1 ? 0 : sx;
    dx[dxBase + p * dim + 1] = y0 < 0 || y0 > 1 ? 0 : sy;
    if (dim === 3) { const z0 = x[xi + 2]!; dx[dxBase + p * dim + 2] = z0 < 0 || z0 > 1 ? 0 : sz; }
  }
}

/** NeRF frequency encoding forward for points [p0,p1): rows [x_d if include] then per octave k: sin(2^k pi x_d), cos(2^k pi x_d). */
export function frequencyForward(
  dim: number, octaves: number, include: boolean, x: FloatArray, xBase: number, p0: number, p1: number,
  out: FloatArray, outBase: number, pitch: number,
): void {
  const r0 = include ? dim : 0;
  for (let p = p0; p < p1; p++) {
    for (let d = 0; d < dim; d++) {
      const v = x[xBase + p * dim + d]!;
      if (include) out[outBase + d * pitch + p] = v;
      let s = Math.PI;
      for (let k = 0; k < octaves; k++, s *= 2) {
        const row = r0 + 2 * k * dim + d;
        out[outBase + row * pitch + p] = Math.sin(s * v);
        out[outBase + (row + dim) * pitch + p] = Math.cos(s * v);
      }
    }
  }
}

/** Frequency encoding backward to inputs (overwrites dx). */
export function frequencyBackwardInput(
  dim: number, octaves: number, include: boolean, x: FloatArray, xBase: number, p0: number, p1: number,
  dOut: FloatArray, dBase: number, pitch: number, dx: FloatArray, dxBase: number,
): void {
  const r0 = include ? dim : 0;
  for (let p = p0; p < p1; p++) {
    for (let d = 0; d < dim; d++) {
      const v = x[xBase + p * dim + d]!;
      let g = include ? dOut[dBase + d * pitch + p]! : 0;
      let s = Math.PI;
      for (let k = 0; k < octaves; k++, s *= 2) {
        const row = r0 + 2 * k * dim + d;
        g += s * (Math.cos(s * v) * dOut[dBase + row * pitch + p]! - Math.sin(s * v) * dOut[dBase + (row + dim) * pitch + p]!);
      }
      dx[dxBase + p * dim + d] = g;
    }
  }
}
