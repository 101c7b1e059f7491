import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../src/core/rng.js';
import { MedfieldError } from '../../src/core/errors.js';
import type { XrayGeometry } from '../../src/geometry/xray.js';
import { cgls, orderedSubsets, osSart, sart, sirt, totalVariation, tvDenoiseSteps } from '../../src/physics/iterative.js';
import { buildMatrixOperator, type MatrixOperator } from '../helpers/matrix-operator.js';
import * as T from '../tolerances.js';

function angles(n: number, arc = 2 * Math.PI): Float64Array {
  return new Float64Array(n).map((_, i) => (arc * i) / n);
}

/** 8 x 8 x 2 parallel beam, 24 views of 16 x 2 pixels: overdetermined (768 rays, 128 unknowns). */
function smallParallel(): MatrixOperator {
  const geo: XrayGeometry = {
    mode: 'parallel', DSD: 100, DSO: 50, nDetector: [16, 2], dDetector: [0.75, 1], offDetector: [0, 0],
    nVoxel: [8, 8, 2], dVoxel: [1, 1, 1], offOrigin: [0, 0, 0],
  };
  return buildMatrixOperator(geo, angles(24, Math.PI));
}

/** 6^3 cone beam, 20 views of 10 x 10 pixels. */
function smallCone(views = 20): MatrixOperator {
  const geo: XrayGeometry = {
    mode: 'cone', DSD: 60, DSO: 40, nDetector: [10, 10], dDetector: [1.5, 1.5], offDetector: [0, 0],
    nVoxel: [6, 6, 6], dVoxel: [1, 1, 1], offOrigin: [0, 0, 0],
  };
  return buildMatrixOperator(geo, angles(views));
}

/** A positive piecewise-smooth test object. */
function object(n: number, seed = 1): Float32Array {
  const rng = createRng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.2 + 0.8 * rng.next();
  return x;
}

async function project(op: MatrixOperator, x: Float32Array): Promise<Float32Array> {
  const y = new Float32Array(op.anglesRad.length * op.viewSize);
  await op.forward(x, y);
  return y;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0, t = 0;
  for (let i = 0; i < a.length; i++) { s += (a[i]! - b[i]!) ** 2; t += b[i]! ** 2; }
  return Math.sqrt(s / t);
}

/** Dense least squares by Cholesky of A^T A (tiny, well-posed problems). */
function leastSquares(A: Float64Array, rows: number, cols: number, y: ArrayLike<number>): Float64Array {
  const N = new Float64Array(cols * cols), b = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < cols; i++) {
      const a = A[r * cols + i]!;
      if (a === 0) continue;
      b[i] += a * y[r]!;
      for (let j = 0; j < cols; j++) N[i * cols + j] += a * A[r * cols + j]!;
    }
  }
  // Cholesky N = L L^T in place (lower).
  for (let j = 0; j < cols; j++) {
    let d = N[j * cols + j]!;
    for (let k = 0; k < j; k++) d -= N[j * cols + k]! ** 2;
    assert.ok(d > 0, 'normal matrix must be positive definite');
    const l = Math.sqrt(d);
    N[j * cols + j] = l;
    for (let i = j + 1; i < cols; i++) {
      let s = N[i * cols + j]!;
      for (let k = 0; k < j; k++) s -= N[i * cols + k]! * N[j * cols + k]!;
      N[i * cols + j] = s / l;
    }
  }
  const z = new Float64Array(cols);
  for (let i = 0; i < cols; i++) { let s = b[i]!; for (let k = 0; k < i; k++) s -= N[i * cols + k]! * z[k]!; z[i] = s / N[i * cols + i]!; }
  const x = new Float64Array(cols);
  for (let i = cols - 1; i >= 0; i--) { let s = z[i]!; for (let k = i + 1; k < cols; k++) s -= N[k * cols + i]! * x[k]!; x[i] = s / N[i * cols + i]!; }
  return x;
}

