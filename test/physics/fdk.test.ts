import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { pixelRay, viewFrame, type XrayGeometry } from '../../src/geometry/xray.js';
import { psnr } from '../../src/metrics/psnr.js';
import { ellipsoidPhantom, makeEllipsoid, phantomLineIntegrals, sheppLogan3d, voxelizePhantom, type EllipsoidPhantom } from '../../src/phantom/index.js';
import { createFftPlan, fftInPlace, realFft } from '../../src/physics/fft.js';
import { createRampFilter, rampKernel } from '../../src/physics/filters.js';
import { fbp, fdk } from '../../src/physics/fdk.js';
import { parkerWeight, scanQuadrature } from '../../src/physics/scan-weights.js';
import { wasmSimdAvailable } from '../../src/physics/fdk-wasm.js';
import { fdkThreaded } from '../../src/platform/recon-pool.js';
import * as T from '../tolerances.js';

/** Exact line integrals of the phantom along every pixelRay of every view: [views, nv, nu]. */
function analyticProjections(p: EllipsoidPhantom, geo: XrayGeometry, angles: ArrayLike<number>): Float32Array {
  const nu = geo.nDetector[0], nv = geo.nDetector[1];
  const n = nu * nv;
  const out = new Float32Array(angles.length * n);
  const O = new Float64Array(3 * n), D = new Float64Array(3 * n);
  const frame = new Float64Array(15), ray = new Float64Array(6);
  for (let a = 0; a < angles.length; a++) {
    viewFrame(geo, angles[a]!, frame);
    for (let r = 0; r < nv; r++) {
      for (let c = 0; c < nu; c++) {
        pixelRay(geo, frame, r, c, ray);
        const q = 3 * (r * nu + c);
        O[q] = ray[0]!; O[q + 1] = ray[1]!; O[q + 2] = ray[2]!;
        D[q] = ray[3]!; D[q + 1] = ray[4]!; D[q + 2] = ray[5]!;
      }
    }
    phantomLineIntegrals(p, { originsMm: O, dirsUnit: D, out: out.subarray(a * n, (a + 1) * n) });
  }
  return out;
}

function linspace(a: number, b: number, n: number, endpoint = false): Float64Array {
  const out = new Float64Array(n);
  const step = (b - a) / (endpoint ? n - 1 : n);
  for (let i = 0; i < n; i++) out[i] = a + i * step;
  return out;
}

/** Cone geometry for a 64^3 grid of 2 mm voxels (128 mm cube), detector covering it at magnification 1.5. */
function coneGeo(over: Partial<XrayGeometry> = {}): XrayGeometry {
  return {
    mode: 'cone', DSD: 600, DSO: 400, nDetector: [96, 96], dDetector: [3, 3], offDetector: [0, 0],
    nVoxel: [64, 64, 64], dVoxel: [2, 2, 2], offOrigin: [0, 0, 0], ...over,
  };
}

const shepp = sheppLogan3d({ fovMm: 128 }); // modified densities: values in [0, 1]
const sheppVox = voxelizePhantom(shepp, { size: 64, supersample: 2 }).data;
/** Central slices only (|z| <= 16 mm) : where FDK is (nearly) exact and the comparison is about the filter and weights, not cone-beam artefacts. */
function centralSlab(v: Float32Array, n: number, half: number): Float32Array {
  const k0 = n / 2 - half, k1 = n / 2 + half;
  return v.slice(k0 * n * n, k1 * n * n);
}

