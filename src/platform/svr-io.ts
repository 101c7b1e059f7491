/**
 * Slice stacks on disk: NIfTI (any format loadVolume reads) -> SliceStack with the checks a user
 * needs (4D series, degenerate or non-orthonormal orientations, all-zero stacks, stacks that do
 * not overlap), motion.json (the slice-stack.ts convention, angles in degrees), the simulation
 * folder of `medfield simulate --protocol svr` (written atomically), and a PNG comparing acquired
 * slices with slices simulated from a reconstruction.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MedfieldError } from '../core/errors.js';
import { type Vec3, type Volume, type VolumeSeries, voxelCount } from '../core/volume.js';
import { sliceCentreMm, type SliceMotion, type SliceStack } from '../geometry/slice-stack.js';
import { encodePng, floatToGray } from '../io/png.js';
import { stacksBox } from '../svr/grid.js';
import { acquireStack } from '../svr/simulate.js';
import { loadVolume, writeVolume } from './volume-io.js';
import { readFileChecked, writeFileAtomic, writeFolderAtomic } from './fs.js';

export interface StackLoadOptions {
  /** Frame of a 4D series to use (0-based), or 'all': every frame is a stack of its own (named file[t]); required for 4D files. */
  frame?: number | 'all';
  /** Slice thickness (mm) for every stack; default: each stack's slice spacing. */
  thicknessMm?: number;
}

/** Loaded stacks and notes worth telling the user (e.g. an isotropic stack, a permuted axis). */
export interface LoadedStacks {
  stacks: SliceStack[];
  /** The file each stack came from (several stacks per file with frame 'all'). */
  sources: string[];
  notes: string[];
}

/** Volume of one frame of a 3D/4D volume, or a clear error naming the file. */
function pickFrame(v: Volume | VolumeSeries, file: string, frame: number | undefined): Volume {
  const frames = 'frames' in v ? v.frames : 1;
  if (frames > 1 && frame === undefined) {
    throw new MedfieldError('bad-file', file, `is a 4D series of ${frames} volumes; choose one with --frame t (0..${frames - 1}) or make every frame a stack with --frame all; expected 3D slice stacks`);
  }
  const t = frame ?? 0;
  if (!Number.isInteger(t) || t < 0 || t >= frames) {
    throw new MedfieldError('bad-option', '--frame', `${file} has ${frames} frame${frames > 1 ? 's' : ''}; expected a frame in 0..${frames - 1}, got ${t}`);
  }
  if (frames === 1) return v;
  const n = voxelCount(v.dims);
  return { data: v.data.subarray(t * n, (t + 1) * n), dims: [...v.dims] as Vec3, spacingMm: [...v.spacingMm] as Vec3, originMm: [...v.originMm] as Vec3, direction: v.direction };
}

/** Throws unless the direction's columns are unit length and mutually orthogonal (a rigid orientation). */
export function checkStackOrientation(direction: ArrayLike<number>, file: string): void {
  const col = (c: number) => [direction[c]!, direction[3 + c]!, direction[6 + c]!];
  const cols = [col(0), col(1), col(2)];
  for (let c = 0; c < 3; c++) {
    const n = Math.hypot(...cols[c]!);
    if (!Number.isFinite(n) || Math.abs(n - 1) > 1e-3) {
      throw new MedfieldError('bad-file', file, `degenerate orientation: voxel axis ${c} has direction length ${n}; expected an orthonormal affine (rotation, possibly a flip)`);
    }
  }
  for (const [a, b] of [[0, 1], [0, 2], [1, 2]] as const) {
    const dot = cols[a]![0]! * cols[b]![0]! + cols[a]![1]! * cols[b]![1]! + cols[a]![2]! * cols[b]![2]!;
    if (Math.abs(dot) > 1e-3) {
      const deg = (Math.acos(Math.max(-1, Math.min(1, dot))) * 180) / Math.PI;
      throw new MedfieldError('bad-file', file, `voxel axes ${a} and ${b} are ${deg.toFixed(2)} deg apart (sheared affine); expected an orthonormal orientation; resample the stack onto an orthogonal grid first`);
    }
  }
}

