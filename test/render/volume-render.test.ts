import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { gridAabb } from '../../src/geometry/grid.js';
import { rayAabb } from '../../src/geometry/ray-box.js';
import { bilinearPixel, hierarchicalSamples, intervalDeltas, mergeSorted, patchPixels, stratifiedSamples } from '../../src/render/samplers.js';
import { compositeEa, compositeEaBackward, compositeLine, compositeLineBackward } from '../../src/render/volume-render.js';
import { RENDER_FD64_REL } from '../tolerances.js';

test('EA compositing backward matches float64 central differences (dL/dsigma, dL/dc)', () => {
  const rng = createRng(3);
  const nRays = 4, S = 17;
  const sigma = new Float64Array(nRays * S), c = new Float64Array(nRays * S), delta = new Float64Array(nRays * S);
  for (let i = 0; i < sigma.length; i++) { sigma[i] = 3 * rng.next(); c[i] = rng.next(); delta[i] = 0.01 + 0.2 * rng.next(); }
  const gOut = Float64Array.from({ length: nRays }, () => rng.normal());
  // L = sum_r gOut[r] C_r
  const L = (): number => { const col = new Float64Array(nRays); compositeEa(sigma, c, delta, nRays, S, col); let s = 0; for (let r = 0; r < nRays; r++) s += gOut[r]! * col[r]!; return s; };
  const dS = new Float64Array(nRays * S), dC = new Float64Array(nRays * S);
  compositeEaBackward(sigma, c, delta, nRays, S, gOut, dS, dC);
  const h = 1e-6;
  let maxS = 0, maxC = 0, errS = 0, errC = 0;
  for (let i = 0; i < sigma.length; i++) {
    const s0 = sigma[i]!;
    sigma[i] = s0 + h; const a = L(); sigma[i] = s0 - h; const b = L(); sigma[i] = s0;
    const fdS = (a - b) / (2 * h);
    const c0 = c[i]!;
    c[i] = c0 + h; const a2 = L(); c[i] = c0 - h; const b2 = L(); c[i] = c0;
    const fdC = (a2 - b2) / (2 * h);
    errS = Math.max(errS, Math.abs(fdS - dS[i]!)); maxS = Math.max(maxS, Math.abs(fdS));
    errC = Math.max(errC, Math.abs(fdC - dC[i]!)); maxC = Math.max(maxC, Math.abs(fdC));
  }
  assert.ok(maxS > 1e-3 && maxC > 1e-3, 'gradients are not trivially zero');
  assert.ok(errS <= RENDER_FD64_REL * maxS, `dsigma error ${errS} vs max ${maxS}`);
  assert.ok(errC <= RENDER_FD64_REL * maxC, `dc error ${errC} vs max ${maxC}`);
});

test('EA of a uniform medium is c (1 - exp(-sigma L)) for any split of L; weights sum to 1 - T', () => {
  const S = 9, sigma = new Float64Array(S).fill(1.7), c = new Float64Array(S).fill(0.4);
  const rng = createRng(5);
  const delta = Float64Array.from({ length: S }, () => rng.next());
  const L = delta.reduce((a, b) => a + b, 0);
  const col = new Float64Array(1), w = new Float64Array(S);
  compositeEa(sigma, c, delta, 1, S, col, 0, w);
  assert.ok(Math.abs(col[0]! - 0.4 * (1 - Math.exp(-1.7 * L))) < 1e-12);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - (1 - Math.exp(-1.7 * L))) < 1e-12);
  // front-to-back: an opaque first sample hides the rest
  const s2 = Float64Array.from([1e3, 1, 1]), c2 = Float64Array.from([0.2, 0.9, 0.9]), d2 = Float64Array.from([1, 1, 1]);
  compositeEa(s2, c2, d2, 1, 3, col);
  assert.ok(Math.abs(col[0]! - 0.2) < 1e-12);
});

test('line-integral rendering and its backward', () => {
  const sigma = Float64Array.from([1, 2, 3, 4]), delta = Float64Array.from([0.5, 0.25, 0.125, 1]);
  const col = new Float64Array(2);
  compositeLine(sigma, delta, 2, 2, 3, col);
  assert.deepEqual(Array.from(col), [3 * (0.5 + 0.5), 3 * (0.375 + 4)]);
  const d = new Float64Array(4);
  compositeLineBackward(delta, 2, 2, 3, [1, -2], d);
  assert.deepEqual(Array.from(d), [1.5, 0.75, -0.75, -6]);
});

test('stratified samples stay in their bins; deltas sum to the clipped length', () => {
  const rng = createRng(1), S = 16, t = new Float64Array(S), d = new Float64Array(S);
  stratifiedSamples(2, 10, S, rng, t);
  for (let k = 0; k < S; k++) assert.ok(t[k]! >= 2 + k * 0.5 && t[k]! < 2 + (k + 1) * 0.5);
  intervalDeltas(t, 0, S, 2, 10, d);
  assert.ok(Math.abs(d.reduce((a, b) => a + b, 0) - 8) < 1e-12);
  assert.ok(d.every((x) => x > 0));
  stratifiedSamples(2, 10, S, null, t);
  assert.equal(t[0], 2.25);
});

