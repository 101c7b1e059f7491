/**
 * Dice similarity coefficient (Dice 1945; Sorensen 1948) of label maps:
 * DSC = 2 |A ∩ B| / (|A| + |B|), per label. Convention for a label absent from both maps:
 * DSC = 1 (nothing to find, nothing found), matching the NSD convention in surface-dice.ts.
 */
import { MedfieldError } from '../core/errors.js';
import { checkPair } from './validate.js';

/** Dice of one label. */
export interface LabelDice {
  /** Label value. */
  label: number;
  /** Dice coefficient in [0, 1]. */
  dice: number;
  /** Voxels with this label in the reference (`a`). */
  countA: number;
  /** Voxels with this label in the test map (`b`). */
  countB: number;
  /** Voxels with this label in both. */
  overlap: number;
}

/** Per-label voxel counts: |A=l|, |B=l|, |A=l and B=l|. */
function countLabels(a: ArrayLike<number>, b: ArrayLike<number>): Map<number, [number, number, number]> {
  checkPair(a, b, 'label maps');
  const counts = new Map<number, [number, number, number]>();
  const get = (l: number): [number, number, number] => {
    let c = counts.get(l);
    if (c === undefined) {
      if (!Number.isFinite(l)) throw new MedfieldError('bad-data', 'label maps', `labels must be finite numbers, found ${l}`);
      c = [0, 0, 0];
      counts.set(l, c);
    }
    return c;
  };
  // Runs of equal labels are common (background, large structures): cache the last lookup.
  let lastA = NaN, cA: [number, number, number] = [0, 0, 0];
  let lastB = NaN, cB: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    const la = a[i], lb = b[i];
    if (la !== lastA) { cA = get(la); lastA = la; }
    if (lb !== lastB) { cB = get(lb); lastB = lb; }
    cA[0]++;
    cB[1]++;
    if (la === lb) cA[2]++;
  }
  return counts;
}

function diceOf(label: number, c: readonly [number, number, number] | undefined): LabelDice {
  const [countA, countB, overlap] = c ?? [0, 0, 0];
  const denom = countA + countB;
  return { label, dice: denom === 0 ? 1 : (2 * overlap) / denom, countA, countB, overlap };
}

/**
 * Dice of the voxels equal to `label` in two label maps (any integer typed array; a binary
 * mask is a label map with label 1).
 * @returns 2|A ∩ B| / (|A| + |B|); 1 when the label is absent from both.
 * @throws MedfieldError 'bad-data' on mismatched lengths or empty maps.
 */
export function dice(a: ArrayLike<number>, b: ArrayLike<number>, label = 1): number {
  checkPair(a, b, 'label maps');
  let na = 0, nb = 0, both = 0;
  for (let i = 0; i < a.length; i++) {
    const ia = a[i] === label, ib = b[i] === label;
    if (ia) na++;
    if (ib) nb++;
    if (ia && ib) both++;
  }
  return na + nb === 0 ? 1 : (2 * both) / (na + nb);
}

/**
 * Dice of every label in one pass.
 * @param labels - Labels to score; default: every label other than `background` present in
 *   either map, ascending.
 * @param background - Label excluded from the default list (default 0).
 * @returns One entry per label, in the order of `labels`.
 */
export function dicePerLabel(
  a: ArrayLike<number>, b: ArrayLike<number>, labels?: readonly number[], background = 0,
): LabelDice[] {
  const counts = countLabels(a, b);
  const list = labels ?? [...counts.keys()].filter((l) => l !== background).sort((x, y) => x - y);
  return list.map((l) => diceOf(l, counts.get(l)));
}

/**
 * Unweighted mean of {@link dicePerLabel} over the labels (each structure counts once,
 * whatever its size).
 * @returns The mean; 1 when there is no label to score (both maps all background).
 */
export function meanDice(a: ArrayLike<number>, b: ArrayLike<number>, labels?: readonly number[], background = 0): number {
  const per = dicePerLabel(a, b, labels, background);
  if (per.length === 0) return 1;
  let sum = 0;
  for (const d of per) sum += d.dice;
  return sum / per.length;
}
