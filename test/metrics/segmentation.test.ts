/** Dice, surface voxels, mm distance transform and normalised surface Dice: analytic cases. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { createVolume, type Vec3 } from '../../src/core/volume.js';
import {
  dice, dicePerLabel, distanceMm, meanDice, normalizedSurfaceDice, surfaceDiceCounts, surfaceVoxels,
  type SurfaceDiceOptions,
} from '../../src/metrics/index.js';

function throwsCode(fn: () => unknown, code: string, subject?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof MedfieldError, `expected MedfieldError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (subject !== undefined) assert.equal(e.subject, subject);
    return true;
  });
}

/** Box [lo, hi) per axis set to `label` in a Uint8 label map of dims. */
function box(dims: Vec3, lo: Vec3, hi: Vec3, label = 1, into?: Uint8Array): Uint8Array {
  const [nx, ny] = dims;
  const out = into ?? new Uint8Array(dims[0] * dims[1] * dims[2]);
  for (let k = lo[2]; k < hi[2]; k++) for (let j = lo[1]; j < hi[1]; j++) for (let i = lo[0]; i < hi[0]; i++) out[i + nx * (j + ny * k)] = label;
  return out;
}

/** NSD by brute force over all surface-voxel pairs (independent of the EDT). */
function bruteNsd(a: Uint8Array, b: Uint8Array, dims: Vec3, sp: Vec3, tol: number): number {
  const pts = (s: Uint8Array): Vec3[] => {
    const out: Vec3[] = [];
    s.forEach((v, o) => { if (v) out.push([o % dims[0], Math.floor(o / dims[0]) % dims[1], Math.floor(o / (dims[0] * dims[1]))]); });
    return out;
  };
  const pa = pts(surfaceVoxels(a, dims)), pb = pts(surfaceVoxels(b, dims));
  const within = (p: Vec3, set: Vec3[]): boolean => set.some((q) => Math.hypot((p[0] - q[0]) * sp[0], (p[1] - q[1]) * sp[1], (p[2] - q[2]) * sp[2]) <= tol + 1e-12);
  const m = pa.filter((p) => within(p, pb)).length + pb.filter((p) => within(p, pa)).length;
  return m / (pa.length + pb.length);
}

describe('Dice', () => {
  test('known overlaps', () => {
    assert.equal(dice([1, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0]), 0.75); // 2*3 / (4 + 4)
    assert.equal(dice([1, 1, 0, 0], [0, 0, 1, 1]), 0);
    assert.equal(dice([2, 2, 1], [2, 1, 1], 2), 2 / 3);
    assert.equal(dice([0, 0], [0, 0]), 1); // label absent from both
    assert.equal(dice([1, 0], [0, 0]), 0); // absent from one
  });

  test('per label in one pass, mixed array types, default labels exclude background', () => {
    const a = new Int16Array([0, 1, 1, 2, 2, 2, 3, 0]);
    const b = new Uint8Array([0, 1, 2, 2, 2, 0, 0, 4]);
    const per = dicePerLabel(a, b);
    assert.deepEqual(per.map((d) => d.label), [1, 2, 3, 4]);
    assert.deepEqual(per.map((d) => d.dice), [2 / 3, 2 * 2 / 6, 0, 0]);
    assert.deepEqual([per[1].countA, per[1].countB, per[1].overlap], [3, 3, 2]);
    assert.equal(meanDice(a, b), (2 / 3 + 2 / 3) / 4);
    assert.equal(meanDice(a, b, [1, 2]), 2 / 3);
    assert.deepEqual(dicePerLabel(a, b, [7]).map((d) => d.dice), [1]);
    assert.equal(meanDice(new Uint8Array(4), new Uint8Array(4)), 1);
    throwsCode(() => dice([1, 2], [1]), 'bad-data');
    throwsCode(() => dicePerLabel([1, NaN], [1, 1]), 'bad-data');
  });
});

describe('surface voxels and distance transform', () => {
  test('surface of a cube, and of a region touching the grid border', () => {
    const dims: Vec3 = [5, 5, 5];
    const s = surfaceVoxels(box(dims, [1, 1, 1], [4, 4, 4]), dims);
    assert.equal(s.reduce((x, y) => x + y, 0), 26); // 27 minus the centre
    assert.equal(s[2 + 5 * (2 + 5 * 2)], 0);
    const full = surfaceVoxels(new Uint8Array(125).fill(3), dims);
    assert.equal(full.reduce((x, y) => x + y, 0), 125 - 27); // the grid border counts as outside
    const lab = surfaceVoxels(new Uint8Array(125).fill(3), dims, 2);
    assert.equal(lab.reduce((x, y) => x + y, 0), 0);
  });

  test('EDT equals brute-force nearest-feature distances with anisotropic spacing', () => {
    const dims: Vec3 = [9, 7, 6], sp: Vec3 = [0.7, 1.3, 2.1], n = 9 * 7 * 6, rng = createRng(42);
    const feat = Uint8Array.from({ length: n }, () => (rng.next() < 0.03 ? 1 : 0));
    feat[0] = 1;
    const d = distanceMm(feat, dims, sp);
    const xyz = (o: number): Vec3 => [o % 9, Math.floor(o / 9) % 7, Math.floor(o / 63)];
    for (let o = 0; o < n; o++) {
      let best = Infinity;
      const p = xyz(o);
      feat.forEach((f, q) => {
        if (!f) return;
        const r = xyz(q);
        best = Math.min(best, Math.hypot((p[0] - r[0]) * sp[0], (p[1] - r[1]) * sp[1], (p[2] - r[2]) * sp[2]));
      });
      assert.ok(Math.abs(d[o] - best) < 1e-12, `voxel ${p}: ${d[o]} vs ${best}`);
    }
    assert.ok(distanceMm(new Uint8Array(n), dims, sp).every((v) => v === Infinity));
  });
});

