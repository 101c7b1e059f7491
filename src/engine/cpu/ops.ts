/**
 * The CPU backend's kernel dispatcher. A kernel call is encoded as numbers in a Float64Array
 * (opcode, buffer offsets into the shared memory, sizes, scalars) so the same call can run
 * inline or on N worker threads: thread t of T runs its share (points, columns, levels or rows)
 * of the op. Offsets of Float32 buffers are float indices; of Uint8 buffers, byte offsets; -1
 * means "none".
 */
import type { GemmExports } from '../wasm/gemm.js';
import { gridBackwardInput, gridBackwardParams, gridForward, frequencyBackwardInput, frequencyForward, type GridLevelRef } from './grid-kernels.js';
import { gridBackward3F2, gridForward3F2 } from './grid-fast.js';
import { activationBackward, applyActivation, linearBackwardInput, linearBackwardParams, linearForward } from './linear-kernels.js';

export const OP = {
  gridForward: 1, gridBackward: 2, gridInputGrad: 3, freqForward: 4, freqInputGrad: 5,
  linearForward: 6, linearBackward: 7, reduce: 8, mse: 9, adam: 10, sgd: 11, copyRows: 12,
} as const;

/** Per-thread view of the memory plus the optional SIMD kernels. */
export interface KernelContext {
  readonly memory: WebAssembly.Memory;
  f32: Float32Array;
  u8: Uint8Array;
  readonly gemm: GemmExports | null;
}

export function createKernelContext(memory: WebAssembly.Memory, gemm: GemmExports | null): KernelContext {
  return { memory, f32: new Float32Array(memory.buffer), u8: new Uint8Array(memory.buffer), gemm };
}

/** Columns [c0, c1) of thread t when nPad (a multiple of 8) columns are split into T shares of multiples of 8. */
export function columnShare(nPad: number, t: number, T: number): [number, number] {
  const blocks = nPad >> 3;
  const c0 = Math.floor((blocks * t) / T) * 8, c1 = Math.floor((blocks * (t + 1)) / T) * 8;
  return [c0, c1];
}

function share(n: number, t: number, T: number): [number, number] {
  return [Math.floor((n * t) / T), Math.floor((n * (t + 1)) / T)];
}

function gridLevels(ctx: KernelContext, a: Float64Array, at: number, L: number, stride: number): GridLevelRef[] {
  const levels: GridLevelRef[] = [];
  for (let l = 0; l < L; l++) {
    const b = at + l * stride;
    const res = a[b]!, size = a[b + 1]!, dense = a[b + 2]! !== 0, tOff = a[b + 3]!;
    const F = a[2]!;
    const table = ctx.f32.subarray(tOff, tOff + size * F);
    if (stride > 4) {
      const gOff = a[b + 4]!, tch = a[b + 5]!;
      const grad = ctx.f32.subarray(gOff, gOff + size * F);
      levels.push(tch >= 0 ? { res, size, dense, table, grad, touched: ctx.u8.subarray(tch, tch + size) } : { res, size, dense, table, grad });
    } else levels.push({ res, size, dense, table });
  }
  return levels;
}

/**
 * Levels of thread t for the table backward: hashed levels (big tables, cache misses) are dealt
 * round-robin first, then dense levels continue the deal, so both kinds spread evenly.
 */
function levelShare(a: Float64Array, at: number, stride: number, L: number, t: number, T: number, skip: (l: number) => boolean): number[] {
  const hashed: number[] = [], dense: number[] = [];
  for (let l = 0; l < L; l++) {
    if (skip(l)) continue;
    const b = at + l * stride;
    // Dense levels whose table fits in about 1 MiB of cache cost little; large dense levels count as hashed.
    if (a[b + 2]! !== 0 && a[b + 1]! * a[2]! * 4 <= 1 << 20) dense.push(l); else hashed.push(l);
  }
  const mine: number[] = [];
  [...hashed, ...dense].forEach((l, i) => { if (i % T === t) mine.push(l); });
  return mine;
}

