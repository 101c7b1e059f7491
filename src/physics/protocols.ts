/**
 * Simulation protocols (GUIDE.md section 6; issue 3): how a user's volume becomes a ground truth
 * on a cubic reconstruction grid, and the scanner geometry, view angles and train/test splits of
 * each named protocol. Pure functions; projection and noise are applied by the caller.
 */
import { MedfieldError } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import { identityDirection, voxelToWorld, type Vec3, type Volume } from '../core/volume.js';
import type { XrayGeometry } from '../geometry/xray.js';
import { gridVolume, type GridFields } from '../geometry/grid.js';
import { huToMu, MU_WATER_PER_MM, percentile } from '../preprocess/intensity.js';
import { resampleToGrid } from '../preprocess/resample-to-grid.js';

export const PROTOCOL_NAMES = ['ct-50', 'ct-25-360', 'views-72'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

/** How input intensities become the ground truth. */
export const INTENSITY_KINDS = ['auto', 'hu', 'attenuation', 'mri'] as const;
export type IntensityKind = (typeof INTENSITY_KINDS)[number];

/** Every parameter of a protocol; each is overridable from the command line. */
export interface ProtocolParams {
  name: ProtocolName;
  /** Training views, uniformly spaced over `arcDeg` starting at 0 (end excluded for 360 deg). */
  trainViews: number;
  /** Arc covered by the training views, degrees. */
  arcDeg: number;
  /** Test views: 'random' = this many seeded uniform random angles in the arc; 'interleaved' = views-72 style. */
  testViews: number;
  testMode: 'random' | 'interleaved';
  /** Cubic grid size (voxels per axis). */
  size: number;
  /** Detector pixels per side (square detector). */
  detectorPixels: number;
  /** Detector pixel size in mm; 0 = chosen so the detector covers the volume. */
  detectorPixelMm: number;
  /** Source-to-detector and source-to-origin distances, mm (scaled up for large volumes, see protocolGeometry). */
  DSD: number;
  DSO: number;
  mode: 'cone' | 'parallel';
  /** Noise: incident photons per pixel (TIGRE's I0; 0 = no noise) and electronic noise sigma (counts). */
  I0: number;
  sigma: number;
  /** views-72: render X-ray-like line integrals ('drr') or emission-absorption views ('ea'). */
  render: 'drr' | 'ea';
  /**
   * Ground-truth cube: 'fov' covers the input's whole field of view; 'foreground' is the
   * smallest cube (plus a 4% margin) around the voxels above 2% of the normalised range, and
   * the detector then covers the foreground's bounding sphere, so the object fills the views.
   */
  fit: 'fov' | 'foreground';
  seed: number;
}

const BASE = { DSD: 1500, DSO: 1000, mode: 'cone', detectorPixelMm: 0, render: 'drr', seed: 0, size: 128, fit: 'fov' } as const;

/** The named protocols' defaults (issue 3 / GUIDE.md section 6). */
export function protocolDefaults(name: ProtocolName): ProtocolParams {
  switch (name) {
    case 'ct-50':
      return { ...BASE, name, trainViews: 50, arcDeg: 180, testViews: 50, testMode: 'random', detectorPixels: 256, I0: 1e5, sigma: 10 };
    case 'ct-25-360':
      return { ...BASE, name, trainViews: 25, arcDeg: 360, testViews: 100, testMode: 'random', detectorPixels: 256, I0: 1e4, sigma: 10 };
    case 'views-72':
      // 72 views at 5 deg; train on every 5th (15 views), test on the other 57. No noise by default.
      // The object fills the 128 x 128 views (fit 'foreground').
      return { ...BASE, name, trainViews: 72, arcDeg: 360, testViews: 0, testMode: 'interleaved', detectorPixels: 128, I0: 0, sigma: 0, fit: 'foreground' };
  }
}

/** Angles (rad) of all views in projection order with the train/test view indices. */
export function protocolAngles(p: ProtocolParams): { anglesRad: Float64Array; train: number[]; test: number[] } {
  if (!(Number.isInteger(p.trainViews) && p.trainViews >= 1)) throw new MedfieldError('bad-option', '--views', `expected an integer >= 1, got ${p.trainViews}`);
  if (!(p.arcDeg > 0 && p.arcDeg <= 360)) throw new MedfieldError('bad-option', '--arc', `expected an arc in (0, 360] degrees, got ${p.arcDeg}`);
  const arc = (p.arcDeg * Math.PI) / 180;
  if (p.testMode === 'interleaved') {
    // views-72: view i at i * arc / n; every 5th view trains, the rest test
    const n = p.trainViews;
    const anglesRad = new Float64Array(n);
    const train: number[] = [], test: number[] = [];
    for (let i = 0; i < n; i++) {
      anglesRad[i] = (i * arc) / n;
      (i % 5 === 0 ? train : test).push(i);
    }
    return { anglesRad, train, test };
  }
  if (!(Number.isInteger(p.testViews) && p.testViews >= 0)) throw new MedfieldError('bad-option', '--test-views', `expected an integer >= 0, got ${p.testViews}`);
  // A full circle excludes its end (0 and 2 pi coincide); a short arc includes neither end twice.
  const n = p.trainViews;
  const anglesRad = new Float64Array(n + p.testViews);
  for (let i = 0; i < n; i++) anglesRad[i] = (i * arc) / n;
  const rng = createRng(p.seed + 7919);
  for (let i = 0; i < p.testViews; i++) anglesRad[n + i] = rng.next() * arc;
  return {
    anglesRad,
    train: Array.from({ length: n }, (_, i) => i),
    test: Array.from({ length: p.testViews }, (_, i) => n + i),
  };
}

/** World bounding box (mm) of a volume's outer voxel faces: [min xyz, max xyz]. */
export function volumeWorldBox(v: Volume): { min: Vec3; max: Vec3 } {
  const min: Vec3 = [Infinity, Infinity, Infinity], max: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let c = 0; c < 8; c++) {
    const ijk = [c & 1 ? v.dims[0] - 0.5 : -0.5, c & 2 ? v.dims[1] - 0.5 : -0.5, c & 4 ? v.dims[2] - 0.5 : -0.5];
    const w = voxelToWorld(v, ijk);
    for (let a = 0; a < 3; a++) { min[a] = Math.min(min[a]!, w[a]!); max[a] = Math.max(max[a]!, w[a]!); }
  }
  return { min, max };
}

