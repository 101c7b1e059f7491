/**
 * A tiny WebAssembly binary emitter: just the opcodes the engine's kernels need (control flow,
 * i32 arithmetic, f32 scalar and f32x4 SIMD loads/stores/arithmetic). There is no toolchain
 * offline, so the gemm module is generated from TypeScript at load time (WebAssembly core spec
 * 2.0, section 5 "Binary format"; SIMD opcodes from the fixed-width SIMD proposal).
 */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function uleb(out: number[], v: number): void {
  v >>>= 0;
  do { let b = v & 0x7f; v >>>= 7; if (v !== 0) b |= 0x80; out.push(b); } while (v !== 0);
}
function sleb(out: number[], v: number): void {
  v |= 0;
  for (;;) {
    const b = v & 0x7f; v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}
function str(out: number[], s: string): void { uleb(out, s.length); for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i)); }

/** Function body builder. Locals are numbered after the parameters. */
export class FnBuilder {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[] = []) {}
  local(t: ValType): number { this.localTypes.push(t); return this.params.length + this.localTypes.length - 1; }
  get(i: number): this { this.code.push(0x20); uleb(this.code, i); return this; }
  set(i: number): this { this.code.push(0x21); uleb(this.code, i); return this; }
  tee(i: number): this { this.code.push(0x22); uleb(this.code, i); return this; }
  i32(v: number): this { this.code.push(0x41); sleb(this.code, v); return this; }
  f32(v: number): this { this.code.push(0x43); const b = new Uint8Array(new Float32Array([v]).buffer); this.code.push(...b); return this; }
  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  add(): this { return this.op(0x6a); }
  sub(): this { return this.op(0x6b); }
  mul(): this { return this.op(0x6c); }
  geS(): this { return this.op(0x4e); }
  gtS(): this { return this.op(0x4a); }
  ne(): this { return this.op(0x47); }
  eq(): this { return this.op(0x46); }
  select(): this { return this.op(0x1b); }
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { this.code.push(0x0c); uleb(this.code, depth); return this; }
  brIf(depth: number): this { this.code.push(0x0d); uleb(this.code, depth); return this; }
  f32Load(offset = 0): this { this.code.push(0x2a, 2); uleb(this.code, offset); return this; }
  f32Store(offset = 0): this { this.code.push(0x38, 2); uleb(this.code, offset); return this; }
  f32Add(): this { return this.op(0x92); }
  f32Sub(): this { return this.op(0x93); }
  f32Mul(): this { return this.op(0x94); }
  f64(v: number): this { this.code.push(0x44); const b = new Uint8Array(new Float64Array([v]).buffer); this.code.push(...b); return this; }
  f64Add(): this { return this.op(0xa0); }
  f64Sub(): this { return this.op(0xa1); }
  f64Mul(): this { return this.op(0xa2); }
  f64Min(): this { return this.op(0xa4); }
  f64Max(): this { return this.op(0xa5); }
  f64FromI32(): this { return this.op(0xb7); }
  f64FromF32(): this { return this.op(0xbb); }
  f32FromF64(): this { return this.op(0xb6); }
  /** i32.trunc_sat_f64_s: NaN -> 0, no trap. */
  i32TruncSatF64(): this { return this.op(0xfc, 0x02); }
  and(): this { return this.op(0x71); }
  xor(): this { return this.op(0x73); }
  shl(): this { return this.op(0x74); }
  ltS(): this { return this.op(0x48); }
  eqz(): this { return this.op(0x45); }
  i32Load8U(offset = 0): this { this.code.push(0x2d, 0); uleb(this.code, offset); return this; }
  i32Load16U(offset = 0): this { this.code.push(0x2f, 0); uleb(this.code, offset); return this; }
  i32Store8(offset = 0): this { this.code.push(0x3a, 0); uleb(this.code, offset); return this; }
  i64Store(offset = 0): this { this.code.push(0x37, 0); uleb(this.code, offset); return this; }
  i64Const0(): this { return this.op(0x42, 0); }
  ifThen(): this { return this.op(0x04, 0x40); }
  else(): this { return this.op(0x05); }
  v128Load64Zero(offset = 0): this { this.simd(0x5d); this.code.push(0); uleb(this.code, offset); return this; }
  v128Store64Lane0(offset = 0): this { this.simd(0x5b); this.code.push(0); uleb(this.code, offset); this.code.push(0); return this; }
  v128Load32Zero(offset = 0): this { this.simd(0x5c); this.code.push(0); uleb(this.code, offset); return this; }
  v128Store32Lane0(offset = 0): this { this.simd(0x5a); this.code.push(0); uleb(this.code, offset); this.code.push(0); return this; }
  i32Store(offset = 0): this { this.code.push(0x36, 0); uleb(this.code, offset); return this; }
  f32x4Sub(): this { return this.simd(0xe5); }
  f32x4Div(): this { return this.simd(0xe7); }
  f32x4Sqrt(): this { return this.simd(0xe3); }
  private simd(op: number): this { this.code.push(0xfd); uleb(this.code, op); return this; }
  v128Load(offset = 0): this { this.simd(0x00); this.code.push(4); uleb(this.code, offset); return this; }
  v128Load32Splat(offset = 0): this { this.simd(0x09); this.code.push(2); uleb(this.code, offset); return this; }
  v128Store(offset = 0): this { this.simd(0x0b); this.code.push(4); uleb(this.code, offset); return this; }
  f32x4Splat(): this { return this.simd(0x13); }
  f32x4ExtractLane(lane: number): this { this.simd(0x1f); this.code.push(lane); return this; }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f32x4Max(): this { return this.simd(0xe9); }
  /** local += delta (i32). */
  inc(i: number, delta: number | { local: number }): this {
    this.get(i);
    if (typeof delta === 'number') this.i32(delta); else this.get(delta.local);
    return this.add().set(i);
  }
  /** Serialised body (locals + code + end). */
  body(): number[] {
    const out: number[] = [];
    uleb(out, this.localTypes.length);
    for (const t of this.localTypes) { out.push(1, t); }
    out.push(...this.code, 0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return sized.concat(out);
  }
}

/** Assembles a module importing `env.memory` (shared when `shared`) and exporting `fns`. */
export function assembleModule(
  fns: readonly { name: string; fn: FnBuilder }[],
  memory: { minPages: number; maxPages: number; shared: boolean },
): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]): void => { out.push(id); uleb(out, content.length); out.push(...content); };
  const types: number[] = []; uleb(types, fns.length);
  for (const { fn } of fns) {
    types.push(0x60); uleb(types, fn.params.length); types.push(...fn.params); uleb(types, fn.results.length); types.push(...fn.results);
  }
  section(1, types);
  const imports: number[] = []; uleb(imports, 1); str(imports, 'env'); str(imports, 'memory'); imports.push(0x02, memory.shared ? 0x03 : 0x01);
  uleb(imports, memory.minPages); uleb(imports, memory.maxPages);
  section(2, imports);
  const funcs: number[] = []; uleb(funcs, fns.length); for (let i = 0; i < fns.length; i++) uleb(funcs, i);
  section(3, funcs);
  const exps: number[] = []; uleb(exps, fns.length);
  fns.forEach(({ name }, i) => { str(exps, name); exps.push(0x00); uleb(exps, i); });
  section(7, exps);
  const codes: number[] = []; uleb(codes, fns.length);
  for (const { fn } of fns) codes.push(...fn.body());
  section(10, codes);
  return new Uint8Array(out);
}
