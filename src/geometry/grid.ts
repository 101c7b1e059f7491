/**
 * The reconstruction grid of an X-ray geometry as a medfield Volume (docs/coordinate-systems.md,
 * "X-ray geometry"): identity direction (voxel axes = world x, y, z, RAS), spacing dVoxel, and
 * the grid centred at offOrigin, so the volume spans offOrigin -/+ nVoxel*dVoxel/2 (TIGRE sVoxel).
 */
import type { Vec3, Volume } from '../core/volume.js';
import { identityDirection } from '../core/volume.js';
import type { XrayGeometry } from './xray.js';

/** Axis-aligned box in world mm: [xmin, ymin, zmin, xmax, ymax, zmax]. */
export type Aabb = Float64Array;

/** Grid fields of an XrayGeometry. */
export type GridFields = Pick<XrayGeometry, 'nVoxel' | 'dVoxel' | 'offOrigin'>;

/** World position (mm) of the centre of voxel (0,0,0) of the grid. */
export function gridOriginMm(g: GridFields): Vec3 {
  return [0, 1, 2].map((a) => g.offOrigin[a]! - (g.nVoxel[a]! * g.dVoxel[a]!) / 2 + g.dVoxel[a]! / 2) as Vec3;
}

/** The grid's bounding box (outer voxel faces), world mm. */
export function gridAabb(g: GridFields, out: Float64Array = new Float64Array(6)): Aabb {
  for (let a = 0; a < 3; a++) {
    const half = (g.nVoxel[a]! * g.dVoxel[a]!) / 2;
    out[a] = g.offOrigin[a]! - half;
    out[a + 3] = g.offOrigin[a]! + half;
  }
  return out;
}

/** An empty (zero) Float32 volume on the grid. */
export function gridVolume(g: GridFields, data?: Float32Array): Volume<Float32Array> {
  const n = g.nVoxel[0] * g.nVoxel[1] * g.nVoxel[2];
  if (data && data.length !== n) throw new RangeError(`grid volume needs ${n} values, got ${data.length}`);
  return {
    data: data ?? new Float32Array(n),
    dims: [g.nVoxel[0], g.nVoxel[1], g.nVoxel[2]],
    spacingMm: [g.dVoxel[0], g.dVoxel[1], g.dVoxel[2]],
    originMm: gridOriginMm(g),
    direction: identityDirection(),
  };
}

/**
 * Grid fields describing an axis-aligned volume (identity direction) exactly: used when a
 * volume becomes the ground truth of a simulation. Returns undefined for oblique volumes,
 * which must be resampled to an axis-aligned grid first.
 */
export function gridOfVolume(v: Volume): GridFields | undefined {
  const d = v.direction;
  for (let i = 0; i < 9; i++) if (Math.abs(d[i]! - (i % 4 === 0 ? 1 : 0)) > 1e-9) return undefined;
  const nVoxel: [number, number, number] = [v.dims[0], v.dims[1], v.dims[2]];
  const dVoxel: [number, number, number] = [v.spacingMm[0], v.spacingMm[1], v.spacingMm[2]];
  const offOrigin = [0, 1, 2].map((a) => v.originMm[a]! + ((nVoxel[a]! - 1) * dVoxel[a]!) / 2) as [number, number, number];
  return { nVoxel, dVoxel, offOrigin };
}
