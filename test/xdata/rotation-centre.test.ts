import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateRotationCentre, mirroredShiftPx } from '../../src/physics/rotation-centre.js';
import { MedfieldError } from '../../src/core/errors.js';
import { ROTATION_CENTRE_PX } from '../tolerances.js';

/**
 * Parallel-beam sinogram of discs (exact chord lengths 2 sqrt(r^2 - d^2), averaged over 8
 * sub-samples per pixel) whose rotation axis projects onto column `axis`.
 * Column c sits at u = c - axis (du = 1); u at angle theta is (-sin, cos) (coordinate-systems.md).
 */
function discSinogram(axis: number, cols: number, angles: Float64Array, noise = 0): Float32Array {
  const discs = [[20, -15, 30, 1], [-40, 10, 12, 2], [5, 45, 8, 3]] as const; // x, y, r, mu
  const out = new Float32Array(angles.length * cols);
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296) - 0.5;
  for (let v = 0; v < angles.length; v++) {
    const s = Math.sin(angles[v]!), c = Math.cos(angles[v]!);
    for (let col = 0; col < cols; col++) {
      let acc = 0;
      for (let k = 0; k < 8; k++) {
        const u = col - axis + (k + 0.5) / 8 - 0.5;
        for (const [x, y, r, mu] of discs) {
          const d = u - (-x * s + y * c);
          if (Math.abs(d) < r) acc += mu * 2 * Math.sqrt(r * r - d * d);
        }
      }
      out[v * cols + col] = acc / 8 + noise * rand();
    }
  }
  return out;
}

test('estimateRotationCentre recovers a known off-centre axis (sub-pixel), with and without noise', () => {
  const cols = 200;
  const angles = Float64Array.from({ length: 90 }, (_, i) => (i * Math.PI) / 90);
  for (const axis of [87.3, 100, 112.75]) {
    for (const noise of [0, 0.5]) {
      const est = estimateRotationCentre(discSinogram(axis, cols, angles, noise), { views: 90, rows: 1, cols }, angles);
      assert.ok(Math.abs(est.axisColumn - axis) < ROTATION_CENTRE_PX, `axis ${axis}, noise ${noise}: got ${est.axisColumn}`);
      assert.ok(Math.abs(est.offDetectorPx - ((cols - 1) / 2 - axis)) < ROTATION_CENTRE_PX);
    }
  }
  // a constant background offset (flat-field drift) is removed by the baseline
  const p = discSinogram(93.4, cols, angles);
  for (let i = 0; i < p.length; i++) p[i]! += 0.3;
  assert.ok(Math.abs(estimateRotationCentre(p, { views: 90, rows: 1, cols }, angles).axisColumn - 93.4) < ROTATION_CENTRE_PX);
});

test('mirroredShiftPx: a view and its mirror 180 degrees later give the axis', () => {
  const cols = 200;
  const angles = new Float64Array([0.3, 0.3 + Math.PI]);
  for (const axis of [90.25, 104.6]) {
    const p = discSinogram(axis, cols, angles);
    const got = mirroredShiftPx(p.subarray(0, cols), p.subarray(cols), cols);
    assert.ok(Math.abs(got - axis) < 0.25, `axis ${axis}: got ${got}`);
  }
});

test('estimateRotationCentre: mismatched angles name the field', () => {
  assert.throws(() => estimateRotationCentre(new Float32Array(30), { views: 3, rows: 1, cols: 10 }, [0, 1]), (e: unknown) => e instanceof MedfieldError && /anglesRad/.test(e.message));
});