test('fft: forward/inverse round trip and a known spectrum', () => {
  const plan = createFftPlan(16);
  const re = new Float64Array(16), im = new Float64Array(16);
  for (let i = 0; i < 16; i++) re[i] = Math.cos((2 * Math.PI * 3 * i) / 16) + 0.5;
  const copy = re.slice();
  fftInPlace(plan, re, im);
  // cos(3 x) + 0.5: DC = 8, bins 3 and 13 = 8, all others 0.
  for (let k = 0; k < 16; k++) {
    const expect = k === 0 || k === 3 || k === 13 ? 8 : 0;
    assert.ok(Math.abs(re[k]! - expect) < 1e-12 && Math.abs(im[k]!) < 1e-12, `bin ${k}: ${re[k]} ${im[k]}`);
  }
  fftInPlace(plan, re, im, true);
  for (let i = 0; i < 16; i++) assert.ok(Math.abs(re[i]! - copy[i]!) < 1e-12);
  // realFft returns bins 0..n/2 of the same spectrum.
  const outRe = new Float64Array(9), outIm = new Float64Array(9);
  realFft(plan, copy, outRe, outIm, new Float64Array(16), new Float64Array(16));
  for (let k = 0; k <= 8; k++) assert.ok(Math.abs(outRe[k]! - (k === 0 || k === 3 ? 8 : 0)) < 1e-12 && Math.abs(outIm[k]!) < 1e-12);
});

test('ramp filter: spatial kernel gives |w| at mid frequencies and a positive DC gain; windows attenuate', () => {
  const tau = 0.5;
  const f = createRampFilter(64, tau);
  assert.equal(f.size, 128);
  // Continuous ramp |f| with f in cycles/mm: bin k of N at f = k / (N tau).
  for (const k of [8, 16, 32, 48]) {
    const ideal = k / (f.size * tau);
    assert.ok(Math.abs(f.response[k]! - ideal) / ideal < T.RAMP_MIDBAND_REL, `bin ${k}: ${f.response[k]} vs ${ideal}`);
  }
  assert.ok(f.response[0]! > 0, 'spatial-domain ramp has a small positive DC gain');
  assert.ok(Math.abs(f.response[0]! - tau * rampKernel(0, tau) - 2 * tau * [...Array(63).keys()].reduce((s, n) => s + rampKernel(n + 1, tau), 0) - tau * rampKernel(64, tau)) < 1e-12);
  const hann = createRampFilter(64, tau, { window: 'hann' });
  assert.ok(Math.abs(hann.response[64]!) < 1e-12, 'hann is zero at Nyquist');
  const cut = createRampFilter(64, tau, { frequencyScaling: 0.5 });
  assert.equal(cut.response[40], 0);
  assert.ok(cut.response[20]! > 0);
});

test('scan quadrature: uniform full turn, short scan and descending angles', () => {
  const full = scanQuadrature(linspace(0, 2 * Math.PI, 90));
  assert.ok(full.fullTurn);
  assert.ok(Math.abs(full.total - 2 * Math.PI) < 1e-12);
  const half = scanQuadrature(linspace(0, Math.PI, 60));
  assert.ok(!half.fullTurn);
  assert.ok(Math.abs(half.total - Math.PI) < 1e-12);
  // Start listed twice (0 and 2 pi): still a full turn of total weight 2 pi.
  const closed = scanQuadrature(linspace(0, 2 * Math.PI, 91, true));
  assert.ok(closed.fullTurn);
  assert.ok(Math.abs(closed.total - 2 * Math.PI) < 1e-12);
  // Unsorted, non-uniform angles: each weight is half the gap to its neighbours.
  const odd = scanQuadrature([0.3, 0, 0.1, 0.6]);
  assert.deepEqual([...odd.weights].map((w) => +w.toFixed(12)), [0.25, 0.1, 0.15, 0.3]);
  const desc = scanQuadrature(linspace(Math.PI, 0, 60));
  assert.equal(desc.direction, -1);
  assert.ok(Math.abs(desc.beta[0]!) < 1e-15 && desc.beta[59]! > 3);
});

