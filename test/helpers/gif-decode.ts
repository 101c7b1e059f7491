/**
 * An independent GIF89a reader for tests (written from the spec, not from src/io/gif.ts):
 * parses the blocks structurally and LZW-decodes every frame.
 */
export interface DecodedGif {
  version: string; width: number; height: number; globalColors: number; loop: number | null;
  frames: { delayCs: number; left: number; top: number; width: number; height: number; pixels: Uint8Array }[];
  trailer: boolean;
}

function lzwDecode(data: Uint8Array, minSize: number, count: number): Uint8Array {
  const clear = 1 << minSize, eoi = clear + 1;
  const prefix = new Int32Array(4096), suffix = new Uint8Array(4096), length = new Int32Array(4096);
  for (let i = 0; i < clear; i++) { prefix[i] = -1; suffix[i] = i; length[i] = 1; }
  const out = new Uint8Array(count);
  let o = 0, size = minSize + 1, next = eoi + 1, prev = -1, bitPos = 0;
  const read = (): number => {
    let v = 0;
    for (let b = 0; b < size; b++, bitPos++) {
      const byte = data[bitPos >> 3];
      if (byte === undefined) throw new Error('LZW data ended without an end code');
      v |= ((byte >> (bitPos & 7)) & 1) << b;
    }
    return v;
  };
  const first = (c: number): number => { while (prefix[c]! >= 0) c = prefix[c]!; return suffix[c]!; };
  const write = (c: number): void => {
    const n = length[c]!;
    if (o + n > count) throw new Error('LZW data decodes to more pixels than the frame holds');
    for (let i = n - 1; i >= 0; i--) { out[o + i] = suffix[c]!; c = prefix[c]!; }
    o += n;
  };
  for (;;) {
    const c = read();
    if (c === clear) { size = minSize + 1; next = eoi + 1; prev = -1; continue; }
    if (c === eoi) break;
    if (prev < 0) { write(c); prev = c; continue; }
    if (c < next) {
      if (next < 4096) { prefix[next] = prev; suffix[next] = first(c); length[next] = length[prev]! + 1; next++; }
      write(c);
    } else if (c === next) {
      if (next < 4096) { prefix[next] = prev; suffix[next] = first(prev); length[next] = length[prev]! + 1; next++; }
      write(c);
    } else throw new Error(`LZW code ${c} beyond the table (${next})`);
    prev = c;
    if (next === 1 << size && size < 12) size++;
  }
  if (o !== count) throw new Error(`LZW decoded ${o} pixels, the frame holds ${count}`);
  return out;
}

export function decodeGif(b: Uint8Array): DecodedGif {
  let p = 0;
  const u8 = (): number => { if (p >= b.length) throw new Error('truncated GIF'); return b[p++]!; };
  const u16 = (): number => u8() | (u8() << 8);
  const ascii = (n: number): string => { let s = ''; for (let i = 0; i < n; i++) s += String.fromCharCode(u8()); return s; };
  const subBlocks = (): Uint8Array => {
    const parts: number[] = [];
    for (let n = u8(); n > 0; n = u8()) for (let i = 0; i < n; i++) parts.push(u8());
    return Uint8Array.from(parts);
  };
  const version = ascii(6);
  const width = u16(), height = u16(), packed = u8();
  u8(); u8();
  const globalColors = packed & 0x80 ? 2 << (packed & 7) : 0;
  p += 3 * globalColors;
  const g: DecodedGif = { version, width, height, globalColors, loop: null, frames: [], trailer: false };
  let delay = 0;
  for (;;) {
    const t = u8();
    if (t === 0x3b) { g.trailer = true; break; }
    if (t === 0x21) {
      const label = u8();
      const body = subBlocks();
      if (label === 0xf9) delay = body[1]! | (body[2]! << 8);
      if (label === 0xff && String.fromCharCode(...body.subarray(0, 11)) === 'NETSCAPE2.0') g.loop = body[12]! | (body[13]! << 8);
      continue;
    }
    if (t !== 0x2c) throw new Error(`unexpected block 0x${t.toString(16)} at ${p - 1}`);
    const left = u16(), top = u16(), w = u16(), h = u16(), ip = u8();
    if (ip & 0x80) p += 3 * (2 << (ip & 7));
    const min = u8();
    g.frames.push({ delayCs: delay, left, top, width: w, height: h, pixels: lzwDecode(subBlocks(), min, w * h) });
  }
  return g;
}