/** Reorders the voxel axes so that `order[c]` becomes axis c (data, spacing and direction move together; origin unchanged). */
function permuteAxes(v: Volume<Float32Array>, order: Vec3): Volume<Float32Array> {
  const dims: Vec3 = [v.dims[order[0]]!, v.dims[order[1]]!, v.dims[order[2]]!];
  const out = new Float32Array(v.data.length);
  const strides = [1, v.dims[0], v.dims[0] * v.dims[1]];
  const s0 = strides[order[0]]!, s1 = strides[order[1]]!, s2 = strides[order[2]]!;
  for (let k = 0, p = 0; k < dims[2]; k++) for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++, p++) out[p] = v.data[i * s0 + j * s1 + k * s2]!;
  const direction = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) direction[3 * r + c] = v.direction[3 * r + order[c]!]!;
  return { data: out, dims, spacingMm: [v.spacingMm[order[0]]!, v.spacingMm[order[1]]!, v.spacingMm[order[2]]!], originMm: [...v.originMm], direction };
}

/**
 * Turns one loaded volume into a SliceStack: Float32, the thickest voxel axis as the slice axis
 * (k), orientation and content checked. Returns notes for the user.
 */
export function toSliceStack(v: Volume, file: string, opts: StackLoadOptions = {}): { stack: SliceStack; notes: string[] } {
  const notes: string[] = [];
  checkStackOrientation(v.direction, file);
  let bad = 0, nonzero = 0;
  const d = v.data;
  for (let p = 0; p < d.length; p++) { const x = d[p]!; if (!Number.isFinite(x)) bad++; else if (x !== 0) nonzero++; }
  if (bad > 0) throw new MedfieldError('bad-data', file, `contains ${bad} NaN/Inf values; expected finite MR intensities`);
  if (nonzero === 0) throw new MedfieldError('bad-data', file, `every one of its ${d.length} voxels is zero (an empty or zero-filled stack); expected MR intensities`);
  let vol: Volume<Float32Array> = { data: Float32Array.from(d as ArrayLike<number>), dims: [...v.dims] as Vec3, spacingMm: [...v.spacingMm] as Vec3, originMm: [...v.originMm] as Vec3, direction: new Float64Array(v.direction) };
  const s = vol.spacingMm;
  const thick = s[2] >= s[0] && s[2] >= s[1] ? 2 : s[0] >= s[1] ? 0 : 1;
  const iso = Math.max(...s) / Math.min(...s) < 1.01;
  if (iso) notes.push(`${file}: isotropic ${s.map((x) => x.toFixed(2)).join(' x ')} mm voxels (already 3D); used as a stack of thin slices along its third axis`);
  else if (thick !== 2 && s[thick]! > s[2] * 1.01) {
    const order: Vec3 = thick === 0 ? [1, 2, 0] : [2, 0, 1];
    vol = permuteAxes(vol, order);
    notes.push(`${file}: its thickest voxel axis is axis ${thick} (${s[thick]!.toFixed(2)} mm); used as the slice axis`);
  }
  const thicknessMm = opts.thicknessMm ?? vol.spacingMm[2];
  if (!(thicknessMm > 0 && Number.isFinite(thicknessMm))) throw new MedfieldError('bad-option', '--thickness', `expected a positive slice thickness in mm, got ${thicknessMm}`);
  return { stack: { volume: vol, sliceThicknessMm: thicknessMm, name: path.basename(file) }, notes };
}

/**
 * Throws unless every stack's world box overlaps another's so that all are linked (they must image
 * the same anatomy in one scanner frame). Boxes are axis-aligned world boxes (conservative).
 */
