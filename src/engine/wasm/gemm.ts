/**
 * WebAssembly SIMD (f32x4) kernels for the MLP, generated at load time with ./emitter.ts.
 * All addresses, strides and column bounds are in BYTES of the one linear memory that holds every
 * engine buffer (so no copies in or out). Activations are SoA [rows, pitch]; column ranges are
 * multiples of 8 floats (callers pad the batch).
 *
 * fwd{RB}: Y[r, p] = max(lo, b[r] + sum_k A[r*aRow + k*aK] * X[k*pitch + p]) for rows [r0, r1) in
 *   blocks of RB, columns in blocks of 8 (two f32x4): a register-blocked RB x 8 micro-kernel with
 *   RB*2 accumulators; bias and ReLU fused (lo = 0 for ReLU, -inf for none). b = 0: no bias.
 *   With aRow = 4, aK = 4*in the same kernel computes W^T dZ (backward to the layer input).
 * dw{RB}x{CB}: C[r*ldc + 4c] += sum_p A[r*pitch + p] * B[c*pitch + p]: weight gradients
 *   dZ X^T, RB x CB dot products of f32x4 lanes, reduced horizontally once per block.
 */
import { assembleModule, F32, FnBuilder, I32, V128 } from './emitter.js';
import { adamKernel } from './adam.js';
import { gridBackwardKernel, gridForwardKernel } from './grid.js';


/** Row-block forward kernel (see file comment): RB rows x CV f32x4 column vectors per block. */
export function fwdKernel(RB: number, CV = 2): FnBuilder {
  const f = new FnBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const A = 0, aRow = 1, aK = 2, b = 3, X = 4, Y = 5, r0 = 6, r1 = 7, K = 8, pitch = 9, yPitch = 10, p0 = 11, p1 = 12, act = 13;
  const r = f.local(I32), pb = f.local(I32), k = f.local(I32), xp = f.local(I32), yp = f.local(I32);
  const a: number[] = []; for (let j = 0; j < RB; j++) a.push(f.local(I32));
  const acc: number[] = []; for (let j = 0; j < CV * RB; j++) acc.push(f.local(V128));
  const bv: number[] = []; for (let j = 0; j < RB; j++) bv.push(f.local(V128));
  const xv: number[] = []; for (let j = 0; j < CV; j++) xv.push(f.local(V128));
  const w = f.local(V128), lo = f.local(V128);
  f.f32(0).f32(-Infinity).get(act).i32(1).eq().select().f32x4Splat().set(lo);
  f.get(r0).set(r);
  f.block().loop(); // rows
  f.get(r).i32(RB).add().get(r1).gtS().brIf(1);
  for (let j = 0; j < RB; j++) {
    // bias: b == 0 -> 0 (address 0 is never a buffer; the load of b[...] is only done when b != 0)
    f.get(b).i32(0).ne();
    f.op(0x04, F32); // if (result f32)
    f.get(b).get(r).i32(4).mul().add().f32Load(4 * j);
    f.op(0x05); f.f32(0); f.end();
    f.f32x4Splat().set(bv[j]!);
  }
  f.get(p0).set(pb);
  f.block().loop(); // columns
  f.get(pb).get(p1).geS().brIf(1);
  for (let j = 0; j < RB; j++) for (let c = 0; c < CV; c++) f.get(bv[j]!).set(acc[CV * j + c]!);
  for (let j = 0; j < RB; j++) { f.get(A).get(r).i32(j).add().get(aRow).mul().add().set(a[j]!); }
  f.get(X).get(pb).add().set(xp);
  f.get(K).set(k);
  f.loop(); // k
  for (let c = 0; c < CV; c++) f.get(xp).v128Load(16 * c).set(xv[c]!);
  for (let j = 0; j < RB; j++) {
    f.get(a[j]!).v128Load32Splat(0).set(w);
    for (let c = 0; c < CV; c++) f.get(acc[CV * j + c]!).get(w).get(xv[c]!).f32x4Mul().f32x4Add().set(acc[CV * j + c]!);
    f.inc(a[j]!, { local: aK });
  }
  f.inc(xp, { local: pitch });
  f.get(k).i32(1).sub().tee(k).brIf(0);
  f.end(); // k loop
  for (let j = 0; j < RB; j++) {
    f.get(Y).get(r).i32(j).add().get(yPitch).mul().add().get(pb).add().set(yp);
    for (let c = 0; c < CV; c++) f.get(yp).get(acc[CV * j + c]!).get(lo).f32x4Max().v128Store(16 * c);
  }
  f.inc(pb, 16 * CV);
  f.br(0);
  f.end().end(); // columns
  f.inc(r, RB);
  f.br(0);
  f.end().end(); // rows
  return f;
}

