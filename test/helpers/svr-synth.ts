/**
 * A small, independent slice-stack simulator for the INR SVR tests and bench (not the product
 * simulator of src/svr/simulate.ts): three orthogonal stacks (axial, coronal, sagittal) covering
 * a ground-truth volume, each slice moved by its own random rigid motion (slice-stack.ts
 * convention), slice profile integrated with a 2x2x5 Gauss-Hermite rule, Rician noise.
 */
import { createRng } from '../../src/core/rng.js';
import type { Vec3, Volume } from '../../src/core/volume.js';
import { rotationMatrix, psfSigmasMm, sliceAffine, sliceCentreMm, type SliceStack } from '../../src/geometry/slice-stack.js';
import { gridUnitMap } from '../../src/svr/inr-geometry.js';
import { gaussHermitePsfRule } from '../../src/svr/psf-sampling.js';
import { trilinearOrZero } from '../../src/svr/simulate.js';
import { psnr } from '../../src/metrics/psnr.js';

/**
 * n^3 phantom at `spacingMm`, centred at the world origin: nested ellipsoids of distinct intensity
 * (brain-like contrasts) plus `blobs` small random ellipsoids inside (texture, so that every slice
 * has edges that pin down its motion).
 */
export function ellipsoidPhantom(n: number, spacingMm: number, blobs = 0, seed = 7): Volume<Float32Array> {
  const data = new Float32Array(n * n * n);
  const ell: [number, number, number, number, number, number, number][] = [
    // cx, cy, cz, ax, ay, az (fractions of the half-size), value added
    [0, 0, 0, 0.85, 0.7, 0.75, 0.5],
    [0, 0, 0, 0.75, 0.6, 0.65, 0.3],
    [-0.3, 0.1, 0.1, 0.2, 0.35, 0.25, -0.4],
    [0.3, 0.1, 0.1, 0.18, 0.3, 0.25, -0.4],
    [0.05, -0.35, -0.2, 0.15, 0.12, 0.2, 0.6],
    [0.0, 0.3, -0.3, 0.25, 0.1, 0.12, 0.3],
    [-0.1, -0.1, 0.45, 0.3, 0.15, 0.1, -0.2],
  ];
  const rng = createRng(seed);
  for (let b = 0; b < blobs; b++) {
    const r = () => (rng.next() * 2 - 1) * 0.5;
    ell.push([r(), r(), r(), 0.06 + 0.08 * rng.next(), 0.06 + 0.08 * rng.next(), 0.06 + 0.08 * rng.next(), (rng.next() < 0.5 ? -1 : 1) * (0.1 + 0.15 * rng.next())]);
  }
  for (let k = 0; k < n; k++) for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    const x = (2 * i + 1) / n - 1, y = (2 * j + 1) / n - 1, z = (2 * k + 1) / n - 1;
    let v = 0;
    for (const [cx, cy, cz, ax, ay, az, val] of ell) if (((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 + ((z - cz) / az) ** 2 <= 1) v += val;
    data[i + n * (j + n * k)] = v;
  }
  const o = (-(n - 1) / 2) * spacingMm;
  return { data, dims: [n, n, n], spacingMm: [spacingMm, spacingMm, spacingMm], originMm: [o, o, o], direction: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]) };
}

export interface SynthOptions {
  inPlaneMm: number;
  sliceMm: number;
  /** Slice thickness (PSF FWHM), default sliceMm. */
  thicknessMm?: number;
  maxRotDeg: number;
  maxTransMm: number;
  /** Rician noise sigma as a fraction of the volume's max. */
  noise: number;
  seed: number;
  /** Which orientations (default all three). */
  orientations?: readonly ('axial' | 'coronal' | 'sagittal')[];
}

export interface SynthStacks {
  stacks: SliceStack[];
  /** True per-slice motion per stack (slice-stack.ts convention). */
  motion: Float64Array[];
}

const DIRS = {
  axial: [1, 0, 0, 0, 1, 0, 0, 0, 1], // i = x, j = y, k = z (columns)
  coronal: [1, 0, 0, 0, 0, -1, 0, 1, 0], // i = x, j = z, k = -y
  sagittal: [0, 0, 1, 1, 0, 0, 0, 1, 0], // i = y, j = z, k = x
} as const;

