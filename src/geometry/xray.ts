/**
 * X-ray scanner geometry with TIGRE's parameter names and meanings (Biguri et al. 2016), in mm
 * and radians, Float64. docs/coordinate-systems.md ("X-ray geometry") is the picture in words;
 * every formula here follows it.
 *
 * Array fields use TIGRE's MATLAB axis order: nVoxel/dVoxel/offOrigin are [x, y, z];
 * nDetector/dDetector/offDetector are [u (columns), v (rows)].
 */
import { MedfieldError } from '../core/errors.js';

export const XRAY_MODES = ['cone', 'parallel'] as const;
/** 'cone': point source (cone beam; a fan beam is a cone beam with one detector row). 'parallel': source at infinity. */
export type XrayMode = (typeof XRAY_MODES)[number];

/** A circular-orbit X-ray scanner and its reconstruction grid (TIGRE `geo`). */
export interface XrayGeometry {
  mode: XrayMode;
  /** Distance source -> detector centre, mm (TIGRE DSD). Unused by 'parallel' except for placement. */
  DSD: number;
  /** Distance source -> rotation axis (origin), mm (TIGRE DSO). */
  DSO: number;
  /** Detector pixels [nu (columns), nv (rows)]. */
  nDetector: [number, number];
  /** Detector pixel size [du, dv], mm. */
  dDetector: [number, number];
  /** Detector centre offset [u, v] in its own plane, mm (TIGRE offDetector). */
  offDetector: [number, number];
  /** Detector rotation [roll, pitch, yaw], rad: about the detector normal, the u axis and the v axis (TIGRE rotDetector). */
  rotDetector?: [number, number, number];
  /** Reconstruction grid voxels [nx, ny, nz]. */
  nVoxel: [number, number, number];
  /** Voxel size [dx, dy, dz], mm. */
  dVoxel: [number, number, number];
  /** World position of the grid centre, mm (TIGRE offOrigin). */
  offOrigin: [number, number, number];
}

/** Validates a geometry and its view angles; throws a MedfieldError naming the bad field. */
export function validateXrayGeometry(geo: XrayGeometry, anglesRad: ArrayLike<number>, subject = 'geometry'): void {
  const bad = (field: string, msg: string): never => {
    throw new MedfieldError('bad-data', `${subject}.${field}`, msg);
  };
  if (!(XRAY_MODES as readonly string[]).includes(geo.mode)) bad('mode', `expected one of ${XRAY_MODES.join(', ')}, got ${String(geo.mode)}`);
  const finitePos = (field: string, v: unknown): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) bad(field, `expected a finite number > 0, got ${String(v)}`);
  };
  finitePos('DSD', geo.DSD);
  finitePos('DSO', geo.DSO);
  if (geo.mode === 'cone' && !(geo.DSO < geo.DSD)) bad('DSO', `the source-to-origin distance (${geo.DSO} mm) must be smaller than the source-to-detector distance DSD (${geo.DSD} mm)`);
  const vec = (field: string, v: unknown, n: number, check: (x: number) => boolean, what: string): void => {
    if (!Array.isArray(v) || v.length !== n) bad(field, `expected an array of ${n} numbers`);
    (v as unknown[]).forEach((x, i) => {
      if (typeof x !== 'number' || !check(x)) bad(`${field}[${i}]`, `expected ${what}, got ${String(x)}`);
    });
  };
  const posInt = (x: number): boolean => Number.isInteger(x) && x >= 1;
  vec('nDetector', geo.nDetector, 2, posInt, 'an integer >= 1 (a detector needs at least one pixel)');
  vec('dDetector', geo.dDetector, 2, (x) => Number.isFinite(x) && x > 0, 'a pixel size > 0 mm');
  vec('offDetector', geo.offDetector, 2, Number.isFinite, 'a finite offset in mm');
  if (geo.rotDetector !== undefined) vec('rotDetector', geo.rotDetector, 3, Number.isFinite, 'a finite angle in rad');
  vec('nVoxel', geo.nVoxel, 3, posInt, 'an integer >= 1');
  vec('dVoxel', geo.dVoxel, 3, (x) => Number.isFinite(x) && x > 0, 'a voxel size > 0 mm');
  vec('offOrigin', geo.offOrigin, 3, Number.isFinite, 'a finite offset in mm');
  if (anglesRad.length < 1) throw new MedfieldError('bad-data', `${subject}.angles`, 'expected at least one view angle, got zero views');
  for (let i = 0; i < anglesRad.length; i++) {
    if (!Number.isFinite(anglesRad[i])) throw new MedfieldError('bad-data', `${subject}.angles[${i}]`, `expected a finite angle in rad, got ${String(anglesRad[i])}`);
  }
}