/** What was done to the input to get the ground truth (recorded in dataset.json `source`). */
export interface GroundTruthInfo {
  intensity: Exclude<IntensityKind, 'auto'>;
  /** Ground truth = (input after the intensity step) / scale, so scale is the value mapped to 1. */
  scale: number;
  /** Units of the ground truth. */
  units: string;
  cubeSideMm: number;
  /** Radius (mm, about the grid centre) the detector must cover: the grid's bounding sphere, or the foreground's for fit 'foreground'. */
  coverRadiusMm: number;
}

/**
 * Ground truth of a protocol: the input resampled (trilinear) onto a cubic grid of `size`^3
 * voxels that covers the input's whole field of view, centred on it, identity direction (RAS);
 * intensities: 'hu' -> mu = mu_water (1 + HU/1000) clamped at 0, then / max (GUIDE: HU -> mu ->
 * [0,1]); 'attenuation' -> clamped at 0, / max; 'mri' -> clipped at the 99.5th percentile, / it.
 * 'auto' picks 'hu' for ct-* protocols when the input's minimum is below -200 (air is -1000 HU),
 * 'attenuation' for other ct-* inputs, 'mri' for views-72.
 */
export function prepareGroundTruth(input: Volume, p: ProtocolParams, intensity: IntensityKind = 'auto'): { gt: Volume<Float32Array>; grid: GridFields; info: GroundTruthInfo } {
  if (!(Number.isInteger(p.size) && p.size >= 2 && p.size <= 1024)) throw new MedfieldError('bad-option', '--size', `expected an integer grid size in [2, 1024], got ${p.size}`);
  let min = Infinity;
  for (let i = 0; i < input.data.length; i++) { const x = input.data[i]!; if (x < min) min = x; }
  const kind: Exclude<IntensityKind, 'auto'> = intensity !== 'auto' ? intensity
    : p.name === 'views-72' ? 'mri' : min < -200 ? 'hu' : 'attenuation';
  const box = volumeWorldBox(input);
  const side = Math.max(box.max[0] - box.min[0], box.max[1] - box.min[1], box.max[2] - box.min[2]);
  const centre: Vec3 = [0, 1, 2].map((a) => (box.min[a]! + box.max[a]!) / 2) as Vec3;
  const src: Volume = kind === 'hu' ? huToMu(input) : input;
  let r = sampleGroundTruth(src, kind, min, p.size, side, centre);
  if (p.fit === 'foreground') {
    // the cube around the foreground of the full-FOV ground truth, then resampled from the input
    const fg = foregroundBox(r.gt.data, r.grid);
    if (!fg) throw new MedfieldError('bad-data', 'input', 'no voxel is above 2% of the intensity range; nothing to fit the views to (use --fit fov)');
    const fgSide = Math.max(fg.max[0] - fg.min[0], fg.max[1] - fg.min[1], fg.max[2] - fg.min[2]) * 1.04;
    const fgCentre: Vec3 = [0, 1, 2].map((a) => (fg.min[a]! + fg.max[a]!) / 2) as Vec3;
    r = sampleGroundTruth(src, kind, min, p.size, Math.min(fgSide, side), fgCentre);
  }
  const { gt, grid, scale } = r;
  const half = [0, 1, 2].map((a) => (grid.nVoxel[a]! * grid.dVoxel[a]!) / 2);
  let coverRadiusMm = Math.hypot(half[0]!, half[1]!, half[2]!);
  if (p.fit === 'foreground') coverRadiusMm = Math.min(coverRadiusMm, foregroundRadius(gt.data, grid));
  const units = kind === 'hu'
    ? `attenuation normalised to [0,1], treated as 1/mm (1.0 = ${scale.toPrecision(6)} 1/mm at mu_water ${MU_WATER_PER_MM} 1/mm)`
    : kind === 'attenuation' ? `input values clamped at 0 and divided by their max (${scale.toPrecision(6)}), treated as 1/mm`
      : `MRI intensity clipped at its 99.5th percentile (${scale.toPrecision(6)}) and divided by it, [0,1]`;
  return { gt, grid, info: { intensity: kind, scale, units, cubeSideMm: grid.nVoxel[0] * grid.dVoxel[0], coverRadiusMm } };
}

