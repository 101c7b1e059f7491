import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  gridAabb, gridOfVolume, gridVolume, lookAt, pinholeFromFov, pinholeRay, pixelRay, rayAabb,
  validateXrayGeometry, viewFrame, xrayRays, type XrayGeometry,
} from '../../src/geometry/index.js';
import { MedfieldError } from '../../src/core/errors.js';

const EPS = 1e-12;
const geo = (over: Partial<XrayGeometry> = {}): XrayGeometry => ({
  mode: 'cone', DSD: 1500, DSO: 1000, nDetector: [5, 3], dDetector: [2, 2], offDetector: [0, 0],
  nVoxel: [4, 4, 4], dVoxel: [1, 1, 1], offOrigin: [0, 0, 0], ...over,
});
const near = (a: ArrayLike<number>, b: ArrayLike<number>, tol = EPS): void => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) <= tol, `[${i}] ${a[i]} vs ${b[i]}`);
};

test('view frame at 0 and 90 degrees follows docs/coordinate-systems.md', () => {
  const f0 = viewFrame(geo(), 0);
  near(f0.subarray(0, 3), [1000, 0, 0]);
  near(f0.subarray(3, 6), [-500, 0, 0]);
  near(f0.subarray(6, 9), [0, 1, 0]);
  near(f0.subarray(9, 12), [0, 0, 1]);
  const f90 = viewFrame(geo(), Math.PI / 2);
  near(f90.subarray(0, 3), [0, 1000, 0]);
  near(f90.subarray(3, 6), [0, -500, 0]);
  near(f90.subarray(6, 9), [-1, 0, 0]);
});

test('offOrigin shifts source and detector; offDetector shifts the detector in its plane', () => {
  const f = viewFrame(geo({ offOrigin: [3, -2, 7], offDetector: [10, -4] }), 0);
  near(f.subarray(0, 3), [1003, -2, 7]);
  near(f.subarray(3, 6), [-497, 8, 3]);
});

test('pixel rays: centre pixel through the axis, top-left pixel towards -u and +v', () => {
  const g = geo();
  const f = viewFrame(g, 0);
  const r = new Float64Array(6);
  pixelRay(g, f, 1, 2, r);
  near(r, [1000, 0, 0, -1, 0, 0]);
  pixelRay(g, f, 0, 0, r);
  // detector point (-500, -4, +2): direction from the source
  const d = [-1500, -4, 2], n = Math.hypot(...d);
  near(r, [1000, 0, 0, d[0]! / n, d[1]! / n, d[2]! / n]);
  const p = geo({ mode: 'parallel' });
  pixelRay(p, viewFrame(p, 0), 0, 0, r);
  near(r, [-500 + 1500, -4, 2, -1, 0, 0]);
  const all = xrayRays(g, [0, 1]);
  assert.equal(all.length, 2 * 15 * 6);
  assert.ok(Math.abs(all[6 * 7 + 3]! + 1) < 1e-7);
});

test('rotDetector roll turns u into v', () => {
  const f = viewFrame(geo({ rotDetector: [Math.PI / 2, 0, 0] }), 0);
  near(f.subarray(6, 9), [0, 0, 1]);
  near(f.subarray(9, 12), [0, -1, 0]);
});

test('ray-box clipping', () => {
  const box = gridAabb({ nVoxel: [4, 4, 4], dVoxel: [1, 1, 1], offOrigin: [0, 0, 0] });
  near(box, [-2, -2, -2, 2, 2, 2]);
  const t = new Float64Array(2);
  assert.ok(rayAabb(10, 0, 0, -1, 0, 0, box, t));
  near(t, [8, 12]);
  assert.ok(!rayAabb(10, 3, 0, -1, 0, 0, box, t));
  assert.ok(rayAabb(0, 0, 0, 0, 0, 1, box, t));
  near(t, [0, 2]);
  assert.ok(!rayAabb(10, 0, 0, 1, 0, 0, box, t));
  const s = Math.SQRT1_2;
  assert.ok(rayAabb(-10, -10, 0, s, s, 0, box, t));
  near(t, [8 / s, 12 / s], 1e-9);
});

test('grid <-> volume', () => {
  const g = { nVoxel: [4, 6, 2] as [number, number, number], dVoxel: [1, 0.5, 3] as [number, number, number], offOrigin: [1, 2, 3] as [number, number, number] };
  const v = gridVolume(g);
  near(v.originMm, [-0.5, 0.75, 1.5]);
  const back = gridOfVolume(v)!;
  near(back.offOrigin, g.offOrigin);
  assert.deepEqual(back.nVoxel, g.nVoxel);
});

test('pinhole camera looking at the origin', () => {
  const c2w = lookAt([0, -300, 0], [0, 0, 0], [0, 0, 1]);
  const cam = pinholeFromFov(c2w, 4, 4, Math.PI / 2);
  const r = new Float64Array(6);
  pinholeRay(cam, 1.5, 1.5, r);
  near(r, [0, -300, 0, 0, 1, 0]);
  pinholeRay(cam, 0, 1.5, r); // top row looks up (+z)
  assert.ok(r[5]! > 0);
  pinholeRay(cam, 1.5, 0, r); // left column looks towards -x seen from -y: camera right is +x
  assert.ok(r[3]! < 0);
});

test('bad geometry: one clear error naming the field', () => {
  const cases: [Partial<XrayGeometry>, number[], RegExp][] = [
    [{ DSO: 1500 }, [0], /geometry\.DSO/],
    [{ nDetector: [0, 3] }, [0], /geometry\.nDetector\[0\]/],
    [{ dDetector: [0, 1] }, [0], /geometry\.dDetector\[0\]/],
    [{}, [], /geometry\.angles: .*zero views/],
    [{}, [0, Number.NaN], /geometry\.angles\[1\]/],
  ];
  for (const [over, angles, re] of cases) {
    assert.throws(() => validateXrayGeometry(geo(over), angles), (e: unknown) => e instanceof MedfieldError && re.test(e.message));
  }
  validateXrayGeometry(geo(), [0, 1]);
  validateXrayGeometry(geo({ mode: 'parallel', DSO: 2000 }), [0]);
});

test('cone-beam view = pinhole camera: identical rays, offDetector included', async () => {
  const { xrayViewCamera, nerfTransforms } = await import('../../src/geometry/pinhole.js');
  const g = geo({ nDetector: [6, 4], dDetector: [1.5, 2], offDetector: [3, -2], offOrigin: [5, 1, -2] });
  const a = new Float64Array(6), b = new Float64Array(6);
  for (const angle of [0, 0.4, 2.5]) {
    const cam = xrayViewCamera(g, angle);
    const f = viewFrame(g, angle);
    for (const [r, c] of [[0, 0], [3, 5], [1, 2]] as const) {
      pixelRay(g, f, r, c, a);
      pinholeRay(cam, r, c, b);
      near(a, b, 1e-12);
    }
  }
  const t = nerfTransforms(g, [0, 1], ['a.png', 'b.png']) as { frames: { transform_matrix: number[][] }[]; w: number };
  assert.equal(t.frames.length, 2);
  assert.equal(t.w, 6);
  assert.equal(t.frames[0]!.transform_matrix[0]![3], 1000 + 5);
});
