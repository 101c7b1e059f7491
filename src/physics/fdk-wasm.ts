/**
 * Fast FDK/FBP back-projection: the interior loop of `backprojectSlab` (src/physics/fdk.ts) as a
 * WebAssembly SIMD (f32x4) kernel over four consecutive z slices of a voxel column, with the
 * filtered projections and the z-fastest accumulator in one WebAssembly.Memory (shared across
 * worker threads by src/platform/recon-pool.ts).
 *
 * For a voxel column (i, j) and a view, the detector column (c0, fc), the weight W and the row
 * coordinate row(k) = r0 - k dr of grid slice k are computed in Float64 in TypeScript, exactly
 * as in the reference path; the kernel then does, per slice and in Float32 arithmetic,
 *   rf = r0 - k dr,  r = trunc(rf),  fr = rf - r,
 *   a = w0 f[c0][r] + w1 f[c0+1][r],  b = w0 f[c0][r+1] + w1 f[c0+1][r+1],
 *   acc[k] += a + fr (b - a)
 * (rf clamped to [0, nv-1] on the edge slices). Four slices go through one f32x4 chain; the
 * 2 x 2 corner values of each slice come from two 64-bit loads (the row pair of each column),
 * blended by w0/w1 two slices per vector and de-interleaved with two shuffles. The scalar remainder and edge slices use
 * the same Float32 operations in the same order, so a voxel's value does not depend on which
 * path or slab split handled it (threaded == single thread, bit for bit). Against the Float64
 * reference the differences are Float32 rounding of row coordinates and weights (test/physics).
 *
 * The module is generated here from TypeScript (WebAssembly core spec 2.0 section 5 binary
 * format; opcodes of the fixed-width SIMD proposal) because there is no toolchain offline; the
 * detector column stride is baked in as a load offset, so one module is built per stride.
 */
import type { FdkPlan } from './fdk.js';

// ---- a minimal WebAssembly emitter (only what the kernel needs) ----
const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
type ValType = typeof I32 | typeof F32 | typeof V128;

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

class Fn {
  readonly c: number[] = [];
  private readonly locals: ValType[] = [];
  constructor(readonly params: readonly ValType[]) {}
  local(t: ValType): number { this.locals.push(t); return this.params.length + this.locals.length - 1; }
  op(...b: number[]): this { this.c.push(...b); return this; }
  get(i: number): this { this.c.push(0x20); uleb(this.c, i); return this; }
  set(i: number): this { this.c.push(0x21); uleb(this.c, i); return this; }
  tee(i: number): this { this.c.push(0x22); uleb(this.c, i); return this; }
  i32(v: number): this { this.c.push(0x41); sleb(this.c, v); return this; }
  f32(v: number): this { this.c.push(0x43, ...new Uint8Array(new Float32Array([v]).buffer)); return this; }
  mem(opcode: number, align: number, offset: number): this { this.c.push(opcode, align); uleb(this.c, offset); return this; }
  simd(opcode: number): this { this.c.push(0xfd); uleb(this.c, opcode); return this; }
  simdMem(opcode: number, align: number, offset: number, lane?: number): this {
    this.simd(opcode); this.c.push(align); uleb(this.c, offset); if (lane !== undefined) this.c.push(lane); return this;
  }
  v128Const(bytes: ArrayLike<number>): this { this.simd(0x0c); for (let i = 0; i < 16; i++) this.c.push(bytes[i]!); return this; }
  shuffle(lanes: readonly number[]): this { this.simd(0x0d); this.c.push(...lanes); return this; }
  body(): number[] {
    const out: number[] = [];
    uleb(out, this.locals.length);
    for (const t of this.locals) out.push(1, t);
    out.push(...this.c, 0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return sized.concat(out);
  }
}

function assemble(fn: Fn, name: string, memory: { pages: number; maxPages: number; shared: boolean }): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]): void => { out.push(id); uleb(out, content.length); out.push(...content); };
  const str = (o: number[], s: string): void => { uleb(o, s.length); for (let i = 0; i < s.length; i++) o.push(s.charCodeAt(i)); };
  const types = [1, 0x60]; uleb(types, fn.params.length); types.push(...fn.params, 0);
  section(1, types);
  const imports: number[] = [1]; str(imports, 'env'); str(imports, 'memory');
  imports.push(0x02, memory.shared ? 0x03 : 0x01); uleb(imports, memory.pages); uleb(imports, memory.maxPages);
  section(2, imports);
  section(3, [1, 0]);
  const exps: number[] = [1]; str(exps, name); exps.push(0x00, 0);
  section(7, exps);
  section(10, [1, ...fn.body()]);
  return new Uint8Array(out);
}

