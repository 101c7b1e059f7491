/**
 * WebAssembly versions of the hot grid kernels (3D input): the same
 * interpolation as src/engine/cpu/grid-fast.ts, without typed-array bounds checks: positions and
 * cell fractions in float64, weights and sums in float32 (as instant-NGP; no float conversions
 * per table access). Addresses in bytes; `p0`, `p1`, `n` are point counts.
 *
 * gridf3_F(table, res, size, dense, x, p0, p1, out, pitchBytes): out rows 0..F-1 (+k*pitch) at point p.
 * gridb3_F(grad, flags, res, size, dense, x, n, dOut, pitchBytes, zlo, zhi): grad[row] += w * dOut;
 *   flags[row] = 1, for points whose cell z index is in [zlo, zhi).
 * Emitted for F = 1, 2, 4, 8 features per level.
 */
import { F32, F64, FnBuilder, I32 } from './emitter.js';

const P1 = 2654435761 | 0;
const P2 = 805459861 | 0;

/** Emits the shared per-point prologue: clamped position, cell, fractions, 8 corner row indices (a[]) and 8 weights (w[]). */
function cellCorners(
  f: FnBuilder, xp: number, res: number, resF: number, r1: number, mask: number, dense: number,
  v: { ix: number; iy: number; iz: number; fx: number; fy: number; fz: number; gx: number; gy: number; gz: number; t: number; q: number[]; a: number[]; w: number[]; y0: number; y1: number; z0: number; z1: number },
): void {
  const axes: [number, number, number, number][] = [[v.ix, v.fx, v.gx, 0], [v.iy, v.fy, v.gy, 4], [v.iz, v.fz, v.gz, 8]];
  for (const [i, fr, g, off] of axes) {
    // t = clamp(x, 0, 1) * res (NaN stays NaN and truncates to 0, as in the JS kernels)
    f.f64(1).get(xp).f32Load(off).f64FromF32().f64Min().set(v.t);
    f.f64(0).get(v.t).f64Max().get(resF).f64Mul().set(v.t);
    f.get(v.t).i32TruncSatF64().set(i);
    f.get(res).i32(1).sub().get(i).get(i).get(res).geS().select().set(i);
    f.get(v.t).get(i).f64FromI32().f64Sub().f32FromF64().set(fr);
    f.f32(1).get(fr).f32Sub().set(g);
  }
  // corner indices
  f.get(dense).ifThen();
  f.get(v.ix).get(r1).get(v.iy).get(r1).get(v.iz).mul().add().mul().add().set(v.a[0]!);
  f.get(v.a[0]!).i32(1).add().set(v.a[1]!);
  f.get(v.a[0]!).get(r1).add().set(v.a[2]!);
  f.get(v.a[2]!).i32(1).add().set(v.a[3]!);
  f.get(v.a[0]!).get(r1).get(r1).mul().add().set(v.a[4]!);
  f.get(v.a[4]!).i32(1).add().set(v.a[5]!);
  f.get(v.a[4]!).get(r1).add().set(v.a[6]!);
  f.get(v.a[6]!).i32(1).add().set(v.a[7]!);
  f.else();
  f.get(v.iy).i32(P1).mul().set(v.y0);
  f.get(v.iy).i32(1).add().i32(P1).mul().set(v.y1);
  f.get(v.iz).i32(P2).mul().set(v.z0);
  f.get(v.iz).i32(1).add().i32(P2).mul().set(v.z1);
  const qs: [number, number][] = [[v.y0, v.z0], [v.y1, v.z0], [v.y0, v.z1], [v.y1, v.z1]];
  qs.forEach(([yy, zz], k) => {
    f.get(yy).get(zz).xor().set(v.q[k]!);
    f.get(v.ix).get(v.q[k]!).xor().get(mask).and().set(v.a[2 * k]!);
    f.get(v.ix).i32(1).add().get(v.q[k]!).xor().get(mask).and().set(v.a[2 * k + 1]!);
  });
  f.end();
  // weights: w[c] = (c&1 ? fx : gx) * (c&2 ? fy : gy) * (c&4 ? fz : gz)
  for (let c = 0; c < 8; c++) {
    f.get(c & 1 ? v.fx : v.gx).get(c & 2 ? v.fy : v.gy).f32Mul().get(c & 4 ? v.fz : v.gz).f32Mul().set(v.w[c]!);
  }
}

function declare(f: FnBuilder) {
  const L = (t: typeof I32 | typeof F32 | typeof F64): number => f.local(t);
  return {
    ix: L(I32), iy: L(I32), iz: L(I32), fx: L(F32), fy: L(F32), fz: L(F32), gx: L(F32), gy: L(F32), gz: L(F32), t: L(F64),
    q: [L(I32), L(I32), L(I32), L(I32)], a: Array.from({ length: 8 }, () => L(I32)), w: Array.from({ length: 8 }, () => L(F32)),
    y0: L(I32), y1: L(I32), z0: L(I32), z1: L(I32),
  };
}

