import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MedfieldError } from '../../src/core/errors.js';
import type { Vec3, Volume, VolumeSeries } from '../../src/core/volume.js';
import { sliceCentreMm } from '../../src/geometry/slice-stack.js';
import { decodePng } from '../../src/io/png.js';
import {
  checkStackOrientation, formatMotionJson, loadStacks, parseMotionJson, readMotionJson, sliceComparisonPng, toSliceStack, writeSvrSimulation,
} from '../../src/platform/svr-io.js';
import { loadVolume, writeVolume } from '../../src/platform/volume-io.js';
import { maskOnGrid } from '../../src/svr/grid.js';
import { brainMask } from '../../src/svr/mask.js';
import { simulateSvr } from '../../src/svr/simulate.js';
import { runCli } from '../helpers/cli.js';
import { GEOMETRY_MM } from '../tolerances.js';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'medfield-svr-'));

/** A small blob volume (nonzero inside an ellipsoid), 1 mm, centred at the origin. */
function blob(n = 24): Volume<Float32Array> {
  const v: Volume<Float32Array> = { data: new Float32Array(n ** 3), dims: [n, n, n], spacingMm: [1, 1, 1], originMm: [-(n - 1) / 2, -(n - 1) / 2, -(n - 1) / 2], direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
  for (let k = 0, p = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++, p++) {
    const x = (i - n / 2) / (0.4 * n), y = (j - n / 2) / (0.35 * n), z = (k - n / 2) / (0.3 * n);
    const r = x * x + y * y + z * z;
    v.data[p] = r < 1 ? 100 + 50 * Math.sin(i / 2) * Math.cos(k / 3) : 0;
  }
  return v;
}

function isMedfield(re: RegExp) {
  return (e: unknown) => e instanceof MedfieldError && re.test(e.message);
}

test('motion.json round trip: radians <-> degrees, slice centres, names; malformed files are rejected clearly', async () => {
  const sim = simulateSvr(blob(), { noise: 0, seed: 9 });
  const text = formatMotionJson(sim.stacks, sim.motions, { simulation: { seed: 9 } }, ['a.nii.gz', 'b.nii.gz', 'c.nii.gz']);
  const back = parseMotionJson(text);
  assert.deepEqual(back.names, ['stack1', 'stack2', 'stack3']);
  assert.deepEqual(back.files, ['a.nii.gz', 'b.nii.gz', 'c.nii.gz']);
  assert.equal((back.doc as unknown as { simulation: { seed: number } }).simulation.seed, 9);
  for (let s = 0; s < 3; s++) {
    assert.equal(back.motions[s]!.length, sim.motions[s]!.length);
    for (let q = 0; q < back.motions[s]!.length; q++) assert.ok(Math.abs(back.motions[s]![q]! - sim.motions[s]![q]!) < 1e-14);
    const c = sliceCentreMm(sim.stacks[s]!.volume, 2);
    for (let r = 0; r < 3; r++) assert.equal(back.centresMm[s]![6 + r], c[r]);
  }
  // degrees in the file: a known 90 deg rotation about z
  const one = { ...sim.stacks[0]!, volume: { ...sim.stacks[0]!.volume, dims: [4, 4, 1] as Vec3, data: new Float32Array(16) } };
  const doc = JSON.parse(formatMotionJson([one], [new Float64Array([0, 0, Math.PI / 2, 1, 2, 3])]));
  assert.ok(Math.abs(doc.stacks[0].slices[0].rotationDeg[2] - 90) < 1e-12);
  assert.deepEqual(doc.stacks[0].slices[0].translationMm, [1, 2, 3]);
  assert.throws(() => parseMotionJson('{', 'm.json'), isMedfield(/m\.json: not valid JSON/));
  assert.throws(() => parseMotionJson('{"format":"other"}', 'm.json'), isMedfield(/medfield-svr-motion/));
  assert.throws(() => parseMotionJson(text.replace(/"translationMm": \[\n\s*[-0-9.e]+,/, '"translationMm": [\n "x",'), 'm.json'), isMedfield(/translationMm: expected three finite numbers/));
});

test('simulation folder: written atomically, stacks and motion read back with their geometry; a non-empty folder is refused', async () => {
  const dir = tmp();
  const gt = blob();
  const sim = simulateSvr(gt, { noise: 0.01, seed: 3 });
  const out = path.join(dir, 'sim');
  const files = await writeSvrSimulation(out, { stacks: sim.stacks, motions: sim.motions, groundTruth: gt, mask: brainMask(gt) });
  assert.deepEqual(readdirSync(out).sort(), [...files].sort());
  assert.deepEqual(readdirSync(dir), ['sim'], 'no temporary folder left behind');
  const { stacks, notes } = await loadStacks(files.slice(0, 3).map((f) => path.join(out, f)));
  assert.deepEqual(notes, []);
  const m = await readMotionJson(path.join(out, 'motion.json'));
  for (let s = 0; s < 3; s++) {
    const a = stacks[s]!.volume, b = sim.stacks[s]!.volume;
    assert.deepEqual(a.dims, b.dims);
    assert.deepEqual(a.data, b.data);
    for (let r = 0; r < 3; r++) assert.ok(Math.abs(a.originMm[r]! - b.originMm[r]!) < GEOMETRY_MM);
    for (let q = 0; q < 9; q++) assert.ok(Math.abs(a.direction[q]! - b.direction[q]!) < 1e-6);
    assert.equal(stacks[s]!.sliceThicknessMm, 4);
    for (let q = 0; q < m.motions[s]!.length; q++) assert.ok(Math.abs(m.motions[s]![q]! - sim.motions[s]![q]!) < 1e-12);
  }
  await assert.rejects(writeSvrSimulation(out, { stacks: sim.stacks, motions: sim.motions, groundTruth: gt, mask: brainMask(gt) }), isMedfield(/not empty/));
  await assert.rejects(writeSvrSimulation(path.join(dir, 'no', 'such'), { stacks: sim.stacks, motions: sim.motions, groundTruth: gt, mask: brainMask(gt) }), isMedfield(/parent folder/));
  assert.deepEqual(readdirSync(dir), ['sim']);
});

test('comparison PNG: slices simulated from the ground truth with the true motion match the acquired ones', () => {
  const gt = blob();
  const sim = simulateSvr(gt, { noise: 0, seed: 2 });
  const png = decodePng(sliceComparisonPng(sim.stacks, gt, sim.motions));
  const w = sim.stacks.reduce((a, s) => a + s.volume.dims[0], 0) + 4;
  const h = 2 * Math.max(...sim.stacks.map((s) => s.volume.dims[1])) + 2;
  assert.deepEqual([png.width, png.height], [w, h]);
  // top half (acquired) equals bottom half (re-simulated) pixel for pixel, to 8-bit rounding
  const half = (h - 2) / 2;
  let worst = 0, bright = 0;
  for (let y = 0; y < half; y++) for (let x = 0; x < w; x++) {
    const a = png.data[y * w + x]!, b = png.data[(y + half + 2) * w + x]!;
    worst = Math.max(worst, Math.abs(a - b));
    if (a > 50) bright++;
  }
  assert.ok(worst <= 1 && bright > 100, `worst ${worst}, bright ${bright}`);
  // with no motion assumed, the re-simulated slices differ
  const still = decodePng(sliceComparisonPng(sim.stacks, gt, null));
  let diff = 0;
  for (let y = 0; y < half; y++) for (let x = 0; x < w; x++) diff += Math.abs(still.data[y * w + x]! - still.data[(y + half + 2) * w + x]!);
  assert.ok(diff > 1000, `difference ${diff}`);
});

describe('bad stack inputs: one clear error naming the file', () => {
  const dir = tmp();
  const stackVol = (origin: Vec3, spacing: Vec3 = [1, 1, 4], direction = [1, 0, 0, 0, 1, 0, 0, 0, 1]): Volume<Float32Array> => {
    const v: Volume<Float32Array> = { data: new Float32Array(10 * 12 * 5), dims: [10, 12, 5], spacingMm: spacing, originMm: origin, direction: new Float64Array(direction) };
    v.data.forEach((_, p) => { v.data[p] = 1 + (p % 7); });
    return v;
  };
  const a = path.join(dir, 'a.nii.gz'), far = path.join(dir, 'far.nii.gz'), iso = path.join(dir, 'iso.nii.gz');
  const sheared = path.join(dir, 'sheared.nii.gz'), zero = path.join(dir, 'zero.nii.gz'), series = path.join(dir, 'series.nii.gz'), thickX = path.join(dir, 'thickx.nii.gz');
  before(async () => {
    await writeVolume(a, stackVol([0, 0, 0]));
    await writeVolume(far, stackVol([500, 0, 0]));
    await writeVolume(iso, stackVol([2, 2, 2], [1, 1, 1]));
    await writeVolume(sheared, stackVol([0, 0, 0], [1, 1, 4], [1, 0.3, 0, 0, 0.954, 0, 0, 0, 1]));
    await writeVolume(zero, { ...stackVol([0, 0, 0]), data: new Float32Array(600) });
    const s = stackVol([0, 0, 0]);
    const data = new Float32Array(3 * 600);
    for (let t = 0; t < 3; t++) data.fill(t + 1, 600 * t, 600 * (t + 1));
    await writeVolume(series, { ...s, data, frames: 3, frameSpacing: 2 } as VolumeSeries);
    await writeVolume(thickX, stackVol([0, 0, 0], [4, 1, 1]));
  });

  test('stacks that do not overlap', async () => {
    await assert.rejects(loadStacks([a, far]), isMedfield(/far\.nii\.gz: does not overlap any other stack .*expected stacks of the same anatomy/));
  });
  test('an isotropic (3D) stack works, with a note', async () => {
    const r = await loadStacks([a, iso]);
    assert.equal(r.stacks.length, 2);
    assert.match(r.notes.join('\n'), /iso\.nii\.gz: isotropic .*already 3D/);
  });
  test('a stack whose thick axis is i is reordered so that it is the slice axis', async () => {
    const r = await loadStacks([thickX]);
    const v = r.stacks[0]!.volume;
    assert.deepEqual(v.spacingMm, [1, 1, 4]);
    assert.deepEqual(v.dims, [12, 5, 10]);
    assert.deepEqual(Array.from(v.direction), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
    const orig = (await loadVolume(thickX)).volume;
    // voxel (i, j, k) of the reordered stack is voxel (k, i, j) of the file
    assert.equal(v.data[3 + 12 * (4 + 5 * 7)], orig.data[7 + 10 * (3 + 12 * 4)]);
    assert.match(r.notes[0]!, /thickest voxel axis is axis 0/);
  });
  test('a sheared (non-orthonormal) or degenerate orientation', async () => {
    await assert.rejects(loadStacks([a, sheared]), isMedfield(/sheared\.nii\.gz: voxel axes 0 and 1 are .* deg apart .*orthonormal/));
    assert.throws(() => checkStackOrientation([1, 0, 0, 0, 0, 0, 0, 0, 1], 'd.nii'), isMedfield(/d\.nii: degenerate orientation: voxel axis 1/));
  });
  test('a zero-filled stack', async () => {
    await assert.rejects(loadStacks([a, zero]), isMedfield(/zero\.nii\.gz: every one of its 600 voxels is zero/));
    assert.throws(() => toSliceStack({ ...stackVol([0, 0, 0]), data: new Float32Array(600).fill(NaN) }, 'n.nii'), isMedfield(/n\.nii: contains 600 NaN/));
  });
  test('a 4D series needs --frame; the frame is used; an out-of-range frame is named', async () => {
    await assert.rejects(loadStacks([series]), isMedfield(/series\.nii\.gz: is a 4D series of 3 volumes; choose one with --frame t \(0\.\.2\)/));
    const r = await loadStacks([series], { frame: 2 });
    assert.ok(r.stacks[0]!.volume.data.every((x) => x === 3));
    await assert.rejects(loadStacks([series], { frame: 3 }), isMedfield(/--frame: .*series\.nii\.gz has 3 frames; expected a frame in 0\.\.2, got 3/));
  });

  test('the CLI: exit code, one message naming the file, nothing written', () => {
    for (const [files, re] of [[[a, far], /far\.nii\.gz: does not overlap/], [[a, zero], /zero\.nii\.gz: every one/], [[series], /--frame/], [[a, sheared], /sheared\.nii\.gz: voxel axes/]] as const) {
      const out = path.join(dir, 'out.nii.gz');
      const r = runCli(['svr', ...files, '-o', out, '--method', 'naive']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('medfield: error')).length, 1, r.stderr);
      assert.ok(!existsSync(out));
    }
    const bad = runCli(['svr', a, '-o', path.join(dir, 'x.nii.gz'), '--method', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown method "nope"; expected one of naive/);
    const ext = runCli(['svr', a, '-o', path.join(dir, 'x.txt')]);
    assert.equal(ext.code, 2);
    assert.match(ext.stderr, /x\.txt: cannot write this extension/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('out') || f.startsWith('x') || f.startsWith('.')), []);
  });
});

describe('medfield simulate --protocol svr and medfield svr, end to end', () => {
  const dir = tmp();
  const phantom = path.join(dir, 'brain.nii.gz');
  before(() => {
    const r = runCli(['phantom', 'brain', '--size', '40', '--fov', '160', '-o', phantom]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('simulate writes the folder; naive fusion onto the ground-truth grid scores as eval says; motion lowers it; --mask', async () => {
    const sim = path.join(dir, 'sim');
    const r = runCli(['simulate', phantom, '--protocol', 'svr', '--slice-mm', '8', '--inplane-mm', '4', '--max-rot-deg', '3', '--max-trans-mm', '4', '--seed', '5', '-o', sim, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(sim).sort(), ['gt.nii.gz', 'mask.nii.gz', 'motion.json', 'stack1.nii.gz', 'stack2.nii.gz', 'stack3.nii.gz']);
    assert.equal(r.json!.maxRotationDeg, 3);
    assert.equal((r.json!.stacks as unknown[]).length, 3);
    const motion = JSON.parse(readFileSync(path.join(sim, 'motion.json'), 'utf8'));
    assert.equal(motion.stacks.length, 3);
    assert.equal(motion.simulation.seed, 5);
    const stacks = ['stack1', 'stack2', 'stack3'].map((s) => path.join(sim, `${s}.nii.gz`));
    const out = path.join(dir, 'naive.nii.gz');
    const n = runCli(['svr', ...stacks, '-o', out, '--method', 'naive', '--like', path.join(sim, 'gt.nii.gz'), '--json']);
    assert.equal(n.code, 0, n.stderr);
    assert.deepEqual(n.json!.files, [out, path.join(dir, 'naive.report.html')]);
    // the report is static (inline PNG/SVG only) and shows the stacks and orthogonal slices
    const html = readFileSync(path.join(dir, 'naive.report.html'), 'utf8');
    assert.match(html, /stack1/);
    assert.ok((html.match(/data:image\/png;base64,/g) ?? []).length >= 3);
    assert.doesNotMatch(html, /(src|href)="https?:/);
    assert.deepEqual((n.json!.grid as { dims: number[] }).dims, [40, 40, 40]);
    const ev = runCli(['eval', out, path.join(sim, 'gt.nii.gz'), '--mask', path.join(sim, 'mask.nii.gz'), '--json']);
    assert.equal(ev.code, 0, ev.stderr);
    const moving = ev.json!.psnr as number;
    // the same without motion fuses better
    const still = path.join(dir, 'still');
    assert.equal(runCli(['simulate', phantom, '--protocol', 'svr', '--slice-mm', '8', '--inplane-mm', '4', '--max-rot-deg', '0', '--max-trans-mm', '0', '--seed', '5', '-o', still]).code, 0);
    const n2 = runCli(['svr', ...['stack1', 'stack2', 'stack3'].map((s) => path.join(still, `${s}.nii.gz`)), '-o', path.join(dir, 'still.nii.gz'), '--method', 'naive', '--like', path.join(still, 'gt.nii.gz')]);
    assert.equal(n2.code, 0, n2.stderr);
    const ev2 = runCli(['eval', path.join(dir, 'still.nii.gz'), path.join(still, 'gt.nii.gz'), '--mask', path.join(still, 'mask.nii.gz'), '--json']);
    assert.ok((ev2.json!.psnr as number) > moving + 0.5, `still ${ev2.json!.psnr} dB vs moving ${moving} dB`);
    // default grid: RAS, isotropic at the finest in-plane spacing, covering the stacks
    const d = runCli(['svr', ...stacks, '-o', path.join(dir, 'def.nii.gz'), '--method', 'naive', '--json']);
    assert.equal(d.code, 0, d.stderr);
    const grid = d.json!.grid as { spacingMm: number[]; direction: number[]; dims: number[] };
    assert.deepEqual(grid.spacingMm, [4, 4, 4]);
    assert.deepEqual(grid.direction, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.ok(grid.dims.every((x) => x >= 40), `dims ${grid.dims}`);
    // --mask: the grid is the mask's box and the output is zero outside the mask
    const masked = path.join(dir, 'masked.nii.gz');
    const mk = runCli(['svr', ...stacks, '-o', masked, '--method', 'naive', '--mask', path.join(sim, 'mask.nii.gz'), '--spacing', '4', '--grid-frame', 'first-stack', '--json']);
    assert.equal(mk.code, 0, mk.stderr);
    const mgrid = mk.json!.grid as { dims: number[] };
    assert.ok(mgrid.dims.every((x, c) => x <= (d.json!.grid as { dims: number[] }).dims[c]!), `mask grid ${mgrid.dims}`);
    const mv = await loadVolume(masked);
    const mask = await loadVolume(path.join(sim, 'mask.nii.gz'));
    const inside = maskOnGrid(mask.volume, mv.volume);
    let outsideNonzero = 0, insideNonzero = 0;
    for (let p = 0; p < inside.length; p++) {
      if (!inside[p] && mv.volume.data[p] !== 0) outsideNonzero++;
      if (inside[p] && mv.volume.data[p] !== 0) insideNonzero++;
    }
    assert.equal(outsideNonzero, 0);
    assert.ok(insideNonzero > 100, `inside ${insideNonzero}`);
  });

  test('simulate: options of the other protocol are refused; an existing folder is kept', () => {
    const r = runCli(['simulate', phantom, '--protocol', 'svr', '--views', '10', '-o', path.join(dir, 'x')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--views: does not apply to --protocol svr/);
    const c = runCli(['simulate', phantom, '--protocol', 'ct-50', '--max-rot-deg', '2', '-o', path.join(dir, 'y')]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /--max-rot-deg: applies to --protocol svr only/);
    const again = runCli(['simulate', phantom, '--protocol', 'svr', '--inplane-mm', '4', '-o', path.join(dir, 'sim')]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not empty/);
    assert.ok(!existsSync(path.join(dir, 'x')) && !existsSync(path.join(dir, 'y')));
  });
});
