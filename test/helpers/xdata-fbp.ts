/**
 * A small parallel-beam filtered back-projection of one detector row, for tests only: Ram-Lak
 * filter in the spatial domain (Kak & Slaney, eq. 3.61: h(0) = 1/4, h(n odd) = -1/(pi n)^2,
 * h(n even) = 0, in pixel units) and linear-interpolation back-projection placed with the
 * library's viewFrame, so offDetector and the angle convention are exactly the geometry's.
 */
import { viewFrame, type XrayGeometry } from '../../src/geometry/xray.js';

/** FBP of row `row` of parallel-beam line integrals [views, rows, cols] on an n x n grid of `voxel` spacing centred on the rotation axis. */
export function fbpParallelRow(p: Float32Array, geo: XrayGeometry, anglesRad: Float64Array, row: number, n: number, voxel: number): Float64Array {
  const [nu, nv] = geo.nDetector;
  const du = geo.dDetector[0];
  const views = anglesRad.length;
  const kernel = new Float64Array(2 * nu - 1);
  for (let k = -(nu - 1); k <= nu - 1; k++) {
    kernel[k + nu - 1] = k === 0 ? 0.25 : k % 2 === 0 ? 0 : -1 / (Math.PI * Math.PI * k * k);
  }
  const filtered = new Float64Array(nu);
  const img = new Float64Array(n * n);
  const frame = new Float64Array(15);
  for (let v = 0; v < views; v++) {
    const o = (v * nv + row) * nu;
    for (let i = 0; i < nu; i++) {
      let s = 0;
      for (let j = 0; j < nu; j++) s += kernel[i - j + nu - 1]! * p[o + j]!;
      filtered[i] = s / du;
    }
    viewFrame(geo, anglesRad[v]!, frame);
    const dx = frame[3]!, dy = frame[4]!, ex = frame[6]!, ey = frame[7]!;
    for (let j = 0; j < n; j++) {
      const y = (j - (n - 1) / 2) * voxel + geo.offOrigin[1];
      for (let i = 0; i < n; i++) {
        const x = (i - (n - 1) / 2) * voxel + geo.offOrigin[0];
        const col = ((x - dx) * ex + (y - dy) * ey) / du + (nu - 1) / 2;
        const c0 = Math.floor(col);
        if (c0 < 0 || c0 >= nu - 1) continue;
        const t = col - c0;
        img[i + n * j]! += filtered[c0]! * (1 - t) + filtered[c0 + 1]! * t;
      }
    }
  }
  const scale = Math.PI / views;
  for (let i = 0; i < img.length; i++) img[i]! *= scale;
  return img;
}
