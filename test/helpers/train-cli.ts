/**
 * Runs the medfield CLI with the train/render/export commands registered (they are wired into
 * cli/main.ts by the lead; until then this entry adds them to the real program).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import { REPO_ROOT } from './data.js';
import type { CliResult } from './cli.js';

const ENTRY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'train-cli-entry.js');

export function runTrainCli(args: string[]): CliResult {
  const r = spawnSync(process.execPath, [ENTRY, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, MEDFIELD_DEBUG: '' }, maxBuffer: 64 * 1024 * 1024 });
  let json: Record<string, unknown> | null = null;
  if (args.includes('--json')) { try { json = JSON.parse(r.stdout) as Record<string, unknown>; } catch { json = null; } }
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, json };
}

/** Starts the CLI without waiting (for kill tests). */
export function spawnTrainCli(args: string[]): ChildProcess {
  return spawn(process.execPath, [ENTRY, ...args], { cwd: REPO_ROOT, env: { ...process.env, MEDFIELD_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
}