/** Runs thread t's share of the op encoded in `a`. */
export function runOp(ctx: KernelContext, a: Float64Array, t: number, T: number): void {
  if (ctx.f32.buffer.byteLength !== ctx.memory.buffer.byteLength) {
    ctx.f32 = new Float32Array(ctx.memory.buffer);
    ctx.u8 = new Uint8Array(ctx.memory.buffer);
  }
  const H = ctx.f32;
  switch (a[0]) {
    case OP.gridForward: {
      const [dim, F, L, n, pitch, x, out] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!];
      const [p0, p1] = share(n, t, T);
      const wf = dim === 3 ? ctx.gemm?.gridf3[F] : undefined;
      if (wf) {
        for (let l = 0; l < L; l++) {
          const b = 8 + l * 4;
          wf(a[b + 3]! * 4, a[b]!, a[b + 1]!, a[b + 2]!, x * 4, p0, p1, (out + l * F * pitch) * 4, pitch * 4);
        }
        return;
      }
      if (dim === 3 && F === 2) {
        for (let l = 0; l < L; l++) {
          const b = 8 + l * 4;
          gridForward3F2(a[b]!, a[b + 1]!, a[b + 2]! !== 0, H.subarray(a[b + 3]!, a[b + 3]! + a[b + 1]! * 2), H, x, p0, p1, H, out + l * 2 * pitch, pitch);
        }
        return;
      }
      gridForward(dim, F, gridLevels(ctx, a, 8, L, 4), H, x, p0, p1, H, out, pitch);
      return;
    }
    case OP.gridBackward: {
      // a[8] = phase. With the WebAssembly kernels and T > 1, dense 3D levels with res >= 2T are
      // split into 2T z-slabs of cells: phase 0 scatters even slabs (thread t: slab 2t), phase 1
      // odd slabs; slabs processed together are >= 1 cell apart, so their vertex rows never
      // collide. All other levels are dealt to threads whole, in phase 0.
      const [dim, F, L, n, pitch, x, dOut, phase] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!];
      const wb = dim === 3 ? ctx.gemm?.gridb3[F] : undefined;
      const slabbed = (l: number): boolean => wb !== undefined && T > 1 && a[9 + l * 6 + 2]! !== 0 && a[9 + l * 6 + 5]! >= 0 && a[9 + l * 6]! >= 2 * T;
      if (wb) {
        for (let l = 0; l < L; l++) {
          if (!slabbed(l)) continue;
          const b = 9 + l * 6, res = a[b]!, slab = 2 * t + phase;
          const zlo = Math.floor((res * slab) / (2 * T)), zhi = Math.floor((res * (slab + 1)) / (2 * T));
          wb(a[b + 4]! * 4, a[b + 5]!, res, a[b + 1]!, 1, x * 4, n, (dOut + l * F * pitch) * 4, pitch * 4, zlo, zhi);
        }
      }
      if (phase !== 0) return;
      const ids = levelShare(a, 9, 6, L, t, T, slabbed);
      const rest: number[] = [];
      for (const l of ids) {
        const b = 9 + l * 6, size = a[b + 1]!, tch = a[b + 5]!;
        if (wb && tch >= 0) wb(a[b + 4]! * 4, tch, a[b]!, size, a[b + 2]!, x * 4, n, (dOut + l * F * pitch) * 4, pitch * 4, 0, 0x3fffffff);
        else if (dim === 3 && F === 2) {
          gridBackward3F2(a[b]!, size, a[b + 2]! !== 0, H.subarray(a[b + 4]!, a[b + 4]! + size * 2), tch >= 0 ? ctx.u8.subarray(tch, tch + size) : undefined,
            H, x, n, H, dOut + l * 2 * pitch, pitch);
        } else rest.push(l);
      }
      if (rest.length) gridBackwardParams(dim, F, gridLevels(ctx, a, 9, L, 6), rest, H, x, n, H, dOut, pitch);
      return;
    }
    case OP.gridInputGrad: {
      const [dim, F, L, n, pitch, x, dOut, dx] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!];
      const [p0, p1] = share(n, t, T);
      gridBackwardInput(dim, F, gridLevels(ctx, a, 9, L, 4), H, x, p0, p1, H, dOut, pitch, H, dx);
      return;
    }
    case OP.freqForward: {
      const [dim, oct, inc, n, pitch, x, out] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!];
      const [p0, p1] = share(n, t, T);
      frequencyForward(dim, oct, inc !== 0, H, x, p0, p1, H, out, pitch);
      return;
    }
    case OP.freqInputGrad: {
      const [dim, oct, inc, n, pitch, x, dOut, dx] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!];
      const [p0, p1] = share(n, t, T);
      frequencyBackwardInput(dim, oct, inc !== 0, H, x, p0, p1, H, dOut, pitch, H, dx);
      return;
    }
    case OP.linearForward: {
      const [W, b, X, Y, inD, outD, pitch, nPad, act, leak, scratch, sStride] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!];
      const [c0, c1] = columnShare(nPad, t, T);
      if (c1 <= c0) return;
      const g = ctx.gemm;
      if (g) {
        const S = (scratch + t * sStride) * 4, pb = pitch * 4, r4 = outD - (outD % 4), relu = act === 1 ? 1 : 0, bb = b >= 0 ? b * 4 : 0;
        for (let q0 = c0; q0 < c1; q0 += CHUNK) {
          const cb = (Math.min(c1, q0 + CHUNK) - q0) * 4;
          g.pack((X + q0) * 4, pb, inD, cb, S);
          gemmRows(g, W * 4, inD * 4, 4, bb, S, (Y + q0) * 4, outD, inD, cb, pb, relu);
        }
        if (act > 1) for (let o = 0; o < outD; o++) applyActivation(H, Y + o * pitch, c0, c1, act, leak);
      } else {
        linearForward(H, W, H, b, H, X, H, Y, inD, outD, pitch, c0, c1, act, leak);
      }
      return;
    }
    case OP.linearBackward: {
      const [W, X, Y, dY, part, dX, inD, outD, pitch, nPad, act, leak, stride, hasBias, scratch, sStride] =
        [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!, a[16]!];
      const [c0, c1] = columnShare(nPad, t, T);
      if (c1 <= c0) return;
      const dW = part + t * stride, db = hasBias ? dW + outD * inD : -1;
      const g = ctx.gemm;
      if (g) {
        // Per column chunk: pack dZ (ReLU mask and bias sums fused) and X into contiguous scratch,
        // then dW += dZ X^T and dX = W^T dZ from L1-resident operands.
        if (act > 1) activationBackward(H, dY, H, Y, outD, pitch, c0, c1, act, leak);
        const Sz = (scratch + t * sStride) * 4, Sx = Sz + outD * CHUNK * 4, pb = pitch * 4;
        const r4 = outD - (outD % 4), cc2 = inD - (inD % 2);
        for (let q0 = c0; q0 < c1; q0 += CHUNK) {
          const cb = (Math.min(c1, q0 + CHUNK) - q0) * 4;
          g.packGrad((dY + q0) * 4, (Y + q0) * 4, pb, outD, cb, Sz, db >= 0 ? db * 4 : 0, act === 1 ? 1 : 0);
          g.pack((X + q0) * 4, pb, inD, cb, Sx);
          if (r4 > 0 && cc2 > 0) g.dw4x2(Sz, Sx, dW * 4, 0, r4, 0, cc2, inD * 4, cb, 0, cb);
          if (r4 > 0 && cc2 < inD) g.dw1x1(Sz, Sx, dW * 4, 0, r4, cc2, inD, inD * 4, cb, 0, cb);
          if (r4 < outD) g.dw1x1(Sz, Sx, dW * 4, r4, outD, 0, inD, inD * 4, cb, 0, cb);
          if (dX >= 0) gemmRows(g, W * 4, 4, inD * 4, 0, Sz, (dX + q0) * 4, inD, outD, cb, pb, 0);
        }
      } else {
        activationBackward(H, dY, H, Y, outD, pitch, c0, c1, act, leak);
        linearBackwardParams(H, dY, H, X, H, dW, H, db, inD, outD, pitch, c0, c1);
        if (dX >= 0) linearBackwardInput(H, W, H, dY, H, dX, inD, outD, pitch, c0, c1);
      }
      return;
    }
    case OP.reduce: {
      const [parts, count, nParts, stride, dst] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!];
      const [i0, i1] = share(count, t, T);
      for (let q = 0; q < nParts; q++) {
        const base = parts + q * stride;
        for (let i = i0; i < i1; i++) { H[dst + i] += H[base + i]!; H[base + i] = 0; }
      }
      return;
    }
    case OP.mse: {
      const [pred, target, dPred, n, outD, pitch, nPad, lossParts, scale] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!];
      const [c0, c1] = columnShare(nPad, t, T);
      let s = 0;
      for (let o = 0; o < outD; o++) {
        const r0 = pred + o * pitch, d0 = dPred + o * pitch;
        for (let p = c0; p < c1; p++) {
          if (p >= n) { H[d0 + p] = 0; continue; }
          const e = H[r0 + p]! - H[target + p * outD + o]!;
          s += e * e;
          H[d0 + p] = 2 * scale * e;
        }
      }
      H[lossParts + t] = s;
      return;
    }
    case OP.adam: {
      const [data, grad, m, v, touched, rows, rowSize, lr, b1, b2, eps, wd, bc1, bc2, clear] =
        [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!];
      const [r0, r1] = share(rows, t, T);
      const wa = touched >= 0 && clear ? ctx.gemm?.adam[rowSize] : undefined;
      if (wa) {
        wa(data * 4, grad * 4, m * 4, v * 4, touched, r0, r1, b1, b2, 1 - b1, 1 - b2, lr / bc1, 1 / Math.sqrt(bc2), eps, wd);
        return;
      }
      adamRows(H, ctx.u8, data, grad, m, v, touched, r0, r1, rowSize, lr, b1, b2, eps, wd, bc1, bc2, clear !== 0);
      return;
    }
    case OP.sgd: {
      const [data, grad, mom, touched, rows, rowSize, lr, mu, wd, clear] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!];
      const [r0, r1] = share(rows, t, T);
      const U = ctx.u8;
      for (let r = r0; r < r1; r++) {
        if (touched >= 0) { if (U[touched + r] === 0) continue; if (clear) U[touched + r] = 0; }
        for (let k = r * rowSize; k < (r + 1) * rowSize; k++) {
          let g = H[grad + k]! + wd * H[data + k]!;
          if (mom >= 0) { g = mu * H[mom + k]! + g; H[mom + k] = g; }
          H[data + k] -= lr * g;
          if (clear) H[grad + k] = 0;
        }
      }
      return;
    }
    case OP.copyRows: {
      const [src, srcPitch, dst, dstPitch, rows, nPad] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!];
      const [c0, c1] = columnShare(nPad, t, T);
      for (let r = 0; r < rows; r++) H.copyWithin(dst + r * dstPitch + c0, src + r * srcPitch + c0, src + r * srcPitch + c1);
      return;
    }
    default:
      throw new Error(`engine: unknown op ${a[0]}`);
  }
}

