/**
 * The dataset folder's `dataset.json` (GUIDE.md section 4): format version, modality, geometry
 * with TIGRE's field names in mm/rad (docs/coordinate-systems.md "X-ray geometry"), view angles,
 * train/test splits as view indices, and what `projections.npy` holds. Platform-neutral: text in,
 * validated plain data out; src/platform/dataset.ts reads and writes the folder.
 */
import { z } from 'zod';
import { MedfieldError } from '../core/errors.js';
import { validateXrayGeometry, XRAY_MODES, type XrayGeometry } from '../geometry/xray.js';

/** The dataset format this build writes and the newest it reads. */
export const DATASET_FORMAT_VERSION = 1;

const num = z.number().finite();
const vec2 = z.tuple([num, num]);
const vec3 = z.tuple([num, num, num]);

const geometrySchema = z.strictObject({
  mode: z.enum(XRAY_MODES),
  DSD: num, DSO: num,
  nDetector: vec2, dDetector: vec2, offDetector: vec2.default([0, 0]),
  rotDetector: vec3.optional(),
  nVoxel: vec3, dVoxel: vec3, offOrigin: vec3.default([0, 0, 0]),
});

/** What a projection value is. */
export const VIEW_QUANTITIES = ['line-integral', 'radiance', 'mip'] as const;
export type ViewQuantity = (typeof VIEW_QUANTITIES)[number];

export const datasetSchema = z.strictObject({
  format: z.literal('medfield-dataset'),
  formatVersion: z.number().int().min(1),
  /** 'xray': projections are line integrals of attenuation; 'mri-views': rendered views of an MRI. */
  modality: z.enum(['xray', 'mri-views']),
  /** What produced it, e.g. 'ct-50' or 'real:htc2022'. */
  protocol: z.string(),
  geometry: geometrySchema,
  /** View angles in rad, one per projection, in projections.npy order. */
  anglesRad: z.array(num).min(1),
  splits: z.strictObject({ train: z.array(z.number().int().min(0)), test: z.array(z.number().int().min(0)) }),
  projections: z.strictObject({
    file: z.string().default('projections.npy'),
    /** [views, rows (nv), cols (nu)] */
    shape: z.tuple([z.number().int(), z.number().int(), z.number().int()]),
    quantity: z.enum(VIEW_QUANTITIES),
    /** Units of the values, e.g. 'dimensionless (line integral of mu[1/mm] x mm)'. */
    units: z.string(),
  }),
  /** The volume the projections are line integrals of (simulated datasets only). */
  groundTruth: z.strictObject({ file: z.string(), units: z.string() }).optional(),
  /** Noise that was applied (TIGRE model), when simulated. */
  noise: z.strictObject({ I0: num, sigma: num, seed: z.number().int() }).nullable().optional(),
  /** How the ground truth was derived from the input volume. */
  source: z.record(z.string(), z.unknown()).optional(),
  /** Pinhole cameras equivalent to the X-ray views (NeRF convention), when written. */
  transformsFile: z.string().optional(),
});

export type DatasetMeta = z.infer<typeof datasetSchema>;

/** Geometry of a parsed dataset as the library's XrayGeometry. */
export function datasetGeometry(meta: DatasetMeta): XrayGeometry {
  const g = meta.geometry;
  const geo: XrayGeometry = {
    mode: g.mode, DSD: g.DSD, DSO: g.DSO, nDetector: [...g.nDetector], dDetector: [...g.dDetector],
    offDetector: [...g.offDetector], nVoxel: [...g.nVoxel], dVoxel: [...g.dVoxel], offOrigin: [...g.offOrigin],
  };
  if (g.rotDetector) geo.rotDetector = [...g.rotDetector];
  return geo;
}

/**
 * Parses and validates dataset.json text. Errors name the file and the field: a newer format
 * version, an unknown key, an inconsistent geometry, splits outside the views, a projections
 * shape that disagrees with the geometry and the angles.
 */
export function parseDatasetJson(text: string, file = 'dataset.json'): DatasetMeta {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new MedfieldError('bad-file', file, `not valid JSON (${(e as Error).message})`);
  }
  if (raw && typeof raw === 'object' && 'formatVersion' in raw) {
    const v = (raw as { formatVersion: unknown }).formatVersion;
    if (typeof v === 'number' && v > DATASET_FORMAT_VERSION) {
      throw new MedfieldError('unsupported', `${file}: formatVersion`,
        `dataset format version ${v} is newer than this medfield reads (${DATASET_FORMAT_VERSION}); upgrade medfield`);
    }
  }
  const r = datasetSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String).join('.') || '(root)';
    const keys = issue.code === 'unrecognized_keys' ? ` ${issue.keys.join(', ')}` : '';
    throw new MedfieldError('bad-file', `${file}: ${path}${keys}`, issue.message);
  }
  const meta = r.data;
  const geo = datasetGeometry(meta);
  validateXrayGeometry(geo, meta.anglesRad, `${file}: geometry`);
  const views = meta.anglesRad.length;
  const [pv, pr, pc] = meta.projections.shape;
  const want = [views, geo.nDetector[1], geo.nDetector[0]];
  if (pv !== want[0] || pr !== want[1] || pc !== want[2]) {
    throw new MedfieldError('bad-file', `${file}: projections.shape`,
      `expected [views, rows, cols] = [${want.join(', ')}] from anglesRad and geometry.nDetector, got [${meta.projections.shape.join(', ')}]`);
  }
  for (const split of ['train', 'test'] as const) {
    const seen = new Set<number>();
    for (const i of meta.splits[split]) {
      if (i >= views) throw new MedfieldError('bad-file', `${file}: splits.${split}`, `view index ${i} is out of range (there are ${views} views)`);
      if (seen.has(i)) throw new MedfieldError('bad-file', `${file}: splits.${split}`, `view index ${i} is listed twice`);
      seen.add(i);
    }
  }
  return meta;
}

/** Serialises dataset metadata (stable key order, 2-space indent, trailing newline). */
export function formatDatasetJson(meta: DatasetMeta): string {
  return `${JSON.stringify(meta, null, 2)}\n`;
}
