/**
 * The CPU backend's kernel dispatcher. A kernel call is encoded as numbers in a Float64Array
 * (opcode, buffer offsets into the shared memory, sizes, scalars) so the same call can run
 * inline or on N worker threads. Work is cut into fixed chunks (points, columns, rows, levels or
 * slabs) that threads claim from a shared atomic counter, so a thread that the OS deschedules
 * (other processes on the cores) does not stall the others at the barrier. Chunking does not
 * depend on the thread count and per-chunk partial sums are reduced in chunk order, so MLP
 * gradients and losses are bit-identical for any number of threads. Offsets of Float32 buffers
 * are float indices; of Uint8 buffers, byte offsets; -1 means "none".
 */
import type { GemmExports } from '../wasm/gemm.js';
import { gridBackwardInput, gridBackwardParams, gridForward, frequencyBackwardInput, frequencyForward, type GridLevelRef } from './grid-kernels.js';
import { gridBackward3F2, gridForward3F2 } from './grid-fast.js';
import { activationBackward, applyActivation, linearBackwardInput, linearBackwardParams, linearForward } from './linear-kernels.js';

export const OP = {
  gridForward: 1, gridBackward: 2, gridInputGrad: 3, freqForward: 4, freqInputGrad: 5,
  linearForward: 6, linearBackward: 7, reduce: 8, mse: 9, adam: 10, sgd: 11, copyRows: 12, mlpPass: 13,
} as const;

/** Slots per record of an mlpPass op: [op, nRecords, nPad, record 0 (MLP_RECORD numbers), record 1, ...]. */
export const MLP_RECORD = 20;

/** Per-thread view of the memory plus the optional SIMD kernels. */
export interface KernelContext {
  readonly memory: WebAssembly.Memory;
  f32: Float32Array;
  u8: Uint8Array;
  readonly gemm: GemmExports | null;
  /** Shared control words (threaded only): chunk counter at CHUNK_COUNTER. */
  control: Int32Array | null;
}

/** Index of the chunk counter in the control words. */
export const CHUNK_COUNTER = 4;

export function createKernelContext(memory: WebAssembly.Memory, gemm: GemmExports | null): KernelContext {
  return { memory, f32: new Float32Array(memory.buffer), u8: new Uint8Array(memory.buffer), gemm, control: null };
}

/** Columns per chunk of the MLP ops (multiple of 8); also the granularity of weight-gradient partials. */
export const LIN_GRAIN = 1024;

/** Total work units and chunk size of an op (see runOp). */
function opWork(a: Float64Array): [number, number] {
  switch (a[0]) {
    case OP.gridInputGrad: case OP.freqForward: case OP.freqInputGrad: return [a[4]!, 2048];
    case OP.linearForward: return [a[8]!, LIN_GRAIN];
    case OP.linearBackward: return [a[10]!, LIN_GRAIN];
    case OP.mse: return [a[7]!, LIN_GRAIN];
    case OP.copyRows: return [a[6]!, 4096];
    case OP.mlpPass: return [a[2]!, LIN_GRAIN];
    case OP.adam: return [a[6]!, 8192];
    case OP.sgd: return [a[5]!, 8192];
    default: return [0, 1];
  }
}

