/**
 * Global histogram equalisation as in the MedNeRF poster pipeline: T(r_k) = round((L-1) CDF(r_k)).
 */
import { check } from '../core/errors.js';
import { withData, type Volume } from '../core/volume.js';
import { maskedMoments } from './intensity.js';
import { checkInt, checkRange, checkVolume, maskValues, type Mask } from './validate.js';

/** What happens to voxels outside the mask: set to 0, kept as they were, or mapped with the mask's T. */
export const OUTSIDE_MASK = ['zero', 'keep', 'map'] as const;
export type OutsideMask = (typeof OUTSIDE_MASK)[number];

export interface HistogramEqualizationOptions {
  /** Number of grey levels L, integer >= 2 (default 256). */
  levels?: number;
  /**
   * Quantisation range [lo, hi]; default the finite [min, max] of the voxels (inside `mask`
   * when given). Values outside it fall into the first / last level.
   */
  range?: [number, number];
  /** Only voxels with a nonzero mask value count in the CDF. */
  mask?: Mask;
  /** Voxels outside the mask (default 'zero'; 'keep' leaves the original value, in input units). */
  outside?: OutsideMask;
  /** 'levels' (default): output in {0, ..., L-1}; 'unit': divided by L-1, in [0, 1]. */
  output?: 'levels' | 'unit';
}

/**
 * Level r of x among L equal-width bins over [lo, hi]: floor((x - lo) / (hi - lo) * L), clamped
 * to [0, L-1] (so hi itself is in the last bin, like numpy.histogram). lo = hi puts all in 0.
 */
export function quantizeLevel(x: number, lo: number, hi: number, levels: number): number {
  if (!(hi > lo)) return 0;
  const r = Math.floor(((x - lo) / (hi - lo)) * levels);
  return r < 0 ? 0 : r >= levels ? levels - 1 : r;
}

/**
 * Histogram of the finite voxels (inside `mask`) over `bins` equal-width bins of [lo, hi]
 * (default the finite min/max of those voxels), binned by {@link quantizeLevel}.
 * @returns counts per bin (Float64Array of length bins) and the range used.
 */
export function intensityHistogram(v: Volume, bins: number, range?: [number, number], mask?: Mask): { counts: Float64Array; range: [number, number] } {
  checkVolume(v);
  checkInt(bins, 1, 1 << 24, 'bins');
  const [lo, hi] = resolveRange(v, range, mask);
  const d = v.data, m = mask === undefined ? undefined : maskValues(mask, v);
  const counts = new Float64Array(bins);
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (!Number.isFinite(x) || (m !== undefined && m[i] === 0)) continue;
    counts[quantizeLevel(x, lo, hi, bins)]++;
  }
  return { counts, range: [lo, hi] };
}

/**
 * Histogram equalisation (Gonzalez & Woods, Digital Image Processing, eq. 3.3-8; the MedNeRF
 * poster's preprocessing): each voxel is quantised to a level r_k in {0..L-1} over the range
 * (see {@link quantizeLevel}), and mapped to T(r_k) = round((L-1) * CDF(r_k)), where
 * CDF(r_k) = (number of counted voxels with level <= r_k) / (number counted). Counted voxels are
 * the finite ones (inside `mask` when given). Non-finite voxels are passed through unchanged.
 * @returns a Float32 volume with values in {0..L-1} (or [0, 1] with output 'unit').
 * @throws MedfieldError 'bad-option' for L < 2 or a bad range; 'bad-data' if nothing is counted.
 */
export function equalizeHistogram(v: Volume, opts: HistogramEqualizationOptions = {}): Volume<Float32Array> {
  const levels = opts.levels ?? 256;
  checkInt(levels, 2, 1 << 24, 'levels');
  const outside = opts.outside ?? 'zero';
  check((OUTSIDE_MASK as readonly string[]).includes(outside), 'outside', `expected one of ${OUTSIDE_MASK.join(', ')}, got ${String(outside)}`);
  const output = opts.output ?? 'levels';
  check(output === 'levels' || output === 'unit', 'output', `expected 'levels' or 'unit', got ${String(output)}`);

  const { counts, range } = intensityHistogram(v, levels, opts.range, opts.mask);
  const [lo, hi] = range;
  let total = 0;
  for (let k = 0; k < levels; k++) total += counts[k];
  check(total > 0, 'mask', 'no finite voxel inside the mask');
  // Lookup table T(r_k), optionally rescaled to [0, 1].
  const lut = new Float32Array(levels);
  const outScale = output === 'unit' ? 1 / (levels - 1) : 1;
  let cum = 0;
  for (let k = 0; k < levels; k++) {
    cum += counts[k];
    lut[k] = Math.round(((levels - 1) * cum) / total) * outScale;
  }

  const d = v.data, m = opts.mask === undefined ? undefined : maskValues(opts.mask, v);
  const out = new Float32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const x = d[i];
    if (!Number.isFinite(x)) { out[i] = x; continue; }
    if (m !== undefined && m[i] === 0 && outside !== 'map') { out[i] = outside === 'zero' ? 0 : x; continue; }
    out[i] = lut[quantizeLevel(x, lo, hi, levels)];
  }
  return withData(v, out);
}

/** The given range (checked) or the finite [min, max] of the (masked) voxels. */
export function resolveRange(v: Volume, range: [number, number] | undefined, mask?: Mask): [number, number] {
  if (range) {
    checkRange(range, 'range');
    return [range[0], range[1]];
  }
  const s = maskedMoments(v, mask);
  return [s.min, s.max];
}
