/**
 * Checkpoint benchmark: save and load time for a NAF-sized training state — hash grid 16 levels
 * x 2^19 entries x 2 features (Float32, 64 MiB), Adam m and v of the same size (128 MiB), a
 * 32-64-64-1 MLP — through saveCheckpoint (encode, write, fsync, rename, fsync dir) and
 * loadCheckpoint + restoreCheckpoint. Prints a table, or one JSON object per line with --json.
 * Run: npm run bench:checkpoint [-- --json] [-- --dir /path]   (default: a temp dir, removed after)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createRng } from '../src/core/rng.js';
import { decodeCheckpoint, encodeCheckpoint, restoreCheckpoint } from '../src/engine/checkpoint-data.js';
import { createParam, type Optimizer, type OptimizerState, type ParamTensor } from '../src/engine/params.js';
import { loadCheckpoint, saveCheckpoint } from '../src/platform/checkpoint.js';

const json = process.argv.includes('--json');
const dirArg = process.argv.indexOf('--dir');
const dir = dirArg > 0 ? process.argv[dirArg + 1]! : mkdtempSync(path.join(tmpdir(), 'medfield-bench-ckpt-'));
const REPEATS = 3;

const LEVELS = 16, ENTRIES = 2 ** 19, FEATURES = 2;
const params: ParamTensor[] = [];
for (let l = 0; l < LEVELS; l++) params.push(createParam(`encoding.level${String(l).padStart(2, '0')}.table`, [ENTRIES, FEATURES], { shared: true, sparseRows: true }));
const widths = [32, 64, 64, 1];
for (let k = 0; k + 1 < widths.length; k++) {
  params.push(createParam(`mlp.layer${k}.weight`, [widths[k + 1]!, widths[k]!], { shared: true }));
  params.push(createParam(`mlp.layer${k}.bias`, [widths[k + 1]!], { shared: true }));
}
const rng = createRng(1);
for (const p of params) for (let i = 0; i < p.data.length; i++) p.data[i] = (rng.next() - 0.5) * 2e-4;

// Adam state shaped like the engine's: m and v per tensor, step count.
const m = params.map((p) => Float32Array.from(p.data, (v) => v * 0.1));
const v = params.map((p) => Float32Array.from(p.data, (x) => x * x));
const optState: OptimizerState = {
  kind: 'adam',
  tensors: Object.fromEntries(params.flatMap((p, k) => [[`adam.m.${p.name}`, m[k]!], [`adam.v.${p.name}`, v[k]!]])),
  scalars: { t: 1000, beta1Power: 0.9 ** 1000, beta2Power: 0.999 ** 1000 },
};
const optimizer: Optimizer = {
  step() {},
  state: () => optState,
  loadState(s) { params.forEach((p, k) => { m[k]!.set(s.tensors[`adam.m.${p.name}`]!); v[k]!.set(s.tensors[`adam.v.${p.name}`]!); }); },
};
const config = { preset: 'naf-bench', encoding: { kind: 'hash-grid', levels: LEVELS, log2TableSize: 19, features: FEATURES }, mlp: widths };
const input = { step: 1000, params, optimizer: optState, rngs: { sampler: rng.getState() }, config };

function best<T>(fn: () => T): { seconds: number; out: T } {
  let bestS = Infinity, out: T | undefined;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    out = fn();
    bestS = Math.min(bestS, (performance.now() - t0) / 1000);
  }
  return { seconds: bestS, out: out! };
}
async function bestAsync<T>(fn: () => Promise<T>): Promise<{ seconds: number; out: T }> {
  let bestS = Infinity, out: T | undefined;
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    out = await fn();
    bestS = Math.min(bestS, (performance.now() - t0) / 1000);
  }
  return { seconds: bestS, out: out! };
}

try {
  const rows: { step: string; seconds: number; mb: number }[] = [];
  const report = (step: string, seconds: number, mb: number): void => {
    rows.push({ step, seconds, mb });
    if (json) process.stdout.write(JSON.stringify({ bench: 'checkpoint', step, seconds: +seconds.toFixed(4), megabytes: +mb.toFixed(1), mbPerSec: +(mb / seconds).toFixed(0) }) + '\n');
  };
  const enc = best(() => encodeCheckpoint(input));
  const mb = enc.out.length / 2 ** 20;
  report('encode to one buffer (in memory)', enc.seconds, mb);
  report('decode + validate (in memory, copies)', best(() => decodeCheckpoint(enc.out)).seconds, mb);
  const save = await bestAsync(() => saveCheckpoint(dir, input));
  report('saveCheckpoint (stream, fsync, rename, fsync dir)', save.seconds, mb);
  const load = await bestAsync(() => loadCheckpoint(dir));
  report('loadCheckpoint (read + validate)', load.seconds, mb);
  report('restoreCheckpoint (copy into params + optimiser)', best(() => restoreCheckpoint(load.out, { params, optimizer })).seconds, mb);
  if (!json) {
    process.stdout.write(`checkpoint benchmark: ${params.length} params (${LEVELS} x ${ENTRIES} x ${FEATURES} hash table + MLP ${widths.join('-')}) + Adam m/v = ${mb.toFixed(1)} MiB, best of ${REPEATS}, dir ${dir}\n`);
    for (const r of rows) process.stdout.write(`  ${r.step.padEnd(52)} ${r.seconds.toFixed(3).padStart(7)} s  ${(r.mb / r.seconds).toFixed(0).padStart(6)} MiB/s\n`);
    process.stdout.write(`  peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`);
  }
} finally {
  if (dirArg < 0) rmSync(dir, { recursive: true, force: true });
}
