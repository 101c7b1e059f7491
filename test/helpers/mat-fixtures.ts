/**
 * MAT-file fixtures written by scipy.io.savemat at test time (scripts/xdata-fixtures.py) into a
 * temporary folder; null (with the reason) when python3 with scipy is not available.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './data.js';

let cached: { dir: string | null; reason: string } | undefined;

/** Folder holding v5-plain.mat and v7-compressed.mat, or null. */
export function matFixtures(): { dir: string | null; reason: string } {
  if (cached) return cached;
  const dir = mkdtempSync(path.join(tmpdir(), 'medfield-mat-'));
  const r = spawnSync('python3', [path.join(REPO_ROOT, 'scripts', 'xdata-fixtures.py'), dir], { encoding: 'utf8' });
  cached = r.status === 0 ? { dir, reason: '' } : { dir: null, reason: `python3 with scipy is needed to write the MAT fixtures (${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()})` };
  return cached;
}
