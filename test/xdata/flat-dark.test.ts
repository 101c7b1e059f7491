import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatDarkToLineIntegrals, meanFrames, FLAT_DARK_EPSILON } from '../../src/physics/flat-dark.js';
import { MedfieldError } from '../../src/core/errors.js';
import { FLAT_DARK_ABS } from '../tolerances.js';

test('flatDarkToLineIntegrals: hand values with averaged flats and darks', () => {
  // 2 views x 1 row x 3 cols; flats mean [1010, 2010, 410], darks mean [10, 10, 10]
  const flats = [1000, 2000, 400, 1020, 2020, 420];
  const darks = [8, 12, 9, 12, 8, 11];
  const raw = [
    510, 10 + 2000 * Math.exp(-2), 410, // p = log 2, 2, 0
    1010, 10 + 2000 * 0.25, 10 + 400 * 1.1, // p = 0, log 4, -log 1.1 (transmission > 1 kept)
  ];
  const p = flatDarkToLineIntegrals(raw, flats, darks, { views: 2, rows: 1, cols: 3 });
  const expected = [Math.log(2), 2, 0, 0, Math.log(4), -Math.log(1.1)];
  assert.equal(p.length, 6);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(p[i]! - expected[i]!) < FLAT_DARK_ABS, `i=${i}: ${p[i]} vs ${expected[i]}`);
});

test('flatDarkToLineIntegrals: non-positive dark-subtracted counts are clamped to epsilon', () => {
  const p = flatDarkToLineIntegrals([5, 100, 50], [110, 10, 110], [10, 10, 10], { views: 1, rows: 1, cols: 3 });
  // raw below dark: -log(eps / 100)
  assert.ok(Math.abs(p[0]! - Math.fround(-Math.log(FLAT_DARK_EPSILON / 100))) < 1e-5);
  // dead pixel (flat == dark): log(eps) - log(90)
  assert.ok(Math.abs(p[1]! - Math.fround(Math.log(FLAT_DARK_EPSILON) - Math.log(90))) < 1e-5);
  assert.ok(Math.abs(p[2]! - Math.log(2.5)) < FLAT_DARK_ABS);
  const q = flatDarkToLineIntegrals([5], [110], [10], { views: 1, rows: 1, cols: 1 }, { epsilon: 1 });
  assert.ok(Math.abs(q[0]! - Math.log(100)) < FLAT_DARK_ABS);
  for (const v of p) assert.ok(Number.isFinite(v));
});

test('meanFrames and shape errors name the input', () => {
  assert.deepEqual(Array.from(meanFrames([1, 2, 3, 5], 2, 'x')), [2, 3.5]);
  const is = (re: RegExp) => (e: unknown) => e instanceof MedfieldError && re.test(e.message);
  assert.throws(() => flatDarkToLineIntegrals([1, 2, 3], [1, 1], [0, 0], { views: 1, rows: 1, cols: 2 }), is(/^raw:/));
  assert.throws(() => flatDarkToLineIntegrals([1, 2], [1, 1, 1], [0, 0], { views: 1, rows: 1, cols: 2 }), is(/^flats:/));
  assert.throws(() => flatDarkToLineIntegrals([1, 2], [1, 1], [], { views: 1, rows: 1, cols: 2 }), is(/^darks:/));
  assert.throws(() => flatDarkToLineIntegrals([1, 2], [1, 1], [0, 0], { views: 0, rows: 1, cols: 2 }), is(/shape\.views/));
});