export function checkStacksOverlap(stacks: readonly SliceStack[]): void {
  if (stacks.length < 2) return;
  const boxes = stacks.map((s) => stacksBox([s]));
  const overlaps = (a: number, b: number) => [0, 1, 2].every((r) => Math.min(boxes[a]!.max[r]!, boxes[b]!.max[r]!) - Math.max(boxes[a]!.min[r]!, boxes[b]!.min[r]!) > 1e-6);
  const fmt = (i: number) => `[${boxes[i]!.min.map((x) => x.toFixed(1)).join(', ')}] .. [${boxes[i]!.max.map((x) => x.toFixed(1)).join(', ')}] mm`;
  const seen = new Set<number>([0]);
  const queue = [0];
  while (queue.length) {
    const a = queue.pop()!;
    for (let b = 0; b < stacks.length; b++) if (!seen.has(b) && overlaps(a, b)) { seen.add(b); queue.push(b); }
  }
  for (let i = 0; i < stacks.length; i++) {
    if (seen.has(i)) continue;
    const alone = stacks.every((_, j) => j === i || !overlaps(i, j));
    throw new MedfieldError('bad-data', stacks[i]!.name, `${alone ? 'does not overlap any other stack' : `does not overlap ${stacks[0]!.name} or the stacks linked to it`} (its box ${fmt(i)}, ${stacks[0]!.name}: ${fmt(0)}); expected stacks of the same anatomy in one scanner (world) frame`);
  }
}

/** Loads and checks stack files (see toSliceStack and checkStacksOverlap). */
export async function loadStacks(files: readonly string[], opts: StackLoadOptions = {}): Promise<LoadedStacks> {
  if (files.length === 0) throw new MedfieldError('bad-option', 'stacks', 'expected at least one stack file');
  const stacks: SliceStack[] = [], notes: string[] = [], sources: string[] = [];
  for (const f of files) {
    const { volume } = await loadVolume(f);
    const frames = 'frames' in volume ? volume.frames : 1;
    const picks = opts.frame === 'all' ? Array.from({ length: frames }, (_, t) => t) : [opts.frame];
    for (const t of picks) {
      const r = toSliceStack(pickFrame(volume, f, t), f, opts);
      const stack = opts.frame === 'all' && frames > 1 ? { ...r.stack, name: `${r.stack.name}[${t}]` } : r.stack;
      stacks.push(stack);
      sources.push(f);
      if (t === picks[0] || opts.frame !== 'all') notes.push(...r.notes);
    }
  }
  checkStacksOverlap(stacks);
  if (stacks.length === 1) notes.push('one stack only: nothing to fuse across orientations');
  return { stacks, notes, sources };
}

// ---------------------------------------------------------------------------------------------
// motion.json

export const MOTION_JSON_FORMAT = 'medfield-svr-motion';
export const MOTION_JSON_VERSION = 1;
export const MOTION_CONVENTION =
  'x = R(r) (p - c) + c + t maps the nominal world position p (RAS mm, from the stack header) of a pixel of a slice to where the anatomy it imaged lies in the reconstruction (world) frame; ' +
  'r = rotationDeg is a rotation vector (axis * angle, degrees, RAS world axes), t = translationMm (mm), c = centreMm, the nominal world centre of the slice (mm). See src/geometry/slice-stack.ts.';

export interface MotionJsonSlice { rotationDeg: [number, number, number]; translationMm: [number, number, number]; centreMm: [number, number, number] }
export interface MotionJson {
  format: typeof MOTION_JSON_FORMAT;
  version: number;
  convention: string;
  stacks: { name: string; file?: string; slices: MotionJsonSlice[] }[];
  [extra: string]: unknown;
}

/** motion.json text for stacks and their motions (radians in memory, degrees in the file). */
export function formatMotionJson(stacks: readonly SliceStack[], motions: readonly SliceMotion[], extra: Record<string, unknown> = {}, files?: readonly string[]): string {
  if (motions.length !== stacks.length) throw new MedfieldError('bad-data', 'motion', `${motions.length} motions for ${stacks.length} stacks`);
  const deg = 180 / Math.PI;
  const doc: MotionJson = {
    format: MOTION_JSON_FORMAT, version: MOTION_JSON_VERSION, convention: MOTION_CONVENTION,
    stacks: stacks.map((s, i) => {
      const m = motions[i]!;
      const nz = s.volume.dims[2];
      if (m.length !== 6 * nz) throw new MedfieldError('bad-data', s.name, `motion has ${m.length / 6} slices, the stack ${nz}`);
      const slices: MotionJsonSlice[] = [];
      for (let k = 0; k < nz; k++) {
        slices.push({
          rotationDeg: [m[6 * k]! * deg, m[6 * k + 1]! * deg, m[6 * k + 2]! * deg],
          translationMm: [m[6 * k + 3]!, m[6 * k + 4]!, m[6 * k + 5]!],
          centreMm: sliceCentreMm(s.volume, k),
        });
      }
      return { name: s.name, ...(files?.[i] ? { file: files[i] } : {}), slices };
    }),
    ...extra,
  };
  return `${JSON.stringify(doc, null, 1)}\n`;
}

