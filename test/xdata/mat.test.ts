import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { deflateSync } from 'node:zlib';
import { readMat, matField, matScalar, matString, matToFloat64, isMatV73, type MatValue } from '../../src/io/mat.js';
import { MedfieldError } from '../../src/core/errors.js';
import { matFixtures } from '../helpers/mat-fixtures.js';

// Fixtures written by scipy.io.savemat at test time (scripts/xdata-fixtures.py); values repeated from there.
const FIX = matFixtures();
const skipFix = FIX.dir ? false : FIX.reason;
const fixture = (name: string) => path.join(FIX.dir!, name);

function num(v: MatValue | undefined): { cls: string; dims: number[]; data: number[] } {
  assert.ok(v && v.kind === 'numeric', `expected numeric, got ${v?.kind}`);
  return { cls: v.class, dims: v.dims, data: Array.from(v.real as ArrayLike<number>, Number) };
}

for (const file of ['v5-plain.mat', 'v7-compressed.mat']) {
  test(`readMat ${file}: numeric classes, char, logical, complex, struct, cell, empty`, { skip: skipFix }, () => {
    const m = readMat(new Uint8Array(readFileSync(fixture(file))), file);
    assert.ok(m.header.startsWith('MATLAB 5.0 MAT-file'));
    assert.equal(m.littleEndian, true);
    const v = m.variables;
    assert.deepEqual(num(v.get('d')), { cls: 'double', dims: [2, 3], data: [1, 4, 2, 5, 3, 6.5] });
    assert.deepEqual(num(v.get('u16')), { cls: 'uint16', dims: [3, 2], data: [1, 2, 3, 65535, 300, 4] });
    assert.ok((v.get('u16') as { real: unknown }).real instanceof Uint16Array);
    assert.deepEqual(num(v.get('s32')), { cls: 'single', dims: [1, 2], data: [-1.5, 2.25] });
    assert.deepEqual(num(v.get('i8')), { cls: 'int8', dims: [1, 2], data: [-128, 127] });
    assert.equal(matString(v.get('txt')!, 'txt'), 'hello mat');
    const flag = v.get('flag');
    assert.ok(flag?.kind === 'numeric' && flag.logical && flag.class === 'uint8');
    assert.deepEqual(Array.from(flag.real as Uint8Array), [1, 0, 1]);
    const z = v.get('z');
    assert.ok(z?.kind === 'numeric' && z.imag);
    assert.deepEqual(Array.from(z.real as Float64Array, (x) => x + 0), [1, 0]); // numpy stores -3.5j with real part -0
    assert.deepEqual(Array.from(z.imag as Float64Array), [2, -3.5]);
    const st = v.get('st')!;
    assert.ok(st.kind === 'struct');
    assert.deepEqual(st.fieldNames, ['a', 'name', 'inner']);
    assert.equal(matScalar(matField(st, 'a', 'st'), 'st.a'), 7);
    assert.equal(matString(matField(st, 'name', 'st'), 'st.name'), 'disc');
    assert.deepEqual(Array.from(matToFloat64(matField(matField(st, 'inner', 'st'), 'v', 'st.inner'), 'st.inner.v')), [0.5, 1.5, 2.5]);
    const c = v.get('c')!;
    assert.ok(c.kind === 'cell' && c.elements.length === 3);
    assert.equal(matScalar(c.elements[0]!, 'c{1}'), 3);
    assert.equal(matString(c.elements[1]!, 'c{2}'), 'x');
    assert.deepEqual(num(c.elements[2]), { cls: 'uint8', dims: [1, 2], data: [9, 8] });
    assert.deepEqual(num(v.get('empty')).dims, [0, 0]);
    assert.throws(() => matField(st, 'nope', 'st'), (e: unknown) => e instanceof MedfieldError && /st\.nope/.test(e.message) && /a, name, inner/.test(e.message));
  });
}

/** A hand-built big-endian file: header 'MI', one compressed 1x2 double [1.5, -2] named 'be'. */
function bigEndianMat(): Uint8Array {
  const el = Buffer.alloc(8 + 48 + 8 + 16); // miMATRIX tag + flags(16) + dims(16) + name(8 small) + data(8+16)
  let p = 0;
  const u32 = (x: number) => { el.writeUInt32BE(x, p); p += 4; };
  u32(14); u32(el.length - 8);
  u32(6); u32(8); u32(6); u32(0); // flags: double
  u32(5); u32(8); u32(1); u32(2); // dims 1x2
  el.writeUInt32BE((2 << 16) | 1, p); p += 4; el.write('be', p, 'latin1'); p += 4; // small element name
  u32(9); u32(16); el.writeDoubleBE(1.5, p); p += 8; el.writeDoubleBE(-2, p); p += 8;
  const z = deflateSync(el);
  const head = Buffer.alloc(128, 0x20);
  head.write('MATLAB 5.0 MAT-file, hand-built big-endian test', 0, 'latin1');
  head.writeUInt16BE(0x0100, 124); head.write('MI', 126, 'latin1');
  const tag = Buffer.alloc(8); tag.writeUInt32BE(15, 0); tag.writeUInt32BE(z.length, 4);
  return new Uint8Array(Buffer.concat([head, tag, z]));
}

test('readMat: big-endian (MI) compressed file', () => {
  const m = readMat(bigEndianMat(), 'be.mat');
  assert.equal(m.littleEndian, false);
  assert.deepEqual(num(m.variables.get('be')), { cls: 'double', dims: [1, 2], data: [1.5, -2] });
});

test('readMat: v7.3 (HDF5), non-MAT and truncated files give one clear error', () => {
  const v73 = new Uint8Array(600).fill(0x20);
  v73.set([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], 512);
  assert.ok(isMatV73(v73));
  assert.throws(() => readMat(v73, 'big.mat'), (e: unknown) => e instanceof MedfieldError && e.code === 'unsupported' && /big\.mat: .*v7\.3/.test(e.message));
  assert.throws(() => readMat(new Uint8Array(200), 'zero.mat'), (e: unknown) => e instanceof MedfieldError && /zero\.mat: not a Level 5 MAT-file/.test(e.message));
  const good = bigEndianMat();
  assert.throws(() => readMat(good.subarray(0, 140), 'cut.mat'), (e: unknown) => e instanceof MedfieldError && /cut\.mat: .*truncated/.test(e.message));
});
