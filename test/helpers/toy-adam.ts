/**
 * A minimal dense Adam (Kingma & Ba 2015, Algorithm 1) implementing the engine's Optimizer
 * contract, for checkpoint tests only (the engine's real optimisers live in src/engine and are
 * owned elsewhere). State: m and v per tensor, scalar 't'.
 */
import type { Optimizer, OptimizerState, ParamTensor } from '../../src/engine/params.js';

export function createToyAdam(params: readonly ParamTensor[], beta1 = 0.9, beta2 = 0.999, eps = 1e-8): Optimizer {
  const m = params.map((p) => new Float32Array(p.data.length));
  const v = params.map((p) => new Float32Array(p.data.length));
  let t = 0;
  return {
    step(lr: number): void {
      t++;
      const c1 = 1 - beta1 ** t, c2 = 1 - beta2 ** t;
      params.forEach((p, k) => {
        const mk = m[k]!, vk = v[k]!;
        for (let i = 0; i < p.data.length; i++) {
          const g = p.grad[i]!;
          mk[i] = beta1 * mk[i]! + (1 - beta1) * g;
          vk[i] = beta2 * vk[i]! + (1 - beta2) * g * g;
          p.data[i]! -= (lr * (mk[i]! / c1)) / (Math.sqrt(vk[i]! / c2) + eps);
        }
      });
    },
    state(): OptimizerState {
      const tensors: Record<string, Float32Array> = {};
      params.forEach((p, k) => {
        tensors[`adam.m.${p.name}`] = Float32Array.from(m[k]!);
        tensors[`adam.v.${p.name}`] = Float32Array.from(v[k]!);
      });
      return { kind: 'adam', tensors, scalars: { t } };
    },
    loadState(s: OptimizerState): void {
      if (s.kind !== 'adam') throw new Error(`toy adam: state kind ${s.kind}`);
      params.forEach((p, k) => {
        m[k]!.set(s.tensors[`adam.m.${p.name}`]!);
        v[k]!.set(s.tensors[`adam.v.${p.name}`]!);
      });
      t = s.scalars['t']!;
    },
  };
}
