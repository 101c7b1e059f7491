import { test } from 'node:test';
import assert from 'node:assert/strict';
import { voxelToWorld, worldToVoxel, type Vec3, type Volume } from '../../src/core/volume.js';
import { createRng } from '../../src/core/rng.js';
import { moveSlicePoint, psfSigmasMm, rotationMatrix, sliceCentreMm } from '../../src/geometry/slice-stack.js';
import {
  acquireStack, addSliceNoise, drawSliceMotion, ORIENTATION_DIRECTIONS, psfAxisNodes, simulateSvr, stackGrid, STACK_ORIENTATIONS, volumeBoundsMm,
} from '../../src/svr/simulate.js';
import { SVR_LINEAR_ABS, SVR_NOISE_STD_REL, SVR_PSF_VARIANCE_REL } from '../tolerances.js';

/** A volume holding f(world) = a + g . x sampled at its voxel centres (any direction). */
function linearVolume(dims: Vec3, spacingMm: Vec3, originMm: Vec3, direction: number[], a: number, g: Vec3): Volume<Float32Array> {
  const v: Volume<Float32Array> = { data: new Float32Array(dims[0] * dims[1] * dims[2]), dims, spacingMm, originMm, direction: new Float64Array(direction) };
  for (let k = 0, p = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, p++) {
    const w = voxelToWorld(v, [i, j, k]);
    v.data[p] = a + g[0] * w[0] + g[1] * w[1] + g[2] * w[2];
  }
  return v;
}

/** An oblique direction (rotation about an arbitrary axis). */
const OBLIQUE = Array.from(rotationMatrix(0.2, -0.15, 0.3));

test('stack orientations are right-handed with the slice axis along world z, y, x', () => {
  const normal = { axial: 2, coronal: 1, sagittal: 0 } as const;
  for (const o of STACK_ORIENTATIONS) {
    const d = ORIENTATION_DIRECTIONS[o];
    const det = d[0]! * (d[4]! * d[8]! - d[5]! * d[7]!) - d[1]! * (d[3]! * d[8]! - d[5]! * d[6]!) + d[2]! * (d[3]! * d[7]! - d[4]! * d[6]!);
    assert.equal(det, 1, o);
    assert.equal(Math.abs(d[3 * normal[o] + 2]!), 1, `${o}: slice axis`);
  }
  // a stack grid covers the box it is made for, centred on it
  const b = { min: [-10, -20, -5] as Vec3, max: [30, 21, 12] as Vec3 };
  const g = stackGrid(b, 'coronal', 1, 4);
  assert.deepEqual(g.dims, [40, 17, 11]); // i->R 40 mm, j->S 17 mm, k->P 41 mm / 4 -> 11
  const lo = voxelToWorld(g, [-0.5, -0.5, -0.5]), hi = voxelToWorld(g, [g.dims[0] - 0.5, g.dims[1] - 0.5, g.dims[2] - 0.5]);
  for (let r = 0; r < 3; r++) {
    assert.ok(Math.min(lo[r]!, hi[r]!) <= b.min[r]! + 1e-9 && Math.max(lo[r]!, hi[r]!) >= b.max[r]! - 1e-9, `axis ${r}`);
    assert.ok(Math.abs((lo[r]! + hi[r]!) / 2 - (b.min[r]! + b.max[r]!) / 2) < 1e-9, `centre ${r}`);
  }
});

test('acquireStack: on a linear ground truth every slice pixel equals f at its moved position (oblique grid, motion, any symmetric PSF)', () => {
  const g: Vec3 = [0.7, -0.4, 1.3];
  // centred on world 0 so the +-8 mm stacks, moved and blurred, stay inside its grid
  const D = OBLIQUE, dims: Vec3 = [40, 44, 36], sp: Vec3 = [1, 1.2, 1.1];
  const origin = [0, 1, 2].map((r) => -[0, 1, 2].reduce((acc, c) => acc + D[3 * r + c]! * sp[c]! * (dims[c]! - 1) / 2, 0)) as Vec3;
  const gt = linearVolume(dims, sp, origin, D, 5, g);
  const f = (x: ArrayLike<number>) => 5 + g[0] * x[0]! + g[1] * x[1]! + g[2] * x[2]!;
  const rng = createRng(3);
  for (const orientation of STACK_ORIENTATIONS) {
    // a stack well inside the ground truth so every PSF node samples inside its grid
    const vol = stackGrid({ min: [-8, -8, -8], max: [8, 8, 8] }, orientation, 1.5, 3);
    const stack = { volume: vol, sliceThicknessMm: 3, name: orientation };
    const motion = drawSliceMotion(vol.dims[2], 5, 3, 'uniform', rng);
    for (const nodes of [[1, 1, 1], [3, 3, 5], [1, 1, 13]] as const) {
      acquireStack(gt, stack, motion, nodes);
      const R = new Float64Array(9), out = new Float64Array(3);
      let worst = 0;
      for (let k = 0; k < vol.dims[2]; k++) {
        rotationMatrix(motion[6 * k]!, motion[6 * k + 1]!, motion[6 * k + 2]!, R);
        const c = sliceCentreMm(vol, k);
        for (let j = 0; j < vol.dims[1]; j += 3) for (let i = 0; i < vol.dims[0]; i += 3) {
          const x = moveSlicePoint(voxelToWorld(vol, [i, j, k]), c, motion, 6 * k, R, out);
          worst = Math.max(worst, Math.abs(vol.data[i + vol.dims[0] * (j + vol.dims[1] * k)]! - f(x)));
        }
      }
      assert.ok(worst < SVR_LINEAR_ABS, `${orientation} nodes ${nodes.join('x')}: worst error ${worst}`);
    }
  }
});