/** Claims chunk indices until `count` are handed out (all of them when single-threaded). */
function forEachChunk(ctx: KernelContext, T: number, count: number, fn: (c: number) => void): void {
  if (T === 1 || !ctx.control) { for (let c = 0; c < count; c++) fn(c); return; }
  for (;;) {
    const c = Atomics.add(ctx.control, CHUNK_COUNTER, 1);
    if (c >= count) return;
    fn(c);
  }
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
 * Work items of the table backward, in claim order: whole levels (large or hashed tables first,
 * then small dense ones) and, for slabbed dense levels, z-slabs: phase 0 holds the even slabs,
 * phase 1 the odd ones. Encoded as level + 1024 * (slab + 1) (slab -1 = whole level).
 */
function gridBackwardItems(a: Float64Array, L: number, phase: number, slabs: (l: number) => number): number[] {
  const big: number[] = [], small: number[] = [], slabItems: number[] = [];
  for (let l = 0; l < L; l++) {
    const S = slabs(l);
    if (S > 0) { for (let k = phase; k < S; k += 2) slabItems.push(l + 1024 * (k + 1)); continue; }
    if (phase !== 0) continue;
    const b = 9 + l * 6;
    if (a[b + 2]! !== 0 && a[b + 1]! * a[2]! * 4 <= 1 << 20) small.push(l); else big.push(l);
  }
  return [...big, ...small, ...slabItems];
}

/** Runs thread t's part of the op encoded in `a` (claiming chunks until none are left). */
export function runOp(ctx: KernelContext, a: Float64Array, t: number, T: number): void {
  if (ctx.f32.buffer.byteLength !== ctx.memory.buffer.byteLength) {
    ctx.f32 = new Float32Array(ctx.memory.buffer);
    ctx.u8 = new Uint8Array(ctx.memory.buffer);
  }
  const op = a[0]!;
  if (op === OP.gridBackward) { gridBackwardOp(ctx, a, T); return; }
  if (op === OP.gridForward) { gridForwardOp(ctx, a, T); return; }
  if (op === OP.reduce) { runPart(ctx, a, t, T, 0, 0, 0); return; }
  const [total, grain] = opWork(a);
  forEachChunk(ctx, T, Math.ceil(total / grain), (c) => runPart(ctx, a, t, T, c, c * grain, Math.min(total, (c + 1) * grain)));
}

/** Points per item of the grid forward. */
const GRID_GRAIN = 8192;

/**
 * Grid forward, level-major: items (level, point range) are claimed in level order, so threads
 * work on the same table at the same time and each table is streamed through the cache once per
 * step rather than once per point chunk (measured: 50 ms vs 128 ms CPU for the NAF step).
 */
function gridForwardOp(ctx: KernelContext, a: Float64Array, T: number): void {
  const [dim, F, L, n, pitch, x, out] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!];
  const wf = dim === 3 ? ctx.gemm?.gridf3[F] : undefined;
  const H = ctx.f32;
  const nc = Math.ceil(n / GRID_GRAIN);
  let levels: GridLevelRef[] | null = null;
  forEachChunk(ctx, T, L * nc, (i) => {
    const l = Math.floor(i / nc), p0 = (i % nc) * GRID_GRAIN, p1 = Math.min(n, p0 + GRID_GRAIN);
    const b = 8 + l * 4;
    if (wf) wf(a[b + 3]! * 4, a[b]!, a[b + 1]!, a[b + 2]!, x * 4, p0, p1, (out + l * F * pitch) * 4, pitch * 4);
    else if (dim === 3 && F === 2) gridForward3F2(a[b]!, a[b + 1]!, a[b + 2]! !== 0, H.subarray(a[b + 3]!, a[b + 3]! + a[b + 1]! * 2), H, x, p0, p1, H, out + l * 2 * pitch, pitch);
    else {
      levels ??= gridLevels(ctx, a, 8, L, 4);
      gridForward(dim, F, [levels[l]!], H, x, p0, p1, H, out + l * F * pitch, pitch);
    }
  });
}

/** Slabs per dense level for the slab-parallel backward (0: process the level whole). */
function slabCount(wasm: boolean, T: number, dense: boolean, touched: boolean, res: number): number {
  if (!wasm || T === 1 || !dense || !touched) return 0;
  // Every slab item scans all points (and scatters only its own), so use as few as balance allows.
  return res >= 2 * T ? 2 * T : 0;
}

/**
 * Table backward. Levels are independent, so whole levels are claimed by one thread each. Dense
 * 3D levels (with the WebAssembly kernels, T > 1) are also cut into S z-slabs of cells: phase 0
 * scatters the even slabs, phase 1 (a second op) the odd ones; slabs of one phase are >= 1 cell
 * apart, so their vertex rows never collide. Each item runs its points in order: deterministic.
 */
