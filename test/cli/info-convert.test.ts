import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { createVolume } from '../../src/core/volume.js';
import { loadVolume, writeVolume } from '../../src/platform/volume-io.js';
import { runCli } from '../helpers/cli.js';
import { sharedData, skipWithoutData } from '../helpers/data.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'medfield-cli-'));

describe('medfield info / convert', () => {
  test('info --json prints one JSON object with geometry and range', { skip: skipWithoutData('stroke-mri-cstar/T2.nii.gz') }, () => {
    const r = runCli(['info', sharedData('stroke-mri-cstar/T2.nii.gz'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.json);
    assert.deepEqual(r.json.dims, [124, 160, 140]);
    assert.equal(r.json.orientation, 'RAS');
    assert.ok(Math.abs((r.json.max as number) - 503.97) < 0.01);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'stdout is exactly one JSON line');
  });

  test('convert NIfTI -> .npy -> info', async () => {
    const dir = tmp();
    const v = createVolume([6, 5, 4], { spacingMm: [1, 2, 3] });
    v.data.forEach((_, i) => (v.data[i] = i));
    await writeVolume(path.join(dir, 'a.nii.gz'), v);
    const r = runCli(['convert', path.join(dir, 'a.nii.gz'), path.join(dir, 'a.npy'), '--dtype', 'int16', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const { volume } = await loadVolume(path.join(dir, 'a.npy'));
    assert.deepEqual(volume.dims, [6, 5, 4]);
    assert.ok(volume.data instanceof Int16Array);
    assert.equal(volume.data[119], 119);
  });

  test('bad input: one clear line, non-zero exit, no output file', () => {
    const dir = tmp();
    const junk = path.join(dir, 'junk.nii.gz');
    writeFileSync(junk, Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]));
    const r = runCli(['convert', junk, path.join(dir, 'out.nii.gz')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junk\.nii\.gz: corrupt or truncated gzip/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.deepEqual(readdirSync(dir), ['junk.nii.gz']);
    const r2 = runCli(['info', path.join(dir, 'missing.nii'), '--json']);
    assert.equal(r2.code, 1);
    assert.match(String(r2.json?.error), /missing\.nii: file not found/);
    const r3 = runCli(['info', path.join(dir, 'x.png3')]);
    assert.match(r3.stderr, /unknown file extension/);
    const r4 = runCli(['convert', junk]);
    assert.equal(r4.code, 2, 'usage errors exit 2');
  });
});
