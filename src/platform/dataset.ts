/**
 * Dataset folders (GUIDE.md section 4) on disk: dataset.json + projections.npy (+ gt.nii.gz,
 * PNG views and a NeRF transforms.json when written). Writing is all-or-nothing: the folder is
 * assembled under a temporary name beside the target and renamed into place, so an interrupted
 * `simulate` never leaves a half-written dataset.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import { datasetGeometry, formatDatasetJson, parseDatasetJson, type DatasetMeta } from '../io/dataset.js';
import { decodeNpy, encodeNpy } from '../io/npy.js';
import type { XrayGeometry } from '../geometry/xray.js';
import { readFileChecked, writeFolderAtomic } from './fs.js';
import { readVolume, writeVolume } from './volume-io.js';

/** A dataset in memory. */
export interface Dataset {
  /** Folder it was read from (absent for one not yet written). */
  dir?: string;
  meta: DatasetMeta;
  geometry: XrayGeometry;
  anglesRad: Float64Array;
  /** Float32 [views, rows, cols]. */
  projections: Float32Array;
}

/** Reads and validates a dataset folder; the projections' shape must match dataset.json. */
export async function readDataset(dir: string, opts: { loadGroundTruth?: boolean } = {}): Promise<Dataset & { groundTruth?: Volume }> {
  let st;
  try { st = await fsp.stat(dir); } catch {
    throw new MedfieldError('bad-file', dir, 'dataset folder not found');
  }
  if (!st.isDirectory()) throw new MedfieldError('bad-file', dir, 'expected a dataset folder (with dataset.json and projections.npy)');
  const jsonPath = path.join(dir, 'dataset.json');
  const text = new TextDecoder().decode(await readFileChecked(jsonPath));
  const meta = parseDatasetJson(text, jsonPath);
  const npyPath = path.join(dir, meta.projections.file);
  const arr = decodeNpy(await readFileChecked(npyPath), npyPath);
  const want = meta.projections.shape;
  if (arr.shape.length !== 3 || arr.shape.some((s, i) => s !== want[i])) {
    throw new MedfieldError('bad-file', npyPath, `projections shape (${arr.shape.join(', ')}) does not match dataset.json projections.shape [${want.join(', ')}]`);
  }
  const projections = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data);
  const out: Dataset & { groundTruth?: Volume } = {
    dir, meta, geometry: datasetGeometry(meta), anglesRad: Float64Array.from(meta.anglesRad), projections,
  };
  if (opts.loadGroundTruth && meta.groundTruth) out.groundTruth = await readVolume(path.join(dir, meta.groundTruth.file));
  return out;
}

/** Extra files to place in the dataset folder (relative path -> bytes or text). */
export type ExtraFiles = Readonly<Record<string, Uint8Array | string>>;

/**
 * Writes a dataset folder atomically. Refuses to replace an existing non-empty folder unless
 * `overwrite` is set (then the old folder is replaced only after the new one is complete).
 */
export async function writeDataset(
  dir: string,
  data: { meta: DatasetMeta; projections: Float32Array; groundTruth?: Volume; extraFiles?: ExtraFiles },
  opts: { overwrite?: boolean } = {},
): Promise<void> {
  const { meta, projections } = data;
  // validate what we are about to write exactly as a reader would
  parseDatasetJson(formatDatasetJson(meta), path.join(dir, 'dataset.json'));
  const [v, r, c] = meta.projections.shape;
  if (projections.length !== v * r * c) {
    throw new MedfieldError('bad-data', 'projections', `expected ${v}x${r}x${c} = ${v * r * c} values, got ${projections.length}`);
  }
  if (Boolean(meta.groundTruth) !== Boolean(data.groundTruth)) {
    throw new MedfieldError('bad-data', 'groundTruth', 'dataset.json groundTruth and the ground-truth volume must be given together');
  }
  await writeFolderAtomic(dir, async (tmp) => {
    await fsp.writeFile(path.join(tmp, meta.projections.file), encodeNpy({ data: projections, shape: [v, r, c] }));
    if (data.groundTruth && meta.groundTruth) await writeVolume(path.join(tmp, meta.groundTruth.file), data.groundTruth);
    for (const [name, bytes] of Object.entries(data.extraFiles ?? {})) {
      const p = path.join(tmp, name);
      if (!p.startsWith(tmp + path.sep)) throw new MedfieldError('bad-data', name, 'extra file must stay inside the dataset folder');
      await fsp.mkdir(path.dirname(p), { recursive: true });
      await fsp.writeFile(p, bytes);
    }
    // dataset.json last: a folder with dataset.json is complete
    await fsp.writeFile(path.join(tmp, 'dataset.json'), formatDatasetJson(meta));
  }, { what: 'the dataset', ...(opts.overwrite !== undefined ? { overwrite: opts.overwrite } : {}) });
}
