import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { gridAabb, pixelRay, rayAabb, viewFrame, type XrayGeometry } from '../../src/geometry/index.js';
import {
  ellipsoidPhantom, makeEllipsoid, phantomLineIntegrals, sheppLogan3d, voxelizePhantom, type EllipsoidPhantom,
} from '../../src/phantom/index.js';
import {
  computeViewRays, createInlineProjector, packGrid, SIDDON_STATE, siddonSetup, siddonSum, type ProjectorMethod,
} from '../../src/physics/projectors.js';
import { createThreadedProjector, projectVolume } from '../../src/platform/physics-pool.js';
import {
  BALL_CHORD_REL, PROJ_ADJOINT_REL, SL_CONVERGENCE_RATIO, SL_SIDDON_REL_L2_64, THREADED_ADJOINT_REL,
} from '../tolerances.js';

const METHODS: ProjectorMethod[] = ['siddon', 'trilinear'];

/** Analytic line integrals of `p` along every detector ray of every view (the oracle). */
function analytic(p: EllipsoidPhantom, geo: XrayGeometry, angles: number[]): Float64Array {
  const nRays = geo.nDetector[0] * geo.nDetector[1];
  const out = new Float64Array(angles.length * nRays);
  const rays = new Float64Array(nRays * 6);
  const O = new Float64Array(nRays * 3), D = new Float64Array(nRays * 3);
  angles.forEach((a, v) => {
    computeViewRays(geo, a, rays);
    for (let r = 0; r < nRays; r++) for (let q = 0; q < 3; q++) { O[3 * r + q] = rays[6 * r + q]!; D[3 * r + q] = rays[6 * r + 3 + q]!; }
    phantomLineIntegrals(p, { originsMm: O, dirsUnit: D, tNear: geo.mode === 'cone' ? 0 : -Infinity, out: out.subarray(v * nRays, (v + 1) * nRays) });
  });
  return out;
}

function relL2(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0, n = 0;
  for (let i = 0; i < a.length; i++) { e += (a[i]! - ref[i]!) ** 2; n += ref[i]! ** 2; }
  return Math.sqrt(e / n);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.next() * 2 - 1;
  return a;
}

for (const mode of ['cone', 'parallel'] as const) {
  test(`Siddon projection of voxelised Shepp-Logan converges to the analytic line integrals (${mode})`, async () => {
    const fov = 256;
    const p = sheppLogan3d({ fovMm: fov });
    const angles = [0, 0.4, 1.1, 1.9, 2.6, 3.0];
    const errs: number[] = [];
    for (const N of [32, 64]) {
      const geo: XrayGeometry = {
        mode, DSD: 1000, DSO: 500, nDetector: [48, 40], dDetector: mode === 'cone' ? [15, 15] : [7, 7],
        offDetector: [0, 0], nVoxel: [N, N, N], dVoxel: [fov / N, fov / N, fov / N], offOrigin: [0, 0, 0],
      };
      const vol = voxelizePhantom(p, { size: N, supersample: 4 });
      const op = createInlineProjector(geo, angles, { method: 'siddon' });
      const y = new Float32Array(angles.length * op.viewSize);
      await op.forward(vol.data, y);
      errs.push(relL2(y, analytic(p, geo, angles)));
    }
    assert.ok(errs[1]! < SL_SIDDON_REL_L2_64, `64^3 relative L2 ${errs[1]} >= ${SL_SIDDON_REL_L2_64}`);
    assert.ok(errs[1]! < SL_CONVERGENCE_RATIO * errs[0]!, `no convergence: 32^3 ${errs[0]}, 64^3 ${errs[1]}`);
  });
}

test('a uniform ball projects to chord length x value through its centre (both methods, cone and parallel)', async () => {
  const R = 40, c = 0.37, N = 63, fov = 126;
  const ball = ellipsoidPhantom([makeEllipsoid({ density: c, centreMm: [0, 0, 0], semiAxesMm: [R, R, R] })], { fovMm: fov });
  const vol = voxelizePhantom(ball, { size: N, supersample: 8 });
  for (const mode of ['cone', 'parallel'] as const) {
    // one detector pixel on the central ray; angles not aligned with the grid
    const geo: XrayGeometry = {
      mode, DSD: 400, DSO: 250, nDetector: [1, 1], dDetector: [1, 1], offDetector: [0, 0],
      nVoxel: [N, N, N], dVoxel: [fov / N, fov / N, fov / N], offOrigin: [0, 0, 0],
    };
    const angles = [0, 0.3, 1.2, 2.5];
    for (const method of METHODS) {
      const y = new Float32Array(angles.length);
      await createInlineProjector(geo, angles, { method }).forward(vol.data, y);
      for (let v = 0; v < angles.length; v++) {
        const rel = Math.abs(y[v]! - 2 * R * c) / (2 * R * c);
        assert.ok(rel < BALL_CHORD_REL, `${mode} ${method} angle ${angles[v]}: ${y[v]} vs ${2 * R * c} (rel ${rel})`);
      }
    }
  }
});

