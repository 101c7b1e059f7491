/**
 * PNG codec (fast-png, pure JS): 8- and 16-bit grayscale (also reads RGB/RGBA/palette,
 * returning the channels as stored). Row-major pixels, top row first.
 */
import { decode, encode } from 'fast-png';
import { MedfieldError } from '../core/errors.js';

export interface GrayImage {
  data: Uint8Array | Uint16Array;
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
  channels: number;
  bitDepth: 8 | 16;
}

export function decodePng(bytes: Uint8Array, subject = ''): GrayImage {
  if (bytes.length < 8 || bytes[0] !== 0x89 || bytes[1] !== 0x50 || bytes[2] !== 0x4e || bytes[3] !== 0x47) {
    throw new MedfieldError('bad-file', subject, 'not a PNG file (bad signature)');
  }
  let img;
  try {
    img = decode(bytes);
  } catch (e) {
    throw new MedfieldError('bad-file', subject, `corrupt PNG (${(e as Error).message})`);
  }
  if (img.palette) {
    // Expand palette indices to gray when the palette is gray, else to RGB.
    const pal = img.palette;
    const idx = img.data as Uint8Array;
    const n = img.width * img.height;
    const rgb = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) { const p = pal[idx[i]] ?? [0, 0, 0]; rgb[3 * i] = p[0]; rgb[3 * i + 1] = p[1]; rgb[3 * i + 2] = p[2]; }
    return { data: rgb, width: img.width, height: img.height, channels: 3, bitDepth: 8 };
  }
  const depth = img.depth;
  if (depth !== 8 && depth !== 16) {
    // fast-png unpacks 1/2/4-bit gray into bytes of the raw level; scale to 8-bit.
    const src = img.data as Uint8Array;
    const out = new Uint8Array(src.length);
    const scale = 255 / ((1 << depth) - 1);
    for (let i = 0; i < src.length; i++) out[i] = Math.round(src[i] * scale);
    return { data: out, width: img.width, height: img.height, channels: img.channels, bitDepth: 8 };
  }
  const data = depth === 16 ? new Uint16Array(img.data as Uint16Array) : new Uint8Array(img.data as Uint8Array);
  return { data, width: img.width, height: img.height, channels: img.channels, bitDepth: depth };
}

export function encodePng(img: GrayImage): Uint8Array {
  const need = img.width * img.height * img.channels;
  if (img.data.length !== need) throw new MedfieldError('bad-data', 'png', `pixel data has ${img.data.length} values, ${img.width}x${img.height}x${img.channels} needs ${need}`);
  if ((img.bitDepth === 16) !== (img.data instanceof Uint16Array)) throw new MedfieldError('bad-data', 'png', 'bitDepth 16 needs Uint16Array data, 8 needs Uint8Array');
  return encode({ width: img.width, height: img.height, data: img.data, depth: img.bitDepth, channels: img.channels });
}

/**
 * Maps a float image to 8- or 16-bit gray over the window [lo, hi] (values outside are clipped).
 * `data` is row-major, `rows` x `cols`.
 */
export function floatToGray(data: ArrayLike<number>, rows: number, cols: number, lo: number, hi: number, bitDepth: 8 | 16 = 8): GrayImage {
  const maxv = bitDepth === 16 ? 65535 : 255;
  const out = bitDepth === 16 ? new Uint16Array(rows * cols) : new Uint8Array(rows * cols);
  const scale = hi > lo ? maxv / (hi - lo) : 0;
  for (let i = 0; i < rows * cols; i++) {
    const v = (data[i] - lo) * scale;
    out[i] = v <= 0 || !(v === v) ? 0 : v >= maxv ? maxv : Math.round(v);
  }
  return { data: out, width: cols, height: rows, channels: 1, bitDepth };
}