/** World bounding box (voxel centres) of a volume: [min xyz, max xyz]. */
function worldBox(v: Volume): [Vec3, Vec3] {
  const lo: Vec3 = [Infinity, Infinity, Infinity], hi: Vec3 = [-Infinity, -Infinity, -Infinity];
  for (let c = 0; c < 8; c++) {
    const ijk = [c & 1 ? v.dims[0] - 1 : 0, c & 2 ? v.dims[1] - 1 : 0, c & 4 ? v.dims[2] - 1 : 0];
    for (let r = 0; r < 3; r++) {
      let w = v.originMm[r];
      for (let a = 0; a < 3; a++) w += v.direction[3 * r + a]! * v.spacingMm[a]! * ijk[a]!;
      lo[r] = Math.min(lo[r], w); hi[r] = Math.max(hi[r], w);
    }
  }
  return [lo, hi];
}

/** Simulates orthogonal stacks of `gt` with random per-slice motion. */
export function synthStacks(gt: Volume, o: SynthOptions): SynthStacks {
  const rng = createRng(o.seed);
  const [lo, hi] = worldBox(gt);
  const centre = [0, 1, 2].map((r) => (lo[r]! + hi[r]!) / 2);
  const map = gridUnitMap(gt);
  let gmax = 0;
  for (const v of gt.data) gmax = Math.max(gmax, v);
  const rule = gaussHermitePsfRule([2, 2, 5]);
  const stacks: SliceStack[] = [], motion: Float64Array[] = [];
  const R = new Float64Array(9), A = new Float64Array(12);
  for (const name of o.orientations ?? (['axial', 'coronal', 'sagittal'] as const)) {
    const dir = Float64Array.from(DIRS[name]);
    const spacing: Vec3 = [o.inPlaneMm, o.inPlaneMm, o.sliceMm];
    const dims = [0, 1, 2].map((c) => {
      let ext = 0;
      for (let r = 0; r < 3; r++) ext += Math.abs(dir[3 * r + c]!) * (hi[r]! - lo[r]! + 1);
      return Math.max(1, Math.round(ext / spacing[c]!));
    }) as Vec3;
    const originMm = [0, 1, 2].map((r) => {
      let w = centre[r]!;
      for (let c = 0; c < 3; c++) w -= dir[3 * r + c]! * spacing[c]! * (dims[c]! - 1) / 2;
      return w;
    }) as Vec3;
    const vol: Volume<Float32Array> = { data: new Float32Array(dims[0] * dims[1] * dims[2]), dims, spacingMm: spacing, originMm, direction: dir };
    const stack: SliceStack = { volume: vol, sliceThicknessMm: o.thicknessMm ?? o.sliceMm, name };
    const sig = psfSigmasMm(stack);
    const m = new Float64Array(6 * dims[2]);
    for (let k = 0; k < dims[2]; k++) {
      // Rotation: uniform random axis, angle uniform in [0, max]; translation likewise.
      const ang = (rng.next() * o.maxRotDeg * Math.PI) / 180, tr = rng.next() * o.maxTransMm;
      const u = unit([rng.normal(), rng.normal(), rng.normal()]), w = unit([rng.normal(), rng.normal(), rng.normal()]);
      m.set([u[0] * ang, u[1] * ang, u[2] * ang, w[0] * tr, w[1] * tr, w[2] * tr], 6 * k);
      rotationMatrix(m[6 * k]!, m[6 * k + 1]!, m[6 * k + 2]!, R);
      sliceAffine(vol, k, A);
      const c = sliceCentreMm(vol, k);
      for (let j = 0; j < dims[1]; j++) for (let i = 0; i < dims[0]; i++) {
        let acc = 0;
        for (let q = 0; q < rule.count; q++) {
          const fi = i + (rule.normals[3 * q]! * sig[0]) / spacing[0], fj = j + (rule.normals[3 * q + 1]! * sig[1]) / spacing[1], fk = (rule.normals[3 * q + 2]! * sig[2]) / spacing[2];
          const p = [0, 1, 2].map((r) => A[4 * r]! * fi + A[4 * r + 1]! * fj + A[4 * r + 2]! * fk + A[4 * r + 3]! - c[r]!);
          const x = [0, 1, 2].map((r) => R[3 * r]! * p[0]! + R[3 * r + 1]! * p[1]! + R[3 * r + 2]! * p[2]! + c[r]! + m[6 * k + 3 + r]!);
          const v = [0, 1, 2].map((a) => (map.M[3 * a]! * x[0]! + map.M[3 * a + 1]! * x[1]! + map.M[3 * a + 2]! * x[2]! + map.u0[a]!) * gt.dims[a]! - 0.5);
          acc += rule.weights[q]! * trilinearOrZero(gt.data, gt.dims[0], gt.dims[1], gt.dims[2], v[0]!, v[1]!, v[2]!);
        }
        const s = o.noise * gmax;
        const n1 = acc + s * rng.normal(), n2 = s * rng.normal();
        vol.data[i + dims[0] * (j + dims[1] * k)] = s > 0 ? Math.sqrt(n1 * n1 + n2 * n2) : acc;
      }
    }
    stacks.push(stack);
    motion.push(m);
  }
  return { stacks, motion };
}

