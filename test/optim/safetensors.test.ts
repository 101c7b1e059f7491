import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import {
  decodeSafetensors, encodeSafetensors, float16BitsToFloat32, float32ToFloat16Bits, readSafetensorsHeader,
  safetensorsDtypeSize,
  safetensorsToFloat32, type SafetensorsArray,
} from '../../src/io/safetensors.js';
import { REPO_ROOT, fixture } from '../helpers/data.js';

/** Little-endian bytes of a header + data, built by hand (independent of the encoder). */
function handBuilt(headerJson: string, data: number[]): Uint8Array {
  const hdr = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + hdr.length + data.length);
  new DataView(out.buffer).setUint32(0, hdr.length, true); // high 32 bits stay 0
  out.set(hdr, 8);
  out.set(data, 8 + hdr.length);
  return out;
}

const bits = (a: SafetensorsArray): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

test('safetensors: a hand-built file decodes, and the encoder produces exactly those bytes', () => {
  // {"a": F32 [2] = [1, -2]}: 1.0f = 00 00 80 3f, -2.0f = 00 00 00 c0
  // 54 bytes of JSON + 2 spaces of padding: 8 + 56 is a multiple of 8.
  const json = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}  ';
  const bytes = handBuilt(json, [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  const f = decodeSafetensors(bytes);
  assert.deepEqual([...f.tensors.keys()], ['a']);
  assert.deepEqual(f.tensors.get('a')!.shape, [2]);
  assert.deepEqual([...f.tensors.get('a')!.data as Float32Array], [1, -2]);
  assert.deepEqual(f.metadata, {});
  assert.deepEqual(encodeSafetensors({ a: { data: new Float32Array([1, -2]) } }), bytes);
  // With metadata the header needs padding: 8 + N must be a multiple of 8, padded with spaces.
  const enc = encodeSafetensors({ a: { data: new Float32Array([1, -2]) } }, { k: 'v' });
  const n = Number(new DataView(enc.buffer).getBigUint64(0, true));
  assert.equal((8 + n) % 8, 0);
  const text = new TextDecoder().decode(enc.subarray(8, 8 + n));
  assert.equal(text.trimEnd(), '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}');
  assert.match(text, /^[^ ]* *$/); // only trailing spaces
});

test('safetensors: reads the file written by the independent Python writer (scripts/safetensors-check.py)', () => {
  const f = decodeSafetensors(new Uint8Array(readFileSync(fixture('python-written.safetensors'))), 'python-written.safetensors');
  assert.deepEqual(f.metadata, { format: 'np', writer: 'scripts/safetensors-check.py' });
  const t = (k: string) => f.tensors.get(k)!;
  assert.equal(t('half.f16').dtype, 'F16');
  assert.deepEqual([...t('half.f16').data as Uint16Array], [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]);
  assert.deepEqual([...safetensorsToFloat32(t('half.f16'))], [1, -2, 0.5, 65504, 2 ** -24, Infinity]);
  assert.deepEqual(t('weights.f32').shape, [2, 3]);
  assert.deepEqual([...t('weights.f32').data as Float32Array], [1.5, -2.25, 0, -0, Math.fround(3.4028234663852886e38), Math.fround(1e-45)]);
  assert.ok(Object.is((t('weights.f32').data as Float32Array)[3], -0));
  assert.deepEqual([...t('mask.u8').data as Uint8Array], [0, 1, 254, 255]);
  assert.deepEqual(t('mask.u8').shape, [2, 2]);
  const g = t('grid.f64').data as Float64Array;
  assert.equal(g[0], Math.PI); assert.equal(g[1], -1e300); assert.ok(Number.isNaN(g[2]));
  assert.deepEqual([...t('index.i32').data as Int32Array], [-2147483648, -1, 0, 2147483647]);
  assert.ok(t('count.i64').data instanceof BigInt64Array);
  assert.deepEqual([...t('count.i64').data as BigInt64Array], [-9007199254740993n, 2n ** 62n]);
  assert.deepEqual(t('empty.f32').shape, [0, 4]);
  assert.equal(t('empty.f32').data.length, 0);
});

test('safetensors: round trip of every dtype is bit-exact, tensors are aligned, zero-copy views alias the input', () => {
  const f32 = new Float32Array([1.5, -0, NaN, Infinity, 1e-45, 3.4e38]);
  new Uint32Array(f32.buffer)[2] = 0x7fc01234; // NaN payload must survive
  const tensors = {
    u8: { data: new Uint8Array([1, 2, 3]) },
    f32: { data: f32, shape: [2, 3] },
    f16: { data: new Uint16Array([0x3c00, 0xfc00, 0x0001]), dtype: 'F16' as const },
    bf16: { data: new Uint16Array([0x3f80, 0xc000]), dtype: 'BF16' as const },
    f64: { data: new Float64Array([Math.PI, -0, 5e-324]) },
    i64: { data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]) },
    u64: { data: new BigUint64Array([2n ** 64n - 1n]) },
    i32: { data: new Int32Array([-5, 7]) }, u32: { data: new Uint32Array([4294967295]) },
    i16: { data: new Int16Array([-32768]) }, u16: { data: new Uint16Array([65535]) },
    i8: { data: new Int8Array([-128, 127]) }, bool: { data: new Uint8Array([0, 1, 1]), dtype: 'BOOL' as const },
    scalar: { data: new Float32Array([42]), shape: [] },
  };
  const bytes = encodeSafetensors(tensors, { a: 'b', unicode: 'µm ✓' });
  const header = readSafetensorsHeader(bytes);
  assert.equal(header.dataStart % 8, 0);
  for (const e of header.entries) assert.equal((header.dataStart + e.begin) % safetensorsDtypeSize(e.dtype), 0, `${e.name} aligned`);
  const back = decodeSafetensors(bytes);
  assert.deepEqual(back.metadata, { a: 'b', unicode: 'µm ✓' });
  for (const [k, t] of Object.entries(tensors)) {
    const got = back.tensors.get(k)!;
    assert.ok(got, k);
    assert.equal(got.dtype, 'dtype' in t ? t.dtype : got.dtype);
    assert.deepEqual(got.shape, 'shape' in t ? t.shape : [t.data.length], k);
    assert.deepEqual(bits(got.data), bits(t.data), k);
    assert.equal(got.data.constructor, t.data.constructor, k);
  }
  assert.equal(back.tensors.get('f32')!.dtype, 'F32');
  assert.deepEqual([...safetensorsToFloat32(back.tensors.get('bf16')!)], [1, -2]);
  // copy: false -> aligned tensors are views into the input; default -> own buffers.
  const views = decodeSafetensors(bytes, 'x', { copy: false });
  assert.equal(views.tensors.get('f64')!.data.buffer, bytes.buffer);
  assert.notEqual(back.tensors.get('f64')!.data.buffer, bytes.buffer);
  // Encoding a SharedArrayBuffer-backed tensor works the same.
  const shared = new Float32Array(new SharedArrayBuffer(8)); shared.set([3, 4]);
  assert.deepEqual([...decodeSafetensors(encodeSafetensors({ s: { data: shared } })).tensors.get('s')!.data as Float32Array], [3, 4]);
});

