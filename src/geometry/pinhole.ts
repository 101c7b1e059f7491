/**
 * Pinhole cameras in the NeRF `transforms.json` convention (Mildenhall et al. 2020): a 4x4
 * camera-to-world matrix (row-major, world mm) whose camera looks down its -z axis with +y up
 * and +x right (OpenGL). docs/coordinate-systems.md, "Pinhole views".
 */
import { MedfieldError } from '../core/errors.js';
import { viewFrame, type XrayGeometry } from './xray.js';

/** One pinhole view. Intrinsics in pixels; the image has `height` rows (row 0 = top) and `width` columns. */
export interface PinholeCamera {
  /** Camera-to-world 4x4, row-major (16 numbers), world in mm. */
  cameraToWorld: Float64Array;
  width: number;
  height: number;
  /** Focal lengths in pixels. */
  fx: number;
  fy: number;
  /** Principal point in pixels, measured from the top-left corner of the top-left pixel. */
  cx: number;
  cy: number;
}

/** Camera with horizontal field of view `fovXRad` (NeRF's camera_angle_x), principal point at the centre. */
export function pinholeFromFov(cameraToWorld: Float64Array, width: number, height: number, fovXRad: number): PinholeCamera {
  if (!(fovXRad > 0 && fovXRad < Math.PI)) throw new MedfieldError('bad-data', 'camera_angle_x', `expected a field of view in (0, pi) rad, got ${fovXRad}`);
  const f = (0.5 * width) / Math.tan(0.5 * fovXRad);
  return { cameraToWorld, width, height, fx: f, fy: f, cx: width / 2, cy: height / 2 };
}

/**
 * Ray through the centre of pixel (row, col): origin = camera centre, unit direction in world.
 * Writes out[0..5]. No allocation.
 */
export function pinholeRay(cam: PinholeCamera, row: number, col: number, out: Float64Array): Float64Array {
  const m = cam.cameraToWorld;
  const xc = (col + 0.5 - cam.cx) / cam.fx;
  const yc = -(row + 0.5 - cam.cy) / cam.fy;
  const zc = -1;
  const dx = m[0]! * xc + m[1]! * yc + m[2]! * zc;
  const dy = m[4]! * xc + m[5]! * yc + m[6]! * zc;
  const dz = m[8]! * xc + m[9]! * yc + m[10]! * zc;
  const inv = 1 / Math.sqrt(dx * dx + dy * dy + dz * dz);
  out[0] = m[3]!; out[1] = m[7]!; out[2] = m[11]!;
  out[3] = dx * inv; out[4] = dy * inv; out[5] = dz * inv;
  return out;
}

/**
 * Camera-to-world matrix of a camera at `eye` looking at `target` with world `up` (right-handed;
 * the camera's +x = forward x up, +y = the re-orthogonalised up, +z = -forward).
 */
export function lookAt(eye: ArrayLike<number>, target: ArrayLike<number>, up: ArrayLike<number>): Float64Array {
  let fx = target[0]! - eye[0]!, fy = target[1]! - eye[1]!, fz = target[2]! - eye[2]!;
  let n = Math.hypot(fx, fy, fz);
  fx /= n; fy /= n; fz /= n;
  let rx = fy * up[2]! - fz * up[1]!, ry = fz * up[0]! - fx * up[2]!, rz = fx * up[1]! - fy * up[0]!;
  n = Math.hypot(rx, ry, rz);
  if (n < 1e-12) throw new MedfieldError('bad-data', 'up', 'the up vector is parallel to the viewing direction');
  rx /= n; ry /= n; rz /= n;
  const ux = ry * fz - rz * fy, uy = rz * fx - rx * fz, uz = rx * fy - ry * fx;
  return new Float64Array([rx, ux, -fx, eye[0]!, ry, uy, -fy, eye[1]!, rz, uz, -fz, eye[2]!, 0, 0, 0, 1]);
}

