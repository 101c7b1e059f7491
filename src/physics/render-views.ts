/**
 * Rendering "views" of a volume (an MRI or CT) along the rays of an X-ray geometry
 * (docs/coordinate-systems.md, "X-ray geometry"; cone or parallel), for the views-72 protocol:
 *
 * - 'drr': digitally reconstructed radiograph = the X-ray line integral (value x mm), by the
 *   Siddon (default) or trilinear projector.
 * - 'mip': maximum intensity projection = the largest voxel value the ray crosses with a positive
 *   intersection length (Siddon traversal, no interpolation, so a single bright voxel shows at full
 *   value); `background` (default 0) where a ray misses the grid.
 * - 'ea': emission-absorption volume rendering (Max 1995, "Optical models for direct volume
 *   rendering"), composited front to back from the ray's entry into the grid. Samples are taken as
 *   in the trilinear projector (ray-march.ts): N = ceil(L/stepMm) equal steps h, midpoints t_k,
 *   intensity I_k by trilinear interpolation. Transfer function: density
 *   sigma_k = densityScale * clamp((I_k - low) / (high - low), 0, 1)  [1/mm],
 *   radiance c_k = I_k (single channel), alpha_k = 1 - exp(-sigma_k h),
 *   C = sum_k T_k alpha_k c_k with T_k = prod_{j<k} (1 - alpha_j), background 0.
 *   For a uniform slab of intensity c and length L this telescopes to c (1 - exp(-sigma L)).
 *   The march stops once T < 1e-7 (changes C by less than 1e-7 x max intensity).
 *
 * Output: Float32 [views, nv, nu], row 0 = top, as projections. Single thread.
 */
import { MedfieldError } from '../core/errors.js';
import { validateXrayGeometry, type XrayGeometry } from '../geometry/xray.js';
import { defaultStepMm, trilinearProjectRays } from './ray-march.js';
import { clipToGrid, computeViewRays, packGrid, RAY_STRIDE, SIDDON_STATE, siddonMaxRays, siddonProjectRays, type GridPack } from './siddon.js';

export const RENDER_MODES = ['drr', 'mip', 'ea'] as const;
export type RenderMode = (typeof RENDER_MODES)[number];

/** Emission-absorption transfer function (see the module comment). */
export interface TransferFunction {
  /** Intensity at and below which the density is 0 (default: the volume's minimum). */
  low?: number;
  /** Intensity at and above which the density is densityScale (default: the volume's maximum). */
  high?: number;
  /** Density (1/mm) at intensity >= high (default 4 / the smallest grid extent in mm, so a straight path across the grid through such material has optical depth >= 4). */
  densityScale?: number;
}

/** Options of `renderViews`. */
export interface RenderViewsOptions {
  mode: RenderMode;
  /** 'ea' and trilinear 'drr': largest step along the ray, mm (default half the smallest voxel). */
  stepMm?: number;
  /** 'ea' only. */
  transfer?: TransferFunction;
  /** 'drr' only: projector (default 'siddon'). */
  method?: 'siddon' | 'trilinear';
  /** 'mip' only: value of rays that miss the grid (default 0). */
  background?: number;
}

