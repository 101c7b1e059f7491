/**
 * Rigid slice motion for the INR slice-to-volume reconstruction (src/svr/inr.ts), in the
 * convention of src/geometry/slice-stack.ts: 6 numbers per slice [rx, ry, rz (rad), tx, ty, tz
 * (mm)] and x = R(r)(p - c) + c + t about the slice's nominal centre c.
 *
 * Gradient with respect to the rotation vector (exact, not a small-angle update): perturbing r by
 * dr changes R to exp([J_l(r) dr]x) R(r) to first order, where J_l is the left Jacobian of SO(3)
 *
 *   J_l(r) = I + (1 - cos th)/th^2 [r]x + (th - sin th)/th^3 [r]x^2      (th = |r|)
 *
 * (Barfoot, "State Estimation for Robotics", eq. 7.77a). So with g = dL/dx and a = R(r)(p - c)
 * (the rotated offset), dx = (J_l dr) x a and dL/dr = J_l(r)^T (a x g). test/svr/inr-motion.test.ts
 * checks this against central differences of rotationMatrix.
 */
import { rotationMatrix, type SliceMotion } from '../geometry/slice-stack.js';

/** Left Jacobian J_l(r) of SO(3), row-major 3x3 into out (series for small |r|). */
export function leftJacobian(rx: number, ry: number, rz: number, out: Float64Array = new Float64Array(9)): Float64Array {
  const th2 = rx * rx + ry * ry + rz * rz;
  const th = Math.sqrt(th2);
  const b = th < 1e-4 ? 0.5 - th2 / 24 : (1 - Math.cos(th)) / th2;
  const c = th < 1e-4 ? 1 / 6 - th2 / 120 : (th - Math.sin(th)) / (th2 * th);
  // [r]x = [[0,-rz,ry],[rz,0,-rx],[-ry,rx,0]]; [r]x^2 = r r^T - th^2 I
  out[0] = 1 + c * (rx * rx - th2); out[1] = -b * rz + c * rx * ry; out[2] = b * ry + c * rx * rz;
  out[3] = b * rz + c * rx * ry; out[4] = 1 + c * (ry * ry - th2); out[5] = -b * rx + c * ry * rz;
  out[6] = -b * ry + c * rx * rz; out[7] = b * rx + c * ry * rz; out[8] = 1 + c * (rz * rz - th2);
  return out;
}

/**
 * Converts the accumulated "torque" w = sum a x g (dL/d of a left small-angle rotation) into
 * dL/dr = J_l(r)^T w, in place in grad[off..off+2].
 */
export function rotationGradFromTorque(m: ArrayLike<number>, off: number, grad: Float64Array, goff: number, jac: Float64Array): void {
  leftJacobian(m[off]!, m[off + 1]!, m[off + 2]!, jac);
  const wx = grad[goff]!, wy = grad[goff + 1]!, wz = grad[goff + 2]!;
  grad[goff] = jac[0]! * wx + jac[3]! * wy + jac[6]! * wz;
  grad[goff + 1] = jac[1]! * wx + jac[4]! * wy + jac[7]! * wz;
  grad[goff + 2] = jac[2]! * wx + jac[5]! * wy + jac[8]! * wz;
}

/**
 * Per-slice motion equal to one rigid motion of a whole stack about the point C:
 * x = R(p - C) + C + t  ==  R(p - c_s) + c_s + [R(c_s - C) + C - c_s + t], so every slice gets
 * the stack's rotation vector and a translation that depends on its centre.
 */
export function stackToSliceMotion(stackParams: ArrayLike<number>, off: number, stackCentre: ArrayLike<number>, sliceCentres: Float64Array, out: SliceMotion, outOff: number, nSlices: number): void {
  const R = rotationMatrix(stackParams[off]!, stackParams[off + 1]!, stackParams[off + 2]!);
  for (let s = 0; s < nSlices; s++) {
    const dx = sliceCentres[3 * s]! - stackCentre[0]!, dy = sliceCentres[3 * s + 1]! - stackCentre[1]!, dz = sliceCentres[3 * s + 2]! - stackCentre[2]!;
    const o = outOff + 6 * s;
    out[o] = stackParams[off]!; out[o + 1] = stackParams[off + 1]!; out[o + 2] = stackParams[off + 2]!;
    out[o + 3] = R[0]! * dx + R[1]! * dy + R[2]! * dz - dx + stackParams[off + 3]!;
    out[o + 4] = R[3]! * dx + R[4]! * dy + R[5]! * dz - dy + stackParams[off + 4]!;
    out[o + 5] = R[6]! * dx + R[7]! * dy + R[8]! * dz - dz + stackParams[off + 5]!;
  }
}

/**
 * Gauge fixing: the slices' motion is only defined up to one global rigid motion (moving every
 * slice and the volume together changes nothing), so after every update the mean of each of the
 * 6 parameters over all `count` groups is subtracted. For motions of a few degrees this is the
 * global rigid gauge to first order (the simulator draws motion around zero, so the estimate is
 * comparable with the truth once its own mean is removed, see motionError in mask.ts).
 */
export function removeMeanMotion(params: Float64Array, count: number): void {
  if (count < 2) return;
  for (let a = 0; a < 6; a++) {
    let s = 0;
    for (let g = 0; g < count; g++) s += params[6 * g + a]!;
    s /= count;
    for (let g = 0; g < count; g++) params[6 * g + a] -= s;
  }
}

/** Rotation angle (rad) of R(a)^T R(b): the angle between two rotation vectors' rotations. */
export function rotationDistanceRad(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
  const A = rotationMatrix(a[ao]!, a[ao + 1]!, a[ao + 2]!), B = rotationMatrix(b[bo]!, b[bo + 1]!, b[bo + 2]!);
  let tr = 0;
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) tr += A[3 * k + i]! * B[3 * k + i]!;
  const c = Math.min(1, Math.max(-1, (tr - 1) / 2));
  return Math.acos(c);
}
