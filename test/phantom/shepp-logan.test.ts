import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng, type Rng } from '../../src/core/rng.js';
import { voxelToWorld, type Vec3 } from '../../src/core/volume.js';
import {
  ellipsoidPhantom, makeEllipsoid, phantomLineIntegral, phantomLineIntegrals, phantomValueAt, phantomValuesAt, sheppLogan3d,
  SHEPP_LOGAN_3D_TABLES, voxelizePhantom, type EllipsoidPhantom,
} from '../../src/phantom/index.js';
import {
  LINE_INTEGRAL_REL, PHANTOM_EXACT_REL, PHANTOM_FLOAT32_ABS, PHANTOM_MASS_REL, PHANTOM_TABLE_SUM_ABS,
} from '../tolerances.js';

const close = (a: number, b: number, tol: number, what: string): void =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b} (|diff| ${Math.abs(a - b)} > ${tol})`);

/**
 * Reference integral by numeric quadrature that only uses point membership (phantomValueAt):
 * sample every `step` mm, and wherever the value changes, bisect to 1e-12 mm for the boundary.
 * The integrand is piecewise constant, so this is exact up to features shorter than `step`.
 */
function quadrature(p: EllipsoidPhantom, o: Vec3, d: Vec3, t0: number, t1: number, step = 0.05): number {
  const f = (t: number): number => phantomValueAt(p, [o[0] + t * d[0], o[1] + t * d[1], o[2] + t * d[2]]);
  const n = Math.ceil((t1 - t0) / step);
  let segStart = t0, segVal = f(t0), a = t0, acc = 0;
  for (let i = 1; i <= n; i++) {
    const b = i === n ? t1 : t0 + i * step;
    while (f(b) !== segVal) {
      let lo = a, hi = b;
      for (let it = 0; it < 80 && hi - lo > 1e-12; it++) {
        const mid = 0.5 * (lo + hi);
        if (f(mid) === segVal) lo = mid; else hi = mid;
      }
      acc += segVal * (hi - segStart);
      segStart = hi; segVal = f(hi); a = hi;
    }
    a = b;
  }
  return acc + segVal * (t1 - segStart);
}

function unit(v: Vec3): Vec3 {
  const l = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / l, v[1] / l, v[2] / l];
}

/** Random ray starting on a sphere of radius `r` mm, aimed at a random point of the cube [-aim, aim]^3. */
function randomRay(rng: Rng, r: number, aim: number, centre: Vec3 = [0, 0, 0]): { o: Vec3; d: Vec3 } {
  const u = unit([rng.normal(), rng.normal(), rng.normal()]);
  const o: Vec3 = [centre[0] + r * u[0], centre[1] + r * u[1], centre[2] + r * u[2]];
  const target: Vec3 = [0, 1, 2].map((k) => centre[k] + aim * (2 * rng.next() - 1)) as Vec3;
  return { o, d: unit([target[0] - o[0], target[1] - o[1], target[2] - o[2]]) };
}

const maxDensity = (p: EllipsoidPhantom): number => Math.max(...p.ellipsoids.map((e) => Math.abs(e.density)));

describe('analytic ellipsoid line integrals', () => {
  test('through the centre of a sphere: 2 r density; clipped to [tNear, tFar]', () => {
    const p = ellipsoidPhantom([makeEllipsoid({ density: 0.7, centreMm: [10, -20, 5], semiAxesMm: [30, 30, 30] })]);
    close(phantomLineIntegral(p, [10, -20, -100], [0, 0, 1]), 2 * 30 * 0.7, 42 * PHANTOM_EXACT_REL, 'full chord');
    close(phantomLineIntegral(p, [10, -20, 5], [0, 0, 1]), 30 * 0.7, 21 * PHANTOM_EXACT_REL, 'ray from the centre');
    // Ray starts at z = -100: t in [70, 100] is z in [-30, 0]; the sphere spans z in [-25, 35].
    close(phantomLineIntegral(p, [10, -20, -100], [0, 0, 1], 70, 100), 25 * 0.7, 21 * PHANTOM_EXACT_REL, 'clipped chord');
    // Off-centre by 18 mm: chord 2 sqrt(30^2 - 18^2) = 48.
    close(phantomLineIntegral(p, [28, -20, 200], [0, 0, -1]), 48 * 0.7, 42 * PHANTOM_EXACT_REL, 'off-centre chord');
  });

  test('rotation convention: phi turns the x semi-axis towards +y; theta turns local y onto +z', () => {
    const c: Vec3 = [5, 6, 7];
    const ez = makeEllipsoid({ density: 1, centreMm: c, semiAxesMm: [40, 10, 20], eulerDeg: [30, 0, 0] });
    const p = ellipsoidPhantom([ez]);
    const chord = (d: Vec3): number => phantomLineIntegral(p, [c[0] - 100 * d[0], c[1] - 100 * d[1], c[2] - 100 * d[2]], d);
    const r = Math.PI / 6;
    close(chord([Math.cos(r), Math.sin(r), 0]), 80, 80 * PHANTOM_EXACT_REL, 'along local x');
    close(chord([-Math.sin(r), Math.cos(r), 0]), 20, 80 * PHANTOM_EXACT_REL, 'along local y');
    close(chord([0, 0, 1]), 40, 80 * PHANTOM_EXACT_REL, 'along z');
    const px = ellipsoidPhantom([makeEllipsoid({ density: 1, centreMm: c, semiAxesMm: [40, 10, 20], eulerDeg: [0, 90, 0] })]);
    close(phantomLineIntegral(px, [5, 6, -100], [0, 0, 1]), 20, 80 * PHANTOM_EXACT_REL, 'theta=90: z chord is 2b');
    close(phantomLineIntegral(px, [5, -100, 7], [0, 1, 0]), 40, 80 * PHANTOM_EXACT_REL, 'theta=90: y chord is 2c');
  });

  test('rays that miss everything (or point away) integrate to 0', () => {
    const p = sheppLogan3d();
    assert.equal(phantomLineIntegral(p, [200, -300, 0], [0, 1, 0]), 0);
    assert.equal(phantomLineIntegral(p, [0, 0, 300], [0, 0, 1]), 0, 'pointing away from the phantom');
    assert.equal(phantomLineIntegral(p, [0, 0, -300], [0, 0, 1], 0, 100), 0, 'tFar before the phantom');
    assert.notEqual(phantomLineIntegral(p, [0, 0, -300], [0, 0, 1]), 0, 'the same ray unclipped hits it');
  });

  for (const variant of ['modified', 'original'] as const) {
    test(`Shepp-Logan (${variant}) vs numeric quadrature along random rays`, () => {
      const p = sheppLogan3d({ variant });
      const tol = LINE_INTEGRAL_REL * p.fovMm * maxDensity(p);
      const rng = createRng(variant === 'modified' ? 11 : 12);
      let hits = 0;
      for (let r = 0; r < 12; r++) {
        const { o, d } = randomRay(rng, 200, 90);
        const exact = phantomLineIntegral(p, o, d);
        if (exact !== 0) hits++;
        close(exact, quadrature(p, o, d, 0, 420), tol, `ray ${r}`);
        // A clipped piece: both ends inside the phantom.
        close(phantomLineIntegral(p, o, d, 150, 230), quadrature(p, o, d, 150, 230), tol, `ray ${r} clipped`);
      }
      assert.ok(hits >= 10, `only ${hits} of 12 rays hit the phantom`);
    });
  }

  test('a rotated (all three Euler angles) off-centre ellipsoid vs numeric quadrature', () => {
    const c: Vec3 = [12, -7, 20];
    const p = ellipsoidPhantom([
      makeEllipsoid({ density: 1.3, centreMm: c, semiAxesMm: [45, 15, 25], eulerDeg: [30, 40, 50] }),
      makeEllipsoid({ density: -0.4, centreMm: [20, -7, 25], semiAxesMm: [10, 20, 8], eulerDeg: [-70, 15, 5] }),
    ]);
    const rng = createRng(5);
    let hits = 0;
    for (let r = 0; r < 16; r++) {
      const { o, d } = randomRay(rng, 120, 12, c);
      const exact = phantomLineIntegral(p, o, d);
      if (exact !== 0) hits++;
      close(exact, quadrature(p, o, d, 0, 260, 0.02), LINE_INTEGRAL_REL * 256 * 1.3, `ray ${r}`);
    }
    assert.ok(hits >= 12, `only ${hits} of 16 rays hit the ellipsoids`);
  });

  test('batched integrals equal single-ray ones; Float32 output is their rounding; per-ray near/far', () => {
    const p = sheppLogan3d();
    const rng = createRng(3);
    const n = 200;
    const O = new Float64Array(3 * n), D = new Float64Array(3 * n), near = new Float64Array(n), far = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const { o, d } = randomRay(rng, 200, 100);
      O.set(o, 3 * r); D.set(d, 3 * r);
      near[r] = 100 * rng.next(); far[r] = near[r] + 300 * rng.next();
    }
    const out64 = phantomLineIntegrals(p, { originsMm: O, dirsUnit: D, out: new Float64Array(n) });
    const out32 = phantomLineIntegrals(p, { originsMm: O, dirsUnit: D });
    const clipped = phantomLineIntegrals(p, { originsMm: O, dirsUnit: D, tNear: near, tFar: far, out: new Float64Array(n) });
    assert.ok(out32 instanceof Float32Array);
    for (let r = 0; r < n; r++) {
      const o = O.subarray(3 * r, 3 * r + 3), d = D.subarray(3 * r, 3 * r + 3);
      const single = phantomLineIntegral(p, o, d);
      assert.equal(out64[r], single, `ray ${r}`);
      assert.equal(out32[r], Math.fround(single), `ray ${r} float32`);
      assert.equal(clipped[r], phantomLineIntegral(p, o, d, near[r], far[r]), `ray ${r} clipped`);
    }
    // Batched point values: the ray origins moved halfway in.
    const pts = O.map((x, i) => 0.5 * x + 0.1 * D[i]);
    const vals = phantomValuesAt(p, pts, new Float64Array(n));
    let inside = 0;
    for (let r = 0; r < n; r++) {
      assert.equal(vals[r], phantomValueAt(p, pts.subarray(3 * r, 3 * r + 3)), `point ${r}`);
      if (vals[r] !== 0) inside++;
    }
    assert.ok(inside > n / 4, `only ${inside} points inside`);
  });

  test('non-unit directions and malformed batches are rejected with the field named', () => {
    const p = sheppLogan3d();
    assert.throws(() => phantomLineIntegral(p, [0, 0, 0], [0, 0, 2]), (e: unknown) => e instanceof MedfieldError && /dirUnit/.test(e.message));
    const D = new Float64Array([0, 0, 1, 0, 1, 1]);
    assert.throws(() => phantomLineIntegrals(p, { originsMm: new Float64Array(6), dirsUnit: D }),
      (e: unknown) => e instanceof MedfieldError && /ray 1/.test(e.message));
    assert.throws(() => phantomLineIntegrals(p, { originsMm: new Float64Array(5), dirsUnit: new Float64Array(5) }), MedfieldError);
  });
});

describe('3D Shepp-Logan table', () => {
  test('values at ellipsoid centres are the hand-summed table densities', () => {
    const h = 128; // mm per normalised unit at the default fov of 256 mm
    const cases: [string, Vec3, number, number][] = [
      // point (normalised), modified sum, original sum
      ['centre', [0, 0, 0], 1 - 0.8, 1 - 0.98],
      ['ellipsoid 5', [0, 0.35, -0.15], 1 - 0.8 + 0.1, 1 - 0.98 + 0.01],
      ['ellipsoid 6', [0, 0.1, 0.25], 1 - 0.8 + 0.1, 1 - 0.98 + 0.01],
      ['ellipsoid 9', [0, -0.606, 0], 1 - 0.8 + 0.1, 1 - 0.98 + 0.01],
      ['ellipsoid 3 (dark)', [0.22, 0, 0], 1 - 0.8 - 0.2, 1 - 0.98 - 0.02],
      ['outside the skull', [0, 0.95, 0], 0, 0],
      ['skull shell', [0, 0.9, 0], 1, 1],
    ];
    for (const [name, q, mod, orig] of cases) {
      const xyz: Vec3 = [q[0] * h, q[1] * h, q[2] * h];
      close(phantomValueAt(sheppLogan3d(), xyz), mod, PHANTOM_TABLE_SUM_ABS, `modified ${name}`);
      close(phantomValueAt(sheppLogan3d({ variant: 'original' }), xyz), orig, PHANTOM_TABLE_SUM_ABS, `original ${name}`);
    }
  });

  test("membership equals phantom3d's own test |(alpha p - c) / axes| <= 1 at random points", () => {
    // Written out from phantom3d.m (Schabel 2005) independently of the library's conversion.
    const rows = SHEPP_LOGAN_3D_TABLES.modified;
    const p = sheppLogan3d({ fovMm: 2 }); // normalised units directly
    const rng = createRng(9);
    for (let n = 0; n < 20000; n++) {
      const x = 2 * rng.next() - 1, y = 2 * rng.next() - 1, z = 2 * rng.next() - 1;
      let ref = 0;
      for (const [A, a, b, c, x0, y0, z0, phiD, thetaD, psiD] of rows) {
        const [f, t, s] = [phiD, thetaD, psiD].map((v) => (v * Math.PI) / 180);
        const cf = Math.cos(f), sf = Math.sin(f), ct = Math.cos(t), st = Math.sin(t), cp = Math.cos(s), sp = Math.sin(s);
        const u = (cp * cf - ct * sf * sp) * x + (cp * sf + ct * cf * sp) * y + sp * st * z;
        const v = (-sp * cf - ct * sf * cp) * x + (-sp * sf + ct * cf * cp) * y + cp * st * z;
        const w = st * sf * x - st * cf * y + ct * z;
        if (((u - x0) / a) ** 2 + ((v - y0) / b) ** 2 + ((w - z0) / c) ** 2 <= 1) ref += A;
      }
      close(phantomValueAt(p, [x, y, z]), ref, PHANTOM_TABLE_SUM_ABS, `point ${x}, ${y}, ${z}`);
    }
  });

  test('bad options are MedfieldErrors naming the option', () => {
    assert.throws(() => sheppLogan3d({ fovMm: -1 }), (e: unknown) => e instanceof MedfieldError && e.subject === 'fovMm');
    assert.throws(() => sheppLogan3d({ variant: 'nope' as 'original' }), (e: unknown) => e instanceof MedfieldError && e.subject === 'variant');
    assert.throws(() => voxelizePhantom(sheppLogan3d(), { size: 0 }), (e: unknown) => e instanceof MedfieldError && e.subject === 'size');
    assert.throws(() => voxelizePhantom(sheppLogan3d(), { size: 8, supersample: 1.5 }), MedfieldError);
    assert.throws(() => makeEllipsoid({ density: 1, centreMm: [0, 0, 0], semiAxesMm: [1, 0, 1] }), MedfieldError);
  });
});

describe('voxelizePhantom', () => {
  test('grid covers the fov cube; each voxel is the point value at its centre (supersample 1)', () => {
    const p = sheppLogan3d();
    for (const size of [33, [20, 17, 9] as Vec3]) {
      const v = voxelizePhantom(p, { size });
      const dims = typeof size === 'number' ? [size, size, size] : size;
      assert.deepEqual(v.dims, dims);
      for (let a = 0; a < 3; a++) {
        close(v.spacingMm[a], 256 / dims[a], 1e-12, 'spacing');
        close(v.originMm[a], -128 + 128 / dims[a], 1e-12, 'origin');
      }
      assert.deepEqual([...v.direction], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
      let idx = 0, nonzero = 0;
      for (let k = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, idx++) {
        const expected = Math.fround(phantomValueAt(p, voxelToWorld(v, [i, j, k])));
        if (v.data[idx] !== expected) assert.fail(`voxel ${i},${j},${k}: ${v.data[idx]} vs ${expected}`);
        if (expected !== 0) nonzero++;
      }
      assert.ok(nonzero > v.data.length / 4, `only ${nonzero} nonzero voxels`);
    }
  });

  test('the centre voxel of an odd grid holds the centre table sum', () => {
    const v = voxelizePhantom(sheppLogan3d(), { size: 65 });
    close(v.data[32 + 65 * (32 + 65 * 32)], 0.2, PHANTOM_FLOAT32_ABS, 'centre voxel');
  });

  test('supersampling: voxel = mean of s^3 sub-samples, and the mass approaches the analytic mass', () => {
    const p = sheppLogan3d();
    const s = 4, n = 32;
    const v = voxelizePhantom(p, { size: n, supersample: s });
    const h = 256 / n;
    for (const [i, j, k] of [[16, 16, 16], [5, 16, 16], [16, 4, 12], [20, 9, 16]]) {
      let sum = 0;
      for (let c = 0; c < s; c++) for (let b = 0; b < s; b++) for (let a = 0; a < s; a++) {
        const off = (q: number): number => ((q + 0.5) / s - 0.5) * h;
        const [x, y, z] = voxelToWorld(v, [i, j, k]);
        sum += phantomValueAt(p, [x + off(a), y + off(b), z + off(c)]);
      }
      close(v.data[i + n * (j + n * k)], sum / s ** 3, PHANTOM_FLOAT32_ABS, `voxel ${i},${j},${k}`);
    }
    const analytic = p.ellipsoids.reduce((m, e) => m + (e.density * 4 * Math.PI * e.semiAxesMm[0] * e.semiAxesMm[1] * e.semiAxesMm[2]) / 3, 0);
    const mass = (vol: Float32Array): number => vol.reduce((a, b) => a + b, 0) * h ** 3;
    const errS = Math.abs(mass(v.data) - analytic) / analytic;
    assert.ok(errS < PHANTOM_MASS_REL, `supersampled mass error ${errS}`);
  });

  test('voxel sums along axis-aligned rays through voxel centres converge to the exact integral', () => {
    const p = sheppLogan3d();
    // N = 5 * 3^k: 51.2 mm-spaced positions are voxel centres at every level.
    const sizes = [5, 15, 45, 135];
    const pos = [-51.2, 0, 51.2];
    const errors: number[] = [];
    for (const n of sizes) {
      const v = voxelizePhantom(p, { size: n });
      const h = 256 / n, at = (x: number): number => Math.round((x + 128) / h - 0.5);
      let err = 0, rays = 0;
      for (const a of pos) for (const b of pos) for (let axis = 0; axis < 3; axis++) {
        const fixed = [0, 1, 2].filter((c) => c !== axis);
        const ijk = [0, 0, 0];
        ijk[fixed[0]] = at(a); ijk[fixed[1]] = at(b);
        let sum = 0;
        for (let t = 0; t < n; t++) { ijk[axis] = t; sum += v.data[ijk[0] + n * (ijk[1] + n * ijk[2])]; }
        const o: Vec3 = [0, 0, 0], d: Vec3 = [0, 0, 0];
        o[fixed[0]] = a; o[fixed[1]] = b; o[axis] = -200; d[axis] = 1;
        err += Math.abs(sum * h - phantomLineIntegral(p, o, d));
        rays++;
      }
      errors.push(err / rays);
    }
    for (let i = 1; i < errors.length; i++) assert.ok(errors[i] < errors[i - 1], `mean error not decreasing: ${errors.join(', ')}`);
    assert.ok(errors[errors.length - 1] < 0.25 * errors[0], `errors ${errors.join(', ')}`);
  });
});