// Opcodes (scalar: core spec 5.4; SIMD: fixed-width SIMD proposal).
const OP = {
  block: [0x02, 0x40], loop: [0x03, 0x40], end: [0x0b], brIf: 0x0d, br: 0x0c,
  i32Add: 0x6a, i32Shl: 0x74, i32GtS: 0x4a, i32GeS: 0x4e,
  f32Load: 0x2a, f32Store: 0x38, f32Add: 0x92, f32Sub: 0x93, f32Mul: 0x94, f32Min: 0x96, f32Max: 0x97,
  f32FromI32: 0xb2,
} as const;
const SIMD = {
  load: 0x00, store: 0x0b, i32x4Splat: 0x11, f32x4Splat: 0x13, i32x4Extract: 0x1b,
  load64Lane: 0x57, load64Zero: 0x5d, i32x4Shl: 0xab, i32x4Add: 0xae,
  f32x4Add: 0xe4, f32x4Sub: 0xe5, f32x4Mul: 0xe6, f32x4Pmax: 0xeb, f32x4Floor: 0x68,
} as const;

/**
 * col(aB, cB, r0, dr, w0, w1, kA, kI, kJ, kB): adds view contributions to acc slices kA..kB of
 * one voxel column. aB: byte address of the column's acc for slice 0 (slice k at aB + 4k);
 * cB: byte address of detector column c0 (row r at cB + 4r, column c0+1 at + 4S); slices
 * [kA, kI) and (kJ, kB] are edge slices (row clamped), [kI, kJ] interior.
 */