/** log2 of the row size in bytes for F features. */
function rowShift(F: number): number { return Math.log2(F * 4); }

export function gridForwardKernel(F: 1 | 2 | 4 | 8): FnBuilder {
  // params: 0 table, 1 res, 2 size, 3 dense, 4 x, 5 p0, 6 p1, 7 out, 8 pitchBytes
  const f = new FnBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const table = 0, res = 1, size = 2, dense = 3, x = 4, p0 = 5, p1 = 6, out = 7, pitch = 8;
  const p = f.local(I32), xp = f.local(I32), op = f.local(I32), r1 = f.local(I32), mask = f.local(I32), resF = f.local(F64), ab = f.local(I32);
  const sums: number[] = []; for (let c = 0; c < F; c++) sums.push(f.local(F32));
  const v = declare(f);
  f.get(res).i32(1).add().set(r1);
  f.get(size).i32(1).sub().set(mask);
  f.get(res).f64FromI32().set(resF);
  f.get(p0).set(p);
  f.get(x).get(p0).i32(12).mul().add().set(xp);
  f.get(out).get(p0).i32(4).mul().add().set(op);
  f.block().loop();
  f.get(p).get(p1).geS().brIf(1);
  cellCorners(f, xp, res, resF, r1, mask, dense, v);
  for (const s of sums) f.f32(0).set(s);
  for (let c = 0; c < 8; c++) {
    f.get(v.a[c]!).i32(rowShift(F)).shl().get(table).add().set(ab);
    sums.forEach((s, k) => f.get(s).get(v.w[c]!).get(ab).f32Load(4 * k).f32Mul().f32Add().set(s));
  }
  sums.forEach((s, k) => {
    f.get(op);
    for (let j = 0; j < k; j++) f.get(pitch).add();
    f.get(s).f32Store(0);
  });
  f.inc(p, 1); f.inc(xp, 12); f.inc(op, 4);
  f.br(0);
  f.end().end();
  return f;
}

export function gridBackwardKernel(F: 1 | 2 | 4 | 8): FnBuilder {
  // params: 0 grad, 1 flags, 2 res, 3 size, 4 dense, 5 x, 6 n, 7 dOut, 8 pitchBytes, 9 zlo, 10 zhi
  const f = new FnBuilder([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const grad = 0, flags = 1, res = 2, size = 3, dense = 4, x = 5, n = 6, dOut = 7, pitch = 8, zlo = 9, zhi = 10;
  const p = f.local(I32), xp = f.local(I32), dp = f.local(I32), r1 = f.local(I32), mask = f.local(I32), resF = f.local(F64), ab = f.local(I32), q = f.local(I32);
  const gs: number[] = []; for (let c = 0; c < F; c++) gs.push(f.local(F32));
  const v = declare(f);
  f.get(res).i32(1).add().set(r1);
  f.get(size).i32(1).sub().set(mask);
  f.get(res).f64FromI32().set(resF);
  f.i32(0).set(p);
  f.get(x).set(xp);
  f.get(dOut).set(dp);
  f.block().loop();
  f.get(p).get(n).geS().brIf(1);
  f.block();
  // Only points whose cell z index is in [zlo, zhi) scatter (slab-parallel dense levels); the z
  // cell is computed first so that other points cost a few instructions.
  f.f64(1).get(xp).f32Load(8).f64FromF32().f64Min().set(v.t);
  f.f64(0).get(v.t).f64Max().get(resF).f64Mul().i32TruncSatF64().set(v.iz);
  f.get(res).i32(1).sub().get(v.iz).get(v.iz).get(res).geS().select().set(v.iz);
  f.get(v.iz).get(zlo).ltS().get(v.iz).get(zhi).geS().op(0x72).brIf(0); // i32.or
  f.get(dp).set(q);
  gs.forEach((g, k) => { if (k > 0) f.inc(q, { local: pitch }); f.get(q).f32Load(0).set(g); });
  cellCorners(f, xp, res, resF, r1, mask, dense, v);
  for (let c = 0; c < 8; c++) {
    f.get(v.a[c]!).i32(rowShift(F)).shl().get(grad).add().set(ab);
    gs.forEach((g, k) => f.get(ab).get(ab).f32Load(4 * k).get(v.w[c]!).get(g).f32Mul().f32Add().f32Store(4 * k));
    f.get(flags).get(v.a[c]!).add().i32(1).i32Store8(0);
  }
  f.end();
  f.inc(p, 1); f.inc(xp, 12); f.inc(dp, 4);
  f.br(0);
  f.end().end();
  return f;
}
