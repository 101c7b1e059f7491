/**
 * Dense multiresolution grid (Plenoxels-like, without spherical harmonics): level l has
 * (N_l+1)^d vertices with N_l = floor(N_min * b^l), every one stored, trilinear interpolation.
 * No hashing, so no collisions; memory grows as N^3 — the grid-heavy CPU path of GUIDE.md section 7.
 */
import type { Backend } from '../backend.js';
import type { DenseGridEncodingConfig } from '../config.js';
import type { Rng } from '../../core/rng.js';
import { GridEncoding, type GridLevelPlan } from './hash-grid.js';

export function denseGridLevels(cfg: Pick<DenseGridEncodingConfig, 'inputDim' | 'levels' | 'baseResolution' | 'growthFactor'>): GridLevelPlan[] {
  const out: GridLevelPlan[] = [];
  for (let l = 0; l < cfg.levels; l++) {
    const res = Math.max(1, Math.floor(cfg.baseResolution * cfg.growthFactor ** l));
    out.push({ res, size: (res + 1) ** cfg.inputDim, dense: true });
  }
  return out;
}

export function createDenseGridEncoding(cfg: DenseGridEncodingConfig, backend: Backend, rng: Rng): GridEncoding {
  return new GridEncoding(backend, cfg.inputDim as 2 | 3, cfg.featuresPerLevel, denseGridLevels(cfg), cfg.initScale, rng);
}