/** Weight-gradient kernel with RB x CB register blocking (see file comment). */
export function dwKernel(RB: number, CB: number): FnBuilder {
  // params: 0 A, 1 B, 2 C, 3 r0, 4 r1, 5 c0, 6 c1, 7 ldc, 8 pitch, 9 p0, 10 p1
  const f = new FnBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const A = 0, B = 1, C = 2, r0 = 3, r1 = 4, c0 = 5, c1 = 6, ldc = 7, pitch = 8, p0 = 9, p1 = 10;
  const r = f.local(I32), c = f.local(I32), q = f.local(I32), cp = f.local(I32);
  const pa: number[] = []; for (let j = 0; j < RB; j++) pa.push(f.local(I32));
  const pbs: number[] = []; for (let j = 0; j < CB; j++) pbs.push(f.local(I32));
  const acc: number[] = []; for (let j = 0; j < RB * CB; j++) acc.push(f.local(V128));
  const va: number[] = []; for (let j = 0; j < RB; j++) va.push(f.local(V128));
  const vb = f.local(V128);
  f.get(r0).set(r);
  f.block().loop(); // rows
  f.get(r).i32(RB).add().get(r1).gtS().brIf(1);
  f.get(c0).set(c);
  f.block().loop(); // cols
  f.get(c).i32(CB).add().get(c1).gtS().brIf(1);
  for (let j = 0; j < RB * CB; j++) f.f32(0).f32x4Splat().set(acc[j]!);
  for (let j = 0; j < RB; j++) f.get(A).get(r).i32(j).add().get(pitch).mul().add().get(p0).add().set(pa[j]!);
  for (let j = 0; j < CB; j++) f.get(B).get(c).i32(j).add().get(pitch).mul().add().get(p0).add().set(pbs[j]!);
  f.get(p0).set(q);
  f.block().loop(); // p
  f.get(q).get(p1).geS().brIf(1);
  for (let j = 0; j < RB; j++) { f.get(pa[j]!).v128Load(0).set(va[j]!); f.inc(pa[j]!, 16); }
  for (let cc = 0; cc < CB; cc++) {
    f.get(pbs[cc]!).v128Load(0).set(vb); f.inc(pbs[cc]!, 16);
    for (let j = 0; j < RB; j++) f.get(acc[j * CB + cc]!).get(va[j]!).get(vb).f32x4Mul().f32x4Add().set(acc[j * CB + cc]!);
  }
  f.inc(q, 16);
  f.br(0);
  f.end().end(); // p
  for (let j = 0; j < RB; j++) {
    for (let cc = 0; cc < CB; cc++) {
      f.get(C).get(r).i32(j).add().get(ldc).mul().add().get(c).i32(cc).add().i32(4).mul().add().set(cp);
      const v = acc[j * CB + cc]!;
      f.get(cp);
      f.get(cp).f32Load(0);
      f.get(v).f32x4ExtractLane(0).get(v).f32x4ExtractLane(1).f32Add().get(v).f32x4ExtractLane(2).f32Add().get(v).f32x4ExtractLane(3).f32Add();
      f.f32Add().f32Store(0);
    }
  }
  f.inc(c, CB);
  f.br(0);
  f.end().end(); // cols
  f.inc(r, RB);
  f.br(0);
  f.end().end(); // rows
  return f;
}

/**
 * pack(src, pitch, rows, colsBytes, dst): copies a [rows, cols] column chunk of a SoA matrix into
 * contiguous rows (row stride colsBytes), so the micro-kernels stream it from L1 instead of
 * touching one page per row (rows are pitch bytes apart).
 * packGrad(dY, Y, pitch, rows, colsBytes, dst, db, relu): the same for an output gradient, applying
 * the ReLU mask (dY where Y > 0) when relu != 0 and adding each row's sum into db[r] when db != 0.
 */