describe('normalised surface Dice', () => {
  const dims: Vec3 = [24, 22, 20], sp: Vec3 = [0.5, 1.0, 2.0];
  const cube = box(dims, [6, 6, 5], [14, 14, 13]);

  test('identical segmentations give 1 at zero tolerance', () => {
    assert.equal(normalizedSurfaceDice(cube, cube, dims, sp, { toleranceMm: 0 }), 1);
  });

  // A 2-voxel shift is 1 mm along i, 2 mm along j and 4 mm along k: the threshold moves with the
  // spacing, so mixing up axes or ignoring spacing fails these.
  for (const [axis, shiftMm] of [[0, 1], [1, 2], [2, 4]] as const) {
    test(`cube shifted 2 voxels along axis ${axis} (${shiftMm} mm): NSD < 1 below, = 1 at and above`, () => {
      const lo: Vec3 = [6, 6, 5], hi: Vec3 = [14, 14, 13];
      lo[axis] += 2; hi[axis] += 2;
      const shifted = box(dims, lo, hi);
      const below = normalizedSurfaceDice(cube, shifted, dims, sp, { toleranceMm: shiftMm * 0.9 });
      assert.ok(below < 1 && below > 0, `below: ${below}`);
      assert.equal(normalizedSurfaceDice(cube, shifted, dims, sp, { toleranceMm: shiftMm }), 1); // inclusive
      assert.equal(normalizedSurfaceDice(cube, shifted, dims, sp, { toleranceMm: shiftMm * 1.1 }), 1);
      for (const tol of [0, 0.6, 1.5, shiftMm * 0.9]) {
        const got = normalizedSurfaceDice(cube, shifted, dims, sp, { toleranceMm: tol });
        assert.ok(Math.abs(got - bruteNsd(cube, shifted, dims, sp, tol)) < 1e-12, `tol ${tol}`);
      }
    });
  }

  test('labels, Volume form, counts and edge cases', () => {
    const two = box(dims, [2, 2, 2], [5, 5, 5], 2, Uint8Array.from(cube));
    const va = createVolume(dims, { data: two, spacingMm: sp }), vb = createVolume(dims, { data: cube, spacingMm: sp });
    // Label 1 is the same cube in both; label 2 exists only in A.
    assert.equal(normalizedSurfaceDice(va, vb, { toleranceMm: 0, label: 1 }), 1);
    assert.equal(normalizedSurfaceDice(va, vb, { toleranceMm: 50, label: 2 }), 0); // one empty -> 0
    assert.equal(normalizedSurfaceDice(va, vb, { toleranceMm: 1, label: 9 }), 1); // both empty -> 1
    const c = surfaceDiceCounts(va, vb, { toleranceMm: 0 });
    assert.equal(c.surfaceA, c.surfaceB + 26);
    assert.equal(c.matchedA, c.surfaceB);
    assert.equal(c.nsd, (c.matchedA + c.matchedB) / (c.surfaceA + c.surfaceB));
    // A region on the grid border: its border faces are surface in both maps.
    const edge = box(dims, [0, 0, 0], [4, 4, 4]), edge2 = box(dims, [0, 0, 0], [4, 4, 5]);
    assert.ok(Math.abs(normalizedSurfaceDice(edge, edge2, dims, sp, { toleranceMm: 1 }) - bruteNsd(edge, edge2, dims, sp, 1)) < 1e-12);
  });

  test('errors: tolerance, spacing, grids', () => {
    throwsCode(() => normalizedSurfaceDice(cube, cube, dims, sp, {} as SurfaceDiceOptions), 'bad-option', 'toleranceMm');
    throwsCode(() => normalizedSurfaceDice(cube, cube, dims, sp, { toleranceMm: -1 }), 'bad-option', 'toleranceMm');
    throwsCode(() => normalizedSurfaceDice(cube, cube, dims, [1, 0, 1], { toleranceMm: 1 }), 'bad-option', 'spacingMm');
    throwsCode(() => normalizedSurfaceDice(cube, cube.subarray(1), dims, sp, { toleranceMm: 1 }), 'bad-data');
    const va = createVolume(dims, { data: cube, spacingMm: sp }), vb = createVolume(dims, { data: cube, spacingMm: [0.5, 1, 2.5] });
    throwsCode(() => normalizedSurfaceDice(va, vb, { toleranceMm: 1 }), 'bad-data', 'volumes');
  });
});
