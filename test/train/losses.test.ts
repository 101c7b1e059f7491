import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { patchSsimLoss, pixelLoss } from '../../src/train/losses.js';

test('pixelLoss: MSE and L1 values and gradients match finite differences', () => {
  const rng = createRng(3);
  const n = 37;
  const p = Float64Array.from({ length: n }, () => rng.next());
  const t = Float64Array.from({ length: n }, () => rng.next());
  for (const kind of ['mse', 'l1'] as const) {
    const g = new Float64Array(n);
    const { loss, mse } = pixelLoss(kind, p, t, n, g);
    let se = 0, ae = 0;
    for (let i = 0; i < n; i++) { se += (p[i]! - t[i]!) ** 2; ae += Math.abs(p[i]! - t[i]!); }
    assert.ok(Math.abs(mse - se / n) < 1e-15);
    assert.ok(Math.abs(loss - (kind === 'l1' ? ae / n : se / n)) < 1e-15);
    const h = 1e-6, scratch = new Float64Array(n);
    for (const i of [0, 5, 36]) {
      const q = Float64Array.from(p); q[i]! += h;
      const up = pixelLoss(kind, q, t, n, scratch).loss;
      q[i]! -= 2 * h;
      const dn = pixelLoss(kind, q, t, n, scratch).loss;
      assert.ok(Math.abs((up - dn) / (2 * h) - g[i]!) < 1e-7, `${kind} grad ${i}`);
    }
  }
});

test('patchSsimLoss: 1 and no gradient for identical patches, lower for noise, gradient = central differences', () => {
  const rng = createRng(11);
  const K2 = 16, P = 3, n = K2 * P;
  const t = Float64Array.from({ length: n }, (_, i) => 0.5 + 0.3 * Math.sin(i * 0.7));
  const g0 = new Float64Array(n);
  assert.ok(Math.abs(patchSsimLoss(t, t, P, K2, 1, 1, g0) - 1) < 1e-12);
  assert.ok(g0.every((v) => Math.abs(v) < 1e-12));
  const p = Float64Array.from(t, (v) => v + 0.1 * rng.normal());
  const g = new Float64Array(n);
  const w = 0.7;
  const s = patchSsimLoss(p, t, P, K2, 1, w, g);
  assert.ok(s < 0.95 && s > 0, `noisy SSIM ${s}`);
  const loss = (q: Float64Array): number => w * (1 - patchSsimLoss(q, t, P, K2, 1, w, new Float64Array(n)));
  const h = 1e-6;
  for (const i of [0, 7, 20, 47]) {
    const q = Float64Array.from(p); q[i]! += h;
    const up = loss(q); q[i]! -= 2 * h;
    const fd = (up - loss(q)) / (2 * h);
    assert.ok(Math.abs(fd - g[i]!) < 1e-6 * Math.max(1, Math.abs(fd)), `ssim grad ${i}: fd ${fd} vs ${g[i]}`);
  }
});
