import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { decodePng, encodePng, floatToGray } from '../../src/io/png.js';

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

describe('.npy', () => {
  test('decodes a Node Buffer from the shared pool (a view, not a copy) to the right values', () => {
    const bytes = encodeNpy({ data: Float32Array.from([1.5, -2, 3.25, 7]), shape: [2, 2] });
    // small Buffers live at an offset inside Node's shared 8 KiB pool
    const pooled = Buffer.from(bytes);
    assert.ok(pooled.byteOffset > 0 || pooled.buffer.byteLength > pooled.byteLength);
    const arr = decodeNpy(pooled);
    assert.deepEqual(Array.from(arr.data), [1.5, -2, 3.25, 7]);
    assert.equal(arr.data.length, 4);
  });
  const cases = [
    new Float32Array([1.5, -2.25, 3e-7, 4, 5, 6]),
    new Float64Array([Math.PI, -1e300, 0, 1, 2, 3]),
    new Int16Array([-32768, 32767, 0, 1, 2, 3]),
    new Uint8Array([0, 255, 1, 2, 3, 4]),
    new Uint16Array([0, 65535, 1, 2, 3, 4]),
  ];
  for (const data of cases) {
    test(`round trip ${data.constructor.name}`, () => {
      const back = decodeNpy(encodeNpy({ data, shape: [2, 3] }));
      assert.equal(back.data.constructor, data.constructor);
      assert.deepEqual(back.shape, [2, 3]);
      assert.deepEqual(Array.from(back.data), Array.from(data));
    });
  }

  test('header is 64-byte aligned and 1-D shapes use the (n,) form', () => {
    const bytes = encodeNpy({ data: new Float32Array(5), shape: [5] });
    const hlen = bytes[8] | (bytes[9] << 8);
    assert.equal((10 + hlen) % 64, 0);
    assert.match(new TextDecoder().decode(bytes.subarray(10, 10 + hlen)), /'shape': \(5,\)/);
  });

  test('NumPy reads what we write and we read what NumPy writes (C order, big-endian too)', { skip: hasNumpy ? false : 'python3 numpy not available' }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'medfield-npy-'));
    const data = new Float32Array(24).map((_, i) => i * 0.5 - 3);
    writeFileSync(path.join(dir, 'ours.npy'), encodeNpy({ data, shape: [2, 3, 4] }));
    const py = `
import numpy as np, sys
a = np.load(sys.argv[1] + '/ours.npy')
assert a.shape == (2, 3, 4) and a.dtype == np.float32, (a.shape, a.dtype)
assert a[1, 2, 3] == 23 * 0.5 - 3
np.save(sys.argv[1] + '/theirs.npy', (np.arange(12, dtype='>i2').reshape(3, 4) - 5))
np.save(sys.argv[1] + '/f.npy', np.asfortranarray(np.ones((2, 3))))
`;
    const r = spawnSync('python3', ['-c', py, dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const theirs = decodeNpy(new Uint8Array(readFileSync(path.join(dir, 'theirs.npy'))));
    assert.deepEqual(theirs.shape, [3, 4]);
    assert.ok(theirs.data instanceof Int16Array);
    assert.deepEqual(Array.from(theirs.data), Array.from({ length: 12 }, (_, i) => i - 5));
    assert.throws(() => decodeNpy(new Uint8Array(readFileSync(path.join(dir, 'f.npy'))), 'f.npy'), /Fortran-order/);
  });

  test('bad input names the problem', () => {
    assert.throws(() => decodeNpy(new Uint8Array(20), 'x.npy'), (e: unknown) => e instanceof MedfieldError && /x\.npy: not a \.npy/.test(e.message));
    const good = encodeNpy({ data: new Float32Array(100), shape: [10, 10] });
    assert.throws(() => decodeNpy(good.subarray(0, 200), 'y.npy'), /y\.npy: truncated/);
  });
});

describe('PNG', () => {
  test('8-bit gray round trip', () => {
    const data = new Uint8Array(7 * 5).map((_, i) => (i * 7) % 256);
    const img = decodePng(encodePng({ data, width: 7, height: 5, channels: 1, bitDepth: 8 }));
    assert.equal(img.bitDepth, 8);
    assert.equal(img.channels, 1);
    assert.deepEqual([img.width, img.height], [7, 5]);
    assert.deepEqual(Array.from(img.data), Array.from(data));
  });

  test('16-bit gray round trip keeps full precision', () => {
    const data = new Uint16Array(6 * 4).map((_, i) => i * 2731);
    const img = decodePng(encodePng({ data, width: 6, height: 4, channels: 1, bitDepth: 16 }));
    assert.equal(img.bitDepth, 16);
    assert.ok(img.data instanceof Uint16Array);
    assert.deepEqual(Array.from(img.data), Array.from(data));
  });

  test('floatToGray windows and clips', () => {
    const g = floatToGray([-1, 0, 0.5, 1, 2, NaN], 2, 3, 0, 1);
    assert.deepEqual(Array.from(g.data), [0, 0, 128, 255, 255, 0]);
  });

  test('not a PNG', () => {
    assert.throws(() => decodePng(new Uint8Array(30), 'z.png'), /z\.png: not a PNG/);
  });
});