/**
 * The frame of one view (docs/coordinate-systems.md, "X-ray geometry"): world positions in mm of
 * the source, the detector centre and unit vectors eu (columns grow), ev (rows grow *upwards*: row
 * 0 is the top row, so row r sits at v = ((nv-1)/2 - r) dv), en (detector normal, towards source).
 * Stored as a Float64Array(15): [src xyz, det xyz, eu xyz, ev xyz, ray xyz] where `ray` is the
 * unit propagation direction used by parallel beam (source -> detector).
 */
export type ViewFrame = Float64Array;

/** Fills `out` (length 15) with the frame of the view at `angleRad`. No allocation. */
export function viewFrame(geo: XrayGeometry, angleRad: number, out: Float64Array = new Float64Array(15)): ViewFrame {
  const c = Math.cos(angleRad);
  const s = Math.sin(angleRad);
  // Rotation about +z (right-handed, counter-clockwise seen from +z) of the angle-0 frame:
  // source on +x, detector on -x, u along +y, v along +z.
  const ox = geo.offOrigin[0], oy = geo.offOrigin[1], oz = geo.offOrigin[2];
  // Unrotated detector axes: n = +x (towards source), u = +y, v = +z; then rotDetector.
  let nx = 1, ny = 0, nz = 0, ux = 0, uy = 1, uz = 0, vx = 0, vy = 0, vz = 1;
  const rot = geo.rotDetector;
  if (rot && (rot[0] !== 0 || rot[1] !== 0 || rot[2] !== 0)) {
    // R = Rz(yaw) Ry(pitch) Rx(roll) in the detector-local frame (x = normal, y = u, z = v).
    const [r, p, w] = rot;
    const cr = Math.cos(r), sr = Math.sin(r), cp = Math.cos(p), sp = Math.sin(p), cw = Math.cos(w), sw = Math.sin(w);
    const m00 = cw * cp, m01 = cw * sp * sr - sw * cr, m02 = cw * sp * cr + sw * sr;
    const m10 = sw * cp, m11 = sw * sp * sr + cw * cr, m12 = sw * sp * cr - cw * sr;
    const m20 = -sp, m21 = cp * sr, m22 = cp * cr;
    nx = m00; ny = m10; nz = m20;
    ux = m01; uy = m11; uz = m21;
    vx = m02; vy = m12; vz = m22;
  }
  const dsdo = geo.DSD - geo.DSO;
  const offU = geo.offDetector[0], offV = geo.offDetector[1];
  // angle-0 positions relative to the rotation axis
  const sx0 = geo.DSO, dx0 = -dsdo + offU * ux + offV * vx, dy0 = offU * uy + offV * vy, dz0 = offU * uz + offV * vz;
  // rotate about z, then shift by offOrigin (the object, hence the rotation axis, sits at offOrigin)
  out[0] = c * sx0 + ox; out[1] = s * sx0 + oy; out[2] = oz;
  out[3] = c * dx0 - s * dy0 + ox; out[4] = s * dx0 + c * dy0 + oy; out[5] = dz0 + oz;
  out[6] = c * ux - s * uy; out[7] = s * ux + c * uy; out[8] = uz;
  out[9] = c * vx - s * vy; out[10] = s * vx + c * vy; out[11] = vz;
  // parallel-beam propagation: source -> detector along the rotated (unrotated-detector) -x axis
  out[12] = -c; out[13] = -s; out[14] = 0;
  void nx; void ny; void nz;
  return out;
}

/**
 * Ray of detector pixel (row, col) of a view: writes origin (mm) and unit direction into
 * out[0..5]. Cone: from the source through the pixel centre. Parallel: from the pixel centre
 * moved back by DSD along the propagation direction, so the origin lies on the source side.
 */
