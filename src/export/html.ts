/**
 * Small HTML helpers shared by the static reports (report.ts, svr-report.ts): escaping, inline
 * PNG figures, number formatting and the page head. Not part of the public API.
 */
import { encodePng, floatToGray } from '../io/png.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard base64 (RFC 4648) of bytes. */
export function base64(bytes: Uint8Array): string {
  const parts: string[] = [];
  let chunk = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!, b = bytes[i + 1], c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    chunk += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (b === undefined ? '=' : B64[(n >> 6) & 63]!) + (c === undefined ? '=' : B64[n & 63]!);
    if (chunk.length > 8192) { parts.push(chunk); chunk = ''; }
  }
  parts.push(chunk);
  return parts.join('');
}

/** Escapes text for HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A grey PNG data URI of an image [rows, cols] windowed to [lo, hi]. */
export function pngUri(data: ArrayLike<number>, rows: number, cols: number, lo: number, hi: number): string {
  return `data:image/png;base64,${base64(encodePng(floatToGray(data, rows, cols, lo, hi)))}`;
}

/** A captioned figure of a data URI image, scaled up to about 192 px. */
export function img(uri: string, rows: number, cols: number, caption: string): string {
  const scale = Math.max(1, Math.floor(192 / Math.max(rows, cols)));
  return `<figure><img src="${uri}" width="${cols * scale}" height="${rows * scale}" style="image-rendering:pixelated" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
}

/** A number with fixed digits, or an en dash when missing. */
export function num(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

/** [min, max] of the values (max > min: a constant image gets a unit window). */
export function range(d: ArrayLike<number>): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < d.length; i++) { const v = d[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

/** The page head with the reports' style sheet, up to and including <body>. */
export function pageHead(title: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>`
    + '<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto;padding:0 1em;color:#222}table{border-collapse:collapse}'
    + 'td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}'
    + 'figure{display:inline-block;margin:4px;text-align:center}figcaption{font-size:11px}.row{display:flex;flex-wrap:wrap;gap:8px}'
    + 'pre{background:#f8f8f8;padding:8px;overflow:auto;font-size:11px}</style></head><body>';
}
