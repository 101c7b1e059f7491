/**
 * Fitting regressions with fixed seeds (issue 4): a 2D image and a 3D signed-distance field,
 * each to a stated PSNR (data range stated) in a stated number of steps. Thresholds sit ~1-2 dB
 * under the measured values (see the comments), so a real regression fails them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCpuBackend } from '../../src/engine/cpu/backend.js';
import { FieldModel } from '../../src/engine/field.js';
import { createRng } from '../../src/core/rng.js';
import { psnr } from '../../src/metrics/psnr.js';
/** Measured 38.8 dB (seed 1, 200 steps); the threshold leaves 1.8 dB. */
const PSNR_2D = 37;
/** Measured 45.5 dB (seed 3, 150 steps); the threshold leaves 1.5 dB. */
const PSNR_3D = 44;
import { FIELD_PRESETS } from '../../src/engine/config.js';

/** 64x64 test image in [0,1]: a disc with a ring, a bar and a smooth ramp background. */
function image(u: number, v: number): number {
  const r = Math.hypot(u - 0.45, v - 0.5);
  let val = 0.2 + 0.3 * u;
  if (r < 0.3) val = 0.8;
  if (r < 0.3 && r > 0.22) val = 0.4;
  if (Math.abs(u - 0.75) < 0.05 && v > 0.2 && v < 0.8) val = 1;
  return val;
}

test('2D image fit (image-2d preset): PSNR >= 37 dB (range 1) at the 64x64 pixel centres after 200 Adam steps of 2048 random points', () => {
  const m = new FieldModel(createCpuBackend(), { ...FIELD_PRESETS['image-2d'], seed: 1 }, { maxBatch: 4096 });
  const rng = createRng(21);
  const n = 2048, x = new Float32Array(n * 2), y = new Float32Array(n);
  for (let s = 0; s < 200; s++) {
    for (let i = 0; i < n; i++) { const u = rng.next(), v = rng.next(); x[2 * i] = u; x[2 * i + 1] = v; y[i] = image(u, v); }
    m.trainStep(x, y, n);
  }
  // Evaluate at points never trained on exactly: the pixel centres of a 64x64 raster.
  const N = 64, q = N * N, gx = new Float32Array(q * 2), ref = new Float32Array(q), out = new Float32Array(q);
  for (let j = 0; j < N; j++) for (let i = 0; i < N; i++) {
    const k = j * N + i, u = (i + 0.5) / N, v = (j + 0.5) / N;
    gx[2 * k] = u; gx[2 * k + 1] = v; ref[k] = image(u, v);
  }
  m.forward(gx, q, out);
  const p = psnr(ref, out, { dataRange: 1 });
  assert.ok(p >= PSNR_2D, `PSNR ${p.toFixed(2)} dB`);
});

/** Signed distance (clamped to +-0.2) of a torus (R 0.25, r 0.1) centred in the unit cube. */
function torusSdf(x: number, y: number, z: number): number {
  const q = Math.hypot(Math.hypot(x - 0.5, y - 0.5) - 0.25, z - 0.5) - 0.1;
  return Math.max(-0.2, Math.min(0.2, q));
}

test('3D SDF fit (hash grid 8 levels 2^15, MLP 32-32): PSNR >= 44 dB (range 0.4) on a 24^3 grid after 150 steps of 4096 random points', () => {
  const m = new FieldModel(createCpuBackend(), {
    encoding: { kind: 'hash-grid', inputDim: 3, levels: 8, featuresPerLevel: 2, log2TableSize: 15, baseResolution: 4, growthFactor: 1.5 },
    mlp: { hidden: [32, 32], outputDim: 1 },
    optimizer: { kind: 'adam', lr: 1e-2 },
    seed: 3,
  }, { maxBatch: 4096 });
  const rng = createRng(8);
  const n = 4096, x = new Float32Array(n * 3), y = new Float32Array(n);
  for (let s = 0; s < 150; s++) {
    for (let i = 0; i < n; i++) { const a = rng.next(), b = rng.next(), c = rng.next(); x[3 * i] = a; x[3 * i + 1] = b; x[3 * i + 2] = c; y[i] = torusSdf(a, b, c); }
    m.trainStep(x, y, n);
  }
  const G = 24, gx = new Float32Array(G * G * G * 3), ref = new Float32Array(G * G * G), out = new Float32Array(G * G * G);
  for (let k = 0; k < G; k++) for (let j = 0; j < G; j++) for (let i = 0; i < G; i++) {
    const q = i + G * (j + G * k), a = (i + 0.5) / G, b = (j + 0.5) / G, c = (k + 0.5) / G;
    gx[3 * q] = a; gx[3 * q + 1] = b; gx[3 * q + 2] = c; ref[q] = torusSdf(a, b, c);
  }
  for (let s = 0; s < G * G * G; s += 4096) {
    const cnt = Math.min(4096, G * G * G - s);
    m.forward(gx.subarray(3 * s, 3 * (s + cnt)), cnt, out.subarray(s, s + cnt));
  }
  const p = psnr(ref, out, { dataRange: 0.4 });
  assert.ok(p >= PSNR_3D, `PSNR ${p.toFixed(2)} dB`);
});

test('dense grid (1 level, 16^3 vertices, no MLP) fits a smooth density exactly representable by trilinear interpolation', () => {
  // A linear function is reproduced exactly by trilinear interpolation, so the dense grid must
  // drive the error towards zero: loss after 200 steps < 1e-4 of the first.
  const m = new FieldModel(createCpuBackend(), { encoding: { kind: 'dense-grid', inputDim: 3, levels: 1, featuresPerLevel: 1, baseResolution: 15 }, mlp: null, optimizer: { kind: 'adam', lr: 5e-2 }, seed: 0 }, { maxBatch: 8192 });
  const rng = createRng(1);
  const n = 8192, x = new Float32Array(n * 3), y = new Float32Array(n);
  let first = 0, last = 0;
  for (let s = 0; s < 200; s++) {
    for (let i = 0; i < n; i++) { const a = rng.next(), b = rng.next(), c = rng.next(); x[3 * i] = a; x[3 * i + 1] = b; x[3 * i + 2] = c; y[i] = 0.2 + 0.5 * a - 0.3 * b + 0.1 * c; }
    last = m.trainStep(x, y, n);
    if (s === 0) first = last;
  }
  assert.ok(last < 1e-4 * first, `loss ${first} -> ${last}`);
});