/** Fraction of the normalised range [0, 1] above which a voxel counts as foreground. */
const FOREGROUND_LEVEL = 0.02;

/** World box (mm, outer voxel faces) of the voxels above FOREGROUND_LEVEL, or null. */
function foregroundBox(data: Float32Array, grid: GridFields): { min: Vec3; max: Vec3 } | null {
  const [nx, ny, nz] = grid.nVoxel;
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  for (let k = 0, n = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, n++) {
    if (!(data[n]! > FOREGROUND_LEVEL)) continue;
    if (i < lo[0]!) lo[0] = i; if (i > hi[0]!) hi[0] = i;
    if (j < lo[1]!) lo[1] = j; if (j > hi[1]!) hi[1] = j;
    if (k < lo[2]!) lo[2] = k; if (k > hi[2]!) hi[2] = k;
  }
  if (!(hi[0]! >= lo[0]!)) return null;
  const o = [0, 1, 2].map((a) => grid.offOrigin[a]! - (grid.nVoxel[a]! * grid.dVoxel[a]!) / 2);
  return {
    min: [0, 1, 2].map((a) => o[a]! + lo[a]! * grid.dVoxel[a]!) as Vec3,
    max: [0, 1, 2].map((a) => o[a]! + (hi[a]! + 1) * grid.dVoxel[a]!) as Vec3,
  };
}

