/**
 * Lazy Adam for tables with 1, 2 or 4 values per row, WebAssembly SIMD: each touched row is
 * the low lanes of one f32x4 (load32_zero / load64_zero / load), so the update is
 * vector arithmetic with sqrt and div, and untouched rows cost one flag byte read. Same update
 * as the JS kernel in src/engine/cpu/ops.ts (float32 arithmetic instead of float64, so the last
 * bit may differ).
 *
 * adam{R}(data, grad, m, v, flags, r0, r1, b1, b2, c1, c2, step, ib2, eps, wd) — addresses in
 * bytes, rows [r0, r1); c1 = 1 - b1, c2 = 1 - b2, step = lr / bc1, ib2 = 1 / sqrt(bc2).
 * Clears the gradient and the flag of every updated row.
 */
import { F32, FnBuilder, I32, V128 } from './emitter.js';

/** Lazy Adam kernel for rows of R = 1, 2 or 4 floats (one f32x4 holds a row). */
export function adamKernel(R: 1 | 2 | 4): FnBuilder {
  const shift = Math.log2(R * 4);
  const load = (f: FnBuilder): FnBuilder => (R === 1 ? f.v128Load32Zero(0) : R === 2 ? f.v128Load64Zero(0) : f.v128Load(0));
  const store = (f: FnBuilder): FnBuilder => (R === 1 ? f.v128Store32Lane0(0) : R === 2 ? f.v128Store64Lane0(0) : f.v128Store(0));
  const f = new FnBuilder([I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32]);
  const data = 0, grad = 1, m = 2, v = 3, flags = 4, r0 = 5, r1 = 6, b1 = 7, b2 = 8, c1 = 9, c2 = 10, step = 11, ib2 = 12, eps = 13, wd = 14;
  const r = f.local(I32), o = f.local(I32);
  const vb1 = f.local(V128), vb2 = f.local(V128), vc1 = f.local(V128), vc2 = f.local(V128), vstep = f.local(V128), vib2 = f.local(V128), veps = f.local(V128), vwd = f.local(V128);
  const g = f.local(V128), mk = f.local(V128), vk = f.local(V128), d = f.local(V128);
  for (const [src, dst] of [[b1, vb1], [b2, vb2], [c1, vc1], [c2, vc2], [step, vstep], [ib2, vib2], [eps, veps], [wd, vwd]] as const) f.get(src).f32x4Splat().set(dst);
  f.get(r0).set(r);
  f.block().loop();
  f.get(r).get(r1).geS().brIf(1);
  f.get(flags).get(r).add().i32Load8U(0);
  f.ifThen();
  f.get(flags).get(r).add().i32(0).i32Store8(0);
  f.get(r).i32(shift).shl().set(o);
  load(f.get(data).get(o).add()).set(d);
  load(f.get(grad).get(o).add()).get(vwd).get(d).f32x4Mul().f32x4Add().set(g);
  load(f.get(vb1).get(m).get(o).add()).f32x4Mul().get(vc1).get(g).f32x4Mul().f32x4Add().set(mk);
  load(f.get(vb2).get(v).get(o).add()).f32x4Mul().get(vc2).get(g).get(g).f32x4Mul().f32x4Mul().f32x4Add().set(vk);
  store(f.get(m).get(o).add().get(mk));
  store(f.get(v).get(o).add().get(vk));
  f.get(data).get(o).add();
  f.get(d).get(vstep).get(mk).f32x4Mul().get(vk).f32x4Sqrt().get(vib2).f32x4Mul().get(veps).f32x4Add().f32x4Div().f32x4Sub();
  store(f);
  if (R === 1) f.get(grad).get(o).add().i32(0).i32Store(0);
  else if (R === 2) f.get(grad).get(o).add().i64Const0().i64Store(0);
  else f.get(grad).get(o).add().f32(0).f32x4Splat().v128Store(0);
  f.end();
  f.inc(r, 1);
  f.br(0);
  f.end().end();
  return f;
}
