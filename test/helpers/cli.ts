import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { REPO_ROOT } from './data.js';

export interface CliResult { code: number; stdout: string; stderr: string; json: Record<string, unknown> | null }

/** Runs the real `medfield` bin (bin/medfield.js -> dist/cli) and captures its output. */
export function runCli(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'medfield.js'), ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    encoding: 'utf8',
    env: { ...process.env, MEDFIELD_DEBUG: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  let json: Record<string, unknown> | null = null;
  if (args.includes('--json')) {
    try { json = JSON.parse(r.stdout) as Record<string, unknown>; } catch { json = null; }
  }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}
