import { test } from 'node:test';
import assert from 'node:assert/strict';
import { moveSlicePoint, psfSigmasMm, rotationMatrix, sliceAffine, sliceCentreMm } from '../../src/geometry/slice-stack.js';
import type { Volume } from '../../src/core/volume.js';

test('rotationMatrix: a rotation about +z by 90 deg maps +x to +y; any vector gives an orthonormal matrix with det 1', () => {
  const R = rotationMatrix(0, 0, Math.PI / 2);
  const x = [R[0]!, R[3]!, R[6]!];
  assert.ok(Math.abs(x[0]!) < 1e-15 && Math.abs(x[1]! - 1) < 1e-15 && Math.abs(x[2]!) < 1e-15);
  for (const r of [[0.3, -0.2, 0.5], [1e-10, 2e-10, -1e-10], [0, 0, 0]]) {
    const M = rotationMatrix(r[0]!, r[1]!, r[2]!);
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      let dot = 0;
      for (let k = 0; k < 3; k++) dot += M[3 * k + a]! * M[3 * k + b]!;
      assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-14, `columns ${a},${b}: ${dot}`);
    }
    const det = M[0]! * (M[4]! * M[8]! - M[5]! * M[7]!) - M[1]! * (M[3]! * M[8]! - M[5]! * M[6]!) + M[2]! * (M[3]! * M[7]! - M[4]! * M[6]!);
    assert.ok(Math.abs(det - 1) < 1e-14);
    // the axis is fixed
    const n = Math.hypot(r[0]!, r[1]!, r[2]!);
    if (n > 0) for (let k = 0; k < 3; k++) assert.ok(Math.abs(M[3 * k]! * r[0]! + M[3 * k + 1]! * r[1]! + M[3 * k + 2]! * r[2]! - r[k]!) < 1e-14 * (1 + n));
  }
});

test('sliceAffine and sliceCentreMm agree with the volume affine; moveSlicePoint rotates about the slice centre', () => {
  // an oblique stack: voxel axes permuted (sagittal slices) with a 4 mm slice spacing
  const v: Volume = {
    data: new Float32Array(4 * 6 * 3), dims: [4, 6, 3], spacingMm: [1, 1.5, 4], originMm: [10, -20, 5],
    direction: new Float64Array([0, 0, 1, 1, 0, 0, 0, 1, 0]),
  };
  const A = sliceAffine(v, 2);
  // voxel (i, j, k=2) -> origin + D diag(s) [i, j, 2]
  const i = 3, j = 5;
  const w = [0, 1, 2].map((r) => v.originMm[r]! + v.direction[3 * r]! * 1 * i + v.direction[3 * r + 1]! * 1.5 * j + v.direction[3 * r + 2]! * 4 * 2);
  for (let r = 0; r < 3; r++) assert.ok(Math.abs(A[4 * r]! * i + A[4 * r + 1]! * j + A[4 * r + 3]! - w[r]!) < 1e-12);
  const c = sliceCentreMm(v, 2);
  assert.deepEqual(c, [10 + 8, -20 + 1.5, 5 + 3.75]);
  const m = new Float64Array([0, 0, Math.PI / 2, 1, 2, 3]);
  const out = moveSlicePoint(c, c, m, 0, rotationMatrix(0, 0, Math.PI / 2), new Float64Array(3));
  assert.deepEqual([...out], [c[0] + 1, c[1] + 2, c[2] + 3]);
  const s = psfSigmasMm({ volume: v as Volume<Float32Array>, sliceThicknessMm: 4, name: 'x' });
  assert.ok(Math.abs(s[2] - 4 / 2.3548200450309493) < 1e-12);
});