test('Parker weights: conjugate rays sum to one, zero at the scan ends', () => {
  const delta = 0.2;
  for (const gamma of [-0.15, -0.05, 0, 0.1, 0.19]) {
    for (const beta of [0, 0.05, 0.1, 0.2, 0.3, 1, 2]) {
      const conj = beta + Math.PI + 2 * gamma;
      if (conj > Math.PI + 2 * delta) continue;
      const s = parkerWeight(beta, gamma, delta) + parkerWeight(conj, -gamma, delta);
      assert.ok(Math.abs(s - 1) < 1e-12, `beta ${beta} gamma ${gamma}: ${s}`);
    }
  }
  assert.equal(parkerWeight(0, 0.1, delta), 0);
  assert.ok(parkerWeight(Math.PI + 2 * delta, 0.1, delta) < 1e-30);
});

test('FDK of the analytic Shepp-Logan, 100 views over 360 deg, 64^3 (projections via pixelRay)', () => {
  const geo = coneGeo();
  const angles = linspace(0, 2 * Math.PI, 100);
  const proj = analyticProjections(shepp, geo, angles);
  const rec = fdk(geo, angles, proj);
  // Data range 1: the modified Shepp-Logan phantom spans [0, 1].
  const whole = psnr(sheppVox, rec, { dataRange: 1 });
  const central = psnr(centralSlab(sheppVox, 64, 8), centralSlab(rec, 64, 8), { dataRange: 1 });
  process.stdout.write(`# FDK 64^3 Shepp-Logan 100 views: PSNR ${whole.toFixed(2)} dB (whole), ${central.toFixed(2)} dB (central 16 slices), range 1\n`);
  assert.ok(whole > T.FDK_SHEPP_PSNR_DB, `PSNR ${whole}`);
  assert.ok(central > T.FDK_SHEPP_CENTRAL_PSNR_DB, `central PSNR ${central}`);
  // A shifted detector (2 px along u, 1.3 px along v) must give the same quality: a sign error in
  // offDetector[0] blurs every view's back-projection sideways (a ring, not a net shift).
  const geoOff = coneGeo({ offDetector: [6, -4] });
  const recOff = fdk(geoOff, angles, analyticProjections(shepp, geoOff, angles));
  const off = psnr(centralSlab(sheppVox, 64, 8), centralSlab(recOff, 64, 8), { dataRange: 1 });
  process.stdout.write(`# FDK with offDetector [6, -4] mm: PSNR ${off.toFixed(2)} dB (central 16 slices)\n`);
  assert.ok(off > T.FDK_SHEPP_CENTRAL_PSNR_DB, `offset-detector PSNR ${off}`);
  // Orientation check: the brain (0.2) at the centre, the skull (1) at the rim along y.
  const at = (i: number, j: number, k: number): number => rec[i + 64 * (j + 64 * k)]!;
  assert.ok(Math.abs(at(32, 32, 32) - 0.2) < 0.05 || Math.abs(at(32, 32, 32) - 0.3) < 0.05, `centre ${at(32, 32, 32)}`);
});

test('FDK short scan with Parker weights (180 deg + fan angle)', () => {
  const geo = coneGeo();
  const halfFan = Math.atan((48 * 3) / 600);
  const arc = Math.PI + 2 * halfFan;
  const angles = linspace(0, arc, 80, true);
  const proj = analyticProjections(shepp, geo, angles);
  const rec = fdk(geo, angles, proj);
  const p = psnr(centralSlab(sheppVox, 64, 8), centralSlab(rec, 64, 8), { dataRange: 1 });
  const noParker = fdk(geo, angles, proj, { parker: false });
  const q = psnr(centralSlab(sheppVox, 64, 8), centralSlab(noParker, 64, 8), { dataRange: 1 });
  process.stdout.write(`# FDK Parker short scan ${(arc * 180 / Math.PI).toFixed(1)} deg: PSNR ${p.toFixed(2)} dB central (without Parker ${q.toFixed(2)} dB)\n`);
  assert.ok(p > T.FDK_PARKER_CENTRAL_PSNR_DB, `PSNR ${p}`);
  assert.ok(p > q + 3, 'Parker weights must matter on a short scan');
  // Clockwise scan (descending angles) is the mirror case: same quality.
  const anglesDesc = angles.map((a) => -a);
  const rec2 = fdk(geo, anglesDesc, analyticProjections(shepp, geo, anglesDesc));
  const p2 = psnr(centralSlab(sheppVox, 64, 8), centralSlab(rec2, 64, 8), { dataRange: 1 });
  assert.ok(p2 > T.FDK_PARKER_CENTRAL_PSNR_DB, `descending PSNR ${p2}`);
});