test('safetensors: float16 conversion matches numpy (fixture) and round-trips every half exactly, ties to even', () => {
  for (let h = 0; h < 65536; h++) {
    const exp = (h >> 10) & 31, mant = h & 1023;
    if (exp === 31 && mant !== 0) { assert.ok(Number.isNaN(float16BitsToFloat32(h))); continue; }
    assert.equal(float32ToFloat16Bits(float16BitsToFloat32(h)), h, `bits 0x${h.toString(16)}`);
  }
  // numpy: float16([1, -2, 0.5, 65504, 6e-8, inf]) -> these bits (see the fixture test)
  assert.deepEqual([1, -2, 0.5, 65504, 6e-8, Infinity].map(float32ToFloat16Bits), [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00]);
  assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00); // tie -> even (down)
  assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
  assert.equal(float32ToFloat16Bits(65520), 0x7c00); // rounds to Inf
  assert.equal(float32ToFloat16Bits(2 ** -25), 0x0000); // tie with 0 -> even
  assert.equal(float32ToFloat16Bits(3 * 2 ** -26), 0x0001);
});

function expectBad(bytes: Uint8Array, re: RegExp): void {
  assert.throws(() => decodeSafetensors(bytes, 'ckpt.safetensors'), (e: unknown) => {
    assert.ok(e instanceof MedfieldError, String(e));
    assert.equal(e.code, 'bad-file');
    assert.match(e.message, /^ckpt\.safetensors: /);
    assert.match(e.message, re);
    return true;
  });
}