test('acquireStack with zero motion and a one-node PSF is direct trilinear sampling; outside the grid it reads 0', () => {
  const gt = linearVolume([12, 10, 8], [1, 1, 1], [0, 0, 0], [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, [0, 0, 0]);
  const rng = createRng(5);
  for (let p = 0; p < gt.data.length; p++) gt.data[p] = rng.next();
  const vol = stackGrid({ min: [-3, -3, -3], max: [14, 12, 10] }, 'sagittal', 0.7, 1.3);
  acquireStack(gt, { volume: vol, sliceThicknessMm: 1.3, name: 's' }, null, [1, 1, 1]);
  let checked = 0, zeros = 0;
  for (let k = 0; k < vol.dims[2]; k++) for (let j = 0; j < vol.dims[1]; j++) for (let i = 0; i < vol.dims[0]; i++) {
    const idx = worldToVoxel(gt, voxelToWorld(vol, [i, j, k]));
    const got = vol.data[i + vol.dims[0] * (j + vol.dims[1] * k)]!;
    if (idx.every((x, c) => x >= 0 && x <= gt.dims[c]! - 1)) {
      // direct trilinear interpolation, written out independently
      const [x, y, z] = idx;
      const x0 = Math.min(Math.floor(x), gt.dims[0] - 2), y0 = Math.min(Math.floor(y), gt.dims[1] - 2), z0 = Math.min(Math.floor(z), gt.dims[2] - 2);
      let want = 0;
      for (let c = 0; c < 8; c++) {
        const xi = x0 + (c & 1), yi = y0 + ((c >> 1) & 1), zi = z0 + (c >> 2);
        want += (1 - Math.abs(x - xi)) * (1 - Math.abs(y - yi)) * (1 - Math.abs(z - zi)) * gt.data[xi + 12 * (yi + 10 * zi)]!;
      }
      assert.ok(Math.abs(got - want) < 1e-5, `(${i},${j},${k}): ${got} vs ${want}`);
      checked++;
    } else if (idx.some((x, c) => x <= -1 || x >= gt.dims[c]!)) {
      assert.equal(got, 0);
      zeros++;
    }
  }
  assert.ok(checked > 500 && zeros > 100, `${checked} inside, ${zeros} outside`);
});

test('the through-plane PSF has the variance of a Gaussian with FWHM = slice thickness', () => {
  // f = (z - z0)^2 along the axial normal: the PSF average is f(centre) + sigma_z^2 (fine ground truth, small interpolation error)
  const h = 0.25, n = 96;
  const gt = linearVolume([8, 8, n], [h, h, h], [-1, -1, -12], [1, 0, 0, 0, 1, 0, 0, 0, 1], 0, [0, 0, 0]);
  for (let k = 0; k < n; k++) gt.data.fill(((-12 + h * k) - 0.3) ** 2, 64 * k, 64 * (k + 1));
  const vol = stackGrid({ min: [-0.5, -0.5, -4], max: [0.5, 0.5, 4] }, 'axial', 1, 4);
  const stack = { volume: vol, sliceThicknessMm: 4, name: 'a' };
  acquireStack(gt, stack, null);
  const s2 = psfSigmasMm(stack)[2] ** 2;
  for (let k = 0; k < vol.dims[2]; k++) {
    const zc = sliceCentreMm(vol, k)[2];
    const excess = vol.data[k * vol.dims[0] * vol.dims[1]]! - (zc - 0.3) ** 2;
    assert.ok(Math.abs(excess / s2 - 1) < SVR_PSF_VARIANCE_REL, `slice ${k}: variance ${excess} vs sigma^2 ${s2}`);
  }
  // the node rules integrate the Gaussian's variance: exactly for 3 nodes, within the +-3 sigma truncation for more
  for (const q of [3, 7, 13]) {
    const { offsetsSigma, weights } = psfAxisNodes(q);
    let w = 0, v = 0;
    for (let i = 0; i < q; i++) { w += weights[i]!; v += weights[i]! * offsetsSigma[i]! ** 2; }
    assert.ok(Math.abs(w - 1) < 1e-12 && Math.abs(v - 1) < (q === 3 ? 1e-12 : 0.05), `${q} nodes: sum ${w}, variance ${v}`);
  }
});

test('slice motion: bounded by the maxima, spread over them, deterministic, zero when the maxima are zero', () => {
  for (const dist of ['uniform', 'gaussian'] as const) {
    const m = drawSliceMotion(400, 5, 4, dist, createRng(11));
    assert.deepEqual(m, drawSliceMotion(400, 5, 4, dist, createRng(11)));
    let rMax = 0, tMax = 0, rMean = 0;
    for (let s = 0; s < 400; s++) {
      const r = Math.hypot(m[6 * s]!, m[6 * s + 1]!, m[6 * s + 2]!) * 180 / Math.PI, t = Math.hypot(m[6 * s + 3]!, m[6 * s + 4]!, m[6 * s + 5]!);
      rMax = Math.max(rMax, r); tMax = Math.max(tMax, t); rMean += r / 400;
    }
    assert.ok(rMax <= 5 + 1e-9 && rMax > 4.5, `${dist}: max rotation ${rMax}`);
    assert.ok(tMax <= 4 + 1e-9 && tMax > 3.5, `${dist}: max translation ${tMax}`);
    assert.ok(rMean > 1.5 && rMean < 3.5, `${dist}: mean rotation ${rMean}`);
  }
  assert.ok(drawSliceMotion(10, 0, 0, 'uniform', createRng(1)).every((x) => x === 0));
});

test('noise: Gaussian std = sigma; Rician of a zero signal has mean sigma sqrt(pi/2)', () => {
  const a = new Float32Array(20000).fill(10);
  addSliceNoise(a, 0.5, 'gaussian', createRng(2));
  let m = 0, v = 0;
  for (const x of a) m += x / a.length;
  for (const x of a) v += (x - m) ** 2 / a.length;
  assert.ok(Math.abs(Math.sqrt(v) / 0.5 - 1) < SVR_NOISE_STD_REL && Math.abs(m - 10) < 0.02, `mean ${m}, std ${Math.sqrt(v)}`);
  const z = new Float32Array(20000);
  addSliceNoise(z, 0.5, 'rician', createRng(2));
  let mz = 0;
  for (const x of z) { assert.ok(x >= 0); mz += x / z.length; }
  assert.ok(Math.abs(mz / (0.5 * Math.sqrt(Math.PI / 2)) - 1) < SVR_NOISE_STD_REL, `Rayleigh mean ${mz}`);
});

test('simulateSvr: three orthogonal stacks covering the volume, seeded, motion independent of the noise level', () => {
  const gt = linearVolume([20, 24, 16], [1, 1, 1.5], [3, -4, 2], OBLIQUE, 1, [0.01, 0.02, 0]);
  const a = simulateSvr(gt, { seed: 4, noise: 0.05 });
  const b = simulateSvr(gt, { seed: 4, noise: 0 });
  assert.deepEqual(a.orientations, ['axial', 'coronal', 'sagittal']);
  assert.deepEqual(a.motions, b.motions);
  assert.deepEqual(a.stacks[0]!.volume.data, simulateSvr(gt, { seed: 4, noise: 0.05 }).stacks[0]!.volume.data);
  const box = volumeBoundsMm(gt);
  for (const s of a.stacks) {
    assert.equal(s.volume.spacingMm[2], 4);
    assert.equal(s.sliceThicknessMm, 4);
    const sb = volumeBoundsMm(s.volume);
    for (let r = 0; r < 3; r++) assert.ok(sb.min[r]! <= box.min[r]! + 1e-9 && sb.max[r]! >= box.max[r]! - 1e-9);
  }
  // six stacks: the repeats are shifted by half a slice spacing through the plane
  const six = simulateSvr(gt, { stacks: 6, noise: 0 });
  const n0 = six.stacks[0]!.volume, n3 = six.stacks[3]!.volume;
  assert.ok(Math.abs(n3.originMm[2] - n0.originMm[2] - 2) < 1e-9);
  assert.throws(() => simulateSvr(gt, { stacks: 0 }), /stacks/);
  assert.throws(() => simulateSvr(gt, { sliceSpacingMm: -1 }), /sliceSpacingMm/);
});