test('FDK of a uniform sphere reconstructs to its value (1/mm) at the right place, also with detector and origin offsets', () => {
  const mu = 0.02; // 1/mm, water-like
  for (const over of [{}, { offDetector: [6, -4] as [number, number], offOrigin: [5, -3, 2] as [number, number, number] }]) {
    const geo = coneGeo(over);
    const o = geo.offOrigin;
    // Off-centre sphere, so a sign error in any offset moves it.
    const c = [o[0] + 10, o[1] - 7, o[2] + 5];
    const sphere = ellipsoidPhantom([makeEllipsoid({ density: mu, centreMm: [c[0]!, c[1]!, c[2]!], semiAxesMm: [30, 30, 30] })], { fovMm: 128 });
    const angles = linspace(0.3, 0.3 + 2 * Math.PI, 120);
    const rec = fdk(geo, angles, analyticProjections(sphere, geo, angles));
    // Mean over the inner ball (radius 18 mm) and centroid of the whole reconstruction.
    let s = 0, cnt = 0, m = 0;
    const cen = [0, 0, 0];
    for (let k = 0; k < 64; k++) for (let j = 0; j < 64; j++) for (let i = 0; i < 64; i++) {
      const p = [o[0] + (i - 31.5) * 2, o[1] + (j - 31.5) * 2, o[2] + (k - 31.5) * 2];
      const v = rec[i + 64 * (j + 64 * k)]!;
      const d2 = (p[0]! - c[0]!) ** 2 + (p[1]! - c[1]!) ** 2 + (p[2]! - c[2]!) ** 2;
      if (d2 < 18 * 18) { s += v; cnt++; }
      if (d2 < 36 * 36) { m += v; for (let a = 0; a < 3; a++) cen[a] += v * p[a]!; }
    }
    const mean = s / cnt;
    const shift = Math.hypot(cen[0]! / m - c[0]!, cen[1]! / m - c[1]!, cen[2]! / m - c[2]!);
    process.stdout.write(`# FDK uniform sphere ${JSON.stringify(over)}: mean ${mean.toFixed(6)} vs ${mu}, centroid off by ${shift.toFixed(3)} mm\n`);
    assert.ok(Math.abs(mean - mu) / mu < T.FDK_UNIFORM_REL, `mean ${mean}`);
    assert.ok(shift < T.FDK_CENTROID_MM, `centroid shift ${shift} mm`);
  }
});

test('parallel-beam FBP of Shepp-Logan (180 deg), 16 rows = 16 slices', () => {
  const geo: XrayGeometry = {
    mode: 'parallel', DSD: 600, DSO: 400, nDetector: [96, 16], dDetector: [2, 2], offDetector: [0, 0],
    nVoxel: [64, 64, 16], dVoxel: [2, 2, 2], offOrigin: [0, 0, 0],
  };
  const angles = linspace(0, Math.PI, 120);
  const rec = fbp(geo, angles, analyticProjections(shepp, geo, angles));
  const ref = sheppVox.slice(24 * 64 * 64, 40 * 64 * 64);
  const p = psnr(ref, rec, { dataRange: 1 });
  process.stdout.write(`# parallel FBP Shepp-Logan 64x64x16, 120 views/180 deg: PSNR ${p.toFixed(2)} dB (range 1)\n`);
  assert.ok(p > T.FBP_PARALLEL_PSNR_DB, `PSNR ${p}`);
});