test('matrix operator: adjoint is exact (<Ax, y> = <x, A^T y>) and view subsets select rows', async () => {
  const op = smallCone();
  const rng = createRng(3);
  const x = new Float32Array(op.volumeSize).map(() => rng.next() - 0.5);
  const y = new Float32Array(op.anglesRad.length * op.viewSize).map(() => rng.next() - 0.5);
  const Ax = await project(op, x);
  const Aty = new Float32Array(op.volumeSize);
  await op.adjoint(y, Aty);
  let a = 0, b = 0;
  for (let i = 0; i < y.length; i++) a += Ax[i]! * y[i]!;
  for (let i = 0; i < x.length; i++) b += x[i]! * Aty[i]!;
  assert.ok(Math.abs(a - b) <= T.ADJOINT_REL * Math.abs(a), `${a} vs ${b}`);
  // A ray through the middle of a 6 mm cube is about 6 mm long.
  const ones = await project(op, new Float32Array(op.volumeSize).fill(1));
  const mid = ones[5 * 10 + 5]!;
  assert.ok(mid > 5.5 && mid < 6.6, `central ray length ${mid}`);
  // forward with views = [2] writes view 2 only; adjoint of views [2] equals the full adjoint of y masked to view 2.
  const part = new Float32Array(y.length).fill(-7);
  await op.forward(x, part, Int32Array.of(2));
  for (let i = 0; i < y.length; i++) {
    const inView2 = i >= 2 * op.viewSize && i < 3 * op.viewSize;
    assert.equal(part[i], inView2 ? Ax[i] : -7);
  }
  const masked = y.map((v, i) => (i >= 2 * op.viewSize && i < 3 * op.viewSize ? v : 0));
  const a1 = new Float32Array(op.volumeSize), a2 = new Float32Array(op.volumeSize);
  await op.adjoint(y, a1, Int32Array.of(2));
  await op.adjoint(masked, a2);
  assert.deepEqual(a1, a2);
});

test('SIRT: R-weighted residual decreases monotonically and x converges to the true solution of a consistent problem', async () => {
  const op = smallParallel();
  const xt = object(op.volumeSize);
  const y = await project(op, xt);
  const res = await sirt(op, y, { iterations: 400, nonneg: false });
  const w = res.weightedResidualNorms!;
  assert.equal(w.length, 401);
  for (let k = 1; k < w.length; k++) assert.ok(w[k]! <= w[k - 1]! * (1 + T.MONOTONE_SLACK), `weighted residual rose at ${k}: ${w[k - 1]} -> ${w[k]}`);
  assert.ok(res.residualNorms[400]! < 1e-2 * res.residualNorms[0]!, `residual ${res.residualNorms[400]} vs ${res.residualNorms[0]}`);
  const e = relErr(res.x, xt);
  assert.ok(e < T.SIRT_CONSISTENT_REL, `relative error ${e}`);
});

test('SIRT/SART with non-negativity: no negative voxel on a noisy problem whose unconstrained solution has negatives', async () => {
  const op = smallCone();
  const xt = new Float32Array(op.volumeSize);
  for (let k = 1; k < 5; k++) for (let j = 1; j < 5; j++) for (let i = 1; i < 5; i++) xt[i + 6 * (j + 6 * k)] = 1;
  const y = await project(op, xt);
  const rng = createRng(9);
  for (let i = 0; i < y.length; i++) y[i] += 0.3 * rng.normal();
  for (const solver of ['sirt', 'sart'] as const) {
    const run = (nonneg: boolean) => solver === 'sirt' ? sirt(op, y, { iterations: 30, nonneg }) : sart(op, y, { iterations: 5, nonneg });
    const pos = await run(true);
    let min = Infinity;
    for (const v of pos.x) min = Math.min(min, v);
    assert.ok(min >= 0, `${solver}: min ${min}`);
    const free = await run(false);
    let negFree = 0;
    for (const v of free.x) if (v < 0) negFree++;
    assert.ok(negFree > 0, `${solver}: the unconstrained solution must have negatives for this test to mean anything`);
  }
});

test('OS-SART and SART converge on a consistent problem, faster per epoch than SIRT', async () => {
  const op = smallParallel();
  const xt = object(op.volumeSize, 5);
  const y = await project(op, xt);
  const s1 = await sirt(op, y, { iterations: 10, nonneg: false });
  const os = await osSart(op, y, { iterations: 10, subsets: 6, nonneg: false, trackResidual: true });
  const sa = await sart(op, y, { iterations: 10, nonneg: false, lambda: 0.8 });
  const eS = relErr(s1.x, xt), eO = relErr(os.x, xt), eA = relErr(sa.x, xt);
  assert.ok(eO < eS && eA < eS, `errors after 10 epochs: SIRT ${eS}, OS-SART ${eO}, SART ${eA}`);
  assert.equal(os.residualNorms.length, 11);
  assert.ok(os.residualNorms[10]! < 0.05 * os.residualNorms[0]!);
  const long = await osSart(op, y, { iterations: 200, subsets: 6, nonneg: false });
  assert.ok(relErr(long.x, xt) < T.SART_CONSISTENT_REL, `OS-SART 200 epochs: ${relErr(long.x, xt)}`);
});

