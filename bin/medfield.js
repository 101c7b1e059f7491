#!/usr/bin/env node
// Entry point of the `medfield` command. The TypeScript sources are compiled to dist/ by
// `npm ci` (the package's prepare script) or `npm run build`.
import { existsSync } from 'node:fs';
const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('medfield: error: dist/ is missing; run `npm ci` (or `npm run build`) in the medfield folder first\n');
  process.exit(1);
}
const { main } = await import(entry.href);
await main(process.argv);