test('fan-beam FBP (one detector row, 2D) of the central Shepp-Logan slice', () => {
  const geo: XrayGeometry = {
    mode: 'cone', DSD: 600, DSO: 400, nDetector: [128, 1], dDetector: [2.25, 2], offDetector: [0, 0],
    nVoxel: [64, 64, 1], dVoxel: [2, 2, 2], offOrigin: [0, 0, 1], // z = 1 mm: the voxel-centre plane of slice 32
  };
  const angles = linspace(0, 2 * Math.PI, 180);
  const rec = fbp(geo, angles, analyticProjections(shepp, geo, angles));
  // Reference: the phantom sampled on the same plane z = 1 mm.
  const ref = sheppVox.slice(32 * 64 * 64, 33 * 64 * 64);
  const p = psnr(ref, rec, { dataRange: 1 });
  process.stdout.write(`# fan-beam FBP 64^2, 180 views/360 deg: PSNR ${p.toFixed(2)} dB (range 1)\n`);
  assert.ok(p > T.FBP_FAN_PSNR_DB, `PSNR ${p}`);
  assert.throws(() => fbp(coneGeo(), angles, new Float32Array(1)), MedfieldError);
});

test('bad input: projections of the wrong size, rotated detector, parker on a too-short arc', () => {
  const geo = coneGeo();
  const angles = linspace(0, 2 * Math.PI, 10);
  assert.throws(() => fdk(geo, angles, new Float32Array(5)), (e: unknown) => e instanceof MedfieldError && /projections/.test(e.message));
  assert.throws(() => fdk({ ...geo, rotDetector: [0.1, 0, 0] }, angles, new Float32Array(10 * 96 * 96)), /rotDetector/);
  assert.throws(() => fdk(geo, linspace(0, 1, 10), new Float32Array(10 * 96 * 96), { parker: true }), /parker/);
  assert.throws(() => fdk(geo, angles, new Float32Array(10 * 96 * 96), { window: 'box' as never }), /window/);
});

test('threaded FBP (3 workers, parallel beam, uneven split) equals the single-thread result', async () => {
  const geo: XrayGeometry = {
    mode: 'parallel', DSD: 600, DSO: 400, nDetector: [40, 7], dDetector: [4, 4], offDetector: [1, 0.5],
    nVoxel: [32, 32, 7], dVoxel: [4, 4, 4], offOrigin: [0, 0, 0],
  };
  const angles = linspace(0, Math.PI, 31);
  const proj = analyticProjections(shepp, geo, angles);
  const single = fbp(geo, angles, proj, { window: 'hann' });
  const multi = await fdkThreaded(geo, angles, proj, { threads: 3, window: 'hann' });
  assert.deepEqual(multi, single);
});

test('threaded FDK (2 workers) equals the single-thread result', async () => {
  const geo = coneGeo({ nVoxel: [32, 32, 32], dVoxel: [4, 4, 4], nDetector: [48, 48], dDetector: [6, 6] });
  const angles = linspace(0, 2 * Math.PI, 40);
  const proj = analyticProjections(shepp, geo, angles);
  const single = fdk(geo, angles, proj);
  const multi = await fdkThreaded(geo, angles, proj, { threads: 2 });
  let maxDiff = 0;
  for (let i = 0; i < single.length; i++) maxDiff = Math.max(maxDiff, Math.abs(single[i]! - multi[i]!));
  assert.equal(maxDiff, 0, 'same arithmetic in the same order: bit-identical');
});

/** Seeded uniform noise in [0, 1): projections that exercise every detector value. */
function noiseProjections(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) { s = (s * 16807) % 2147483647; out[i] = s / 2147483647; }
  return out;
}

function maxRelDiff(ref: Float32Array, x: Float32Array): number {
  let md = 0, mx = 0;
  for (let i = 0; i < ref.length; i++) { md = Math.max(md, Math.abs(ref[i]! - x[i]!)); mx = Math.max(mx, Math.abs(ref[i]!)); }
  return md / mx;
}

