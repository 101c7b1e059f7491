/**
 * The voxel grid every built-in phantom is sampled on: a cube of edge `fovMm` centred at the
 * world origin (RAS+ mm), identity direction, `size` voxels per axis. Voxel centres sit at
 * -fov/2 + (i + 0.5) * fov/n, so the grid's outer faces are exactly the fov cube
 * (docs/coordinate-systems.md: voxel 0 spans index [-0.5, 0.5]).
 */
import { check } from '../core/errors.js';
import type { Vec3 } from '../core/volume.js';

/** Geometry of a phantom grid (no data). */
export interface PhantomGrid {
  dims: Vec3;
  /** fov / n per axis (mm). */
  spacingMm: Vec3;
  /** World position (mm) of the centre of voxel (0,0,0): -fov/2 + spacing/2. */
  originMm: Vec3;
}

/** Most voxels a phantom grid may have (typed arrays of 2^30 float32 are already 4 GiB). */
export const MAX_PHANTOM_VOXELS = 2 ** 30;

/** The grid covering the fov cube with `size` voxels (a number for N^3, or [nx, ny, nz]). */
export function phantomGrid(fovMm: number, size: number | readonly number[], subject = 'size'): PhantomGrid {
  check(Number.isFinite(fovMm) && fovMm > 0, 'fovMm', `expected a finite length > 0 mm, got ${fovMm}`);
  const dims: Vec3 = typeof size === 'number' ? [size, size, size] : [size[0], size[1], size[2]];
  check((typeof size === 'number' || size.length === 3) && dims.every((d) => Number.isInteger(d) && d >= 1), subject,
    `expected a positive integer N or [nx, ny, nz], got ${JSON.stringify(size)}`);
  check(dims[0] * dims[1] * dims[2] <= MAX_PHANTOM_VOXELS, subject,
    `expected at most ${MAX_PHANTOM_VOXELS} voxels, got ${dims.join('x')}`);
  const spacingMm = dims.map((n) => fovMm / n) as Vec3;
  const originMm = spacingMm.map((s) => -fovMm / 2 + s / 2) as Vec3;
  return { dims, spacingMm, originMm };
}

/**
 * World coordinate (mm) of every sub-sample along one axis: entry m = i * s + q is sub-sample q of
 * voxel i, at the voxel centre plus ((q + 0.5) / s - 0.5) * spacing. With s = 1 it is exactly
 * origin + i * spacing, the centre `voxelToWorld` gives, so point evaluators agree bit for bit.
 */
export function subSamplePositions(origin: number, spacing: number, n: number, s: number): Float64Array {
  const out = new Float64Array(n * s);
  for (let i = 0; i < n; i++) {
    const c = origin + i * spacing;
    for (let q = 0; q < s; q++) out[i * s + q] = c + ((q + 0.5) / s - 0.5) * spacing;
  }
  return out;
}

/** Throws unless `s` is an integer supersampling factor in [1, 16]. */
export function checkSupersample(s: number): void {
  check(Number.isInteger(s) && s >= 1 && s <= 16, 'supersample', `expected an integer in [1, 16], got ${s}`);
}