/** Parses motion.json into per-stack motions (radians, mm) with names; `subject` names the file in errors. */
export function parseMotionJson(text: string, subject = 'motion.json'): { names: string[]; files: (string | undefined)[]; motions: SliceMotion[]; centresMm: Float64Array[]; doc: MotionJson } {
  let doc: MotionJson;
  try { doc = JSON.parse(text) as MotionJson; } catch (e) {
    throw new MedfieldError('bad-file', subject, `not valid JSON (${(e as Error).message})`);
  }
  if (!doc || doc.format !== MOTION_JSON_FORMAT || !Array.isArray(doc.stacks)) {
    throw new MedfieldError('bad-file', subject, `expected {"format": "${MOTION_JSON_FORMAT}", "stacks": [...]}`);
  }
  const rad = Math.PI / 180;
  const triple = (x: unknown, what: string): number[] => {
    if (!Array.isArray(x) || x.length !== 3 || x.some((v) => typeof v !== 'number' || !Number.isFinite(v))) throw new MedfieldError('bad-file', subject, `${what}: expected three finite numbers`);
    return x as number[];
  };
  const motions: SliceMotion[] = [], centresMm: Float64Array[] = [];
  doc.stacks.forEach((s, i) => {
    if (!s || typeof s.name !== 'string' || !Array.isArray(s.slices)) throw new MedfieldError('bad-file', subject, `stacks[${i}]: expected {name, slices: [...]}`);
    const m = new Float64Array(6 * s.slices.length), c = new Float64Array(3 * s.slices.length);
    s.slices.forEach((sl, k) => {
      const r = triple(sl?.rotationDeg, `stacks[${i}].slices[${k}].rotationDeg`), t = triple(sl?.translationMm, `stacks[${i}].slices[${k}].translationMm`);
      const ce = triple(sl?.centreMm, `stacks[${i}].slices[${k}].centreMm`);
      for (let q = 0; q < 3; q++) { m[6 * k + q] = r[q]! * rad; m[6 * k + 3 + q] = t[q]!; c[3 * k + q] = ce[q]!; }
    });
    motions.push(m); centresMm.push(c);
  });
  return { names: doc.stacks.map((s) => s.name), files: doc.stacks.map((s) => s.file), motions, centresMm, doc };
}

/** Reads a motion.json file. */
export async function readMotionJson(file: string): Promise<ReturnType<typeof parseMotionJson>> {
  return parseMotionJson(new TextDecoder().decode(await readFileChecked(file)), file);
}

// ---------------------------------------------------------------------------------------------
// simulation folder

export interface SvrSimulationFiles {
  stacks: readonly SliceStack[];
  motions: readonly SliceMotion[];
  groundTruth: Volume;
  mask: Volume<Uint8Array>;
  /** Extra fields for motion.json (e.g. {"simulation": {...resolved options}}). */
  extra?: Record<string, unknown>;
}

/** File names of a simulation folder: stack1.nii.gz ... stackN.nii.gz, motion.json, gt.nii.gz, mask.nii.gz. */
export function simulationFileNames(n: number): { stacks: string[]; motion: string; groundTruth: string; mask: string } {
  return { stacks: Array.from({ length: n }, (_, i) => `stack${i + 1}.nii.gz`), motion: 'motion.json', groundTruth: 'gt.nii.gz', mask: 'mask.nii.gz' };
}