export function pixelRay(geo: XrayGeometry, frame: ViewFrame, row: number, col: number, out: Float64Array): Float64Array {
  const nu = geo.nDetector[0], nv = geo.nDetector[1];
  const u = (col - (nu - 1) / 2) * geo.dDetector[0];
  const v = ((nv - 1) / 2 - row) * geo.dDetector[1];
  const px = frame[3]! + u * frame[6]! + v * frame[9]!;
  const py = frame[4]! + u * frame[7]! + v * frame[10]!;
  const pz = frame[5]! + u * frame[8]! + v * frame[11]!;
  if (geo.mode === 'cone') {
    const dx = px - frame[0]!, dy = py - frame[1]!, dz = pz - frame[2]!;
    const inv = 1 / Math.sqrt(dx * dx + dy * dy + dz * dz);
    out[0] = frame[0]!; out[1] = frame[1]!; out[2] = frame[2]!;
    out[3] = dx * inv; out[4] = dy * inv; out[5] = dz * inv;
  } else {
    const dx = frame[12]!, dy = frame[13]!, dz = frame[14]!;
    out[0] = px - geo.DSD * dx; out[1] = py - geo.DSD * dy; out[2] = pz - geo.DSD * dz;
    out[3] = dx; out[4] = dy; out[5] = dz;
  }
  return out;
}

/**
 * All rays of the given views as Float32 [views * nv * nu, 6] (origin mm, unit direction),
 * in projection order [view, row, col] — the layout neural training consumes.
 */
export function xrayRays(geo: XrayGeometry, anglesRad: ArrayLike<number>): Float32Array {
  const nu = geo.nDetector[0], nv = geo.nDetector[1];
  const out = new Float32Array(anglesRad.length * nu * nv * 6);
  const frame = new Float64Array(15);
  const ray = new Float64Array(6);
  let o = 0;
  for (let a = 0; a < anglesRad.length; a++) {
    viewFrame(geo, anglesRad[a]!, frame);
    for (let r = 0; r < nv; r++) {
      for (let c = 0; c < nu; c++) {
        pixelRay(geo, frame, r, c, ray);
        for (let q = 0; q < 6; q++) out[o++] = ray[q]!;
      }
    }
  }
  return out;
}

/**
 * Projects world point (x, y, z) into the detector of the view with `frame` (the inverse of
 * pixelRay): writes
 * [col, row, pixels per mm at the point] (fractional pixel coordinates as pixelRay's). False when
 * the point is behind the source.
 */
export function projectPoint(geo: XrayGeometry, frame: Float64Array, x: number, y: number, z: number, out: Float64Array): boolean {
  const eux = frame[6]!, euy = frame[7]!, euz = frame[8]!, evx = frame[9]!, evy = frame[10]!, evz = frame[11]!;
  const dx0 = frame[3]!, dy0 = frame[4]!, dz0 = frame[5]!;
  const [du, dv] = geo.dDetector;
  let qx: number, qy: number, qz: number, mag: number;
  if (geo.mode === 'cone') {
    const nx = euy * evz - euz * evy, ny = euz * evx - eux * evz, nz = eux * evy - euy * evx;
    const sx = frame[0]!, sy = frame[1]!, sz = frame[2]!;
    const wx = x - sx, wy = y - sy, wz = z - sz;
    const den = wx * nx + wy * ny + wz * nz;
    if (Math.abs(den) < 1e-12) return false;
    const t = ((dx0 - sx) * nx + (dy0 - sy) * ny + (dz0 - sz) * nz) / den;
    if (!(t > 0)) return false;
    qx = sx + t * wx - dx0; qy = sy + t * wy - dy0; qz = sz + t * wz - dz0;
    mag = t;
  } else {
    qx = x - dx0; qy = y - dy0; qz = z - dz0;
    mag = 1;
  }
  const u = qx * eux + qy * euy + qz * euz, v = qx * evx + qy * evy + qz * evz;
  out[0] = u / du + (geo.nDetector[0] - 1) / 2;
  out[1] = (geo.nDetector[1] - 1) / 2 - v / dv;
  out[2] = mag / Math.min(du, dv);
  return true;
}