test('safetensors: corrupt and truncated files give clear errors naming the tensor', () => {
  const good = encodeSafetensors({ w: { data: new Float32Array([1, 2, 3, 4]), shape: [2, 2] }, b: { data: new Float32Array([5, 6]) } });
  assert.doesNotThrow(() => decodeSafetensors(good));
  expectBad(good.subarray(0, 5), /truncated: 5 bytes/);
  expectBad(good.subarray(0, 30), /truncated: header length is \d+ bytes but only 22 follow/);
  expectBad(good.subarray(0, good.length - 3), /tensor 'b': truncated: needs bytes \[16, 24\) of the data section, which has only 21 bytes/);
  const extra = new Uint8Array(good.length + 4); extra.set(good);
  expectBad(extra, /4 unexpected trailing bytes/);
  const huge = Uint8Array.from(good); new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
  expectBad(huge, /header length 1099511627776 exceeds/);
  const mk = (json: string, dataLen: number) => handBuilt(json, new Array<number>(dataLen).fill(0));
  expectBad(mk('{"w": {"dtype":"F32","shape":[2],"data_offsets":[0,8]', 8), /not valid JSON/);
  expectBad(mk('["w"]', 0), /does not start with '\{'/);
  expectBad(mk('{"w":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}}', 8), /tensor 'w': unsupported dtype "F8"/);
  expectBad(mk('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), /tensor 'w': data_offsets \[0, 8\] span 8 bytes, but F32 shape \[3\] needs 12/);
  expectBad(mk('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8), /tensor 'w': shape must be/);
  expectBad(mk('{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', 8), /tensor 'w': data_offsets \[8, 0\] end before begin/);
  expectBad(mk('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}}', 8), /tensor 'w': data_offsets must be/);
  expectBad(mk('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8),
    /tensor 'b': data_offsets \[4, 8\] overlap tensor 'a' \[0, 8\]/);
  expectBad(mk('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', 12),
    /tensor 'b': data_offsets start at 8, leaving a 4-byte gap after tensor 'a'/);
  expectBad(mk('{"__metadata__":{"n":3}}', 0), /__metadata__ key 'n' must be a string/);
  expectBad(handBuilt('{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}', [1, 7]), /tensor 'm': BOOL value 7 at index 1/);
  const badUtf8 = handBuilt('{"a":1}', []); badUtf8[9] = 0xff;
  expectBad(badUtf8, /not valid UTF-8/);
  // Encoder-side errors name the tensor too.
  assert.throws(() => encodeSafetensors({ w: { data: new Float32Array(3), shape: [2, 2] } }), /tensor 'w': shape \[2, 2\] needs 4 values, data has 3/);
  assert.throws(() => encodeSafetensors({ w: { data: new Float32Array(3), dtype: 'F16' } }), /tensor 'w': dtype F16 needs 2-byte elements/);
});

function havePythonNumpy(): boolean {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('safetensors: a file written here is read identically by the independent Python reader', { skip: havePythonNumpy() ? false : 'python3 with numpy not available' }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'medfield-st-'));
  try {
    const file = path.join(dir, 'ts-written.safetensors');
    const w = new Float32Array([0.1, -2.5, 3e-39, -0, 65504.5, 1e30]);
    writeFileSync(file, encodeSafetensors({
      'mlp.layer0.weight': { data: w, shape: [2, 3] },
      'counts': { data: new Int32Array([1, -2, 3]) },
      'half': { data: new Uint16Array([0x3c00, 0x0001]), dtype: 'F16' },
      'rng.main': { data: new Float64Array([123456789, -0.75]) },
      'flags': { data: new Uint8Array([9, 8]) },
    }, { format: 'medfield-test', note: 'µ' }));
    const out = JSON.parse(execFileSync('python3', [path.join(REPO_ROOT, 'scripts', 'safetensors-check.py'), 'dump', file], { encoding: 'utf8' })) as {
      metadata: Record<string, string>; tensors: Record<string, { dtype: string; shape: number[]; values: number[] }>;
    };
    assert.deepEqual(out.metadata, { format: 'medfield-test', note: 'µ' });
    assert.deepEqual(out.tensors['mlp.layer0.weight'], { dtype: 'F32', shape: [2, 3], values: [...w] });
    assert.deepEqual(out.tensors['counts'], { dtype: 'I32', shape: [3], values: [1, -2, 3] });
    assert.deepEqual(out.tensors['half'], { dtype: 'F16', shape: [2], values: [1, 2 ** -24] });
    assert.deepEqual(out.tensors['rng.main'], { dtype: 'F64', shape: [2], values: [123456789, -0.75] });
    assert.deepEqual(out.tensors['flags'], { dtype: 'U8', shape: [2], values: [9, 8] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