/** The transfer function with every default filled in from the volume and geometry. */
export function resolveTransfer(volume: Float32Array, geo: XrayGeometry, tf: TransferFunction = {}): Required<TransferFunction> {
  let lo = Infinity, hi = -Infinity;
  if (tf.low === undefined || tf.high === undefined) {
    for (let i = 0; i < volume.length; i++) {
      const v = volume[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const low = tf.low ?? lo;
  let high = tf.high ?? hi;
  if (tf.high === undefined && !(high > low)) high = low + 1; // constant volume: any ramp above it
  const extent = Math.min(geo.nVoxel[0] * geo.dVoxel[0], geo.nVoxel[1] * geo.dVoxel[1], geo.nVoxel[2] * geo.dVoxel[2]);
  const densityScale = tf.densityScale ?? 4 / extent;
  const bad = (f: string, m: string): never => { throw new MedfieldError('bad-option', `transfer.${f}`, m); };
  if (!Number.isFinite(low)) bad('low', `expected a finite intensity, got ${low}`);
  if (!(Number.isFinite(high) && high > low)) bad('high', `expected a finite intensity > low (${low}), got ${high}`);
  if (!(Number.isFinite(densityScale) && densityScale >= 0)) bad('densityScale', `expected a finite density >= 0 per mm, got ${densityScale}`);
  return { low, high, densityScale };
}

/**
 * Renders one image per angle: Float32 [views, nv, nu]. `volume` is Float32 on the geometry's
 * grid (x fastest). Throws a MedfieldError for a volume of the wrong length or bad options.
 */
export function renderViews(volume: Float32Array, geo: XrayGeometry, anglesRad: ArrayLike<number>, opts: RenderViewsOptions): Float32Array {
  validateXrayGeometry(geo, anglesRad);
  const n = geo.nVoxel[0] * geo.nVoxel[1] * geo.nVoxel[2];
  if (!(volume instanceof Float32Array) || volume.length !== n) {
    throw new MedfieldError('bad-data', 'volume', `expected a Float32Array of ${n} values (nVoxel ${geo.nVoxel.join('x')}), got ${volume instanceof Float32Array ? volume.length : typeof volume}`);
  }
  if (!(RENDER_MODES as readonly string[]).includes(opts.mode)) {
    throw new MedfieldError('bad-option', 'mode', `expected one of ${RENDER_MODES.join(', ')}, got ${String(opts.mode)}`);
  }
  const step = opts.stepMm ?? defaultStepMm(geo.dVoxel);
  if (!(Number.isFinite(step) && step > 0)) throw new MedfieldError('bad-option', 'stepMm', `expected a finite step > 0 mm, got ${step}`);
  const method = opts.method ?? 'siddon';
  if (method !== 'siddon' && method !== 'trilinear') throw new MedfieldError('bad-option', 'method', `expected siddon or trilinear, got ${String(method)}`);
  const tf = opts.mode === 'ea' ? resolveTransfer(volume, geo, opts.transfer) : undefined;
  const g = packGrid(geo);
  const nRays = geo.nDetector[0] * geo.nDetector[1];
  const out = new Float32Array(anglesRad.length * nRays);
  const rays = new Float64Array(nRays * RAY_STRIDE);
  const frame = new Float64Array(15), clip = new Float64Array(SIDDON_STATE);
  for (let v = 0; v < anglesRad.length; v++) {
    computeViewRays(geo, anglesRad[v]!, rays, frame);
    const off = v * nRays;
    if (opts.mode === 'mip') siddonMaxRays(rays, nRays, g, volume, out, off, clip, opts.background ?? 0);
    else if (opts.mode === 'drr') {
      if (method === 'siddon') siddonProjectRays(rays, nRays, g, volume, out, off, clip);
      else trilinearProjectRays(rays, nRays, g, step, volume, out, off, clip);
    } else eaRays(rays, nRays, g, step, volume, out, off, clip, tf!);
  }
  return out;
}

/** Front-to-back emission-absorption compositing of each ray (module comment). */
function eaRays(rays: Float64Array, nRays: number, g: GridPack, stepMm: number, x: Float32Array,
  y: Float32Array, yOffset: number, clip: Float64Array, tf: Required<TransferFunction>): void {
  const nx = g[9]!, ny = g[10]!, nz = g[11]!;
  const isx = 1 / g[6]!, isy = 1 / g[7]!, isz = 1 / g[8]!;
  const mx = nx - 1, my = ny - 1, mz = nz - 1;
  const lx = nx > 1 ? nx - 2 : 0, ly = ny > 1 ? ny - 2 : 0, lz = nz > 1 ? nz - 2 : 0;
  const ox1 = nx > 1 ? 1 : 0, oy1 = ny > 1 ? nx : 0, oz1 = nz > 1 ? nx * ny : 0;
  const low = tf.low, invRange = 1 / (tf.high - tf.low), scale = tf.densityScale;
  for (let r = 0, o = 0; r < nRays; r++, o += RAY_STRIDE) {
    const ox = rays[o]!, oy = rays[o + 1]!, oz = rays[o + 2]!, dx = rays[o + 3]!, dy = rays[o + 4]!, dz = rays[o + 5]!;
    if (!clipToGrid(ox, oy, oz, dx, dy, dz, g, clip)) { y[yOffset + r] = 0; continue; }
    const t0 = clip[0]!, len = clip[1]! - t0;
    const n = Math.max(1, Math.ceil(len / stepMm - 1e-9));
    const h = len / n;
    const ax = (ox + (t0 + 0.5 * h) * dx - g[12]!) * isx, bx = h * dx * isx;
    const ay = (oy + (t0 + 0.5 * h) * dy - g[13]!) * isy, by = h * dy * isy;
    const az = (oz + (t0 + 0.5 * h) * dz - g[14]!) * isz, bz = h * dz * isz;
    let trans = 1, col = 0;
    for (let k = 0; k < n && trans >= 1e-7; k++) {
      let fx = ax + k * bx, fy = ay + k * by, fz = az + k * bz;
      if (fx < 0) fx = 0; else if (fx > mx) fx = mx;
      if (fy < 0) fy = 0; else if (fy > my) fy = my;
      if (fz < 0) fz = 0; else if (fz > mz) fz = mz;
      let i = fx | 0, j = fy | 0, l = fz | 0;
      if (i > lx) i = lx;
      if (j > ly) j = ly;
      if (l > lz) l = lz;
      const rx = fx - i, ry = fy - j, rz = fz - l, qx = 1 - rx, qy = 1 - ry, qz = 1 - rz;
      const b = i + nx * (j + ny * l);
      const val = qy * qz * (qx * x[b]! + rx * x[b + ox1]!)
        + ry * qz * (qx * x[b + oy1]! + rx * x[b + oy1 + ox1]!)
        + qy * rz * (qx * x[b + oz1]! + rx * x[b + oz1 + ox1]!)
        + ry * rz * (qx * x[b + oz1 + oy1]! + rx * x[b + oz1 + oy1 + ox1]!);
      let d = (val - low) * invRange;
      if (d <= 0) continue;
      if (d > 1) d = 1;
      const alpha = 1 - Math.exp(-scale * d * h);
      col += trans * alpha * val;
      trans *= 1 - alpha;
    }
    y[yOffset + r] = col;
  }
}
