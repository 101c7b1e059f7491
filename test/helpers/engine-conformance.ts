/**
 * The backend conformance suite (issue 4): every Backend implementation must reproduce the
 * float64 reference kernels on the same inputs. Register with `backendConformance(name, make)`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, GridKernelSpec, LinearKernelSpec } from '../../src/engine/backend.js';
import { createRng } from '../../src/core/rng.js';
import { gridBackwardInput, gridBackwardParams, gridForward, frequencyBackwardInput, frequencyForward } from '../../src/engine/cpu/grid-kernels.js';
import { activationBackward, linearBackwardInput, linearBackwardParams, linearForward, ACT_CODES } from '../../src/engine/cpu/linear-kernels.js';
import { hashGridLevels } from '../../src/engine/encodings/hash-grid.js';
import { ENGINE_F32_ABS } from '../tolerances.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, n = a.length): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function backendConformance(name: string, make: () => Promise<Backend>): void {
  test(`backend conformance [${name}]`, async (t) => {
    const be = await make();
    try {
      for (const [dim, F] of [[2, 2], [3, 1], [3, 2], [3, 4], [2, 3]] as const) {
        await t.test(`grid ${dim}D, ${F} features: forward, backward to tables and to inputs`, () => {
          const rng = createRng(100 + dim * 10 + F);
          const n = 203, pitch = 208;
          const plan = hashGridLevels({ inputDim: dim, levels: 5, log2TableSize: 9, baseResolution: 3, growthFactor: 2 });
          const levels = plan.map((L) => ({ ...L, table: be.allocF32(L.size * F), grad: be.allocF32(L.size * F), touched: be.allocU8(L.size) }));
          for (const L of levels) for (let i = 0; i < L.table.length; i++) L.table[i] = rng.normal();
          const spec: GridKernelSpec = { dim, features: F, levels };
          const x = be.allocF32(n * dim);
          for (let i = 0; i < x.length; i++) x[i] = rng.next() * 1.1 - 0.05;
          const R = levels.length * F;
          const out = be.allocF32(R * pitch);
          be.gridForward(spec, x, n, out, pitch);
          const ref = new Float64Array(R * pitch);
          const refLevels = levels.map((L) => ({ res: L.res, size: L.size, dense: L.dense, table: Float64Array.from(L.table), grad: new Float64Array(L.size * F), touched: new Uint8Array(L.size) }));
          const x64 = Float64Array.from(x);
          gridForward(dim, F, refLevels, x64, 0, 0, n, ref, 0, pitch);
          for (let r = 0; r < R; r++) assert.ok(maxAbsDiff(out.subarray(r * pitch, r * pitch + n), ref.subarray(r * pitch, r * pitch + n)) < ENGINE_F32_ABS, `forward row ${r}`);
          const d = be.allocF32(R * pitch);
          for (let i = 0; i < d.length; i++) d[i] = rng.normal();
          be.gridBackward(spec, x, n, d, pitch);
          gridBackwardParams(dim, F, refLevels, refLevels.map((_, l) => l), x64, 0, n, Float64Array.from(d), 0, pitch);
          levels.forEach((L, l) => {
            assert.ok(maxAbsDiff(L.grad, refLevels[l]!.grad) < ENGINE_F32_ABS * 10, `table grad level ${l}`);
            assert.deepEqual(Array.from(L.touched), Array.from(refLevels[l]!.touched), `touched rows level ${l}`);
          });
          const dx = be.allocF32(n * dim), dx64 = new Float64Array(n * dim);
          be.gridInputGrad(spec, x, n, d, pitch, dx);
          gridBackwardInput(dim, F, refLevels, x64, 0, 0, n, Float64Array.from(d), 0, pitch, dx64, 0);
          let scale = 1; for (const v of dx64) scale = Math.max(scale, Math.abs(v));
          assert.ok(maxAbsDiff(dx, dx64) < ENGINE_F32_ABS * scale, 'input grad');
        });
      }

      await t.test('frequency forward and input gradient', () => {
        const rng = createRng(7);
        const spec = { dim: 3, octaves: 5, includeInput: true };
        const n = 37, pitch = 40, rows = 33;
        const x = be.allocF32(n * 3); for (let i = 0; i < x.length; i++) x[i] = rng.next();
        const out = be.allocF32(rows * pitch), ref = new Float64Array(rows * pitch);
        be.frequencyForward(spec, x, n, out, pitch);
        frequencyForward(3, 5, true, Float64Array.from(x), 0, 0, n, ref, 0, pitch);
        assert.ok(maxAbsDiff(out, ref) < ENGINE_F32_ABS);
        const d = be.allocF32(rows * pitch); for (let i = 0; i < d.length; i++) d[i] = rng.normal();
        const dx = be.allocF32(n * 3), dx64 = new Float64Array(n * 3);
        be.frequencyInputGrad(spec, x, n, d, pitch, dx);
        frequencyBackwardInput(3, 5, true, Float64Array.from(x), 0, 0, n, Float64Array.from(d), 0, pitch, dx64, 0);
        assert.ok(maxAbsDiff(dx, dx64) < ENGINE_F32_ABS * 100, 'input grad (terms up to 2^4 pi)');
      });

      for (const [inD, outD, act] of [[13, 6, 'relu'], [32, 64, 'relu'], [7, 1, 'none'], [9, 5, 'softplus'], [8, 4, 'sigmoid'], [5, 3, 'leaky-relu'], [6, 2, 'exp']] as const) {
        await t.test(`dense layer ${inD}->${outD} ${act}: forward, dW, db, dX`, () => {
          const rng = createRng(inD * 31 + outD);
          const nPad = 48, pitch = 56;
          const W = be.allocF32(outD * inD), b = be.allocF32(outD), gW = be.allocF32(outD * inD), gb = be.allocF32(outD);
          for (let i = 0; i < W.length; i++) W[i] = rng.normal() * 0.3;
          for (let i = 0; i < b.length; i++) b[i] = rng.normal() * 0.1;
          const layer: LinearKernelSpec = { inDim: inD, outDim: outD, weight: W, bias: b, gradWeight: gW, gradBias: gb, activation: act, leak: 0.05 };
          const X = be.allocF32(inD * pitch); for (let i = 0; i < X.length; i++) X[i] = rng.normal();
          const Y = be.allocF32(outD * pitch);
          be.linearForward(layer, X, Y, nPad, pitch);
          const W64 = Float64Array.from(W), b64 = Float64Array.from(b), X64 = Float64Array.from(X), Y64 = new Float64Array(outD * pitch);
          linearForward(W64, 0, b64, 0, X64, 0, Y64, 0, inD, outD, pitch, 0, nPad, ACT_CODES[act], 0.05);
          for (let o = 0; o < outD; o++) assert.ok(maxAbsDiff(Y.subarray(o * pitch, o * pitch + nPad), Y64.subarray(o * pitch, o * pitch + nPad)) < ENGINE_F32_ABS * 10, `forward row ${o}`);
          const dY = be.allocF32(outD * pitch); for (let i = 0; i < dY.length; i++) dY[i] = rng.normal();
          const dZ64 = Float64Array.from(dY);
          const dX = be.allocF32(inD * pitch);
          gW.fill(0.5); // gradients accumulate
          be.linearBackward(layer, X, Y, dY, nPad, pitch, dX);
          activationBackward(dZ64, 0, Float64Array.from(Y), 0, outD, pitch, 0, nPad, ACT_CODES[act], 0.05);
          const gW64 = new Float64Array(outD * inD).fill(0.5), gb64 = new Float64Array(outD), dX64 = new Float64Array(inD * pitch);
          linearBackwardParams(dZ64, 0, X64, 0, gW64, 0, gb64, 0, inD, outD, pitch, 0, nPad);
          linearBackwardInput(W64, 0, dZ64, 0, dX64, 0, inD, outD, pitch, 0, nPad);
          assert.ok(maxAbsDiff(gW, gW64) < ENGINE_F32_ABS * 20, `dW ${maxAbsDiff(gW, gW64)}`);
          assert.ok(maxAbsDiff(gb, gb64) < ENGINE_F32_ABS * 20, 'db');
          for (let i = 0; i < inD; i++) assert.ok(maxAbsDiff(dX.subarray(i * pitch, i * pitch + nPad), dX64.subarray(i * pitch, i * pitch + nPad)) < ENGINE_F32_ABS * 10, `dX row ${i}`);
        });
      }

      if (be.mlpForward && be.mlpBackward) await t.test('fused MLP passes equal the per-layer kernels (with a skip connection)', () => {
        const rng = createRng(77);
        const P = 2056, nPad = 2056, I = 7;
        const mk = (inDim: number, outDim: number, activation: LinearKernelSpec['activation']): LinearKernelSpec => {
          const weight = be.allocF32(outDim * inDim), bias = be.allocF32(outDim);
          for (let i = 0; i < weight.length; i++) weight[i] = rng.normal() * 0.4;
          for (let i = 0; i < bias.length; i++) bias[i] = rng.normal() * 0.1;
          return { inDim, outDim, weight, bias, gradWeight: be.allocF32(outDim * inDim), gradBias: be.allocF32(outDim), activation, leak: 0.01 };
        };
        const l0 = mk(I, 16, 'relu'), l1 = mk(16 + I, 12, 'softplus'), l2 = mk(12, 3, 'none');
        const x = be.allocF32(I * P); for (let i = 0; i < x.length; i++) x[i] = rng.normal();
        const run = (fused: boolean): Float32Array[] => {
          const in1 = be.allocF32((16 + I) * P), d1 = be.allocF32((16 + I) * P);
          const h0 = in1.subarray(0, 16 * P), dh0 = d1.subarray(0, 16 * P);
          const h1 = be.allocF32(12 * P), dh1 = be.allocF32(12 * P), y = be.allocF32(3 * P), dy = be.allocF32(3 * P), dx = be.allocF32(I * P);
          const layers = [
            { layer: l0, input: x, output: h0, dInput: dx, dOutput: dh0, skip: null },
            { layer: l1, input: in1, output: h1, dInput: d1, dOutput: dh1, skip: { src: x, dst: in1.subarray(16 * P), rows: I } },
            { layer: l2, input: h1, output: y, dInput: dh1, dOutput: dy, skip: null },
          ];
          for (const L of [l0, l1, l2]) { L.gradWeight.fill(0); L.gradBias!.fill(0); }
          if (fused) be.mlpForward!(layers, nPad, P);
          else for (const L of layers) { if (L.skip) be.copyRows(L.skip.src, P, L.skip.dst, P, L.skip.rows, nPad); be.linearForward(L.layer, L.input, L.output, nPad, P); }
          for (let i = 0; i < dy.length; i++) dy[i] = Math.sin(i);
          if (fused) be.mlpBackward!(layers, nPad, P);
          else for (let k = 2; k >= 0; k--) { const L = layers[k]!; be.linearBackward(L.layer, L.input, L.output, L.dOutput, nPad, P, L.dInput); }
          return [y.slice(), dx.slice(), d1.slice(16 * P), ...[l0, l1, l2].flatMap((L) => [L.gradWeight.slice(), L.gradBias!.slice()])];
        };
        const a = run(false), b = run(true);
        a.forEach((v, i) => assert.deepEqual(b[i], v, `output ${i}`));
      });

      await t.test('mse loss and gradient; padding columns get zero gradient', () => {
        const n = 21, nPad = 24, pitch = 24, D = 2;
        const pred = be.allocF32(D * pitch), target = be.allocF32(n * D), d = be.allocF32(D * pitch);
        for (let o = 0; o < D; o++) for (let p = 0; p < pitch; p++) pred[o * pitch + p] = o + p * 0.1;
        for (let p = 0; p < n; p++) for (let o = 0; o < D; o++) target[p * D + o] = p * 0.05;
        d.fill(9);
        const loss = be.mse(pred, target, d, n, D, pitch, nPad);
        let s = 0;
        for (let p = 0; p < n; p++) for (let o = 0; o < D; o++) s += (o + p * 0.1 - p * 0.05) ** 2;
        assert.ok(Math.abs(loss - s / (n * D)) < 1e-5);
        assert.ok(Math.abs(d[pitch + 3]! - (2 * (1 + 0.3 - 0.15)) / (n * D)) < 1e-6);
        for (let p = n; p < nPad; p++) assert.equal(d[p], 0);
      });

      for (const rs of [1, 2, 3, 4]) await t.test(`adam (rows of ${rs}): lazy (touched rows only) update matches the formula`, () => {
        const rows = 37;
        const data = be.allocF32(rows * rs), grad = be.allocF32(rows * rs), m = be.allocF32(rows * rs), v = be.allocF32(rows * rs), touched = be.allocU8(rows);
        for (let i = 0; i < data.length; i++) { data[i] = i * 0.01; grad[i] = Math.sin(i); m[i] = 0.1; v[i] = 0.2; }
        for (let r = 0; r < rows; r += 3) touched[r] = 1;
        const before = Float64Array.from(data), g0 = Float64Array.from(grad);
        const h = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.01, bc1: 1 - 0.9 ** 3, bc2: 1 - 0.99 ** 3, clearGrad: true };
        be.adamStep({ data, grad, m, v, touched, rows, rowSize: rs }, h);
        for (let r = 0; r < rows; r++) for (let k = r * rs; k < r * rs + rs; k++) {
          if (r % 3 !== 0) { assert.equal(data[k], before[k]); assert.equal(grad[k], g0[k]); continue; }
          const g = g0[k]! + 0.01 * before[k]!;
          const mk = 0.9 * 0.1 + 0.1 * g, vk = 0.99 * 0.2 + 0.01 * g * g;
          const want = before[k]! - (h.lr / h.bc1) * mk / (Math.sqrt(vk / h.bc2) + h.eps);
          assert.ok(Math.abs(data[k]! - want) < 1e-6, `row ${r}`);
          assert.equal(grad[k], 0);
        }
        assert.equal(touched.reduce((a, b) => a + b, 0), 0, 'flags cleared');
      });

      await t.test('sgd with momentum', () => {
        const rows = 10;
        const data = be.allocF32(rows), grad = be.allocF32(rows), mom = be.allocF32(rows);
        for (let i = 0; i < rows; i++) { data[i] = 1; grad[i] = i; mom[i] = 0.5; }
        be.sgdStep({ data, grad, momentum: mom, rows, rowSize: 1 }, { lr: 0.1, momentum: 0.9, weightDecay: 0, clearGrad: false });
        for (let i = 0; i < rows; i++) assert.ok(Math.abs(data[i]! - (1 - 0.1 * (0.45 + i))) < 1e-6);
      });
    } finally {
      be.dispose();
    }
  });
}
