/**
 * One WebAssembly.Memory holds every buffer of a CPU backend (parameters, gradients, optimiser
 * moments, activations), so the SIMD kernels address them directly and worker threads share them
 * without copies. The memory is shared (SharedArrayBuffer-backed) when the runtime allows, which
 * also keeps earlier views valid when it grows. A bump allocator hands out 64-byte-aligned views;
 * address 0..63 is never handed out, so 0 can mean "no buffer" in kernel arguments.
 */
import { MedfieldError } from '../../core/errors.js';

const PAGE = 65536;

export class Arena {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  readonly maxPages: number;
  private top = 64;

  /**
   * `maxMb`: upper bound (default 2048). `initialMb`: reserved up front — needed when shared
   * memory is unavailable (browsers without cross-origin isolation), because growing a
   * non-shared memory detaches every view handed out before, so it is refused there.
   */
  constructor(options: { maxMb?: number; shared?: boolean; initialMb?: number } = {}) {
    this.maxPages = Math.ceil(((options.maxMb ?? 2048) * 1024 * 1024) / PAGE);
    const initial = Math.min(this.maxPages, Math.max(1, Math.ceil(((options.initialMb ?? 0) * 1024 * 1024) / PAGE)));
    const wantShared = options.shared ?? typeof SharedArrayBuffer !== 'undefined';
    let memory: WebAssembly.Memory | undefined;
    let shared = false;
    if (wantShared) {
      try { memory = new WebAssembly.Memory({ initial, maximum: this.maxPages, shared: true }); shared = true; } catch { memory = undefined; }
    }
    this.memory = memory ?? new WebAssembly.Memory({ initial, maximum: this.maxPages });
    this.shared = shared;
  }

  /** Bytes in use. */
  get usedBytes(): number { return this.top; }

  /** Reserves `bytes` (zeroed) and returns the byte offset. */
  allocBytes(bytes: number, align = 64): number {
    const start = Math.ceil(this.top / align) * align;
    const end = start + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (!this.shared && this.top > 64) {
        throw new MedfieldError('unsupported', 'engine memory', `needs ${Math.ceil(end / 2 ** 20)} MiB but a non-shared WebAssembly memory cannot grow without invalidating its buffers; create the backend with initialMb >= ${Math.ceil(end / 2 ** 20)} (or enable shared memory)`);
      }
      if (have / PAGE + pages > this.maxPages) {
        throw new MedfieldError('bad-option', 'engine memory', `needs ${Math.ceil(end / 2 ** 20)} MiB, above the backend limit of ${Math.floor((this.maxPages * PAGE) / 2 ** 20)} MiB (raise maxMb)`);
      }
      this.memory.grow(pages);
    }
    this.top = end;
    return start;
  }

  f32(length: number): Float32Array {
    const off = this.allocBytes(length * 4);
    return new Float32Array(this.memory.buffer, off, length);
  }

  u8(length: number): Uint8Array {
    const off = this.allocBytes(length);
    return new Uint8Array(this.memory.buffer, off, length);
  }

  /** Float index of a view allocated here (throws for a foreign array). */
  indexOf(a: Float32Array): number {
    this.assertOwn(a);
    return a.byteOffset >> 2;
  }

  assertOwn(a: ArrayBufferView): void {
    // Shared memories hand out a new SharedArrayBuffer object after growth; compare extents instead of identity.
    const ok = this.shared
      ? a.buffer instanceof SharedArrayBuffer && a.byteOffset >= 64 && a.byteOffset + a.byteLength <= this.top && a.buffer.byteLength <= this.memory.buffer.byteLength && isArenaBuffer(this.memory, a.buffer)
      : a.buffer === this.memory.buffer;
    if (!ok) throw new MedfieldError('bad-option', 'engine buffer', 'kernel arrays must be allocated by the same backend (backend.allocF32 / allocU8)');
  }
}

/** Best-effort check that a SharedArrayBuffer views the memory: write/read a probe byte at offset 0..63 (never handed out). */
function isArenaBuffer(memory: WebAssembly.Memory, buf: ArrayBufferLike): boolean {
  const probe = new Uint8Array(buf, 0, 64);
  const mine = new Uint8Array(memory.buffer, 0, 64);
  const old = mine[7]!;
  mine[7] = (old + 101) & 255;
  const same = probe[7] === mine[7];
  mine[7] = old;
  return same;
}