/** All rays of a camera, Float32 [height * width, 6] in [row, col] order. */
export function pinholeRays(cam: PinholeCamera): Float32Array {
  const out = new Float32Array(cam.width * cam.height * 6);
  const ray = new Float64Array(6);
  let o = 0;
  for (let r = 0; r < cam.height; r++) {
    for (let c = 0; c < cam.width; c++) {
      pinholeRay(cam, r, c, ray);
      for (let q = 0; q < 6; q++) out[o++] = ray[q]!;
    }
  }
  return out;
}

/**
 * The pinhole camera equivalent to one cone-beam view (docs/coordinate-systems.md): centre at
 * the source, looking at the detector centre along the central ray, image right = detector +u,
 * image up = detector +v; focal length DSD/du pixels; the principal point moves with offDetector.
 * The rays of pixel (row, col) are then identical to `pixelRay`'s. Parallel beams and rotated
 * detectors have no pinhole equivalent.
 */
export function xrayViewCamera(geo: XrayGeometry, angleRad: number): PinholeCamera {
  if (geo.mode !== 'cone') throw new MedfieldError('unsupported', 'geometry.mode', 'only cone-beam views have an equivalent pinhole camera');
  if (geo.rotDetector && geo.rotDetector.some((r) => r !== 0)) throw new MedfieldError('unsupported', 'geometry.rotDetector', 'a rotated detector has no equivalent pinhole camera');
  const f = viewFrame(geo, angleRad);
  // camera axes: x = eu, y = ev, z = eu x ev (= direction from the detector towards the source)
  const zx = f[7]! * f[11]! - f[8]! * f[10]!, zy = f[8]! * f[9]! - f[6]! * f[11]!, zz = f[6]! * f[10]! - f[7]! * f[9]!;
  const c2w = new Float64Array([f[6]!, f[9]!, zx, f[0]!, f[7]!, f[10]!, zy, f[1]!, f[8]!, f[11]!, zz, f[2]!, 0, 0, 0, 1]);
  const [nu, nv] = geo.nDetector;
  const [du, dv] = geo.dDetector;
  // detector centre offset (offDetector) seen from the source shifts the principal point
  const sx = f[3]! - f[0]!, sy = f[4]! - f[1]!, sz = f[5]! - f[2]!;
  const offU = sx * f[6]! + sy * f[7]! + sz * f[8]!;
  const offV = sx * f[9]! + sy * f[10]! + sz * f[11]!;
  return { cameraToWorld: c2w, width: nu, height: nv, fx: geo.DSD / du, fy: geo.DSD / dv, cx: nu / 2 - offU / du, cy: nv / 2 + offV / dv };
}

/** A NeRF / instant-ngp `transforms.json` object for cone-beam views (world units: mm). */
export function nerfTransforms(geo: XrayGeometry, anglesRad: ArrayLike<number>, filePaths: readonly string[]): Record<string, unknown> {
  const frames = [];
  let cam: PinholeCamera | undefined;
  for (let i = 0; i < anglesRad.length; i++) {
    cam = xrayViewCamera(geo, anglesRad[i]!);
    const m = cam.cameraToWorld;
    frames.push({
      file_path: filePaths[i],
      angle_rad: anglesRad[i],
      transform_matrix: [0, 1, 2, 3].map((r) => [m[4 * r]!, m[4 * r + 1]!, m[4 * r + 2]!, m[4 * r + 3]!]),
    });
  }
  const c = cam ?? xrayViewCamera(geo, 0);
  return {
    camera_angle_x: 2 * Math.atan(c.width / (2 * c.fx)),
    camera_angle_y: 2 * Math.atan(c.height / (2 * c.fy)),
    fl_x: c.fx, fl_y: c.fy, cx: c.cx, cy: c.cy, w: c.width, h: c.height,
    units: 'mm', convention: 'OpenGL camera (looks down -z, +y up), camera-to-world, row-major 4x4',
    frames,
  };
}
