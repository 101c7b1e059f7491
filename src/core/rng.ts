/**
 * Seeded pseudo-random numbers (SplitMix32 state + Mulberry32 output): deterministic across
 * platforms, cheap, and good enough for sampling and noise (not cryptography).
 */
import { MedfieldError } from './errors.js';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller, caches the second value). */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Snapshot of the full generator state (plain data, JSON-safe), for checkpoints. */
  getState(): RngState;
  /** Restores a snapshot from `getState()`: the following draws repeat bit-exactly. */
  setState(state: RngState): void;
}

/**
 * The whole state of an `Rng`: `counter` is the 32-bit Weyl state (unsigned integer) and
 * `spare` the cached second Box-Muller normal, or null when none is cached.
 */
export interface RngState {
  readonly counter: number;
  readonly spare: number | null;
}

function checkState(state: RngState): void {
  const ok = typeof state === 'object' && state !== null
    && Number.isInteger(state.counter) && state.counter >= 0 && state.counter <= 0xffffffff
    && (state.spare === null || typeof state.spare === 'number');
  if (!ok) {
    throw new MedfieldError('bad-data', 'rng state', `expected { counter: integer in [0, 2^32), spare: number | null }, got ${JSON.stringify(state)}`);
  }
}

export function createRng(seed: number): Rng {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  let spare = NaN;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal(): number {
      if (!Number.isNaN(spare)) { const v = spare; spare = NaN; return v; }
      let u = 0;
      while (u <= 1e-300) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int(n: number): number { return Math.floor(next() * n); },
    getState(): RngState {
      return { counter: s >>> 0, spare: Number.isNaN(spare) ? null : spare };
    },
    setState(state: RngState): void {
      checkState(state);
      s = state.counter >>> 0;
      spare = state.spare === null ? NaN : state.spare;
    },
  };
}