/**
 * Writes a simulation folder atomically: everything goes into a temporary folder beside `dir`,
 * which is renamed onto `dir` only when complete. Refuses a non-empty `dir` unless `overwrite`.
 */
export async function writeSvrSimulation(dir: string, sim: SvrSimulationFiles, opts: { overwrite?: boolean } = {}): Promise<string[]> {
  const names = simulationFileNames(sim.stacks.length);
  const motionText = formatMotionJson(sim.stacks, sim.motions, sim.extra ?? {}, names.stacks);
  await writeFolderAtomic(dir, async (tmp) => {
    for (let i = 0; i < sim.stacks.length; i++) await writeVolume(path.join(tmp, names.stacks[i]!), sim.stacks[i]!.volume);
    await writeVolume(path.join(tmp, names.groundTruth), sim.groundTruth);
    await writeVolume(path.join(tmp, names.mask), sim.mask);
    await fsp.writeFile(path.join(tmp, names.motion), motionText);
  }, { what: 'the simulation', ...(opts.overwrite !== undefined ? { overwrite: opts.overwrite } : {}) });
  return [...names.stacks, names.motion, names.groundTruth, names.mask];
}

// ---------------------------------------------------------------------------------------------
// acquired vs simulated slices

/**
 * A PNG mosaic: for each stack (a column) its middle slice as acquired (top row) and as simulated
 * from `volume` with the estimated motion and the stack's PSF (bottom row). One 8-bit window for
 * all tiles: [0, 99.5th percentile of the acquired tiles].
 */
export function sliceComparisonPng(stacks: readonly SliceStack[], volume: Volume, motions: readonly SliceMotion[] | null): Uint8Array {
  const tiles: { acq: Float32Array; sim: Float32Array; w: number; h: number }[] = [];
  for (let s = 0; s < stacks.length; s++) {
    const v = stacks[s]!.volume;
    const [nx, ny, nz] = v.dims;
    const k = Math.floor(nz / 2);
    const acq = v.data.slice(nx * ny * k, nx * ny * (k + 1));
    // a one-slice stack at slice k: same in-plane grid, origin moved to that slice
    const one: Volume<Float32Array> = {
      data: new Float32Array(nx * ny), dims: [nx, ny, 1], spacingMm: [...v.spacingMm] as Vec3, direction: v.direction,
      originMm: [0, 1, 2].map((r) => v.originMm[r]! + v.direction[3 * r + 2]! * v.spacingMm[2] * k) as Vec3,
    };
    acquireStack(volume, { volume: one, sliceThicknessMm: stacks[s]!.sliceThicknessMm, name: stacks[s]!.name }, motions ? motions[s]!.subarray(6 * k, 6 * k + 6) : null);
    tiles.push({ acq, sim: one.data, w: nx, h: ny });
  }
  const W = tiles.reduce((a, t) => a + t.w, 0) + 2 * (tiles.length - 1), H = 2 * Math.max(...tiles.map((t) => t.h)) + 2;
  const img = new Float32Array(W * H);
  const all = Float32Array.from(tiles.flatMap((t) => Array.from(t.acq))).sort();
  const hi = all[Math.min(all.length - 1, Math.floor(0.995 * all.length))]! || 1;
  const half = (H - 2) / 2;
  let x0 = 0;
  for (const t of tiles) {
    // rows drawn top = highest j (superior / anterior up)
    for (let j = 0; j < t.h; j++) for (let i = 0; i < t.w; i++) {
      img[(t.h - 1 - j) * W + x0 + i] = t.acq[i + t.w * j]!;
      img[(half + 2 + t.h - 1 - j) * W + x0 + i] = t.sim[i + t.w * j]!;
    }
    x0 += t.w + 2;
  }
  return encodePng(floatToGray(img, H, W, 0, hi, 8));
}

/** Writes the comparison PNG atomically. */
export async function writeSliceComparison(file: string, stacks: readonly SliceStack[], volume: Volume, motions: readonly SliceMotion[] | null): Promise<void> {
  await writeFileAtomic(file, sliceComparisonPng(stacks, volume, motions));
}
