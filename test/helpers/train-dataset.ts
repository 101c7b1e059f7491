/** A tiny simulated X-ray dataset (16^3 Shepp-Logan, 16x16 detector, noiseless) for CLI tests. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { protocolDefaults } from '../../src/physics/protocols.js';
import { simulateDataset } from '../../src/platform/simulate.js';
import { sheppVolume } from './train-fixtures.js';

export async function tinyXrayDataset(opts: { trainViews?: number; testViews?: number } = {}): Promise<string> {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'medfield-train-')), 'ds');
  const p = { ...protocolDefaults('ct-50'), size: 16, detectorPixels: 16, trainViews: opts.trainViews ?? 12, testViews: opts.testViews ?? 3, I0: 0, sigma: 0 };
  await simulateDataset(sheppVolume(24).volume, p, dir, { threads: 1 });
  return dir;
}