test('a constant volume projects to value x chord of the grid box (rayAabb oracle), both methods', async () => {
  const geo: XrayGeometry = {
    mode: 'cone', DSD: 300, DSO: 200, nDetector: [9, 7], dDetector: [3, 3], offDetector: [0.5, -1], rotDetector: [0.05, 0, 0.1],
    nVoxel: [10, 12, 8], dVoxel: [2, 1.5, 2.5], offOrigin: [1, -2, 3],
  };
  const angles = [0.2, 1.3];
  const x = new Float32Array(10 * 12 * 8).fill(0.5);
  const box = gridAabb(geo), tt = new Float64Array(2), ray = new Float64Array(6);
  for (const method of METHODS) {
    const y = new Float32Array(angles.length * 63);
    await createInlineProjector(geo, angles, { method, stepMm: 0.7 }).forward(x, y);
    let hits = 0;
    angles.forEach((a, v) => {
      const f = viewFrame(geo, a);
      for (let r = 0; r < 7; r++) for (let c = 0; c < 9; c++) {
        pixelRay(geo, f, r, c, ray);
        const chord = rayAabb(ray[0]!, ray[1]!, ray[2]!, ray[3]!, ray[4]!, ray[5]!, box, tt) ? tt[1]! - tt[0]! : 0;
        if (chord > 0) hits++;
        const got = y[v * 63 + r * 9 + c]!;
        assert.ok(Math.abs(got - 0.5 * chord) <= 1e-5 * Math.max(1, chord), `${method} view ${v} (${r},${c}): ${got} vs ${0.5 * chord}`);
      }
    });
    assert.ok(hits > 60, `only ${hits} rays hit`);
  }
});

test('Siddon = brute-force fine sampling of the piecewise-constant volume on random rays (random volume)', () => {
  const geo: XrayGeometry = {
    mode: 'cone', DSD: 100, DSO: 60, nDetector: [1, 1], dDetector: [1, 1], offDetector: [0, 0],
    nVoxel: [7, 5, 6], dVoxel: [1.3, 0.9, 1.1], offOrigin: [0.3, -0.2, 0.1],
  };
  const rng = createRng(11);
  const x = new Float32Array(7 * 5 * 6).map(() => rng.next());
  const g = packGrid(geo), st = new Float64Array(SIDDON_STATE), box = gridAabb(geo), tt = new Float64Array(2);
  const h = 2e-4; // mm: each voxel boundary costs at most h x max|x| of quadrature error
  let tested = 0;
  for (let r = 0; r < 150; r++) {
    const p = [0, 1, 2].map((a) => box[a]! + (box[a + 3]! - box[a]!) * rng.next());
    let d = [rng.normal(), rng.normal(), rng.normal()];
    if (r % 10 === 0) d = [0, 0, 0].map((_, a) => (a === r % 3 ? 1 : 0)); // axis-aligned rays too
    const len = Math.hypot(d[0]!, d[1]!, d[2]!);
    d = d.map((q) => q / len);
    const o = p.map((q, a) => q - 40 * d[a]!);
    const got = siddonSetup(o[0]!, o[1]!, o[2]!, d[0]!, d[1]!, d[2]!, g, st) ? siddonSum(st, x) : 0;
    assert.ok(rayAabb(o[0]!, o[1]!, o[2]!, d[0]!, d[1]!, d[2]!, box, tt));
    let ref = 0;
    const n = Math.ceil((tt[1]! - tt[0]!) / h), hh = (tt[1]! - tt[0]!) / n;
    for (let k = 0; k < n; k++) {
      const t = tt[0]! + (k + 0.5) * hh;
      const i = Math.min(6, Math.floor((o[0]! + t * d[0]! - box[0]!) / 1.3));
      const j = Math.min(4, Math.floor((o[1]! + t * d[1]! - box[1]!) / 0.9));
      const l = Math.min(5, Math.floor((o[2]! + t * d[2]! - box[2]!) / 1.1));
      ref += hh * x[i + 7 * (j + 5 * l)]!;
    }
    assert.ok(Math.abs(got - ref) <= 20 * hh, `ray ${r}: Siddon ${got} vs brute force ${ref}`);
    tested++;
  }
  assert.equal(tested, 150);
});