function gridBackwardOp(ctx: KernelContext, a: Float64Array, T: number): void {
  const H = ctx.f32;
  const [dim, F, L, n, pitch, x, dOut, phase] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!];
  const wb = dim === 3 ? ctx.gemm?.gridb3[F] : undefined;
  const slabs = (l: number): number => slabCount(wb !== undefined, T, a[9 + l * 6 + 2]! !== 0, a[9 + l * 6 + 5]! >= 0, a[9 + l * 6]!);
  const items = gridBackwardItems(a, L, phase, slabs);
  let levels: GridLevelRef[] | null = null;
  forEachChunk(ctx, T, items.length, (i) => {
    const item = items[i]!, l = item % 1024, slab = Math.floor(item / 1024) - 1;
    const b = 9 + l * 6, res = a[b]!, size = a[b + 1]!, tch = a[b + 5]!;
    if (slab >= 0) {
      const S = slabs(l), zlo = Math.floor((res * slab) / S), zhi = Math.floor((res * (slab + 1)) / S);
      wb!(a[b + 4]! * 4, tch, res, size, 1, x * 4, n, (dOut + l * F * pitch) * 4, pitch * 4, zlo, zhi);
    } else if (wb && tch >= 0) wb(a[b + 4]! * 4, tch, res, size, a[b + 2]!, x * 4, n, (dOut + l * F * pitch) * 4, pitch * 4, 0, 0x3fffffff);
    else if (dim === 3 && F === 2) {
      gridBackward3F2(res, size, a[b + 2]! !== 0, H.subarray(a[b + 4]!, a[b + 4]! + size * 2), tch >= 0 ? ctx.u8.subarray(tch, tch + size) : undefined,
        H, x, n, H, dOut + l * 2 * pitch, pitch);
    } else {
      levels ??= gridLevels(ctx, a, 9, L, 6);
      gridBackwardParams(dim, F, levels, [l], H, x, n, H, dOut, pitch);
    }
  });
}

/** Runs one chunk [lo, hi) (index c) of an op; `reduce` splits statically by t of T. */
function runPart(ctx: KernelContext, a: Float64Array, t: number, T: number, c: number, lo: number, hi: number): void {
  const H = ctx.f32;
  switch (a[0]) {
    case OP.gridInputGrad: {
      const [dim, F, L, n, pitch, x, dOut, dx] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!];
      const p0 = lo, p1 = hi;
      gridBackwardInput(dim, F, gridLevels(ctx, a, 9, L, 4), H, x, p0, p1, H, dOut, pitch, H, dx);
      return;
    }
    case OP.freqForward: {
      const [dim, oct, inc, n, pitch, x, out] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!];
      const p0 = lo, p1 = hi;
      frequencyForward(dim, oct, inc !== 0, H, x, p0, p1, H, out, pitch);
      return;
    }
    case OP.freqInputGrad: {
      const [dim, oct, inc, n, pitch, x, dOut, dx] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!];
      const p0 = lo, p1 = hi;
      frequencyBackwardInput(dim, oct, inc !== 0, H, x, p0, p1, H, dOut, pitch, H, dx);
      return;
    }
    case OP.linearForward: {
      const [W, b, X, Y, inD, outD, pitch, nPad, act, leak, scratch, sStride] = [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!];
      const c0 = lo, c1 = hi;
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
      const c0 = lo, c1 = hi;
      if (c1 <= c0) return;
      const dW = part + c * stride, db = hasBias ? dW + outD * inD : -1;
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
    case OP.mlpPass: {
      // A fused sequence of copyRows / linearForward / linearBackward records, run on this chunk
      // one after the other so each layer reads the previous one's output from cache.
      for (let r = 0; r < a[1]!; r++) runPart(ctx, a.subarray(3 + r * MLP_RECORD, 3 + (r + 1) * MLP_RECORD), t, T, c, lo, hi);
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
      const c0 = lo, c1 = hi;
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
      H[lossParts + c] = s;
      return;
    }
    case OP.adam: {
      const [data, grad, m, v, touched, rows, rowSize, lr, b1, b2, eps, wd, bc1, bc2, clear] =
        [a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, a[10]!, a[11]!, a[12]!, a[13]!, a[14]!, a[15]!];
      const r0 = lo, r1 = hi;
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
      const r0 = lo, r1 = hi;
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
      const c0 = lo, c1 = hi;
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