/** Largest distance (mm) from the grid centre of any foreground voxel's far corner. */
function foregroundRadius(data: Float32Array, grid: GridFields): number {
  const [nx, ny, nz] = grid.nVoxel;
  const [dx, dy, dz] = grid.dVoxel;
  let r2 = 0;
  for (let k = 0, n = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, n++) {
    if (!(data[n]! > FOREGROUND_LEVEL)) continue;
    const x = Math.abs(i + 0.5 - nx / 2) + 0.5, y = Math.abs(j + 0.5 - ny / 2) + 0.5, z = Math.abs(k + 0.5 - nz / 2) + 0.5;
    const d2 = (x * dx) ** 2 + (y * dy) ** 2 + (z * dz) ** 2;
    if (d2 > r2) r2 = d2;
  }
  return Math.sqrt(r2);
}

/** The input (after HU -> mu when asked) resampled onto a cube and normalised to [0, 1]. */
function sampleGroundTruth(src: Volume, kind: Exclude<IntensityKind, 'auto'>, inputMin: number, size: number, side: number, centre: Vec3): { gt: Volume<Float32Array>; grid: GridFields; scale: number } {
  const d = side / size;
  const grid: GridFields = { nVoxel: [size, size, size], dVoxel: [d, d, d], offOrigin: [centre[0], centre[1], centre[2]] };
  const target = gridVolume(grid);
  const fill = kind === 'mri' ? Math.min(0, inputMin) : 0;
  const res = resampleToGrid(src, { dims: target.dims, spacingMm: target.spacingMm, originMm: target.originMm, direction: identityDirection() }, 'linear', { fillValue: fill });
  const out = new Float32Array(res.data.length);
  let scale: number;
  if (kind === 'mri') {
    scale = percentile(res, 99.5);
    for (let i = 0; i < out.length; i++) { const x = res.data[i]! / scale; out[i] = x < 0 ? 0 : x > 1 ? 1 : x; }
  } else {
    scale = 0;
    for (let i = 0; i < out.length; i++) { const x = res.data[i]!; out[i] = x > 0 ? x : 0; if (x > scale) scale = x; }
    for (let i = 0; i < out.length; i++) out[i] = out[i]! / scale;
  }
  if (!(scale > 0) || !Number.isFinite(scale)) throw new MedfieldError('bad-data', 'input', 'the volume has no positive values after the intensity conversion; nothing to project');
  return { gt: gridVolume(grid, out), grid, scale };
}

/**
 * Scanner geometry of a protocol for a ground-truth grid: DSD/DSO from the protocol (scaled up
 * together when the grid's bounding sphere would reach past half of DSO, so the source stays
 * well outside the object), a square detector of `detectorPixels`, with pixels chosen (when
 * `detectorPixelMm` is 0) so the cone of the whole grid's bounding sphere fits with a 2% margin.
 */
export function protocolGeometry(p: ProtocolParams, grid: GridFields, coverRadiusMm?: number): XrayGeometry {
  const half = [0, 1, 2].map((a) => (grid.nVoxel[a]! * grid.dVoxel[a]!) / 2);
  const gridRadius = Math.hypot(half[0]!, half[1]!, half[2]!);
  // the source stays outside the whole grid; the detector covers `coverRadiusMm` (default: the grid's bounding sphere)
  const s = Math.max(1, gridRadius / (p.DSO / 2));
  const radius = coverRadiusMm ?? gridRadius;
  const DSD = p.DSD * s, DSO = p.DSO * s;
  if (!(DSO < DSD) && p.mode === 'cone') throw new MedfieldError('bad-option', '--dso', `DSO (${DSO} mm) must be smaller than DSD (${DSD} mm)`);
  let pixel = p.detectorPixelMm;
  if (!(pixel > 0)) {
    // half-width on the detector of a sphere of `radius` seen from distance DSO: DSD tan(asin(r/DSO))
    const halfWidth = p.mode === 'cone' ? (DSD * radius) / Math.sqrt(DSO * DSO - radius * radius) : radius;
    pixel = (2 * halfWidth * 1.02) / p.detectorPixels;
  }
  return {
    mode: p.mode, DSD, DSO,
    nDetector: [p.detectorPixels, p.detectorPixels], dDetector: [pixel, pixel], offDetector: [0, 0],
    nVoxel: [...grid.nVoxel], dVoxel: [...grid.dVoxel], offOrigin: [...grid.offOrigin],
  };
}