const ADJ_GEOS: Record<string, XrayGeometry> = {
  cone: {
    mode: 'cone', DSD: 220, DSO: 140, nDetector: [13, 9], dDetector: [2.2, 2.6], offDetector: [1.7, -2.3],
    rotDetector: [0.1, -0.05, 0.08], nVoxel: [12, 10, 9], dVoxel: [1.6, 2.1, 1.9], offOrigin: [2.5, -1.5, 1.2],
  },
  parallel: {
    mode: 'parallel', DSD: 220, DSO: 140, nDetector: [15, 8], dDetector: [1.4, 1.8], offDetector: [-1.1, 0.9],
    rotDetector: [0.07, 0.04, -0.06], nVoxel: [11, 13, 7], dVoxel: [1.5, 1.2, 2.2], offOrigin: [-1.3, 0.8, -0.7],
  },
  fan: {
    mode: 'cone', DSD: 200, DSO: 130, nDetector: [31, 1], dDetector: [1.3, 1.3], offDetector: [2.1, 0],
    nVoxel: [20, 17, 1], dVoxel: [1.2, 1.4, 1.2], offOrigin: [1.1, -0.6, 0],
  },
};

for (const [name, geo] of Object.entries(ADJ_GEOS)) {
  for (const method of METHODS) {
    test(`adjoint: <A x, y> = <x, A^T y> (${method}, ${name}, offsets${geo.rotDetector ? ' + rotDetector' : ''})`, async () => {
      const angles = [0, 0.9, 2.2, 3.7, 5.1];
      const op = createInlineProjector(geo, angles, { method, stepMm: method === 'trilinear' ? 0.45 : undefined });
      const x = random(op.volumeSize, 1), y = random(angles.length * op.viewSize, 2);
      const Ax = new Float32Array(y.length), Aty = new Float32Array(x.length);
      await op.forward(x, Ax);
      await op.adjoint(y, Aty);
      const lhs = dot(Ax, y), rhs = dot(x, Aty);
      // the geometry must actually see the volume for the test to mean anything
      let hit = 0;
      for (let i = 0; i < Ax.length; i++) if (Ax[i] !== 0) hit++;
      assert.ok(hit > Ax.length / 3, `only ${hit} of ${Ax.length} rays hit the grid`);
      // rounding scale: the sums of |terms| of both dot products (not the Cauchy-Schwarz bound, far looser)
      let scale = 0;
      for (let i = 0; i < y.length; i++) scale += Math.abs(Ax[i]! * y[i]!);
      assert.ok(Math.abs(lhs - rhs) <= PROJ_ADJOINT_REL * scale, `<Ax,y> ${lhs} vs <x,A^T y> ${rhs} (scale ${scale})`);
      // a view subset: A_S^T only back-projects those views
      const sub = Int32Array.from([1, 3]);
      await op.adjoint(y, Aty, sub);
      const ySub = new Float32Array(y.length);
      for (const v of sub) ySub.set(y.subarray(v * op.viewSize, (v + 1) * op.viewSize), v * op.viewSize);
      assert.ok(Math.abs(dot(Ax, ySub) - dot(x, Aty)) <= PROJ_ADJOINT_REL * scale);
    });
  }
}

