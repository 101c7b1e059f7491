/**
 * The 3D Shepp-Logan head phantom as an analytic object of 10 additive ellipsoids.
 *
 * Source of the numbers: the 3D extension of the Shepp-Logan phantom in MATLAB `phantom3d`
 * (M. C. Schabel, 2005, MathWorks File Exchange #9416), which TIGRE ships as `sheppLogan3D`
 * ('Shepp-Logan' and the default 'Modified Shepp-Logan'). Its geometry extends the 2D table of
 * Shepp & Logan (IEEE Trans. Nucl. Sci. 21(3), 1974), as also tabulated by Kak & Slaney
 * (Principles of Computerized Tomographic Imaging, 1988, ch. 3), with z semi-axes and offsets.
 * (Kak & Slaney's own 3D table, which Yu, Ye & Wang later re-weighted, is a different set of
 * ellipsoids and is not the one used here.)
 * The two variants share the geometry and differ in density:
 * - 'original': Shepp & Logan's densities with the outer skull at 1 (as MATLAB `phantom`),
 *   so brain tissue is 0.02 and the small features differ by 0.01;
 * - 'modified': P. Toft, The Radon Transform (PhD thesis, DTU, 1996), pp. 199-200: densities
 *   scaled up for visible contrast (brain 0.2, features +-0.1 or 0.2).
 * Densities are additive: a point's value is the sum over the ellipsoids that contain it.
 *
 * Frame: the normalised cube [-1, 1]^3 of the table maps to a cube of edge `fovMm` centred at the
 * world origin, x -> R, y -> A, z -> S (RAS+ mm). Note this is the continuous definition; array
 * layouts of phantom3d/TIGRE (which swap the first two array axes via meshgrid) are not copied.
 */
import { check } from '../core/errors.js';
import type { Vec3 } from '../core/volume.js';
import { ellipsoidPhantom, eulerZxzDeg, type EllipsoidPhantom, type PhantomEllipsoid } from './ellipsoid.js';

/**
 * One table row in the normalised cube: [A, a, b, c, x0, y0, z0, phiDeg, thetaDeg, psiDeg] =
 * additive density, semi-axes, centre, ZXZ Euler angles (degrees, `eulerZxzDeg` convention).
 */
export type SheppLoganRow = readonly [number, number, number, number, number, number, number, number, number, number];

/** Geometry columns shared by both variants (a, b, c, x0, y0, z0, phi, theta, psi). */
const GEOMETRY = [
  [0.69, 0.92, 0.81, 0, 0, 0, 0, 0, 0], // skull (outer)
  [0.6624, 0.874, 0.78, 0, -0.0184, 0, 0, 0, 0], // brain
  [0.11, 0.31, 0.22, 0.22, 0, 0, -18, 0, 10], // right "eye" (dark)
  [0.16, 0.41, 0.28, -0.22, 0, 0, 18, 0, 10], // left "eye" (dark)
  [0.21, 0.25, 0.41, 0, 0.35, -0.15, 0, 0, 0],
  [0.046, 0.046, 0.05, 0, 0.1, 0.25, 0, 0, 0],
  [0.046, 0.046, 0.05, 0, -0.1, 0.25, 0, 0, 0],
  [0.046, 0.023, 0.05, -0.08, -0.605, 0, 0, 0, 0],
  [0.023, 0.023, 0.02, 0, -0.606, 0, 0, 0, 0],
  [0.023, 0.046, 0.02, 0.06, -0.605, 0, 0, 0, 0],
] as const;

const DENSITIES = {
  original: [1, -0.98, -0.02, -0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01],
  modified: [1, -0.8, -0.2, -0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
} as const;

export const SHEPP_LOGAN_VARIANTS = ['original', 'modified'] as const;
export type SheppLoganVariant = (typeof SHEPP_LOGAN_VARIANTS)[number];

/** The two tables, row by row, exactly as phantom3d lists them. */
export const SHEPP_LOGAN_3D_TABLES: Readonly<Record<SheppLoganVariant, readonly SheppLoganRow[]>> = {
  original: GEOMETRY.map((g, i) => [DENSITIES.original[i], ...g] as const),
  modified: GEOMETRY.map((g, i) => [DENSITIES.modified[i], ...g] as const),
};

/** Options of `sheppLogan3d`. */
export interface SheppLoganOptions {
  /** 'modified' (default, Toft's contrast, as phantom3d/TIGRE) or 'original'. */
  variant?: SheppLoganVariant;
  /** Edge (mm) of the cube the normalised [-1, 1]^3 maps to, centred at the origin (default 256). */
  fovMm?: number;
}

/**
 * The 3D Shepp-Logan phantom as plain data: 10 ellipsoids in world mm, densities additive and
 * dimensionless (line integrals are density x mm).
 */
export function sheppLogan3d(opts: SheppLoganOptions = {}): EllipsoidPhantom {
  const variant = opts.variant ?? 'modified';
  check((SHEPP_LOGAN_VARIANTS as readonly string[]).includes(variant), 'variant',
    `expected one of ${SHEPP_LOGAN_VARIANTS.join(', ')}, got ${String(variant)}`);
  const fovMm = opts.fovMm ?? 256;
  check(Number.isFinite(fovMm) && fovMm > 0, 'fovMm', `expected a finite length > 0 mm, got ${fovMm}`);
  const ellipsoids = SHEPP_LOGAN_3D_TABLES[variant].map((row) => ellipsoidFromRow(row, fovMm / 2));
  return ellipsoidPhantom(ellipsoids, { fovMm, name: `shepp-logan-${variant}` });
}

/**
 * Converts a phantom3d row to an ellipsoid in mm (`mmPerUnit` = fov/2). phantom3d tests
 * |diag(1/a) (alpha p - c)| <= 1: the Euler rotation alpha acts about the ORIGIN, not about the
 * tabulated centre c. We keep that point set exactly, so the stored centre is alpha^T c (for rows
 * 3 and 4 about 0.03 units from the tabulated one) and the local frame is alpha.
 */
export function ellipsoidFromRow(row: SheppLoganRow, mmPerUnit: number): PhantomEllipsoid {
  const [A, a, b, c, x0, y0, z0, phi, theta, psi] = row;
  const r = eulerZxzDeg(phi, theta, psi);
  const centre: Vec3 = [0, 0, 0];
  for (let k = 0; k < 3; k++) centre[k] = (r[k] * x0 + r[3 + k] * y0 + r[6 + k] * z0) * mmPerUnit;
  return { density: A, centreMm: centre, semiAxesMm: [a * mmPerUnit, b * mmPerUnit, c * mmPerUnit], worldToLocal: r };
}
