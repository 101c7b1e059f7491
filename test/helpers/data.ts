import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (tests are compiled to dist/test/..., so walk up to package.json). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** ../shared/data relative to the repository root (GUIDE.md section 5). */
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');
export const HAVE_SHARED_DATA = existsSync(SHARED_DATA);

/** Path inside ../shared/data. */
export function sharedData(...parts: string[]): string {
  return path.join(SHARED_DATA, ...parts);
}

/** For node:test's `skip` option: false when the data is there, else a printed reason. */
export function skipWithoutData(...parts: string[]): string | false {
  const p = sharedData(...parts);
  return existsSync(p) ? false : `shared data not present: ${p}`;
}

/** A source fixture path under test/fixtures (committed, not compiled). */
export function fixture(...parts: string[]): string {
  return path.join(REPO_ROOT, 'test', 'fixtures', ...parts);
}