test('threaded projector equals the inline one (forward bit-identical, adjoint to float rounding, deterministic)', async () => {
  const geo = ADJ_GEOS.cone!;
  const angles = [0, 0.5, 1.0, 1.6, 2.3, 3.1, 4.0];
  for (const method of METHODS) {
    const inline = createInlineProjector(geo, angles, { method });
    const x = random(inline.volumeSize, 3), y = random(angles.length * inline.viewSize, 4);
    const fi = new Float32Array(y.length), ai = new Float32Array(x.length);
    await inline.forward(x, fi);
    await inline.adjoint(y, ai);
    for (const threads of [1, 2, 3]) {
      const op = await createThreadedProjector(geo, angles, { method, threads });
      try {
        const ft = new Float32Array(y.length), at = new Float32Array(x.length), at2 = new Float32Array(x.length);
        await op.forward(x, ft);
        assert.deepEqual(ft, fi, `${method} forward, ${threads} threads`);
        // two queued calls at once, the second must see its own data
        await Promise.all([op.adjoint(y, at), op.adjoint(y, at2)]);
        assert.deepEqual(at2, at, 'adjoint is deterministic for a fixed thread count');
        if (threads === 1) assert.deepEqual(at, ai, 'one thread is bit-identical to inline');
        let e = 0, n = 0;
        for (let i = 0; i < at.length; i++) { e = Math.max(e, Math.abs(at[i]! - ai[i]!)); n = Math.max(n, Math.abs(ai[i]!)); }
        assert.ok(e <= THREADED_ADJOINT_REL * n, `${method} adjoint, ${threads} threads: max diff ${e}`);
        // a view subset writes only those views
        const part = new Float32Array(y.length).fill(7);
        await op.forward(x, part, Int32Array.from([2, 5]));
        for (let v = 0; v < angles.length; v++) {
          const s = part.subarray(v * op.viewSize, (v + 1) * op.viewSize);
          if (v === 2 || v === 5) assert.deepEqual(s, fi.subarray(v * op.viewSize, (v + 1) * op.viewSize));
          else assert.ok(s.every((q) => q === 7));
        }
      } finally {
        op.dispose();
      }
    }
  }
  const viaConvenience = await projectVolume(random(12 * 10 * 9, 3), geo, angles, { method: 'siddon', threads: 2 });
  const direct = new Float32Array(viaConvenience.length);
  await createInlineProjector(geo, angles).forward(random(12 * 10 * 9, 3), direct);
  assert.deepEqual(viaConvenience, direct);
});

test('clear MedfieldErrors for a volume or projections of the wrong length, bad views and bad options', async () => {
  const geo = ADJ_GEOS.cone!;
  const op = createInlineProjector(geo, [0, 1]);
  const y = new Float32Array(2 * op.viewSize);
  await assert.rejects(op.forward(new Float32Array(op.volumeSize - 1), y), (e: unknown) =>
    e instanceof MedfieldError && e.subject === 'volume' && /expected 1080 values/.test(e.message) && /got 1079/.test(e.message));
  await assert.rejects(op.adjoint(new Float32Array(5), new Float32Array(op.volumeSize)), (e: unknown) =>
    e instanceof MedfieldError && e.subject === 'projections');
  await assert.rejects(op.forward(new Float32Array(op.volumeSize), y, Int32Array.from([2])), (e: unknown) =>
    e instanceof MedfieldError && e.subject === 'views[0]');
  assert.throws(() => createInlineProjector(geo, [0], { method: 'joseph' as ProjectorMethod }), (e: unknown) =>
    e instanceof MedfieldError && e.subject === 'method');
  assert.throws(() => createInlineProjector(geo, [0], { method: 'trilinear', stepMm: 0 }), (e: unknown) =>
    e instanceof MedfieldError && e.subject === 'stepMm');
  assert.throws(() => createInlineProjector(geo, []), (e: unknown) => e instanceof MedfieldError && /angles/.test(e.subject));
  await assert.rejects(createThreadedProjector(geo, [0], { threads: 0 }), (e: unknown) => e instanceof MedfieldError && e.subject === 'threads');
  await assert.rejects(projectVolume(new Float32Array(3), geo, [0]), (e: unknown) => e instanceof MedfieldError && e.subject === 'volume');
  const th = await createThreadedProjector(geo, [0, 1], { threads: 2 });
  try {
    await assert.rejects(th.forward(new Float32Array(7), y), (e: unknown) => e instanceof MedfieldError && e.subject === 'volume');
    // still usable after a rejected call
    await th.forward(new Float32Array(op.volumeSize).fill(1), y);
    assert.ok(y.some((v) => v > 0));
  } finally {
    th.dispose();
  }
});

test('an undisposed threaded projector does not keep the process alive', () => {
  const pool = new URL('../../src/platform/physics-pool.js', import.meta.url).href;
  const script = `import { createThreadedProjector } from ${JSON.stringify(pool)};
const geo = { mode: 'cone', DSD: 300, DSO: 200, nDetector: [9, 7], dDetector: [3, 3], offDetector: [0, 0], nVoxel: [10, 12, 8], dVoxel: [2, 1.5, 2.5], offOrigin: [0, 0, 0] };
const op = await createThreadedProjector(geo, [0, 1, 2], { threads: 2 });
const y = new Float32Array(3 * 63);
await op.forward(new Float32Array(960).fill(1), y);
console.log('done', y[31]);`;
  // the timeout only guards against a hang; the child normally exits within a second
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // node --test marks its children; this one is a plain script
  const r = spawnSync(process.execPath, ['--input-type=module'], { input: script, encoding: 'utf8', timeout: 60_000, env });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done 20');
});