function buildKernel(S: number, vMax: number, memory: { pages: number; maxPages: number; shared: boolean }): Uint8Array<ArrayBuffer> {
  const f = new Fn([I32, I32, F32, F32, F32, F32, I32, I32, I32, I32]);
  const aB = 0, cB = 1, r0 = 2, dr = 3, w0 = 4, w1 = 5, kA = 6, kI = 7, kJ = 8, kB = 9;
  const k = f.local(I32), rf = f.local(F32), ri = f.local(I32), fr = f.local(F32), a = f.local(F32), p = f.local(I32), q = f.local(I32);
  const kv = f.local(V128), r0v = f.local(V128), drv = f.local(V128), w0v = f.local(V128), w1v = f.local(V128), cBv = f.local(V128);
  const rfv = f.local(V128), riv = f.local(V128), Av = f.local(V128), Bv = f.local(V128), lo = f.local(V128);
  const zero = f.local(V128), magic = f.local(V128);
  const p0 = f.local(I32), p1 = f.local(I32), p2 = f.local(I32), p3 = f.local(I32);
  const colOff = 4 * S;

  /** One slice k with scalar Float32 ops (clamped on edge slices). */
  const scalarSlice = (clamp: boolean): void => {
    f.get(r0).get(k).op(OP.f32FromI32).get(dr).op(OP.f32Mul).op(OP.f32Sub);
    if (clamp) f.f32(vMax).op(OP.f32Min).f32(0).op(OP.f32Max);
    else f.tee(rf).f32(0).get(rf).get(rf).f32(0).op(0x5d).op(0x1b); // rf < 0 ? 0 : rf, as f32x4.pmax
    f.tee(rf).op(0xfc, 0x00).tee(ri); // i32.trunc_sat_f32_s
    f.op(OP.f32FromI32).set(fr).get(rf).get(fr).op(OP.f32Sub).set(fr);
    f.get(ri).i32(2).op(OP.i32Shl).get(cB).op(OP.i32Add).set(p);
    f.get(k).i32(2).op(OP.i32Shl).get(aB).op(OP.i32Add).tee(q); // store address
    f.get(q).mem(OP.f32Load, 2, 0);
    // a = w0 f00 + w1 f10
    f.get(w0).get(p).mem(OP.f32Load, 2, 0).op(OP.f32Mul).get(w1).get(p).mem(OP.f32Load, 2, colOff).op(OP.f32Mul).op(OP.f32Add).tee(a);
    f.get(fr);
    // b = w0 f01 + w1 f11
    f.get(w0).get(p).mem(OP.f32Load, 2, 4).op(OP.f32Mul).get(w1).get(p).mem(OP.f32Load, 2, colOff + 4).op(OP.f32Mul).op(OP.f32Add);
    f.get(a).op(OP.f32Sub).op(OP.f32Mul).op(OP.f32Add); // a + fr (b - a)
    f.op(OP.f32Add).mem(OP.f32Store, 2, 0);
  };
  /** while (k < end) (or k <= end) { slice; k++ } */
  const scalarLoop = (end: number, inclusive: boolean, clamp: boolean): void => {
    f.op(...OP.block, ...OP.loop);
    f.get(k).get(end).op(inclusive ? OP.i32GtS : OP.i32GeS).op(OP.brIf, 1);
    scalarSlice(clamp);
    f.get(k).i32(1).op(OP.i32Add).set(k).op(OP.br, 0);
    f.op(...OP.end, ...OP.end);
  };
  /** Rows k, k+1 (lanes 0-1 <- row pair at pa, lanes 2-3 <- row pair at pb) of both columns blended by w0, w1. */
  const pairBlend = (pa: number, pb: number): void => {
    f.get(w0v).get(pb).get(pa).simdMem(SIMD.load64Zero, 3, 0).simdMem(SIMD.load64Lane, 3, 0, 1).simd(SIMD.f32x4Mul);
    f.get(w1v).get(pb).get(pa).simdMem(SIMD.load64Zero, 3, colOff).simdMem(SIMD.load64Lane, 3, colOff, 1).simd(SIMD.f32x4Mul);
    f.simd(SIMD.f32x4Add);
  };

  /** while (k + 3 <= kJ) { four slices k..k+3 in f32x4 lanes; k += 4 } */
  const simdLoop = (): void => {
    f.op(...OP.block, ...OP.loop);
    f.get(k).i32(3).op(OP.i32Add).get(kJ).op(OP.i32GtS).op(OP.brIf, 1);
    // rf = max(r0 - k dr, 0) (pmax: rf < 0 ? 0 : rf), row = floor(rf) (= trunc for rf >= 0), made
    // an integer by adding 2^23 (its bits are then 0x4B000000 + row): byte address = 4 bits +
    // (cB - 4 * 0x4B000000) modulo 2^32. Cheaper than i32x4.trunc_sat, same value.
    f.get(r0v).get(kv).get(drv).simd(SIMD.f32x4Mul).simd(SIMD.f32x4Sub).get(zero).simd(SIMD.f32x4Pmax).tee(rfv);
    f.simd(SIMD.f32x4Floor).tee(riv);
    f.get(magic).simd(SIMD.f32x4Add).i32(2).simd(SIMD.i32x4Shl).get(cBv).simd(SIMD.i32x4Add).set(Bv);
    f.get(Bv).simd(SIMD.i32x4Extract).op(0).set(p0);
    f.get(Bv).simd(SIMD.i32x4Extract).op(1).set(p1);
    f.get(Bv).simd(SIMD.i32x4Extract).op(2).set(p2);
    f.get(Bv).simd(SIMD.i32x4Extract).op(3).set(p3);
    pairBlend(p0, p1); f.set(Av);
    pairBlend(p2, p3); f.set(Bv);
    f.get(Av).get(Bv).shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]).set(lo);
    f.get(Av).get(Bv).shuffle([4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]).set(Av);
    // acc += lo + fr (hi - lo), fr = rf - float(trunc(rf))
    f.get(k).i32(2).op(OP.i32Shl).get(aB).op(OP.i32Add).tee(q);
    f.get(q).simdMem(SIMD.load, 0, 0);
    f.get(lo);
    f.get(rfv).get(riv).simd(SIMD.f32x4Sub);
    f.get(Av).get(lo).simd(SIMD.f32x4Sub);
    f.simd(SIMD.f32x4Mul).simd(SIMD.f32x4Add).simd(SIMD.f32x4Add).simdMem(SIMD.store, 0, 0);
    f.get(kv).f32(4).simd(SIMD.f32x4Splat).simd(SIMD.f32x4Add).set(kv);
    f.get(k).i32(4).op(OP.i32Add).set(k).op(OP.br, 0);
    f.op(...OP.end, ...OP.end);
  };

  f.get(kA).set(k);
  scalarLoop(kI, false, true);
  // Interior: four slices per step while k + 3 <= kJ.
  f.get(r0).simd(SIMD.f32x4Splat).set(r0v);
  f.get(dr).simd(SIMD.f32x4Splat).set(drv);
  f.get(w0).simd(SIMD.f32x4Splat).set(w0v);
  f.get(w1).simd(SIMD.f32x4Splat).set(w1v);
  f.get(cB).i32(-0x2c000000).op(OP.i32Add).simd(SIMD.i32x4Splat).set(cBv);
  f.f32(0).simd(SIMD.f32x4Splat).set(zero);
  f.f32(8388608).simd(SIMD.f32x4Splat).set(magic);
  f.get(k).op(OP.f32FromI32).simd(SIMD.f32x4Splat).v128Const(new Uint8Array(new Float32Array([0, 1, 2, 3]).buffer)).simd(SIMD.f32x4Add).set(kv);
  simdLoop();
  scalarLoop(kJ, true, false);
  scalarLoop(kB, true, true);
  return assemble(f, 'col', memory);
}

