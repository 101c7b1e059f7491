/**
 * Specialised grid kernels for the hot case (3D inputs, 2 features per level, Float32 tables):
 * the eight corner indices are formed from per-axis hash terms (x, y*P1, z*P2 computed once per
 * axis value and combined by xor), the two feature sums are kept in registers and written once,
 * and nothing is allocated. Same results as the generic kernels in ./grid-kernels.ts, which the
 * conformance suite checks.
 */
const P1 = 2654435761 | 0;
const P2 = 805459861 | 0;

export function gridForward3F2(
  res: number, size: number, dense: boolean, T: Float32Array, x: Float32Array, xBase: number,
  p0: number, p1: number, out: Float32Array, o0: number, pitch: number,
): void {
  const r1 = res + 1, mask = size - 1, o1 = o0 + pitch;
  for (let p = p0; p < p1; p++) {
    const xi = xBase + p * 3;
    let px = x[xi]!, py = x[xi + 1]!, pz = x[xi + 2]!;
    px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res; pz = (pz < 0 ? 0 : pz > 1 ? 1 : pz) * res;
    let ix = px | 0, iy = py | 0, iz = pz | 0;
    if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1; if (iz >= res) iz = res - 1;
    const fx = px - ix, fy = py - iy, fz = pz - iz, gx = 1 - fx, gy = 1 - fy, gz = 1 - fz;
    let a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number;
    if (dense) {
      a0 = (ix + r1 * (iy + r1 * iz)) << 1; a1 = a0 + 2;
      a2 = a0 + 2 * r1; a3 = a2 + 2;
      a4 = a0 + 2 * r1 * r1; a5 = a4 + 2; a6 = a4 + 2 * r1; a7 = a6 + 2;
    } else {
      const y0 = Math.imul(iy, P1), y1 = Math.imul(iy + 1, P1), z0 = Math.imul(iz, P2), z1 = Math.imul(iz + 1, P2);
      const x1 = ix + 1;
      const q00 = y0 ^ z0, q10 = y1 ^ z0, q01 = y0 ^ z1, q11 = y1 ^ z1;
      a0 = ((ix ^ q00) & mask) << 1; a1 = ((x1 ^ q00) & mask) << 1;
      a2 = ((ix ^ q10) & mask) << 1; a3 = ((x1 ^ q10) & mask) << 1;
      a4 = ((ix ^ q01) & mask) << 1; a5 = ((x1 ^ q01) & mask) << 1;
      a6 = ((ix ^ q11) & mask) << 1; a7 = ((x1 ^ q11) & mask) << 1;
    }
    const w00 = gy * gz, w10 = fy * gz, w01 = gy * fz, w11 = fy * fz;
    const w0 = gx * w00, w1 = fx * w00, w2 = gx * w10, w3 = fx * w10, w4 = gx * w01, w5 = fx * w01, w6 = gx * w11, w7 = fx * w11;
    out[o0 + p] = w0 * T[a0]! + w1 * T[a1]! + w2 * T[a2]! + w3 * T[a3]! + w4 * T[a4]! + w5 * T[a5]! + w6 * T[a6]! + w7 * T[a7]!;
    out[o1 + p] = w0 * T[a0 + 1]! + w1 * T[a1 + 1]! + w2 * T[a2 + 1]! + w3 * T[a3 + 1]! + w4 * T[a4 + 1]! + w5 * T[a5 + 1]! + w6 * T[a6 + 1]! + w7 * T[a7 + 1]!;
  }
}

export function gridBackward3F2(
  res: number, size: number, dense: boolean, G: Float32Array, touched: Uint8Array | undefined, x: Float32Array, xBase: number,
  n: number, dOut: Float32Array, d0: number, pitch: number,
): void {
  const r1 = res + 1, mask = size - 1, d1 = d0 + pitch;
  const U = touched ?? new Uint8Array(size);
  for (let p = 0; p < n; p++) {
    const g0 = dOut[d0 + p]!, g1 = dOut[d1 + p]!;
    const xi = xBase + p * 3;
    let px = x[xi]!, py = x[xi + 1]!, pz = x[xi + 2]!;
    px = (px < 0 ? 0 : px > 1 ? 1 : px) * res; py = (py < 0 ? 0 : py > 1 ? 1 : py) * res; pz = (pz < 0 ? 0 : pz > 1 ? 1 : pz) * res;
    let ix = px | 0, iy = py | 0, iz = pz | 0;
    if (ix >= res) ix = res - 1; if (iy >= res) iy = res - 1; if (iz >= res) iz = res - 1;
    const fx = px - ix, fy = py - iy, fz = pz - iz, gx = 1 - fx, gy = 1 - fy, gz = 1 - fz;
    let a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number;
    if (dense) {
      a0 = ix + r1 * (iy + r1 * iz); a1 = a0 + 1; a2 = a0 + r1; a3 = a2 + 1;
      a4 = a0 + r1 * r1; a5 = a4 + 1; a6 = a4 + r1; a7 = a6 + 1;
    } else {
      const y0 = Math.imul(iy, P1), y1 = Math.imul(iy + 1, P1), z0 = Math.imul(iz, P2), z1 = Math.imul(iz + 1, P2);
      const x1 = ix + 1;
      const q00 = y0 ^ z0, q10 = y1 ^ z0, q01 = y0 ^ z1, q11 = y1 ^ z1;
      a0 = (ix ^ q00) & mask; a1 = (x1 ^ q00) & mask; a2 = (ix ^ q10) & mask; a3 = (x1 ^ q10) & mask;
      a4 = (ix ^ q01) & mask; a5 = (x1 ^ q01) & mask; a6 = (ix ^ q11) & mask; a7 = (x1 ^ q11) & mask;
    }
    const w00 = gy * gz, w10 = fy * gz, w01 = gy * fz, w11 = fy * fz;
    let w = gx * w00; G[2 * a0] += w * g0; G[2 * a0 + 1] += w * g1; U[a0] = 1;
    w = fx * w00; G[2 * a1] += w * g0; G[2 * a1 + 1] += w * g1; U[a1] = 1;
    w = gx * w10; G[2 * a2] += w * g0; G[2 * a2 + 1] += w * g1; U[a2] = 1;
    w = fx * w10; G[2 * a3] += w * g0; G[2 * a3 + 1] += w * g1; U[a3] = 1;
    w = gx * w01; G[2 * a4] += w * g0; G[2 * a4 + 1] += w * g1; U[a4] = 1;
    w = fx * w01; G[2 * a5] += w * g0; G[2 * a5 + 1] += w * g1; U[a5] = 1;
    w = gx * w11; G[2 * a6] += w * g0; G[2 * a6 + 1] += w * g1; U[a6] = 1;
    w = fx * w11; G[2 * a7] += w * g0; G[2 * a7 + 1] += w * g1; U[a7] = 1;
  }
}