function unit(v: [number, number, number]): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]) || 1;
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** PSNR (dB) of `test` vs `ref` over voxels where mask (ref > 0 by default), data range = max of ref in the mask. */
export function maskedPsnr(ref: ArrayLike<number>, test: ArrayLike<number>, mask?: ArrayLike<number>): number {
  const m = new Uint8Array(ref.length);
  let mx = 0;
  for (let i = 0; i < ref.length; i++) if (mask ? mask[i] : ref[i]! > 0) { m[i] = 1; if (ref[i]! > mx) mx = ref[i]!; }
  return psnr(ref, test, { dataRange: mx, mask: m });
}

/**
 * The INR tests' and bench's baseline (independent of src/svr/naive.ts, which splats): every voxel
 * of `grid` is the mean over the stacks covering it of the stack trilinearly resampled at the
 * voxel's nominal world position.
 */
export function resampleFusion(stacks: readonly SliceStack[], grid: Volume): Float32Array {
  const [nx, ny, nz] = grid.dims;
  const out = new Float32Array(nx * ny * nz);
  const maps = stacks.map((s) => gridUnitMap(s.volume));
  const d = grid.direction, sp = grid.spacingMm, o = grid.originMm;
  const x = new Float64Array(3);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
    for (let r = 0; r < 3; r++) x[r] = o[r]! + d[3 * r]! * sp[0] * i + d[3 * r + 1]! * sp[1] * j + d[3 * r + 2]! * sp[2] * k;
    let acc = 0, n = 0;
    for (let t = 0; t < stacks.length; t++) {
      const m = maps[t]!, v = stacks[t]!.volume, [sx, sy, sz] = v.dims;
      const fx = (m.M[0]! * x[0]! + m.M[1]! * x[1]! + m.M[2]! * x[2]! + m.u0[0]!) * sx - 0.5;
      const fy = (m.M[3]! * x[0]! + m.M[4]! * x[1]! + m.M[5]! * x[2]! + m.u0[1]!) * sy - 0.5;
      const fz = (m.M[6]! * x[0]! + m.M[7]! * x[1]! + m.M[8]! * x[2]! + m.u0[2]!) * sz - 0.5;
      if (fx >= 0 && fy >= 0 && fz >= 0 && fx <= sx - 1 && fy <= sy - 1 && fz <= sz - 1) { acc += trilinearOrZero(v.data, sx, sy, sz, fx, fy, fz); n++; }
    }
    out[i + nx * (j + ny * k)] = n ? acc / n : 0;
  }
  return out;
}

/** Per-stack motions concatenated into one array (6 numbers per slice). */
export function flatMotion(a: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(a.reduce((s, x) => s + x.length, 0));
  let q = 0;
  for (const x of a) { out.set(x, q); q += x.length; }
  return out;
}
