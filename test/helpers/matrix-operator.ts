/**
 * Test-only ProjectionOperator stored as an explicit sparse matrix (CSR, Float64), so that its
 * adjoint is exactly its transpose and small problems can be solved directly. Row p of view v
 * is the ray of detector pixel p (pixelRay, docs/coordinate-systems.md): the ray is clipped to
 * the grid box and sampled at midpoints of steps of `stepMm`; each sample adds stepMm to the voxel
 * that contains it ('nearest': a sampled Siddon projector, entries -> intersection lengths as the
 * step shrinks; well conditioned) or stepMm x its trilinear weights ('trilinear': voxel centres
 * as nodes, clamped at the border; smoother, worse conditioned).
 */
import { gridAabb, gridOriginMm } from '../../src/geometry/grid.js';
import { rayAabb } from '../../src/geometry/ray-box.js';
import { pixelRay, viewFrame, type XrayGeometry } from '../../src/geometry/xray.js';
import type { ProjectionOperator } from '../../src/physics/operator.js';

export interface CsrMatrix {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float64Array;
}

export class MatrixOperator implements ProjectionOperator {
  readonly geometry: XrayGeometry;
  readonly anglesRad: Float64Array;
  readonly volumeSize: number;
  readonly viewSize: number;
  readonly matrix: CsrMatrix;
  /** Calls of forward/adjoint (to check how many projections a solver spends). */
  calls = { forward: 0, adjoint: 0 };

  constructor(geometry: XrayGeometry, anglesRad: Float64Array, matrix: CsrMatrix) {
    this.geometry = geometry;
    this.anglesRad = anglesRad;
    this.volumeSize = geometry.nVoxel[0] * geometry.nVoxel[1] * geometry.nVoxel[2];
    this.viewSize = geometry.nDetector[0] * geometry.nDetector[1];
    this.matrix = matrix;
  }

  private viewList(views?: Int32Array): Int32Array {
    return views ?? Int32Array.from({ length: this.anglesRad.length }, (_, i) => i);
  }

  forward(x: Float32Array, y: Float32Array, views?: Int32Array): Promise<void> {
    this.calls.forward++;
    const { rowPtr, colIdx, values } = this.matrix;
    for (const v of this.viewList(views)) {
      for (let r = v * this.viewSize; r < (v + 1) * this.viewSize; r++) {
        let s = 0;
        for (let q = rowPtr[r]!; q < rowPtr[r + 1]!; q++) s += values[q]! * x[colIdx[q]!]!;
        y[r] = s;
      }
    }
    return Promise.resolve();
  }

  adjoint(y: Float32Array, x: Float32Array, views?: Int32Array): Promise<void> {
    this.calls.adjoint++;
    const { rowPtr, colIdx, values } = this.matrix;
    const acc = new Float64Array(this.volumeSize);
    for (const v of this.viewList(views)) {
      for (let r = v * this.viewSize; r < (v + 1) * this.viewSize; r++) {
        const yr = y[r]!;
        if (yr === 0) continue;
        for (let q = rowPtr[r]!; q < rowPtr[r + 1]!; q++) acc[colIdx[q]!] += values[q]! * yr;
      }
    }
    for (let i = 0; i < this.volumeSize; i++) x[i] = acc[i]!;
    return Promise.resolve();
  }

  dispose(): void { /* nothing to release */ }

  /** The matrix as a dense row-major Float64Array [rows, cols] (tiny problems only). */
  dense(): Float64Array {
    const { rows, cols, rowPtr, colIdx, values } = this.matrix;
    const d = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let q = rowPtr[r]!; q < rowPtr[r + 1]!; q++) d[r * cols + colIdx[q]!] += values[q]!;
    return d;
  }
}

/** Builds the sampled-ray matrix of a geometry and its views. */
export function buildMatrixOperator(geo: XrayGeometry, anglesRad: ArrayLike<number>,
  opts: { stepMm?: number; interpolation?: 'nearest' | 'trilinear' } = {}): MatrixOperator {
  const stepMm = opts.stepMm ?? Math.min(...geo.dVoxel) / 8;
  const nearest = (opts.interpolation ?? 'nearest') === 'nearest';
  const [nx, ny, nz] = geo.nVoxel;
  const nu = geo.nDetector[0], nv = geo.nDetector[1];
  const box = gridAabb(geo);
  const o0 = gridOriginMm(geo);
  const frame = new Float64Array(15), ray = new Float64Array(6), t = new Float64Array(2);
  const rowPtr: number[] = [0], colIdx: number[] = [], values: number[] = [];
  const row = new Map<number, number>();
  const add = (i: number, j: number, k: number, w: number): void => {
    if (w === 0) return;
    const c = i + nx * (j + ny * k);
    row.set(c, (row.get(c) ?? 0) + w);
  };
  const clampIdx = (f: number, n: number): [number, number, number] => {
    if (f <= 0) return [0, 0, 0];
    if (f >= n - 1) return [n - 1, n - 1, 0];
    const a = Math.floor(f);
    return [a, a + 1, f - a];
  };
  for (let a = 0; a < anglesRad.length; a++) {
    viewFrame(geo, anglesRad[a]!, frame);
    for (let r = 0; r < nv; r++) {
      for (let c = 0; c < nu; c++) {
        row.clear();
        pixelRay(geo, frame, r, c, ray);
        if (rayAabb(ray[0]!, ray[1]!, ray[2]!, ray[3]!, ray[4]!, ray[5]!, box, t)) {
          const len = t[1]! - t[0]!;
          const steps = Math.max(1, Math.ceil(len / stepMm));
          const h = len / steps;
          for (let s = 0; s < steps; s++) {
            const tt = t[0]! + (s + 0.5) * h;
            const fx = (ray[0]! + tt * ray[3]! - o0[0]) / geo.dVoxel[0];
            const fy = (ray[1]! + tt * ray[4]! - o0[1]) / geo.dVoxel[1];
            const fz = (ray[2]! + tt * ray[5]! - o0[2]) / geo.dVoxel[2];
            if (nearest) {
              const i = Math.min(nx - 1, Math.max(0, Math.round(fx)));
              const j = Math.min(ny - 1, Math.max(0, Math.round(fy)));
              const k = Math.min(nz - 1, Math.max(0, Math.round(fz)));
              add(i, j, k, h);
              continue;
            }
            const [x0, x1, wx] = clampIdx(fx, nx), [y0, y1, wy] = clampIdx(fy, ny), [z0, z1, wz] = clampIdx(fz, nz);
            for (const [zi, wzz] of [[z0, 1 - wz], [z1, wz]] as const) {
              for (const [yi, wyy] of [[y0, 1 - wy], [y1, wy]] as const) {
                add(x0, yi, zi, h * (1 - wx) * wyy * wzz);
                add(x1, yi, zi, h * wx * wyy * wzz);
              }
            }
          }
        }
        const cols = [...row.keys()].sort((p, q) => p - q);
        for (const col of cols) { colIdx.push(col); values.push(row.get(col)!); }
        rowPtr.push(colIdx.length);
      }
    }
  }
  return new MatrixOperator(geo, Float64Array.from(anglesRad), {
    rows: anglesRad.length * nu * nv, cols: nx * ny * nz,
    rowPtr: Int32Array.from(rowPtr), colIdx: Int32Array.from(colIdx), values: Float64Array.from(values),
  });
}
