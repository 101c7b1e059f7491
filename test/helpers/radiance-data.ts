/** A tiny views-72 dataset (Shepp-Logan, 24^3 grid, 32^2 detector) simulated in-process, for the radiance tests. */
import { sheppLogan3d, voxelizePhantom } from '../../src/phantom/index.js';
import { protocolDefaults } from '../../src/physics/protocols.js';
import { simulateProtocol, type SimulateResult } from '../../src/platform/simulate.js';

const cache = new Map<string, Promise<SimulateResult>>();

export function tinyViews72(render: 'ea' | 'drr' = 'ea', size = 24, detector = 32): Promise<SimulateResult> {
  const key = `${render}-${size}-${detector}`;
  let p = cache.get(key);
  if (!p) {
    const vol = voxelizePhantom(sheppLogan3d(), { size: 32 });
    p = simulateProtocol(vol, { ...protocolDefaults('views-72'), size, detectorPixels: detector, render }, { intensity: 'mri', threads: 1 });
    cache.set(key, p);
  }
  return p;
}