test('OS-SART: recomputed column weights give the same result as cached ones', async () => {
  const op = smallCone();
  const y = await project(op, object(op.volumeSize, 4));
  const a = await osSart(op, y, { iterations: 2, subsets: 4, cacheColumnWeights: true });
  const before = op.calls.adjoint;
  const b = await osSart(op, y, { iterations: 2, subsets: 4, cacheColumnWeights: false });
  assert.deepEqual(b.x, a.x);
  // 2 epochs x 4 subsets x (update + weights) adjoints when recomputing.
  assert.equal(op.calls.adjoint - before, 16);
});

test('ordered subsets cover every view once, interleaved, bit-reversed order', () => {
  const s = orderedSubsets(10, 4);
  assert.deepEqual(s.map((a) => [...a]), [[0, 4, 8], [2, 6], [1, 5, 9], [3, 7]]);
  assert.throws(() => orderedSubsets(10, 11), MedfieldError);
});

test('CGLS: residual decreases monotonically and matches the direct least-squares solve (noisy, inconsistent data)', async () => {
  const op = smallParallel();
  const xt = object(op.volumeSize, 7);
  const y = await project(op, xt);
  const rng = createRng(11);
  for (let i = 0; i < y.length; i++) y[i] += 0.05 * rng.normal();
  const res = await cgls(op, y, { iterations: 60 });
  const r = res.residualNorms;
  for (let k = 1; k < r.length; k++) assert.ok(r[k]! <= r[k - 1]! * (1 + T.MONOTONE_SLACK), `residual rose at ${k}`);
  const xs = leastSquares(op.dense(), y.length, op.volumeSize, y);
  const e = relErr(res.x, xs);
  process.stdout.write(`# CGLS 60 it vs Cholesky LS: rel. diff ${e.toExponential(2)}; LS vs truth ${relErr(xs, xt).toExponential(2)}\n`);
  assert.ok(e < T.CGLS_DIRECT_REL, `CGLS vs direct: ${e}`);
});

test('TV steps reduce the TV of a noisy piecewise-constant volume and its error', () => {
  const n = 16, dims = [n, n, n] as const;
  const clean = new Float32Array(n ** 3);
  for (let k = 4; k < 12; k++) for (let j = 4; j < 12; j++) for (let i = 2; i < 10; i++) clean[i + n * (j + n * k)] = 1;
  const rng = createRng(2);
  const noisy = clean.map((v) => v + 0.1 * rng.normal());
  const x = noisy.slice();
  const noiseNorm = Math.sqrt(noisy.reduce((s, v, i) => s + (v - clean[i]!) ** 2, 0));
  tvDenoiseSteps(x, dims, { iterations: 50, stepSize: noiseNorm / 50 });
  const tv0 = totalVariation(noisy, dims), tv1 = totalVariation(x, dims);
  assert.ok(tv1 < 0.6 * tv0, `TV ${tv0} -> ${tv1}`);
  assert.ok(relErr(x, clean) < 0.8 * relErr(noisy, clean), `error ${relErr(noisy, clean)} -> ${relErr(x, clean)}`);
  // A constant volume has zero TV gradient: it must not move.
  const flat = new Float32Array(n ** 3).fill(0.5);
  tvDenoiseSteps(flat, dims, { iterations: 3, stepSize: 1 });
  assert.ok(flat.every((v) => v === 0.5));
});

test('ASD-POCS-style TV in SIRT improves a few-view reconstruction of a piecewise-constant object', async () => {
  const op = smallCone(6);
  const xt = new Float32Array(op.volumeSize);
  for (let k = 1; k < 5; k++) for (let j = 2; j < 5; j++) for (let i = 1; i < 4; i++) xt[i + 6 * (j + 6 * k)] = 1;
  const y = await project(op, xt);
  const plain = await sirt(op, y, { iterations: 40 });
  const tv = await sirt(op, y, { iterations: 40, tv: {} });
  const eP = relErr(plain.x, xt), eT = relErr(tv.x, xt);
  process.stdout.write(`# SIRT 6 views 6^3: rel. error ${eP.toFixed(4)} plain, ${eT.toFixed(4)} with TV\n`);
  assert.ok(eT < eP, `TV ${eT} vs plain ${eP}`);
  assert.ok(totalVariation(tv.x, op.geometry.nVoxel) < totalVariation(plain.x, op.geometry.nVoxel));
});

test('bad options: wrong projection size, lambda, iterations', async () => {
  const op = smallParallel();
  const y = new Float32Array(op.anglesRad.length * op.viewSize);
  await assert.rejects(sirt(op, new Float32Array(3), { iterations: 1 }), /projections/);
  await assert.rejects(sirt(op, y, { iterations: 1, lambda: 2 }), /lambda/);
  await assert.rejects(cgls(op, y, { iterations: 0 }), /iterations/);
  await assert.rejects(osSart(op, y, { iterations: 1, subsets: 0 }), /subsets/);
});
