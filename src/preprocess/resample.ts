/**
 * Axis-aligned resampling of a Volume to a new spacing, size or scale factor, keeping its
 * field of view (FOV) and direction; and in-plane (2D, per-slice) resampling of a slice stack.
 *
 * Geometry (per voxel axis c, old n voxels of s mm, new n' voxels of s' mm): the FOV centre,
 * at old continuous index (n-1)/2, stays fixed, so new index o samples the old continuous index
 *   x(o) = (o - (n'-1)/2) * s'/s + (n-1)/2
 * and originMm moves by direction[:, c] * (s(n-1)/2 - s'(n'-1)/2). For a size or factor target
 * s' = s n / n', so the outer edges of the first and last voxels (old index -0.5 and n-0.5) stay
 * put too. For a spacing target n' = round(n s / s') and s' is exactly the requested spacing,
 * so the FOV grows or shrinks by under one new voxel, symmetrically about its centre.
 *
 * The linear and cubic kernels are separable, so they run as one 1D pass per changed axis over
 * Float32 data, streamed slice by slice (see separable.ts). Downsampling does not
 * low-pass filter first (like scipy.ndimage.zoom, or skimage's resize with anti_aliasing=False):
 * smooth or blur the input yourself before a large reduction.
 */
import { check } from '../core/errors.js';
import { allocate, createVolume, dtypeOf, type Vec3, type Volume, type VoxelArray } from '../core/volume.js';
import { buildTaps, INTERPOLATIONS, type Interpolation, type TapTable } from './interpolation.js';
import { separableResample } from './separable.js';
import { checkVolume } from './validate.js';

/** Where to resample to: a voxel size (mm), a voxel count per axis, or a scale of the voxel counts. */
export type ResampleTarget =
  | { spacingMm: Vec3 }
  | { dims: Vec3 }
  /** New count per axis = round(n * factor); spacing = s * n / newN (FOV edges kept). */
  | { factor: number | Vec3 };

/** In-plane target for {@link resampleSlices}: values for the two in-plane axes, in increasing axis order. */
export type SliceTarget =
  | { spacingMm: [number, number] }
  | { dims: [number, number] }
  | { factor: number | [number, number] };

export interface ResampleOptions {
  /**
   * Clamp linear/cubic results into the input's [min, max] (default false). Useful with cubic,
   * whose overshoot can make e.g. negative MRI intensities next to sharp edges.
   */
  clampToInputRange?: boolean;
}

/** A voxel grid without data: what a volume is resampled onto. */
export interface GridGeometry {
  /** Voxel counts [nx, ny, nz]. */
  dims: Vec3;
  /** Voxel size (mm) along each voxel axis, > 0. */
  spacingMm: Vec3;
  /** RAS+ world position (mm) of the centre of voxel (0, 0, 0). */
  originMm: Vec3;
  /** 3x3 row-major direction cosines, column c = world direction of voxel axis c. */
  direction: Float64Array;
}

/**
 * The grid {@link resampleVolume} produces for `target`, without resampling anything.
 * @throws MedfieldError 'bad-option' for non-positive spacing/dims/factor.
 */
export function resampledGrid(v: Volume, target: ResampleTarget): GridGeometry {
  checkVolume(v);
  check(typeof target === 'object' && target !== null && ('spacingMm' in target || 'dims' in target || 'factor' in target), 'target',
    'expected { spacingMm: [x, y, z] }, { dims: [nx, ny, nz] } or { factor }');
  const dims: Vec3 = [0, 0, 0], spacingMm: Vec3 = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    const n = v.dims[c], s = v.spacingMm[c];
    if ('spacingMm' in target) {
      const t = target.spacingMm[c];
      check(Number.isFinite(t) && t > 0, `spacingMm[${c}]`, `expected a spacing > 0 mm, got ${t}`);
      dims[c] = Math.max(1, Math.round((n * s) / t));
      spacingMm[c] = t;
    } else if ('dims' in target) {
      const t = target.dims[c];
      check(Number.isInteger(t) && t > 0, `dims[${c}]`, `expected a positive integer voxel count, got ${t}`);
      dims[c] = t;
      spacingMm[c] = dims[c] === n ? s : (s * n) / dims[c];
    } else {
      const f = typeof target.factor === 'number' ? target.factor : target.factor[c];
      check(Number.isFinite(f) && f > 0, `factor${typeof target.factor === 'number' ? '' : `[${c}]`}`, `expected a scale factor > 0, got ${f}`);
      dims[c] = Math.max(1, Math.round(n * f));
      spacingMm[c] = dims[c] === n ? s : (s * n) / dims[c];
    }
  }
  const originMm: Vec3 = [v.originMm[0], v.originMm[1], v.originMm[2]];
  for (let c = 0; c < 3; c++) {
    // Shift of voxel 0's centre along axis c that keeps the FOV centre fixed (see file comment).
    const shift = (v.spacingMm[c] * (v.dims[c] - 1)) / 2 - (spacingMm[c] * (dims[c] - 1)) / 2;
    for (let r = 0; r < 3; r++) originMm[r] += v.direction[r * 3 + c] * shift;
  }
  return { dims, spacingMm, originMm, direction: new Float64Array(v.direction) };
}

