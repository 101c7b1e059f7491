import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../src/core/rng.js';
import { encodeGif } from '../../src/io/gif.js';
import { decodeGif } from '../helpers/gif-decode.js';

test('GIF89a: header, loop extension, frames and delays decode to the exact pixels (LZW incl. table resets)', () => {
  const rng = createRng(3);
  const w = 97, h = 61;
  const frames: Uint8Array[] = [];
  // A smooth gradient (long runs: codes grow to 12 bits), random noise (table fills: clear codes), constant, tiny ramp.
  frames.push(Uint8Array.from({ length: w * h }, (_, i) => ((i % w) * 2 + Math.floor(i / w)) & 255));
  frames.push(Uint8Array.from({ length: w * h }, () => rng.int(256)));
  frames.push(new Uint8Array(w * h).fill(200));
  frames.push(Uint8Array.from({ length: w * h }, (_, i) => (i >> 4) & 3));
  const bytes = encodeGif(frames, w, h, { delayCs: 7 });
  assert.equal(String.fromCharCode(...bytes.subarray(0, 6)), 'GIF89a');
  assert.equal(bytes[bytes.length - 1], 0x3b);
  const g = decodeGif(bytes);
  assert.equal(g.width, w);
  assert.equal(g.height, h);
  assert.equal(g.globalColors, 256);
  assert.equal(g.loop, 0);
  assert.equal(g.trailer, true);
  assert.equal(g.frames.length, 4);
  g.frames.forEach((f, i) => {
    assert.equal(f.delayCs, 7);
    assert.deepEqual([f.left, f.top, f.width, f.height], [0, 0, w, h]);
    assert.deepEqual(f.pixels, frames[i], `frame ${i}`);
  });
  // A larger noisy frame forces several table resets.
  const big = Uint8Array.from({ length: 300 * 200 }, () => rng.int(256));
  assert.deepEqual(decodeGif(encodeGif([big], 300, 200)).frames[0]!.pixels, big);
  assert.throws(() => encodeGif([new Uint8Array(5)], 2, 2), /gif frame 0/);
});
