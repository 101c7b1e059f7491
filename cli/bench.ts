/**
 * `medfield bench <suite>`: the benchmark protocols of GUIDE.md section 6. Each suite is a
 * program under bench/ (compiled to dist/bench/), run in a child process with this Node binary
 * so its figures print exactly as with `npm run bench:*`. Data paths are relative to the current
 * folder (../shared/data beside the repository).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import type { Command } from 'commander';
import { MedfieldError } from '../src/core/errors.js';
import { action, type GlobalOptions } from './common.js';

/** Suite -> program and the arguments it is given before the user's. */
export const BENCH_SUITES: Readonly<Record<string, { script: string; args: string[]; what: string }>> = {
  'ct-50': { script: 'neural-ct.js', args: ['--protocol', 'ct-50'], what: 'neural attenuation field vs FDK and SART on ct-50 (real CT)' },
  'ct-25-360': { script: 'neural-ct.js', args: ['--protocol', 'ct-25-360'], what: 'neural attenuation field vs FDK and SART on ct-25-360 (real CT)' },
  'views-72': { script: 'neural-views.js', args: [], what: 'radiance field on 72 views of brain MRIs (BraTS, TCGA)' },
  classical: { script: 'ct-protocol.js', args: [], what: 'FDK, SART, OS-SART, SIRT, CGLS on ct-50 (--protocol to change)' },
  engine: { script: 'engine.js', args: [], what: 'neural-field engine: NAF and dense 128^3 training steps' },
  projector: { script: 'projector.js', args: [], what: 'Siddon and trilinear projector throughput' },
  fdk: { script: 'fdk.js', args: [], what: 'FDK wall time, 128^3 and 256^3' },
  checkpoint: { script: 'checkpoint.js', args: [], what: 'checkpoint save/load of a NAF-sized state' },
  'real-xray': { script: 'real-xray.js', args: [], what: 'tooth and HTC2022 reconstructions (writes PNGs)' },
  svr: { script: 'svr.js', args: [], what: 'slice-to-volume reconstruction vs naive fusion on brain MRIs (BraTS t1c, stroke T1)' },
};

export function registerBench(program: Command): void {
  program
    .command('bench <suite> [args...]')
    .description(`run a benchmark protocol and print its table (${Object.keys(BENCH_SUITES).join(', ')}); extra arguments go to the suite, e.g. --minutes 2`)
    .allowUnknownOption(true)
    .action(action(async (suite: string, args: string[], _opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const s = BENCH_SUITES[suite];
      if (!s) throw new MedfieldError('bad-option', 'suite', `unknown benchmark "${suite}"; expected one of ${Object.keys(BENCH_SUITES).join(', ')}`);
      const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bench', s.script);
      if (!existsSync(script)) throw new MedfieldError('io', script, 'benchmark program not found; run `npm run build` first');
      const all = [...s.args, ...args, ...(g.json ? ['--json'] : [])];
      const code = await new Promise<number>((resolve) => {
        const child = spawn(process.execPath, [script, ...all], { stdio: 'inherit' });
        child.on('exit', (c) => resolve(c ?? 1));
      });
      if (code !== 0) throw new MedfieldError('bad-data', `bench ${suite}`, `the benchmark exited with status ${code}`);
    }));
}