test('hierarchical samples: inside the ray segment, sorted, concentrated where the weights are', () => {
  const rng = createRng(9);
  const nb = 8, edges = Float64Array.from({ length: nb + 1 }, (_, k) => 10 + k);
  const w = new Float64Array(nb); w[5] = 1;
  const out = new Float64Array(200);
  hierarchicalSamples(edges, 0, w, 0, nb, 200, rng, out, 0);
  let inBin = 0;
  for (let j = 0; j < 200; j++) {
    assert.ok(out[j]! >= 10 && out[j]! <= 18);
    if (j > 0) assert.ok(out[j]! >= out[j - 1]!);
    if (out[j]! >= 15 && out[j]! <= 16) inBin++;
  }
  assert.ok(inBin >= 195, `only ${inBin}/200 in the weighted bin`);
  // all-zero weights: uniform
  hierarchicalSamples(edges, 0, new Float64Array(nb), 0, nb, 8, null, out, 0);
  assert.deepEqual(Array.from(out.subarray(0, 8)).map((x) => Math.round(x * 1e9) / 1e9), [10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5, 17.5]);
  // piecewise-constant pdf: the deterministic quantiles reproduce the CDF
  const w2 = Float64Array.from([1, 3, 0, 0, 0, 0, 0, 0]);
  hierarchicalSamples(edges, 0, w2, 0, nb, 4, null, out, 0, 0);
  // CDF: 0.25 at 11, 1 at 12; quantiles 1/8, 3/8, 5/8, 7/8 -> 10.5, 11 + (1/8)/0.75, ...
  const want = [10.5, 11 + 0.125 / 0.75, 11 + 0.375 / 0.75, 11 + 0.625 / 0.75];
  want.forEach((v, i) => assert.ok(Math.abs(out[i]! - v) < 1e-6, `${out[i]} vs ${v}`));
});

test('hierarchical sampling along random rays: every merged sample point lies inside the grid box', () => {
  const rng = createRng(11);
  const grid = { nVoxel: [20, 30, 10] as [number, number, number], dVoxel: [1.5, 1, 2] as [number, number, number], offOrigin: [3, -2, 1] as [number, number, number] };
  const box = gridAabb(grid), nf = new Float64Array(2);
  const Sc = 12, Sf = 20;
  const tc = new Float64Array(Sc), tf = new Float64Array(Sf), t = new Float64Array(Sc + Sf), edges = new Float64Array(Sc + 1), w = new Float64Array(Sc);
  let rays = 0;
  for (let trial = 0; trial < 500; trial++) {
    const o = [0, 1, 2].map(() => (rng.next() - 0.5) * 200);
    // aim near the box (some rays still miss it)
    let d = [0, 1, 2].map((a) => (box[a]! + box[a + 3]!) / 2 + 30 * rng.normal() - o[a]!);
    const n = Math.hypot(...d); d = d.map((x) => x / n);
    if (!rayAabb(o[0]!, o[1]!, o[2]!, d[0]!, d[1]!, d[2]!, box, nf)) continue;
    rays++;
    stratifiedSamples(nf[0]!, nf[1]!, Sc, rng, tc);
    edges[0] = nf[0]!; edges[Sc] = nf[1]!;
    for (let k = 1; k < Sc; k++) edges[k] = 0.5 * (tc[k - 1]! + tc[k]!);
    for (let k = 0; k < Sc; k++) w[k] = rng.next() ** 4;
    hierarchicalSamples(edges, 0, w, 0, Sc, Sf, rng, tf, 0);
    mergeSorted(tc, 0, Sc, tf, 0, Sf, t, 0);
    for (let k = 0; k < Sc + Sf; k++) {
      if (k > 0) assert.ok(t[k]! >= t[k - 1]!);
      for (let a = 0; a < 3; a++) {
        const p = o[a]! + t[k]! * d[a]!;
        assert.ok(p >= box[a]! - 1e-9 && p <= box[a + 3]! + 1e-9, `axis ${a}: ${p} outside [${box[a]}, ${box[a + 3]}]`);
      }
    }
  }
  assert.ok(rays > 20, `only ${rays} rays met the box`);
});

test('GRAF patch: K x K grid with spacing s (side - 1)/(K - 1), inside the image; bilinear reads are exact on a linear image', () => {
  const rng = createRng(2), K = 5, rows = 40, cols = 30;
  const out = new Float64Array(2 * K * K);
  const img = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) img[r * cols + c] = 0.5 * r - 0.25 * c + 3;
  for (let trial = 0; trial < 50; trial++) {
    const s = patchPixels(rows, cols, { size: K, minScale: 0.2, maxScale: 0.9 }, rng, out);
    assert.ok(s >= 0.2 && s <= 0.9);
    for (let k = 0; k < K * K; k++) {
      const r = out[2 * k]!, c = out[2 * k + 1]!;
      assert.ok(r >= 0 && r <= rows - 1 && c >= 0 && c <= cols - 1);
      assert.ok(Math.abs(bilinearPixel(img, 0, rows, cols, r, c) - (0.5 * r - 0.25 * c + 3)) < 1e-4);
    }
    assert.ok(Math.abs(out[2] ! - out[0]! - 0) < 1e-12); // same row along j
    assert.ok(Math.abs(out[3]! - out[1]! - (s * (cols - 1)) / (K - 1)) < 1e-9);
    assert.ok(Math.abs(out[2 * K]! - out[0]! - (s * (rows - 1)) / (K - 1)) < 1e-9);
  }
});
