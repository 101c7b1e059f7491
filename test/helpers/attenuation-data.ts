/**
 * Small in-process X-ray datasets for the attenuation-field tests: a voxelised Shepp-Logan (or a
 * smooth off-centre blob) on an N^3 grid, projected with the exact Siddon projector of
 * src/physics (the same line integrals `medfield simulate` writes), noiseless.
 */
import { gridOfVolume } from '../../src/geometry/grid.js';
import type { XrayGeometry } from '../../src/geometry/xray.js';
import { sheppLogan3d, voxelizePhantom } from '../../src/phantom/index.js';
import { createInlineProjector } from '../../src/physics/projectors.js';
import type { AttenuationDataset } from '../../src/train/attenuation-task.js';

export interface TinyDataset extends AttenuationDataset {
  groundTruth: Float32Array;
  geometry: XrayGeometry;
  anglesRad: Float64Array;
}

export async function tinyDataset(opts: { size?: number; detector?: number; views?: number; kind?: 'shepp' | 'blob'; mode?: 'cone' | 'parallel' } = {}): Promise<TinyDataset> {
  const N = opts.size ?? 24, det = opts.detector ?? 32, views = opts.views ?? 20, fov = 64;
  const vol = voxelizePhantom(sheppLogan3d({ fovMm: fov }), { size: N, supersample: 2 });
  const grid = gridOfVolume(vol)!;
  if (opts.kind === 'blob') {
    // smooth, asymmetric (off-centre in x, y and z) so a flipped axis or row order shows
    const d = vol.data;
    for (let k = 0; k < N; k++) for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) {
      const x = (i - 0.62 * N) / (0.18 * N), y = (j - 0.4 * N) / (0.22 * N), z = (k - 0.55 * N) / (0.2 * N);
      d[i + N * (j + N * k)] = 0.8 * Math.exp(-(x * x + y * y + z * z) / 2) + 0.1 * Math.exp(-(((i - 0.3 * N) / (0.1 * N)) ** 2 + ((j - 0.6 * N) / (0.3 * N)) ** 2 + ((k - 0.4 * N) / (0.25 * N)) ** 2));
    }
  }
  const side = N * grid.dVoxel[0];
  const geometry: XrayGeometry = {
    mode: opts.mode ?? 'cone', DSD: 4 * side, DSO: 2.5 * side,
    nDetector: [det, det], dDetector: [(1.9 * side) / det, (1.9 * side) / det], offDetector: [0, 0],
    nVoxel: grid.nVoxel, dVoxel: grid.dVoxel, offOrigin: grid.offOrigin,
  };
  const anglesRad = Float64Array.from({ length: views }, (_, i) => (i * 2 * Math.PI) / views);
  const op = createInlineProjector(geometry, anglesRad, { method: 'siddon' });
  const projections = new Float32Array(views * det * det);
  await op.forward(vol.data, projections);
  op.dispose();
  const train: number[] = [], test: number[] = [];
  for (let v = 0; v < views; v++) (v % 4 === 3 ? test : train).push(v);
  return { meta: { splits: { train, test } }, geometry, anglesRad, projections, groundTruth: vol.data };
}
