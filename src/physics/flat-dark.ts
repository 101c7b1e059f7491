/**
 * Flat/dark-field correction of raw X-ray counts to line integrals (Beer-Lambert):
 *
 *   p = -log( (raw - dark) / (flat - dark) )
 *
 * where `flat` (open beam, "white") and `dark` (beam off) are the per-pixel means of the given
 * flat and dark frames. This is the normalisation of TomoPy's `normalize` + `minus_log` and of
 * every CT pipeline that gets raw detector counts.
 */
import { MedfieldError } from '../core/errors.js';

/** Shape of the raw projections, [views, rows, cols] row-major (docs/coordinate-systems.md). */
export interface ProjectionShape {
  views: number;
  rows: number;
  cols: number;
}

/** Options of {@link flatDarkToLineIntegrals}. */
export interface FlatDarkOptions {
  /**
   * Lower clamp, in counts, applied to both `raw - dark` and `flat - dark` (default
   * {@link FLAT_DARK_EPSILON}). Dead pixels, or raw counts at or below the dark level (photon
   * starvation), would otherwise give log(0) or the log of a negative number. A clamped
   * numerator gives a large but finite line integral (-log(eps / (flat - dark)), about 24 for a
   * flat 3e4 counts above dark); a clamped denominator marks a dead detector pixel.
   */
  epsilon?: number;
}

/** Default lower clamp of dark-subtracted counts: 1e-6 counts (TomoPy and TIGRE also use 1e-6). */
export const FLAT_DARK_EPSILON = 1e-6;

/**
 * Per-pixel mean of `frames` stacked as [n, pixels]. Returns Float64Array(pixels).
 * `subject` names the input in errors.
 */
export function meanFrames(frames: ArrayLike<number>, pixels: number, subject: string): Float64Array {
  if (frames.length === 0 || frames.length % pixels !== 0) {
    throw new MedfieldError('bad-data', subject, `expected a whole number (>= 1) of frames of ${pixels} pixels, got ${frames.length} values`);
  }
  const n = frames.length / pixels;
  const out = new Float64Array(pixels);
  for (let f = 0; f < n; f++) {
    const o = f * pixels;
    for (let i = 0; i < pixels; i++) out[i]! += frames[o + i]!;
  }
  const inv = 1 / n;
  for (let i = 0; i < pixels; i++) out[i]! *= inv;
  return out;
}

/**
 * Converts raw counts `raw` [views, rows, cols] to line integrals with the mean of `flats`
 * [nFlat, rows, cols] and of `darks` [nDark, rows, cols] (any whole number of frames each).
 * Returns Float32Array [views, rows, cols]. Transmission above 1 (noise where nothing
 * attenuates) gives small negative values, which are kept: clipping them would bias the data.
 */
export function flatDarkToLineIntegrals(
  raw: ArrayLike<number>,
  flats: ArrayLike<number>,
  darks: ArrayLike<number>,
  shape: ProjectionShape,
  options: FlatDarkOptions = {},
): Float32Array {
  const { views, rows, cols } = shape;
  for (const [k, v] of [['views', views], ['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new MedfieldError('bad-option', `shape.${k}`, `expected an integer >= 1, got ${String(v)}`);
  }
  const eps = options.epsilon ?? FLAT_DARK_EPSILON;
  if (!(Number.isFinite(eps) && eps > 0)) throw new MedfieldError('bad-option', 'flatDark.epsilon', `expected a clamp > 0 counts, got ${String(eps)}`);
  const pixels = rows * cols;
  if (raw.length !== views * pixels) {
    throw new MedfieldError('bad-data', 'raw', `expected ${views} x ${rows} x ${cols} = ${views * pixels} values, got ${raw.length}`);
  }
  const flat = meanFrames(flats, pixels, 'flats');
  const dark = meanFrames(darks, pixels, 'darks');
  // log of the denominator once per pixel: p = log(flat - dark) - log(raw - dark)
  const logDen = new Float64Array(pixels);
  for (let i = 0; i < pixels; i++) {
    const den = flat[i]! - dark[i]!;
    logDen[i] = Math.log(den > eps ? den : eps);
  }
  const out = new Float32Array(views * pixels);
  for (let v = 0; v < views; v++) {
    const o = v * pixels;
    for (let i = 0; i < pixels; i++) {
      const num = raw[o + i]! - dark[i]!;
      out[o + i] = logDen[i]! - Math.log(num > eps ? num : eps);
    }
  }
  return out;
}
