import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { gridAabb, pixelRay, rayAabb, viewFrame, type XrayGeometry } from '../../src/geometry/index.js';
import { createInlineProjector, renderViews, resolveTransfer } from '../../src/physics/projectors.js';
import { EA_SLAB_REL } from '../tolerances.js';

const parallel = (over: Partial<XrayGeometry>): XrayGeometry => ({
  mode: 'parallel', DSD: 200, DSO: 100, nDetector: [9, 7], dDetector: [1, 1], offDetector: [0, 0],
  nVoxel: [8, 9, 7], dVoxel: [1, 1, 1], offOrigin: [0, 0, 0], ...over,
});

test('emission-absorption of a uniform slab is c (1 - exp(-sigma L)) for every ray, any step', () => {
  // a thin uniform slab (3 voxels in z) seen obliquely by a tilted cone beam: chords L vary per ray
  const geo: XrayGeometry = {
    mode: 'cone', DSD: 400, DSO: 250, nDetector: [11, 9], dDetector: [6, 2], offDetector: [0, 0], rotDetector: [0, 0.3, 0],
    nVoxel: [20, 18, 3], dVoxel: [2, 2.5, 1.5], offOrigin: [1, 0, 0],
  };
  const c = 0.6;
  const vol = new Float32Array(20 * 18 * 3).fill(c);
  const transfer = { low: 0.1, high: 1.1, densityScale: 0.08 };
  const sigma = transfer.densityScale * (c - transfer.low) / (transfer.high - transfer.low);
  const angles = [0.3, 2.0];
  const box = gridAabb(geo), tt = new Float64Array(2), ray = new Float64Array(6);
  let seen = 0;
  for (const stepMm of [0.25, 1.7]) {
    const img = renderViews(vol, geo, angles, { mode: 'ea', stepMm, transfer });
    angles.forEach((a, v) => {
      const f = viewFrame(geo, a);
      for (let r = 0; r < 9; r++) for (let col = 0; col < 11; col++) {
        pixelRay(geo, f, r, col, ray);
        const L = rayAabb(ray[0]!, ray[1]!, ray[2]!, ray[3]!, ray[4]!, ray[5]!, box, tt) ? tt[1]! - tt[0]! : 0;
        const want = c * (1 - Math.exp(-sigma * L));
        const got = img[v * 99 + r * 11 + col]!;
        if (L > 0) seen++;
        assert.ok(Math.abs(got - want) <= EA_SLAB_REL * c, `step ${stepMm} view ${v} (${r},${col}) L=${L}: ${got} vs ${want}`);
      }
    });
  }
  assert.ok(seen > 100, `only ${seen} rays crossed the slab`);
});

test('emission-absorption: nothing below `low`, and radiance saturates towards c for an opaque slab', () => {
  const geo = parallel({});
  const vol = new Float32Array(8 * 9 * 7).fill(0.3);
  const dark = renderViews(vol, geo, [0.4], { mode: 'ea', transfer: { low: 0.5, high: 1 } });
  assert.ok(dark.every((q) => q === 0));
  const opaque = renderViews(vol, geo, [0], { mode: 'ea', transfer: { low: 0, high: 0.3, densityScale: 50 } });
  // centre ray, L = 8 mm, sigma L = 400: fully opaque
  assert.ok(Math.abs(opaque[3 * 9 + 4]! - 0.3) < 1e-6);
  const t = resolveTransfer(vol, geo);
  const f = Math.fround(0.3);
  assert.deepEqual(t, { low: f, high: f + 1, densityScale: 4 / 7 });
});

for (const withNoise of [false, true]) {
  test(`MIP of a volume with one bright voxel${withNoise ? ' over random values' : ''} (rays through voxel centres)`, () => {
    const nx = 8, ny = 9, nz = 7;
    const vol = new Float32Array(nx * ny * nz);
    if (withNoise) { const rng = createRng(5); for (let i = 0; i < vol.length; i++) vol[i] = rng.next(); }
    const bi = 2, bj = 6, bk = 1, bright = 5;
    vol[bi + nx * (bj + ny * bk)] = bright;
    // angle 0: rays along -x; pixel (row, col) at y = col - 4, z = 3 - row: voxel centres j = col, k = 6 - row
    const g0 = parallel({ nDetector: [9, 7] });
    const img0 = renderViews(vol, g0, [0], { mode: 'mip' });
    for (let row = 0; row < 7; row++) for (let col = 0; col < 9; col++) {
      let m = -Infinity;
      for (let i = 0; i < nx; i++) m = Math.max(m, vol[i + nx * (col + ny * (6 - row))]!);
      assert.equal(img0[row * 9 + col], m, `angle 0 (${row},${col})`);
    }
    assert.equal(img0[(6 - bk) * 9 + bj], bright);
    // angle 90 deg: rays along -y, u = -x: pixel col at x = 3.5 - col, voxel i = 7 - col
    const g90 = parallel({ nDetector: [8, 7] });
    const img90 = renderViews(vol, g90, [Math.PI / 2], { mode: 'mip' });
    for (let row = 0; row < 7; row++) for (let col = 0; col < 8; col++) {
      let m = -Infinity;
      for (let j = 0; j < ny; j++) m = Math.max(m, vol[7 - col + nx * (j + ny * (6 - row))]!);
      assert.equal(img90[row * 8 + col], m, `angle 90 (${row},${col})`);
    }
    assert.equal(img90[(6 - bk) * 8 + (7 - bi)], bright);
    if (!withNoise) assert.equal(img0.filter((q) => q === bright).length, 1);
  });
}

test('MIP of rays missing the grid is the background value', () => {
  const geo = parallel({ nDetector: [3, 1], dDetector: [50, 1] });
  const img = renderViews(new Float32Array(8 * 9 * 7).fill(2), geo, [0], { mode: 'mip', background: -1 });
  assert.deepEqual(Array.from(img), [-1, 2, -1]);
});

test('DRR views are the projector line integrals', async () => {
  const geo: XrayGeometry = { ...parallel({}), mode: 'cone', DSD: 100, DSO: 60, dDetector: [2, 2] };
  const rng = createRng(9);
  const vol = new Float32Array(8 * 9 * 7).map(() => rng.next());
  const angles = [0, 1, 2];
  for (const method of ['siddon', 'trilinear'] as const) {
    const y = new Float32Array(3 * 63);
    await createInlineProjector(geo, angles, { method }).forward(vol, y);
    assert.deepEqual(renderViews(vol, geo, angles, { mode: 'drr', method }), y);
  }
});

test('renderViews: clear MedfieldErrors for a wrong volume length and bad options', () => {
  const geo = parallel({});
  const ok = new Float32Array(8 * 9 * 7);
  assert.throws(() => renderViews(new Float32Array(10), geo, [0], { mode: 'mip' }), (e: unknown) =>
    e instanceof MedfieldError && e.subject === 'volume' && /504 values/.test(e.message));
  assert.throws(() => renderViews(ok, geo, [0], { mode: 'xray' as 'drr' }), (e: unknown) => e instanceof MedfieldError && e.subject === 'mode');
  assert.throws(() => renderViews(ok, geo, [0], { mode: 'ea', transfer: { low: 1, high: 0 } }), (e: unknown) =>
    e instanceof MedfieldError && e.subject === 'transfer.high');
  assert.throws(() => renderViews(ok, geo, [0], { mode: 'ea', stepMm: -1 }), (e: unknown) => e instanceof MedfieldError && e.subject === 'stepMm');
});
