/**
 * Rotation-centre estimation for parallel-beam projections whose rotation axis does not project
 * onto the detector centre (synchrotron data rarely does). A wrong centre by d pixels smears
 * every point of an FBP into a half-circle of radius d, so it must be found from the data.
 *
 * Method (centre of mass, e.g. Azevedo et al. 1990, IEEE TNS 37(4)): in a parallel beam the
 * centre of mass of view theta, in detector columns, of an object entirely inside the field of
 * view is the projection of the object's own centre of mass:
 *
 *   c(theta) = c_axis + (-X sin theta + Y cos theta) / du
 *
 * (u at angle theta is (-sin theta, cos theta), docs/coordinate-systems.md). A least-squares fit
 * of a + b cos theta + c sin theta to the per-view centroids gives c_axis = a. It is exact for
 * noise-free, untruncated data and needs no 180-degree view pair (TomoPy's tooth scan stops at
 * 179 degrees). {@link mirroredShiftPx} gives the independent 0/180-degree cross-correlation check.
 */
import { MedfieldError } from '../core/errors.js';
import type { ProjectionShape } from './flat-dark.js';

/** Result of {@link estimateRotationCentre}. */
export interface RotationCentreEstimate {
  /** Detector column (0-based, fractional) onto which the rotation axis projects. */
  axisColumn: number;
  /**
   * TIGRE offDetector[0] in pixels that puts the axis at u = 0: ((cols - 1) / 2 - axisColumn).
   * Multiply by the pixel size du for mm.
   */
  offDetectorPx: number;
  /** RMS, in columns, of the per-view centroids about the fitted sinusoid (large = truncation, drift or bad angles). */
  residualRmsPx: number;
}

/**
 * Estimates the column of the rotation axis of parallel-beam line integrals `p`
 * [views, rows, cols] taken at `anglesRad`, summing all rows. Each view's baseline (the mean
 * of its outermost 5 % of columns on each side, which must be air) is subtracted first and the
 * values are not clipped, so zero-mean noise and a constant flat-field offset do not bias the
 * centroid towards the middle of the detector.
 */
export function estimateRotationCentre(p: ArrayLike<number>, shape: ProjectionShape, anglesRad: ArrayLike<number>): RotationCentreEstimate {
  const { views, rows, cols } = shape;
  if (p.length !== views * rows * cols) throw new MedfieldError('bad-data', 'lineIntegrals', `expected ${views} x ${rows} x ${cols} values, got ${p.length}`);
  if (anglesRad.length !== views) throw new MedfieldError('bad-data', 'anglesRad', `expected ${views} angles (one per view), got ${anglesRad.length}`);
  if (views < 3) throw new MedfieldError('bad-data', 'lineIntegrals', `expected at least 3 views to fit a sinusoid, got ${views}`);
  const centroid = new Float64Array(views);
  const edge = Math.max(1, Math.floor(cols * 0.05));
  for (let v = 0; v < views; v++) {
    let base = 0;
    for (let r = 0; r < rows; r++) {
      const o = (v * rows + r) * cols;
      for (let c = 0; c < edge; c++) base += p[o + c]! + p[o + cols - 1 - c]!;
    }
    base /= 2 * edge * rows;
    let m = 0, mc = 0;
    for (let r = 0; r < rows; r++) {
      const o = (v * rows + r) * cols;
      for (let c = 0; c < cols; c++) {
        const x = p[o + c]! - base;
        m += x; mc += x * c;
      }
    }
    if (!(m > 0)) throw new MedfieldError('bad-data', `lineIntegrals[view ${v}]`, 'expected some attenuation in every view (the view sums to at most its air baseline)');
    centroid[v] = mc / m;
  }
  // least squares for [a, b, c] in a + b cos + c sin: 3x3 normal equations
  const A = new Float64Array(9);
  const rhs = new Float64Array(3);
  for (let v = 0; v < views; v++) {
    const f = [1, Math.cos(anglesRad[v]!), Math.sin(anglesRad[v]!)] as const;
    for (let i = 0; i < 3; i++) {
      rhs[i]! += f[i] * centroid[v]!;
      for (let j = 0; j < 3; j++) A[3 * i + j]! += f[i] * f[j];
    }
  }
  const sol = solve3(A, rhs);
  let ss = 0;
  for (let v = 0; v < views; v++) {
    const fit = sol[0]! + sol[1]! * Math.cos(anglesRad[v]!) + sol[2]! * Math.sin(anglesRad[v]!);
    ss += (centroid[v]! - fit) ** 2;
  }
  const axisColumn = sol[0]!;
  return { axisColumn, offDetectorPx: (cols - 1) / 2 - axisColumn, residualRmsPx: Math.sqrt(ss / views) };
}

/**
 * Sub-pixel shift s (columns) that best aligns view `b`, mirrored, with view `a` (1-D profiles
 * of `cols` values each), by circular-free cross-correlation over integer shifts and a parabola
 * through the peak. For two parallel views 180 degrees apart, p_b(col) = p_a(2 c_axis - col), so
 * c_axis = ((cols - 1) + s) / 2 where s maximises sum_col p_a(col) p_b(cols - 1 - col + s).
 * Returns that axis column.
 */
export function mirroredShiftPx(a: ArrayLike<number>, b: ArrayLike<number>, cols: number, maxShift = Math.floor(cols / 4)): number {
  if (a.length !== cols || b.length !== cols) throw new MedfieldError('bad-data', 'profiles', `expected two profiles of ${cols} values`);
  const score = (s: number): number => {
    let acc = 0;
    for (let c = 0; c < cols; c++) {
      const j = cols - 1 - c + s;
      if (j >= 0 && j < cols) acc += a[c]! * b[j]!;
    }
    return acc;
  };
  let best = -maxShift, bestScore = -Infinity;
  for (let s = -maxShift; s <= maxShift; s++) {
    const sc = score(s);
    if (sc > bestScore) { bestScore = sc; best = s; }
  }
  const l = score(best - 1), r = score(best + 1);
  const den = l - 2 * bestScore + r;
  const frac = den < 0 ? (0.5 * (l - r)) / den : 0;
  return (cols - 1 + best + frac) / 2;
}

function solve3(A: Float64Array, b: Float64Array): Float64Array {
  // Cramer's rule: the system is tiny and well conditioned for angles spread over >= 90 degrees
  const det = (m: ArrayLike<number>): number =>
    m[0]! * (m[4]! * m[8]! - m[5]! * m[7]!) - m[1]! * (m[3]! * m[8]! - m[5]! * m[6]!) + m[2]! * (m[3]! * m[7]! - m[4]! * m[6]!);
  const d = det(A);
  if (Math.abs(d) < 1e-12) throw new MedfieldError('bad-data', 'anglesRad', 'the view angles are too close together to fit the centre-of-mass sinusoid');
  const out = new Float64Array(3);
  for (let k = 0; k < 3; k++) {
    const m = Float64Array.from(A);
    for (let i = 0; i < 3; i++) m[3 * i + k] = b[i]!;
    out[k] = det(m) / d;
  }
  return out;
}