function packKernel(withGrad: boolean): FnBuilder {
  const f = withGrad ? new FnBuilder([I32, I32, I32, I32, I32, I32, I32, I32]) : new FnBuilder([I32, I32, I32, I32, I32]);
  const src = 0, Yb = withGrad ? 1 : -1, pitch = withGrad ? 2 : 1, rows = withGrad ? 3 : 2, cols = withGrad ? 4 : 3, dst = withGrad ? 5 : 4, db = 6, relu = 7;
  const r = f.local(I32), o = f.local(I32), sp = f.local(I32), yp = f.local(I32), dp = f.local(I32);
  const v = f.local(V128), sum = f.local(V128), zero = f.local(V128);
  f.f32(0).f32x4Splat().set(zero);
  f.i32(0).set(r);
  f.get(src).set(sp);
  if (withGrad) f.get(Yb).set(yp);
  f.get(dst).set(dp);
  f.block().loop();
  f.get(r).get(rows).geS().brIf(1);
  f.get(zero).set(sum);
  f.i32(0).set(o);
  f.block().loop();
  f.get(o).get(cols).geS().brIf(1);
  f.get(sp).get(o).add().v128Load(0).set(v);
  if (withGrad) {
    f.get(relu).ifThen();
    f.get(v).get(yp).get(o).add().v128Load(0).get(zero).op(0xfd, 0x44).op(0xfd, 0x4e).set(v); // f32x4.gt, v128.and
    f.end();
    f.get(sum).get(v).f32x4Add().set(sum);
  }
  f.get(dp).get(o).add().get(v).v128Store(0);
  f.inc(o, 16);
  f.br(0);
  f.end().end();
  if (withGrad) {
    f.get(db).ifThen();
    f.get(db).get(r).i32(4).mul().add();
    f.get(db).get(r).i32(4).mul().add().f32Load(0);
    f.get(sum).f32x4ExtractLane(0).get(sum).f32x4ExtractLane(1).f32Add().get(sum).f32x4ExtractLane(2).f32Add().get(sum).f32x4ExtractLane(3).f32Add();
    f.f32Add().f32Store(0);
    f.end();
  }
  f.inc(r, 1);
  f.inc(sp, { local: pitch });
  if (withGrad) f.inc(yp, { local: pitch });
  f.inc(dp, { local: cols });
  f.br(0);
  f.end().end();
  return f;
}

/** Exports of the gemm module (all arguments i32; see the file comment). */
export interface GemmExports {
  fwd4(A: number, aRow: number, aK: number, b: number, X: number, Y: number, r0: number, r1: number, K: number, xPitch: number, yPitch: number, p0: number, p1: number, act: number): void;
  fwd1(A: number, aRow: number, aK: number, b: number, X: number, Y: number, r0: number, r1: number, K: number, xPitch: number, yPitch: number, p0: number, p1: number, act: number): void;
  /** 2 rows x 16 columns blocks (faster on packed chunks whose width is a multiple of 16). */
  fwd2x4(A: number, aRow: number, aK: number, b: number, X: number, Y: number, r0: number, r1: number, K: number, xPitch: number, yPitch: number, p0: number, p1: number, act: number): void;
  pack(src: number, pitch: number, rows: number, colsBytes: number, dst: number): void;
  packGrad(dY: number, Y: number, pitch: number, rows: number, colsBytes: number, dst: number, db: number, relu: number): void;
  dw4x2(A: number, B: number, C: number, r0: number, r1: number, c0: number, c1: number, ldc: number, pitch: number, p0: number, p1: number): void;
  dw1x1(A: number, B: number, C: number, r0: number, r1: number, c0: number, c1: number, ldc: number, pitch: number, p0: number, p1: number): void;
  /** Grid kernels for 3D inputs by features per level (1, 2, 4, 8); see wasm/grid.ts. */
  gridf3: Record<number, (table: number, res: number, size: number, dense: number, x: number, p0: number, p1: number, out: number, pitchBytes: number) => void>;
  gridb3: Record<number, (grad: number, flags: number, res: number, size: number, dense: number, x: number, n: number, dOut: number, pitchBytes: number, zlo: number, zhi: number) => void>;
  /** Lazy Adam by row size (1, 2, 4); see wasm/adam.ts. */
  adam: Record<number, (data: number, grad: number, m: number, v: number, flags: number, r0: number, r1: number,
    b1: number, b2: number, c1: number, c2: number, step: number, ib2: number, eps: number, wd: number) => void>;
}

/** Rows per block of the forward micro-kernel (fwd{FWD_RB}). */
export const FWD_RB = 4;

/** Module bytes for a memory of the given limits (the import's limits must match the memory). */
export function gemmModuleBytes(memory: { minPages: number; maxPages: number; shared: boolean }): Uint8Array<ArrayBuffer> {
  return assembleModule([
    { name: 'fwd4', fn: fwdKernel(4) },
    { name: 'fwd2x4', fn: fwdKernel(2, 4) },
    { name: 'fwd1', fn: fwdKernel(1) },
    { name: 'dw4x2', fn: dwKernel(4, 2) },
    { name: 'dw1x1', fn: dwKernel(1, 1) },
    { name: 'pack', fn: packKernel(false) },
    { name: 'packGrad', fn: packKernel(true) },
    ...([1, 2, 4, 8] as const).flatMap((F) => [
      { name: `gridf3_${F}`, fn: gridForwardKernel(F) },
      { name: `gridb3_${F}`, fn: gridBackwardKernel(F) },
    ]),
    { name: 'adam1', fn: adamKernel(1) },
    { name: 'adam2', fn: adamKernel(2) },
    { name: 'adam4', fn: adamKernel(4) },
  ], memory);
}

/** True when this runtime validates WebAssembly SIMD. */
export function wasmSimdSupported(): boolean {
  try {
    const bytes = gemmModuleBytes({ minPages: 1, maxPages: 1, shared: false });
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}
