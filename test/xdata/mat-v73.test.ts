import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readMatFile } from '../../src/platform/xray-data.js';
import { matField, matScalar, matString } from '../../src/io/mat.js';

/**
 * A MATLAB v7.3-style file built here: HDF5 written by h5wasm, then a 512-byte MAT preamble
 * prepended (HDF5 looks for its superblock at 0, 512, 1024, ... and rebases addresses, which is
 * how MATLAB's v7.3 files are laid out). MATLAB stores an m x n array as HDF5 [n, m].
 */
async function writeV73(file: string): Promise<void> {
  const h5 = (await import('h5wasm/node')).default;
  await h5.ready;
  const tmp = `${file}.h5`;
  const f = new h5.File(tmp, 'w');
  // MATLAB 2 x 3 double [1 2 3; 4 5 6.5] -> HDF5 [3, 2], bytes in column-major order
  const d = f.create_dataset({ name: 'd', data: new Float64Array([1, 4, 2, 5, 3, 6.5]), shape: [3, 2] });
  d.create_attribute('MATLAB_class', 'double');
  const u = f.create_dataset({ name: 'u16', data: new Uint16Array([1, 2, 3, 65535]), shape: [1, 4] });
  u.create_attribute('MATLAB_class', 'uint16');
  const g = f.create_group('st');
  g.create_attribute('MATLAB_class', 'struct');
  const a = g.create_dataset({ name: 'a', data: new Float64Array([7]), shape: [1, 1] });
  a.create_attribute('MATLAB_class', 'double');
  const txt = [...'disc'].map((c) => c.charCodeAt(0));
  const n = g.create_dataset({ name: 'name', data: new Uint16Array(txt), shape: [4, 1] });
  n.create_attribute('MATLAB_class', 'char');
  f.close();
  const head = Buffer.alloc(512, 0);
  head.fill(0x20, 0, 116);
  head.write('MATLAB 7.3 MAT-file, Platform: test, Created by medfield tests HDF5 schema 1.00 .', 0, 'latin1');
  head.writeUInt16LE(0x0200, 124);
  head.write('IM', 126, 'latin1');
  writeFileSync(file, Buffer.concat([head, readFileSync(tmp)]));
  rmSync(tmp);
}

test('readMatFile reads a v7.3 (HDF5) MAT-file through h5wasm', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'mat73-'));
  try {
    const file = path.join(dir, 'v73.mat');
    await writeV73(file);
    const m = await readMatFile(file);
    assert.ok(m.header.startsWith('MATLAB 7.3 MAT-file'));
    const d = m.variables.get('d');
    assert.ok(d?.kind === 'numeric' && d.class === 'double');
    assert.deepEqual(d.dims, [2, 3]);
    assert.deepEqual(Array.from(d.real as Float64Array), [1, 4, 2, 5, 3, 6.5]);
    const u = m.variables.get('u16');
    assert.ok(u?.kind === 'numeric' && u.real instanceof Uint16Array);
    assert.deepEqual(u.dims, [4, 1]);
    assert.deepEqual(Array.from(u.real), [1, 2, 3, 65535]);
    const st = m.variables.get('st')!;
    assert.equal(matScalar(matField(st, 'a', 'st'), 'st.a'), 7);
    assert.equal(matString(matField(st, 'name', 'st'), 'st.name'), 'disc');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
