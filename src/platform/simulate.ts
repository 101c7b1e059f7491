/**
 * `medfield simulate`: a volume -> a dataset folder (GUIDE.md section 4) under a named protocol
 * (src/physics/protocols.ts): ground truth on the reconstruction grid, every view projected
 * (exact Siddon line integrals, or rendered views for views-72), TIGRE noise, splits, and for
 * views-72 the views as PNGs with NeRF transforms files.
 */
import * as path from 'node:path';
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import { validateXrayGeometry, type XrayGeometry } from '../geometry/xray.js';
import { nerfTransforms } from '../geometry/pinhole.js';
import { DATASET_FORMAT_VERSION, type DatasetMeta, type ViewQuantity } from '../io/dataset.js';
import { encodePng, floatToGray } from '../io/png.js';
import { addCTNoise } from '../physics/noise.js';
import { prepareGroundTruth, protocolAngles, protocolGeometry, type IntensityKind, type ProtocolParams } from '../physics/protocols.js';
import { renderViews } from '../physics/render-views.js';
import { writeDataset, type ExtraFiles } from './dataset.js';
import { createThreadedProjector } from './physics-pool.js';

export interface SimulateOptions {
  intensity?: IntensityKind;
  threads?: number;
  overwrite?: boolean;
  /** Called with (views done, views total). */
  onProgress?: (done: number, total: number) => void;
  /** Written into dataset.json `source`. */
  inputName?: string;
}

export interface SimulateResult {
  meta: DatasetMeta;
  geometry: XrayGeometry;
  anglesRad: Float64Array;
  projections: Float32Array;
  groundTruth: Volume<Float32Array>;
  /** Largest noiseless line integral / view value. */
  maxValue: number;
}

/** Simulates a protocol in memory (no files). */
export async function simulateProtocol(input: Volume, p: ProtocolParams, opts: SimulateOptions = {}): Promise<SimulateResult> {
  const { gt, grid, info } = prepareGroundTruth(input, p, opts.intensity ?? 'auto');
  const geometry = protocolGeometry(p, grid, info.coverRadiusMm);
  const { anglesRad, train, test } = protocolAngles(p);
  validateXrayGeometry(geometry, anglesRad, 'geometry');
  const views = anglesRad.length;
  const [nu, nv] = geometry.nDetector;
  const viewSize = nu * nv;
  let projections: Float32Array;
  let quantity: ViewQuantity = 'line-integral';
  let units = 'dimensionless: line integral of the ground truth (treated as 1/mm) x path length in mm';
  if (p.name === 'views-72' && p.render === 'ea') {
    projections = renderViews(gt.data, geometry, anglesRad, { mode: 'ea' });
    quantity = 'radiance';
    units = 'emission-absorption radiance of the [0,1] intensity (see docs/projectors.md), [0,1]';
    opts.onProgress?.(views, views);
  } else {
    projections = new Float32Array(views * viewSize);
    const op = await createThreadedProjector(geometry, anglesRad, { method: 'siddon', threads: opts.threads });
    try {
      // chunks of views so a progress bar can move
      const chunk = Math.max(1, Math.min(views, 8));
      for (let v0 = 0; v0 < views; v0 += chunk) {
        const ids = new Int32Array(Math.min(chunk, views - v0)).map((_, i) => v0 + i);
        await op.forward(gt.data, projections, ids);
        opts.onProgress?.(v0 + ids.length, views);
      }
    } finally {
      op.dispose();
    }
  }
  let maxValue = 0;
  for (let i = 0; i < projections.length; i++) if (projections[i]! > maxValue) maxValue = projections[i]!;
  if (!(maxValue > 0)) throw new MedfieldError('bad-data', 'input', 'every projection is zero: the volume has no signal inside the scanner field of view');
  const noisy = p.I0 > 0 && quantity === 'line-integral';
  if (noisy) projections = addCTNoise(projections, { i0: p.I0, sigma: p.sigma, seed: p.seed });
  const meta: DatasetMeta = {
    format: 'medfield-dataset',
    formatVersion: DATASET_FORMAT_VERSION,
    modality: p.name === 'views-72' ? 'mri-views' : 'xray',
    protocol: p.name,
    geometry: { ...geometry, offDetector: [...geometry.offDetector], offOrigin: [...geometry.offOrigin] },
    anglesRad: Array.from(anglesRad),
    splits: { train, test },
    projections: { file: 'projections.npy', shape: [views, nv, nu], quantity, units },
    groundTruth: { file: 'gt.nii.gz', units: info.units },
    noise: noisy ? { I0: p.I0, sigma: p.sigma, seed: p.seed } : null,
    source: {
      input: opts.inputName ?? null,
      intensity: info.intensity,
      intensityScale: info.scale,
      cubeSideMm: info.cubeSideMm,
      detectorCoversRadiusMm: info.coverRadiusMm,
      protocolParams: { ...p },
    },
  };
  if (p.name === 'views-72') meta.transformsFile = 'transforms.json';
  return { meta, geometry, anglesRad, projections, groundTruth: gt, maxValue };
}

/** PNG views (8-bit, one window over all views: [0, max]) and NeRF transforms files. */
export function viewFiles(r: SimulateResult): ExtraFiles {
  const files: Record<string, Uint8Array | string> = {};
  const [views, nv, nu] = r.meta.projections.shape;
  let hi = 0;
  for (let i = 0; i < r.projections.length; i++) if (r.projections[i]! > hi) hi = r.projections[i]!;
  const names: string[] = [];
  for (let v = 0; v < views; v++) {
    const name = `views/view_${String(v).padStart(3, '0')}.png`;
    names.push(name);
    files[name] = encodePng(floatToGray(r.projections.subarray(v * nv * nu, (v + 1) * nv * nu), nv, nu, 0, hi || 1, 8));
  }
  const all = nerfTransforms(r.geometry, r.anglesRad, names);
  files['transforms.json'] = `${JSON.stringify(all, null, 2)}\n`;
  for (const split of ['train', 'test'] as const) {
    const ids = r.meta.splits[split];
    const t = nerfTransforms(r.geometry, ids.map((i) => r.anglesRad[i]!), ids.map((i) => names[i]!));
    files[`transforms_${split}.json`] = `${JSON.stringify(t, null, 2)}\n`;
  }
  return files;
}

/** Simulates and writes the dataset folder atomically. */
export async function simulateDataset(input: Volume, p: ProtocolParams, outDir: string, opts: SimulateOptions = {}): Promise<SimulateResult> {
  const r = await simulateProtocol(input, p, { ...opts, inputName: opts.inputName ? path.basename(opts.inputName) : undefined });
  const extraFiles = p.name === 'views-72' ? viewFiles(r) : undefined;
  await writeDataset(outDir, { meta: r.meta, projections: r.projections, groundTruth: r.groundTruth, extraFiles }, { overwrite: opts.overwrite });
  return r;
}