test('WebAssembly SIMD back-projection matches the Float64 TypeScript reference (cone with offsets, parallel, fan)', async () => {
  assert.ok(wasmSimdAvailable(), 'Node >= 20 validates WebAssembly SIMD: the fast path must be the one tested');
  const cases: { name: string; geo: XrayGeometry; views: number; arc: number }[] = [
    { name: 'cone, odd detector, offsets', views: 37, arc: 2 * Math.PI,
      geo: coneGeo({ nVoxel: [33, 30, 27], dVoxel: [4, 4.2, 4.5], nDetector: [53, 47], dDetector: [5, 5.5], offDetector: [3.1, -4.7], offOrigin: [2, -3, 5] }) },
    { name: 'cone short scan (Parker), rows step < 1 per slice', views: 30, arc: Math.PI + 0.7, geo: coneGeo({ nVoxel: [24, 24, 20], dVoxel: [5, 5, 3], nDetector: [40, 30], dDetector: [6, 6] }) },
    { name: 'parallel', views: 25, arc: Math.PI,
      geo: { mode: 'parallel', DSD: 600, DSO: 400, nDetector: [40, 9], dDetector: [4, 4], offDetector: [1, 0.5], nVoxel: [32, 32, 9], dVoxel: [4, 4, 4], offOrigin: [0, 0, 0] } },
    { name: 'fan (one row)', views: 40, arc: 2 * Math.PI, geo: coneGeo({ nVoxel: [40, 40, 1], dVoxel: [3, 3, 3], nDetector: [64, 1], dDetector: [3, 3] }) },
  ];
  for (const { name, geo, views, arc } of cases) {
    const angles = linspace(0, arc, views, arc < 2 * Math.PI);
    const proj = noiseProjections(views * geo.nDetector[0] * geo.nDetector[1], 12345);
    const recon = geo.mode === 'cone' && geo.nDetector[1] > 1 ? fdk : fbp;
    const ref = recon(geo, angles, proj, { backprojector: 'js' });
    const fast = recon(geo, angles, proj);
    const rel = maxRelDiff(ref, fast);
    console.log(`# SIMD vs reference, ${name}: max |diff| / max |ref| = ${rel.toExponential(2)}`);
    assert.ok(rel <= T.FDK_WASM_VS_JS_REL, `${name}: ${rel}`);
    let nonzero = 0;
    for (let i = 0; i < ref.length; i++) if (ref[i] !== 0) nonzero++;
    assert.ok(nonzero > ref.length / 2, `${name}: the comparison covers the volume`);
    // Threaded SIMD path (y-row blocks, uneven) is bit-identical to the single-thread SIMD path.
    const multi = await fdkThreaded(geo, angles, proj, { threads: 3 });
    assert.deepEqual(multi, fast, `${name}: threaded SIMD == single-thread SIMD`);
  }
});

test('threaded reference path (z-slabs) equals single thread, also when the lower edge band holds two slices (dr < 1/2)', async () => {
  // dv large against dz M: a row spans several slices, so the half-pixel edge band covers > 1 slice
  // and the interior start may lie past a slab's end.
  const geo = coneGeo({ nVoxel: [20, 20, 31], dVoxel: [4, 4, 1], nDetector: [40, 4], dDetector: [6, 9] });
  const angles = linspace(0, 2 * Math.PI, 24);
  const proj = noiseProjections(24 * 40 * 4, 777);
  const single = fdk(geo, angles, proj, { backprojector: 'js' });
  for (const threads of [2, 3, 5]) {
    const multi = await fdkThreaded(geo, angles, proj, { threads, backprojector: 'js' });
    assert.deepEqual(multi, single, `${threads} z-slabs`);
  }
  assert.ok(maxRelDiff(single, fdk(geo, angles, proj)) <= T.FDK_WASM_VS_JS_REL);
  assert.throws(() => fdk(geo, angles, proj, { backprojector: 'gpu' as never }), /backprojector/);
});
