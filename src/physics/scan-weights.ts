/**
 * Per-view weights of filtered back-projection over arbitrary angles: the angular quadrature of
 * the scan (midpoint rule, circular on a full turn) and Parker's short-scan weights. Used by
 * fdk.ts; see docs/reconstruction.md.
 */

/**
 * Parker weight (Parker 1982, eq. 12) of the ray at fan angle gamma (rad, counter-clockwise from
 * the central ray seen from +z) in the view at beta (rad from the scan start) of a scan over
 * pi + 2 delta. Conjugate rays (beta, gamma) and (beta + pi + 2 gamma, -gamma) sum to 1.
 */
export function parkerWeight(beta: number, gamma: number, delta: number): number {
  if (beta < 0 || beta > Math.PI + 2 * delta) return 0;
  if (beta < 2 * delta - 2 * gamma) {
    const s = Math.sin((Math.PI / 4) * (beta / (delta - gamma)));
    return s * s;
  }
  if (beta <= Math.PI - 2 * gamma) return 1;
  const s = Math.sin((Math.PI / 4) * ((Math.PI + 2 * delta - beta) / (delta + gamma)));
  return s * s;
}

/** Angular quadrature of a scan: per-view weights, arc, and direction. */
export interface ScanQuadrature {
  /** dtheta_i (rad), in the caller's view order. */
  weights: Float64Array;
  /** Sum of the weights (rad). */
  total: number;
  /** Largest minus smallest angle (rad). */
  span: number;
  /** True when the views cover a full turn (circular spacing used). */
  fullTurn: boolean;
  /** +1 when the angles increase with view index (counter-clockwise), -1 otherwise. */
  direction: number;
  /** Angle of each view from the scan start, in the scan direction (rad). */
  beta: Float64Array;
}

/**
 * Midpoint-rule weights of arbitrary view angles: each view stands for half the gap to each
 * neighbour (sorted by angle); the first and last views of an open arc stand for a whole gap.
 * A scan whose span plus one mean gap reaches 2 pi (within 0.1 %) is a full turn and wraps.
 */
export function scanQuadrature(anglesRad: ArrayLike<number>): ScanQuadrature {
  const n = anglesRad.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => anglesRad[a]! - anglesRad[b]!);
  const lo = anglesRad[order[0]!]!, hi = anglesRad[order[n - 1]!]!;
  const span = hi - lo;
  const direction = n > 1 && anglesRad[n - 1]! < anglesRad[0]! ? -1 : 1;
  const weights = new Float64Array(n);
  const beta = new Float64Array(n);
  for (let i = 0; i < n; i++) beta[i] = direction > 0 ? anglesRad[i]! - lo : hi - anglesRad[i]!;
  const twoPi = 2 * Math.PI;
  // A full turn may list its start twice (0 and 2 pi): the wrap then gives each copy half a gap.
  const fullTurn = n > 1 && span <= twoPi * (1 + 1e-9) && span + span / (n - 1) >= twoPi * (1 - 1e-3);
  if (n === 1) {
    weights[0] = Math.PI;
  } else {
    for (let s = 0; s < n; s++) {
      const a = (q: number): number => anglesRad[order[q]!]!;
      let prev: number, next: number;
      if (fullTurn) {
        prev = s > 0 ? a(s - 1) : a(n - 1) - twoPi;
        next = s < n - 1 ? a(s + 1) : a(0) + twoPi;
      } else {
        prev = s > 0 ? a(s - 1) : 2 * a(0) - a(1);
        next = s < n - 1 ? a(s + 1) : 2 * a(n - 1) - a(n - 2);
      }
      weights[order[s]!] = (next - prev) / 2;
    }
  }
  let total = 0;
  for (let i = 0; i < n; i++) total += weights[i]!;
  return { weights, total, span, fullTurn, direction, beta };
}