/**
 * Resamples `v` to a new spacing, size or scale, keeping FOV and direction (see file comment).
 * @param interpolation 'nearest' keeps the input dtype (label maps stay labels); 'linear' and
 *   'cubic' return Float32. Boundaries are clamp-to-edge.
 * @returns a new volume on {@link resampledGrid}(v, target); the input is not modified.
 * @throws MedfieldError 'bad-option' for a bad target or interpolation.
 */
export function resampleVolume(v: Volume, target: ResampleTarget, interpolation: Interpolation, opts: ResampleOptions = {}): Volume {
  const grid = resampledGrid(v, target);
  return resampleAxisAligned(v, grid, interpolation, opts);
}

/**
 * Resamples every slice of `v` in-plane only (2D), e.g. bicubic upscaling of each axial slice.
 * The slice axis keeps its count, spacing and positions; the two in-plane axes are resampled
 * as in {@link resampleVolume}. Because the kernels are separable and the slice axis gets no
 * pass, this is exactly per-slice 2D resampling.
 * @param sliceAxis voxel axis across slices (2 = k, axial for an RAS-like volume).
 * @param target in-plane target for the two other axes in increasing order (e.g. [i, j] for axis 2).
 */
export function resampleSlices(
  v: Volume, sliceAxis: 0 | 1 | 2, target: SliceTarget, interpolation: Interpolation, opts: ResampleOptions = {},
): Volume {
  check(sliceAxis === 0 || sliceAxis === 1 || sliceAxis === 2, 'sliceAxis', `expected 0, 1 or 2, got ${String(sliceAxis)}`);
  checkVolume(v);
  const plane = [0, 1, 2].filter((c) => c !== sliceAxis);
  const lift = (pair: readonly [number, number], keep: Vec3): Vec3 => {
    const out: Vec3 = [keep[0], keep[1], keep[2]];
    out[plane[0]] = pair[0]; out[plane[1]] = pair[1];
    return out;
  };
  let t3: ResampleTarget;
  if ('spacingMm' in target) t3 = { spacingMm: lift(target.spacingMm, v.spacingMm) };
  else if ('dims' in target) t3 = { dims: lift(target.dims, v.dims) };
  else {
    const f = typeof target.factor === 'number' ? [target.factor, target.factor] as [number, number] : target.factor;
    t3 = { factor: lift(f, [1, 1, 1]) };
  }
  return resampleVolume(v, t3, interpolation, opts);
}

/** Resamples onto `grid`, whose axes must be those of `v` scaled/shifted as by {@link resampledGrid}. */
function resampleAxisAligned(v: Volume, grid: GridGeometry, interp: Interpolation, opts: ResampleOptions): Volume {
  check((INTERPOLATIONS as readonly string[]).includes(interp), 'interpolation',
    `expected one of ${INTERPOLATIONS.join(', ')}, got ${String(interp)}`);
  const tables: (TapTable | null)[] = [0, 1, 2].map((c) => {
    const n = v.dims[c], m = grid.dims[c], s = v.spacingMm[c], t = grid.spacingMm[c];
    if (n === m && s === t) return null; // unchanged axis: no pass
    const scale = t / s;
    return buildTaps(interp, n, m, scale, (n - 1) / 2 - ((m - 1) / 2) * scale);
  });
  const geom = { spacingMm: grid.spacingMm, originMm: grid.originMm, direction: grid.direction };

  if (interp === 'nearest') {
    const data = gatherNearest(v.data, v.dims, grid.dims, tables);
    return createVolume(grid.dims, { ...geom, data });
  }

  // The typed-array constructor converts integer data far faster than Float32Array.from.
  const src = v.data instanceof Float32Array ? v.data : new Float32Array(v.data);
  const data = separableResample(src, v.dims, grid.dims, tables);
  if (opts.clampToInputRange) clampToRangeOf(data, v.data);
  return createVolume(grid.dims, { ...geom, data });
}

/** Nearest-neighbour resampling as one gather, keeping the dtype of `src`. */
function gatherNearest(src: VoxelArray, inDims: Vec3, outDims: Vec3, tables: (TapTable | null)[]): VoxelArray {
  const [nx, ny] = inDims;
  const [mx, my, mz] = outDims;
  const ident = (m: number): Int32Array => { const a = new Int32Array(m); for (let i = 0; i < m; i++) a[i] = i; return a; };
  const ix = tables[0]?.index ?? ident(mx), iy = tables[1]?.index ?? ident(my), iz = tables[2]?.index ?? ident(mz);
  const dst = allocate(dtypeOf(src), mx * my * mz);
  let p = 0;
  for (let k = 0; k < mz; k++) {
    for (let j = 0; j < my; j++) {
      const base = nx * (iy[j] + ny * iz[k]);
      for (let i = 0; i < mx; i++) dst[p++] = src[base + ix[i]];
    }
  }
  return dst;
}

/** Clamps `out` in place into the finite [min, max] of `input`. */
function clampToRangeOf(out: Float32Array, input: ArrayLike<number>): void {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < input.length; i++) {
    const x = input[i];
    if (!Number.isFinite(x)) continue;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  if (!(lo <= hi)) return;
  for (let i = 0; i < out.length; i++) {
    const x = out[i];
    if (x < lo) out[i] = lo; else if (x > hi) out[i] = hi;
  }
}
