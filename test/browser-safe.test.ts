import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from './helpers/data.js';

/** Bare imports the platform-neutral library may use: all of them run in browsers. */
const BROWSER_SAFE_PACKAGES = new Set(['fflate', 'fast-png', 'zod']);

test('the library entry point imports nothing node-only (it must load in a browser bundle)', () => {
  const start = path.join(REPO_ROOT, 'dist', 'src', 'index.js');
  const seen = new Set<string>();
  const stack = [start];
  const offenders: string[] = [];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    // Drop comments so commented-out imports do not count.
    const src = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) stack.push(path.resolve(path.dirname(file), spec));
      else if (!BROWSER_SAFE_PACKAGES.has(spec)) offenders.push(`${path.relative(REPO_ROOT, file)} imports ${spec}`);
    }
  }
  assert.ok(seen.size > 10, `walked only ${seen.size} modules`);
  assert.deepEqual(offenders, []);
});
