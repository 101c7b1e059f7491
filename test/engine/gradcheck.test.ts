/**
 * Finite-difference gradient checks of every kernel on the float64 reference path (the same
 * kernel code the CPU backend runs in float32), central differences with h = 1e-6.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { gridBackwardInput, gridBackwardParams, gridForward, frequencyBackwardInput, frequencyForward, type GridLevelRef } from '../../src/engine/cpu/grid-kernels.js';
import { activationBackward, linearBackwardInput, linearBackwardParams, linearForward, ACT_CODES } from '../../src/engine/cpu/linear-kernels.js';
import { hashGridLevels } from '../../src/engine/encodings/hash-grid.js';
import { ENGINE_FD64_REL } from '../tolerances.js';

const H = 1e-6;

function assertClose(analytic: number, numeric: number, scale: number, what: string): void {
  assert.ok(Math.abs(analytic - numeric) <= ENGINE_FD64_REL * Math.max(1, scale), `${what}: analytic ${analytic} vs numeric ${numeric}`);
}

function makeLevels(dim: 2 | 3, F: number, rng: ReturnType<typeof createRng>): GridLevelRef[] {
  // Small table so that coarse levels are dense and fine levels hash (with collisions).
  const plan = hashGridLevels({ inputDim: dim, levels: 4, log2TableSize: 7, baseResolution: 2, growthFactor: 2.5 });
  assert.ok(plan.some((l) => l.dense) && plan.some((l) => !l.dense), 'plan mixes dense and hashed levels');
  return plan.map((L) => {
    const table = new Float64Array(L.size * F);
    for (let i = 0; i < table.length; i++) table[i] = rng.normal();
    return { ...L, table, grad: new Float64Array(L.size * F), touched: new Uint8Array(L.size) };
  });
}

for (const dim of [2, 3] as const) {
  test(`grid encoding ${dim}D (dense + hashed levels): d/dtable and d/dx match central differences`, () => {
    const rng = createRng(11 + dim);
    const F = 2, n = 7, pitch = 8;
    const levels = makeLevels(dim, F, rng);
    const x = new Float64Array(n * dim);
    for (let i = 0; i < x.length; i++) x[i] = 0.02 + 0.96 * rng.next();
    const R = levels.length * F;
    const w = new Float64Array(R * pitch);
    for (let i = 0; i < w.length; i++) w[i] = rng.normal();
    const out = new Float64Array(R * pitch);
    const loss = (): number => { gridForward(dim, F, levels, x, 0, 0, n, out, 0, pitch); let s = 0; for (let r = 0; r < R; r++) for (let p = 0; p < n; p++) s += out[r * pitch + p]! * w[r * pitch + p]!; return s; };
    gridBackwardParams(dim, F, levels, levels.map((_, l) => l), x, 0, n, w, 0, pitch);
    const dx = new Float64Array(n * dim);
    gridBackwardInput(dim, F, levels, x, 0, 0, n, w, 0, pitch, dx, 0);
    let checked = 0;
    for (const L of levels) {
      for (let row = 0; row < L.size; row++) {
        if (!L.touched![row]) { for (let f = 0; f < F; f++) assert.equal(L.grad![row * F + f], 0, 'untouched row has no gradient'); continue; }
        for (let f = 0; f < F; f++) {
          const k = row * F + f, v = L.table[k]!;
          L.table[k] = v + H; const lp = loss(); L.table[k] = v - H; const lm = loss(); L.table[k] = v;
          assertClose(L.grad![k]!, (lp - lm) / (2 * H), 1, `table level res ${L.res} row ${row}`);
          checked++;
        }
      }
    }
    assert.ok(checked > 40, `checked ${checked} table entries`);
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      x[i] = v + H; const lp = loss(); x[i] = v - H; const lm = loss(); x[i] = v;
      assertClose(dx[i]!, (lp - lm) / (2 * H), Math.abs(dx[i]!), `dx[${i}]`);
    }
  });
}

test('grid encoding: inputs outside [0,1] are clamped and get zero input gradient', () => {
  const rng = createRng(3);
  const levels = makeLevels(3, 1, rng);
  const x = new Float64Array([-0.5, 0.3, 1.7]);
  const xc = new Float64Array([0, 0.3, 1]);
  const a = new Float64Array(levels.length * 8), b = new Float64Array(levels.length * 8);
  gridForward(3, 1, levels, x, 0, 0, 1, a, 0, 8);
  gridForward(3, 1, levels, xc, 0, 0, 1, b, 0, 8);
  assert.deepEqual(a, b);
  const d = new Float64Array(levels.length * 8).fill(1), dx = new Float64Array(3);
  gridBackwardInput(3, 1, levels, x, 0, 0, 1, d, 0, 8, dx, 0);
  assert.equal(dx[0], 0); assert.equal(dx[2], 0); assert.notEqual(dx[1], 0);
});

test('grid encoding at a vertex returns the vertex value exactly (dense level)', () => {
  const res = 4, F = 1;
  const table = new Float64Array((res + 1) ** 3);
  for (let i = 0; i < table.length; i++) table[i] = i * 0.5;
  const L: GridLevelRef = { res, size: table.length, dense: true, table };
  const x = new Float64Array([1 / 4, 2 / 4, 3 / 4]);
  const out = new Float64Array(8);
  gridForward(3, F, [L], x, 0, 0, 1, out, 0, 8);
  assert.equal(out[0], (1 + 5 * (2 + 5 * 3)) * 0.5);
});

test('frequency encoding: values and d/dx match central differences', () => {
  const rng = createRng(5);
  const dim = 3, oct = 4, n = 5, pitch = 8, rows = dim * (2 * oct + 1);
  const x = new Float64Array(n * dim).map(() => rng.next());
  const out = new Float64Array(rows * pitch);
  frequencyForward(dim, oct, true, x, 0, 0, n, out, 0, pitch);
  assert.equal(out[1 * pitch + 2], x[2 * dim + 1]);
  assert.ok(Math.abs(out[(dim + 2 * dim * 2 + 1) * pitch + 0]! - Math.sin(4 * Math.PI * x[1]!)) < 1e-15);
  const w = new Float64Array(rows * pitch).map(() => rng.normal());
  const loss = (): number => { frequencyForward(dim, oct, true, x, 0, 0, n, out, 0, pitch); let s = 0; for (let r = 0; r < rows; r++) for (let p = 0; p < n; p++) s += out[r * pitch + p]! * w[r * pitch + p]!; return s; };
  const dx = new Float64Array(n * dim);
  frequencyBackwardInput(dim, oct, true, x, 0, 0, n, w, 0, pitch, dx, 0);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    x[i] = v + H; const lp = loss(); x[i] = v - H; const lm = loss(); x[i] = v;
    assertClose(dx[i]!, (lp - lm) / (2 * H), Math.abs(dx[i]!), `dx[${i}]`);
  }
});

for (const act of ['none', 'relu', 'leaky-relu', 'softplus', 'sigmoid', 'exp'] as const) {
  test(`dense layer (${act}): dW, db, dX match central differences`, () => {
    const rng = createRng(17);
    const inD = 5, outD = 3, n = 9, pitch = 16, code = ACT_CODES[act], leak = 0.1;
    const W = new Float64Array(outD * inD).map(() => rng.normal() * 0.5), b = new Float64Array(outD).map(() => rng.normal() * 0.1);
    const X = new Float64Array(inD * pitch).map(() => rng.normal());
    const r = new Float64Array(outD * pitch).map(() => rng.normal());
    const Y = new Float64Array(outD * pitch);
    const loss = (): number => { linearForward(W, 0, b, 0, X, 0, Y, 0, inD, outD, pitch, 0, n, code, leak); let s = 0; for (let o = 0; o < outD; o++) for (let p = 0; p < n; p++) s += Y[o * pitch + p]! * r[o * pitch + p]!; return s; };
    loss();
    const dZ = r.slice();
    activationBackward(dZ, 0, Y, 0, outD, pitch, 0, n, code, leak);
    const dW = new Float64Array(outD * inD), db = new Float64Array(outD), dX = new Float64Array(inD * pitch);
    linearBackwardParams(dZ, 0, X, 0, dW, 0, db, 0, inD, outD, pitch, 0, n);
    linearBackwardInput(W, 0, dZ, 0, dX, 0, inD, outD, pitch, 0, n);
    const fd = (arr: Float64Array, i: number): number => { const v = arr[i]!; arr[i] = v + H; const lp = loss(); arr[i] = v - H; const lm = loss(); arr[i] = v; return (lp - lm) / (2 * H); };
    for (let i = 0; i < W.length; i++) assertClose(dW[i]!, fd(W, i), Math.abs(dW[i]!), `dW[${i}]`);
    for (let i = 0; i < b.length; i++) assertClose(db[i]!, fd(b, i), Math.abs(db[i]!), `db[${i}]`);
    for (let i = 0; i < inD; i++) for (let p = 0; p < n; p++) assertClose(dX[i * pitch + p]!, fd(X, i * pitch + p), Math.abs(dX[i * pitch + p]!), `dX[${i},${p}]`);
  });
}