/** Columns per packed chunk: (out + in) rows x 64 columns (32 KiB at 64 + 64 rows) stay in L1/L2. */
export const CHUNK = 64;
/** Floats of packing scratch per thread: up to 1024 rows (out + in) of one chunk. */
export const SCRATCH_FLOATS = 1024 * CHUNK;

/**
 * Y[r, 0..cb) = act(b + A X) for all R rows of one packed chunk (X rows cb bytes apart, Y rows
 * yPitch apart): 2 x 16 blocks when the chunk width allows (measured 20 vs 18 GMAC/s for 4 x 8),
 * else 4 x 8, then single rows.
 */
function gemmRows(g: GemmExports, A: number, aRow: number, aK: number, b: number, X: number, Y: number, R: number, K: number, cb: number, yPitch: number, relu: number): void {
  let r = 0;
  if (cb % 64 === 0) { r = R - (R % 2); if (r > 0) g.fwd2x4(A, aRow, aK, b, X, Y, 0, r, K, cb, yPitch, 0, cb, relu); }
  else { r = R - (R % 4); if (r > 0) g.fwd4(A, aRow, aK, b, X, Y, 0, r, K, cb, yPitch, 0, cb, relu); }
  if (r < R) g.fwd1(A, aRow, aK, b, X, Y, r, R, K, cb, yPitch, 0, cb, relu);
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1) over rows [r0, r1); bc1 = 1 - beta1^t, bc2 = 1 - beta2^t.
 * Weight decay is L2 added to the gradient (PyTorch Adam's weight_decay). With `touched` (byte
 * offset >= 0) only flagged rows are updated (lazy/sparse Adam: their moments decay only when
 * they are seen), scanning four flags at a time; `clear` zeroes the gradient and flags it used.
 */
function adamRows(
  H: Float32Array, U: Uint8Array, data: number, grad: number, m: number, v: number, touched: number, r0: number, r1: number,
  rowSize: number, lr: number, b1: number, b2: number, eps: number, wd: number, bc1: number, bc2: number, clear: boolean,
): void {
  const step = lr / bc1, ib2 = 1 / Math.sqrt(bc2), c1 = 1 - b1, c2 = 1 - b2;
  for (let r = r0; r < r1; r++) {
    if (touched >= 0) {
      if (U[touched + r] === 0) continue;
      if (clear) U[touched + r] = 0;
    }
    const k1 = (r + 1) * rowSize;
    for (let k = r * rowSize; k < k1; k++) {
      const g = H[grad + k]! + wd * H[data + k]!;
      const mk = b1 * H[m + k]! + c1 * g;
      const vk = b2 * H[v + k]! + c2 * g * g;
      H[m + k] = mk; H[v + k] = vk;
      H[data + k] -= (step * mk) / (Math.sqrt(vk) * ib2 + eps);
      if (clear) H[grad + k] = 0;
    }
  }
}