/** True when this runtime validates WebAssembly fixed-width SIMD. */
export function wasmSimdAvailable(): boolean {
  if (simdOk === undefined) {
    try {
      // (func (result v128) v128.const 0) : a one-instruction SIMD module.
      const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1, 0x60, 0, 1, 0x7b, 3, 2, 1, 0,
        10, 22, 1, 20, 0, 0xfd, 0x0c, ...new Array<number>(16).fill(0), 0x0b]);
      simdOk = typeof WebAssembly === 'object' && WebAssembly.validate(bytes);
    } catch { simdOk = false; }
  }
  return simdOk;
}
let simdOk: boolean | undefined;

const PAGE = 65536;
/** Largest memory the kernel addresses (i32 byte addresses; leaves headroom below 4 GiB). */
const MAX_BYTES = 4 * 1024 * 1024 * 1024 - 16 * PAGE;

/** Float32 offsets of the filtered projections and of each accumulator in the kernel's memory. */
export interface WasmFdkLayout { filteredOffset: number; accOffsets: number[]; pages: number }

/**
 * Memory layout for `plan`: the filtered projections (filteredViewSize values per view) first,
 * then accumulators of accSizes[w] Float32 values (one per region); null when it exceeds 4 GiB.
 */
export function wasmFdkLayout(plan: FdkPlan, accSizes: readonly number[]): WasmFdkLayout | null {
  let off = plan.nViews * (plan.nu + 1) * (plan.nv + 1) + 16; // +16: padding after the last column's lane loads
  const accOffsets: number[] = [];
  for (const n of accSizes) { off = Math.ceil(off / 4) * 4; accOffsets.push(off); off += n; }
  const bytes = off * 4 + 64;
  if (bytes > MAX_BYTES) return null;
  return { filteredOffset: 0, accOffsets, pages: Math.ceil(bytes / PAGE) };
}

/** Allocates the memory of a layout (shared for worker threads); null when the runtime refuses it. */
export function createWasmFdkMemory(layout: WasmFdkLayout, shared: boolean): WebAssembly.Memory | null {
  try {
    return new WebAssembly.Memory({ initial: layout.pages, maximum: layout.pages, shared });
  } catch { return null; }
}

type ColFn = (aB: number, cB: number, r0: number, dr: number, w0: number, w1: number, kA: number, kI: number, kJ: number, kB: number) => void;

function instantiate(plan: FdkPlan, memory: WebAssembly.Memory): ColFn {
  const pages = memory.buffer.byteLength / PAGE;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const bytes = buildKernel(plan.nv + 1, plan.nv - 1, { pages, maxPages: pages, shared });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return inst.exports['col'] as ColFn;
}

/** A box of the volume: z-slices [k0, k1) x y-rows [j0, j1) (all x). */
export interface FdkRegion { k0: number; k1: number; j0: number; j1: number }

/**
 * Back-projects all views of the filtered projections held in `memory` (at Float32 offset
 * `filteredOffset`, as filterProjections writes them) into `region` (default: the whole volume)
 * of `out` (Float32 [nz, ny, nx]), using nx (j1-j0) (k1-k0) Float32 accumulators at offset
 * `accOffset` of the memory. Same geometry, edge rules and view grouping as backprojectSlab;
 * Float32 inner arithmetic. A voxel's value does not depend on the region it was computed in.
 */
