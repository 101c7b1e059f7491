/**
 * Precomputed geometry of the INR slice-to-volume reconstruction: the world -> unit-cube map of
 * the output grid and the per-slice affines / centres of every stack (src/geometry/slice-stack.ts).
 *
 * The field's input is the unit cube of the output grid's box (outer voxel faces): voxel (i,j,k)'s
 * centre is at u = ((i + 0.5)/nx, (j + 0.5)/ny, (k + 0.5)/nz), and for a world point x (mm)
 * u = M x + u0 with M = diag(1/n) (D diag(s))^-1 and u0 = 0.5/n - M originMm.
 */
import { MedfieldError } from '../core/errors.js';
import { invert3, type Volume } from '../core/volume.js';
import { psfSigmasMm, sliceAffine, sliceCentreMm, type SliceStack } from '../geometry/slice-stack.js';
import { psfVoxelScales } from './psf-sampling.js';

export interface UnitMap {
  /** Row-major 3x3. */
  readonly M: Float64Array;
  readonly u0: Float64Array;
}

/** World (mm) -> unit cube of a grid's box: u = (worldToVoxel(x) + 0.5) / dims per axis. */
export function gridUnitMap(grid: Volume): UnitMap {
  let inv: Float64Array;
  try { inv = invert3(grid.direction); } catch {
    throw new MedfieldError('bad-data', 'svr output grid direction', 'expected an invertible direction matrix');
  }
  // inverse of D diag(s) is diag(1/s) D^-1
  const s = grid.spacingMm, n = grid.dims, o = grid.originMm;
  const M = new Float64Array(9), u0 = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) M[3 * r + c] = inv[3 * r + c]! / (s[r]! * n[r]!);
    u0[r] = 0.5 / n[r]! - (M[3 * r]! * o[0] + M[3 * r + 1]! * o[1] + M[3 * r + 2]! * o[2]);
  }
  return { M, u0 };
}

/** Everything the sampler needs about the stacks, flattened over slices (global slice index s). */
export interface StackGeometry {
  readonly nStacks: number;
  readonly nSlices: number;
  /** Per stack: first global slice, first global pixel, [nx, ny, nz]. */
  readonly sliceOffset: Int32Array;
  readonly pixelOffset: Float64Array;
  readonly dims: Int32Array;
  /** Per stack: in-plane axis columns i, j and the slice-axis column (mm per voxel), 9 numbers [ci, cj, ck]. */
  readonly columns: Float64Array;
  /** Per stack: PSF sigma in voxel units along i, j, k. */
  readonly psfScale: Float64Array;
  /** Per stack: nominal world centre of the whole stack (mm). */
  readonly stackCentre: Float64Array;
  /** Per slice: world position of pixel (0,0) (mm), its nominal centre (mm), and its stack. */
  readonly sliceOrigin: Float64Array;
  readonly sliceCentre: Float64Array;
  readonly sliceStack: Int32Array;
  readonly totalPixels: number;
}

export function stackGeometry(stacks: readonly SliceStack[]): StackGeometry {
  if (stacks.length === 0) throw new MedfieldError('bad-data', 'svr stacks', 'expected at least one slice stack');
  const nStacks = stacks.length;
  const sliceOffset = new Int32Array(nStacks + 1), pixelOffset = new Float64Array(nStacks + 1), dims = new Int32Array(3 * nStacks);
  const columns = new Float64Array(9 * nStacks), psfScale = new Float64Array(3 * nStacks), stackCentre = new Float64Array(3 * nStacks);
  stacks.forEach((st, i) => {
    const v = st.volume;
    const [nx, ny, nz] = v.dims;
    if (!(v.data instanceof Float32Array) || v.data.length !== nx * ny * nz) throw new MedfieldError('bad-data', `svr stack ${st.name}`, `expected Float32 data of ${nx * ny * nz} voxels (${nx}x${ny}x${nz})`);
    if (!(st.sliceThicknessMm > 0)) throw new MedfieldError('bad-data', `svr stack ${st.name} sliceThicknessMm`, `expected > 0, got ${st.sliceThicknessMm}`);
    dims[3 * i] = nx; dims[3 * i + 1] = ny; dims[3 * i + 2] = nz;
    sliceOffset[i + 1] = sliceOffset[i]! + nz;
    pixelOffset[i + 1] = pixelOffset[i]! + nx * ny * nz;
    const A = sliceAffine(v, 0);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) columns[9 * i + 3 * c + r] = A[4 * r + c]!;
    const ps = psfVoxelScales(psfSigmasMm(st), v.spacingMm);
    psfScale.set(ps, 3 * i);
    for (let r = 0; r < 3; r++) stackCentre[3 * i + r] = A[4 * r]! * (nx - 1) / 2 + A[4 * r + 1]! * (ny - 1) / 2 + A[4 * r + 2]! * (nz - 1) / 2 + A[4 * r + 3]!;
  });
  const nSlices = sliceOffset[nStacks]!;
  const sliceOrigin = new Float64Array(3 * nSlices), sliceCentre = new Float64Array(3 * nSlices), sliceStack = new Int32Array(nSlices);
  stacks.forEach((st, i) => {
    const A = new Float64Array(12);
    for (let k = 0; k < st.volume.dims[2]; k++) {
      const s = sliceOffset[i]! + k;
      sliceAffine(st.volume, k, A);
      sliceOrigin[3 * s] = A[3]!; sliceOrigin[3 * s + 1] = A[7]!; sliceOrigin[3 * s + 2] = A[11]!;
      sliceCentre.set(sliceCentreMm(st.volume, k), 3 * s);
      sliceStack[s] = i;
    }
  });
  return { nStacks, nSlices, sliceOffset, pixelOffset, dims, columns, psfScale, stackCentre, sliceOrigin, sliceCentre, sliceStack, totalPixels: pixelOffset[nStacks]! };
}
