/**
 * A small animated-GIF writer (GIF89a, W3C/CompuServe spec "Graphics Interchange Format
 * Version 89a", 1990): 8-bit gray frames with a 256-entry gray global colour table, the
 * NETSCAPE2.0 looping extension, a Graphic Control Extension per frame (delay in 1/100 s), and
 * variable-length-code LZW image data (section 22 and appendix F of the spec): minimum code size
 * 8, clear code 256, end code 257, codes of 9..12 bits packed least-significant bit first, a clear
 * code emitted whenever the 4096-entry table is full. Platform-neutral.
 */
import { MedfieldError } from '../core/errors.js';

export interface GifOptions {
  /** Delay between frames in hundredths of a second (default 10). */
  delayCs?: number;
  /** Loop count, 0 = forever (default 0). */
  loop?: number;
}

class ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;
  push(b: number): void {
    if (this.length === this.buf.length) { const n = new Uint8Array(this.buf.length * 2); n.set(this.buf); this.buf = n; }
    this.buf[this.length++] = b & 0xff;
  }
  u16(v: number): void { this.push(v & 0xff); this.push((v >> 8) & 0xff); }
  bytes(a: ArrayLike<number>): void { for (let i = 0; i < a.length; i++) this.push(a[i]!); }
  ascii(s: string): void { for (let i = 0; i < s.length; i++) this.push(s.charCodeAt(i)); }
  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

const MAX_CODES = 4096;

/** LZW dictionary: (prefix code, next byte) -> code, valid when its generation stamp matches (no clearing). */
interface LzwTable { codes: Int16Array; stamp: Uint32Array; gen: number }

/** LZW-compresses 8-bit indices into GIF sub-blocks (after the minimum-code-size byte). */
function writeLzw(out: ByteSink, pixels: Uint8Array, table: LzwTable): void {
  const MIN = 8, CLEAR = 256, EOI = 257;
  const { codes, stamp } = table;
  let gen = ++table.gen;
  let codeSize = MIN + 1, next = EOI + 1;
  // Bit packer into 255-byte sub-blocks.
  const block = new Uint8Array(255);
  let blockLen = 0, acc = 0, nbits = 0;
  const flushByte = (b: number): void => {
    block[blockLen++] = b;
    if (blockLen === 255) { out.push(255); out.bytes(block); blockLen = 0; }
  };
  const emit = (code: number): void => {
    acc |= code << nbits;
    nbits += codeSize;
    while (nbits >= 8) { flushByte(acc & 0xff); acc >>>= 8; nbits -= 8; }
  };
  out.push(MIN);
  emit(CLEAR);
  if (pixels.length > 0) {
    let prefix = pixels[0]!;
    for (let i = 1; i < pixels.length; i++) {
      const c = pixels[i]!;
      const key = prefix * 256 + c;
      if (stamp[key] === gen) { prefix = codes[key]!; continue; }
      emit(prefix);
      if (next < MAX_CODES) {
        codes[key] = next; stamp[key] = gen; next++;
        // The decoder widens its codes once its table (one entry behind ours) reaches 2^codeSize.
        if (next > (1 << codeSize) && codeSize < 12) codeSize++;
      } else {
        emit(CLEAR);
        gen = ++table.gen; codeSize = MIN + 1; next = EOI + 1;
      }
      prefix = c;
    }
    emit(prefix);
  }
  emit(EOI);
  if (nbits > 0) flushByte(acc & 0xff);
  if (blockLen > 0) { out.push(blockLen); out.bytes(block.subarray(0, blockLen)); }
  out.push(0); // block terminator
}

/** Encodes 8-bit gray frames (each width*height, row-major) as an animated GIF89a. */
export function encodeGif(frames: readonly Uint8Array[], width: number, height: number, opts: GifOptions = {}): Uint8Array {
  const ok = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 65535;
  if (!ok(width) || !ok(height)) throw new MedfieldError('bad-option', 'gif size', `width and height must be integers in 1..65535, got ${width}x${height}`);
  if (frames.length === 0) throw new MedfieldError('bad-option', 'gif frames', 'expected at least one frame');
  frames.forEach((f, i) => { if (f.length !== width * height) throw new MedfieldError('bad-data', `gif frame ${i}`, `expected ${width * height} pixels, got ${f.length}`); });
  const delay = Math.max(0, Math.min(65535, Math.round(opts.delayCs ?? 10)));
  const out = new ByteSink();
  out.ascii('GIF89a');
  out.u16(width); out.u16(height);
  out.push(0xf7); // global colour table, 8 bits colour resolution, 2^(7+1) = 256 entries
  out.push(0); out.push(0); // background index, aspect
  for (let i = 0; i < 256; i++) { out.push(i); out.push(i); out.push(i); }
  // NETSCAPE2.0 application extension: loop count.
  out.push(0x21); out.push(0xff); out.push(11); out.ascii('NETSCAPE2.0'); out.push(3); out.push(1); out.u16(opts.loop ?? 0); out.push(0);
  const table: LzwTable = { codes: new Int16Array(MAX_CODES * 256), stamp: new Uint32Array(MAX_CODES * 256), gen: 0 };
  for (const f of frames) {
    out.push(0x21); out.push(0xf9); out.push(4); out.push(0x04); out.u16(delay); out.push(0); out.push(0); // GCE: disposal 1 (keep)
    out.push(0x2c); out.u16(0); out.u16(0); out.u16(width); out.u16(height); out.push(0); // image descriptor, no local table
    writeLzw(out, f, table);
  }
  out.push(0x3b);
  return out.result();
}
