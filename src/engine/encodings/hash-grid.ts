/**
 * Multiresolution hash encoding (Mueller et al., "Instant Neural Graphics Primitives", 2022):
 * L levels of resolution N_l = floor(N_min * b^l); level l stores F features per vertex in a
 * table of T = 2^log2TableSize rows, indexed densely when the (N_l+1)^d vertices fit (coarse
 * levels: no collisions) and by the spatial hash (x * 1) xor (y * 2654435761) xor (z * 805459861)
 * mod T otherwise (their eq. 4). Features are interpolated (bi/trilinear) and concatenated.
 */
import type { Backend, GridKernelSpec, GridLevelBuffers } from '../backend.js';
import type { HashGridEncodingConfig } from '../config.js';
import type { Rng } from '../../core/rng.js';
import type { ParamTensor } from '../params.js';

/** Per-level resolution, row count and indexing of a grid encoding. */
export interface GridLevelPlan {
  readonly res: number;
  readonly size: number;
  readonly dense: boolean;
}

/** The level plan of a hash grid (dense where (res+1)^d <= T). */
export function hashGridLevels(cfg: Pick<HashGridEncodingConfig, 'inputDim' | 'levels' | 'log2TableSize' | 'baseResolution' | 'growthFactor'>): GridLevelPlan[] {
  const T = 2 ** cfg.log2TableSize;
  const out: GridLevelPlan[] = [];
  for (let l = 0; l < cfg.levels; l++) {
    const res = Math.max(1, Math.floor(cfg.baseResolution * cfg.growthFactor ** l));
    const verts = (res + 1) ** cfg.inputDim;
    out.push(verts <= T ? { res, size: verts, dense: true } : { res, size: T, dense: false });
  }
  return out;
}

/** What every encoding offers the field: SoA output rows, backward to parameters and to inputs. */
export interface Encoding {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly params: readonly ParamTensor[];
  /** out[r*pitch + p] for rows r < outputDim, points p < n (x AoS [n, inputDim], backend memory). */
  forward(x: Float32Array, n: number, out: Float32Array, pitch: number): void;
  /** Adds dL/dparams (and sets touched rows). */
  backward(x: Float32Array, n: number, dOut: Float32Array, pitch: number): void;
  /** dx = dL/dx (AoS, overwritten). */
  inputGrad(x: Float32Array, n: number, dOut: Float32Array, pitch: number, dx: Float32Array): void;
}

/** A grid encoding over backend buffers, hashed or dense per level. */
export class GridEncoding implements Encoding {
  readonly inputDim: number;
  readonly outputDim: number;
  readonly params: readonly ParamTensor[];
  readonly spec: GridKernelSpec;
  constructor(private readonly backend: Backend, dim: 2 | 3, features: number, plan: readonly GridLevelPlan[], initScale: number, rng: Rng) {
    this.inputDim = dim;
    this.outputDim = features * plan.length;
    const levels: GridLevelBuffers[] = [];
    const params: ParamTensor[] = [];
    plan.forEach((L, l) => {
      const table = backend.allocF32(L.size * features);
      const grad = backend.allocF32(L.size * features);
      const touched = backend.allocU8(L.size);
      if (initScale > 0) for (let i = 0; i < table.length; i++) table[i] = (rng.next() * 2 - 1) * initScale;
      levels.push({ res: L.res, size: L.size, dense: L.dense, table, grad, touched });
      params.push({ name: `encoding.level${String(l).padStart(2, '0')}.table`, shape: [L.size, features], data: table, grad, touched });
    });
    this.spec = { dim, features, levels };
    this.params = params;
  }
  forward(x: Float32Array, n: number, out: Float32Array, pitch: number): void { this.backend.gridForward(this.spec, x, n, out, pitch); }
  backward(x: Float32Array, n: number, dOut: Float32Array, pitch: number): void { this.backend.gridBackward(this.spec, x, n, dOut, pitch); }
  inputGrad(x: Float32Array, n: number, dOut: Float32Array, pitch: number, dx: Float32Array): void { this.backend.gridInputGrad(this.spec, x, n, dOut, pitch, dx); }
}

export function createHashGridEncoding(cfg: HashGridEncodingConfig, backend: Backend, rng: Rng): GridEncoding {
  return new GridEncoding(backend, cfg.inputDim as 2 | 3, cfg.featuresPerLevel, hashGridLevels(cfg), cfg.initScale, rng);
}