export function backprojectSlabWasm(plan: FdkPlan, memory: WebAssembly.Memory, filteredOffset: number, accOffset: number,
  out: Float32Array, region: FdkRegion = { k0: 0, k1: plan.nz, j0: 0, j1: plan.ny }): void {
  const { nu, nv, du, dv, offU, offV, DSD, DSO, nx, ny, nz, dx, dy, dz } = plan;
  const { k0, k1, j0, j1 } = region;
  const cone = plan.mode === 'cone';
  const nk = k1 - k0, nj = j1 - j0;
  if (nk <= 0 || nj <= 0) return;
  const col = instantiate(plan, memory);
  const mem = new Float32Array(memory.buffer);
  mem.fill(0, accOffset, accOffset + nx * nj * nk);
  const S = nv + 1, block = (nu + 1) * (nv + 1);
  const cu = (nu - 1) / 2, cv = (nv - 1) / 2;
  const X = new Float64Array(nx), Y = new Float64Array(ny);
  for (let i = 0; i < nx; i++) X[i] = (i - (nx - 1) / 2) * dx;
  for (let j = 0; j < ny; j++) Y[j] = (j - (ny - 1) / 2) * dy;
  const G = 8;
  const xc = new Float64Array(G * nx), xs = new Float64Array(G * nx);
  const z0 = (-(nz - 1) / 2) * dz;
  const rowTop = cv + offV / dv;
  const invDu = 1 / du, invDv = 1 / dv;
  const uMax = nu - 1, vMax = nv - 1;
  const DSOD = DSO * DSD;
  for (let v0 = 0; v0 < plan.nViews; v0 += G) {
    const gn = Math.min(G, plan.nViews - v0);
    for (let g = 0; g < gn; g++) {
      const c = plan.cos[v0 + g]!, s = plan.sin[v0 + g]!;
      for (let i = 0; i < nx; i++) { xc[g * nx + i] = X[i]! * c; xs[g * nx + i] = X[i]! * s; }
    }
    for (let j = j0; j < j1; j++) {
      const rowBase = (j - j0) * nx;
      for (let i = 0; i < nx; i++) {
        const aB = (accOffset + (rowBase + i) * nk - k0) * 4;
        for (let g = 0; g < gn; g++) {
          const view = v0 + g;
          const c = plan.cos[view]!, s = plan.sin[view]!;
          const xr = xc[g * nx + i]! + Y[j]! * s;
          const yr = Y[j]! * c - xs[g * nx + i]!;
          let M = 1, W = 1;
          if (cone) {
            if (!(DSO - xr > 0)) continue;
            const invL = 1 / (DSO - xr);
            M = DSD * invL;
            W = DSOD * invL * invL;
          }
          let colf = (yr * M - offU) * invDu + cu;
          if (colf < -0.5 || colf > nu - 0.5) continue;
          colf = colf < 0 ? 0 : colf > uMax ? uMax : colf;
          const c0 = colf | 0;
          const fc = colf - c0;
          const dr = dz * M * invDv;
          const r0 = rowTop - z0 * M * invDv;
          const idr = 1 / dr;
          let kAf = Math.ceil((r0 - (nv - 0.5)) * idr), kBf = Math.floor((r0 + 0.5) * idr);
          if (kAf < k0) kAf = k0;
          if (kBf > k1 - 1) kBf = k1 - 1;
          if (kAf > kBf) continue;
          let kIf = Math.ceil((r0 - vMax) * idr), kJf = Math.floor(r0 * idr);
          if (kIf < kAf) kIf = kAf;
          if (kIf > kBf + 1) kIf = kBf + 1;
          if (kJf > kBf) kJf = kBf;
          col(aB, (filteredOffset + view * block + c0 * S) * 4, r0, dr, W * (1 - fc), W * fc, kAf | 0, kIf | 0, kJf | 0, kBf | 0);
        }
      }
    }
  }
  const np = nx * nj;
  for (let k = 0; k < nk; k++) {
    const o = (k0 + k) * nx * ny + j0 * nx;
    for (let p = 0; p < np; p++) out[o + p] = mem[accOffset + p * nk + k]!;
  }
}
