/** Shared CLI plumbing: --json output, error reporting, option parsing. */
import { Command, InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { MedfieldError, isMedfieldError } from '../src/core/errors.js';
import { orientationCode, volumeStats, dtypeOf, type Volume, type VolumeSeries } from '../src/core/volume.js';

export interface GlobalOptions { json?: boolean; quiet?: boolean }

/** Prints the result: one JSON object on stdout with --json, else the human text. */
export function emit(opts: GlobalOptions, json: unknown, human: string | (() => string)): void {
  if (opts.json) process.stdout.write(JSON.stringify(json, jsonReplacer) + '\n');
  else process.stdout.write((typeof human === 'function' ? human() : human) + '\n');
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return value > 0 ? 'Infinity' : value < 0 ? '-Infinity' : 'NaN';
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** Logs to stderr unless quiet or json output is on (stdout must stay one JSON object). */
export function log(opts: GlobalOptions, msg: string): void {
  if (!opts.quiet) process.stderr.write(msg + '\n');
}

/**
 * Wraps an action: MedfieldErrors (and other errors) become one clear line on stderr and a
 * non-zero exit; with --json, an {"error": ...} object on stdout too.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const cmd = args[args.length - 1] as Command | undefined;
      const opts = (cmd && typeof cmd.optsWithGlobals === 'function' ? cmd.optsWithGlobals() : {}) as GlobalOptions;
      reportError(e, opts);
    }
  };
}

export function reportError(e: unknown, opts: GlobalOptions): never {
  const known = isMedfieldError(e);
  const msg = known ? e.message : e instanceof Error ? e.message : String(e);
  process.stderr.write(`medfield: error: ${msg}\n`);
  if (!known && process.env.MEDFIELD_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  if (!known && !process.env.MEDFIELD_DEBUG) process.stderr.write('medfield: (unexpected error; set MEDFIELD_DEBUG=1 for a stack trace)\n');
  if (opts.json) process.stdout.write(JSON.stringify({ error: msg, code: known ? e.code : 'internal', subject: known ? e.subject : '' }) + '\n');
  process.exit(known && e.code === 'bad-option' ? 2 : 1);
}

export function parseNumber(name: string, opts: { min?: number; max?: number; integer?: boolean; exclusiveMin?: boolean } = {}) {
  return (value: string): number => {
    const v = Number(value);
    if (value.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
    if (opts.integer && !Number.isInteger(v)) throw new InvalidArgumentError(`${name} must be an integer, got "${value}"`);
    if (opts.min !== undefined && (opts.exclusiveMin ? v <= opts.min : v < opts.min)) {
      throw new InvalidArgumentError(`${name} must be ${opts.exclusiveMin ? '>' : '>='} ${opts.min}, got ${v}`);
    }
    if (opts.max !== undefined && v > opts.max) throw new InvalidArgumentError(`${name} must be <= ${opts.max}, got ${v}`);
    return v;
  };
}

/** Parses "N" or "NxNxN" (or "N,N,N") into three positive integers. */
export function parseSize(name: string) {
  return (value: string): [number, number, number] => {
    const parts = value.split(/[x,]/i).map((s) => Number(s.trim()));
    if (!(parts.length === 1 || parts.length === 3) || parts.some((p) => !Number.isInteger(p) || p < 1)) {
      throw new InvalidArgumentError(`${name} must be N or NxNxN with positive integers, got "${value}"`);
    }
    return parts.length === 1 ? [parts[0], parts[0], parts[0]] : [parts[0], parts[1], parts[2]];
  };
}

/** Parses "a" or "a,b,c" into three positive numbers (mm). */
export function parseTriple(name: string) {
  return (value: string): [number, number, number] => {
    const parts = value.split(/[x,]/i).map((s) => Number(s.trim()));
    if (!(parts.length === 1 || parts.length === 3) || parts.some((p) => !Number.isFinite(p) || p <= 0)) {
      throw new InvalidArgumentError(`${name} must be a positive number or three comma-separated ones, got "${value}"`);
    }
    return parts.length === 1 ? [parts[0], parts[0], parts[0]] : [parts[0], parts[1], parts[2]];
  };
}

export function parseChoice<T extends string>(name: string, choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`${name} must be one of ${choices.join(', ')}, got "${value}"`);
    return value as T;
  };
}

/** Throws a clear error if the volume holds NaN or Inf values (metrics and filters need finite data). */
export function assertFinite(v: Volume, file: string): void {
  let bad = 0;
  const d = v.data;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) bad++;
  if (bad > 0) throw new MedfieldError('bad-data', file, `contains ${bad} NaN/Inf values of ${d.length}; expected finite intensities`);
}

/** The info record of a volume, as printed by `medfield info` and the demo. */
export function describeVolume(v: Volume | VolumeSeries, extra: Record<string, unknown> = {}) {
  const st = volumeStats(v.data);
  const r = (x: number) => Number(x.toPrecision(10));
  return {
    ...extra,
    dims: [...v.dims],
    frames: 'frames' in v ? v.frames : 1,
    ...('frames' in v && v.frames > 1 ? { frameSpacing: v.frameSpacing } : {}),
    spacingMm: v.spacingMm.map(r),
    originMm: v.originMm.map(r),
    direction: Array.from(v.direction, r),
    orientation: orientationCode(v.direction),
    dtype: dtypeOf(v.data),
    min: st.min, max: st.max, mean: r(st.mean), std: r(st.std),
    nonFinite: st.nonFinite,
  };
}

export function formatInfo(info: ReturnType<typeof describeVolume>): string {
  const f = (a: number[], p = 4) => a.map((x) => Number(x.toFixed(p))).join(' x ');
  const lines = [
    ...Object.entries(info).filter(([k]) => ['file', 'format'].includes(k)).map(([k, v]) => `${k.padEnd(12)}${String(v)}`),
    `${'dims'.padEnd(12)}${info.dims.join(' x ')}${info.frames > 1 ? ` x ${info.frames} frames` : ''}`,
    `${'spacing'.padEnd(12)}${f(info.spacingMm)} mm`,
    `${'origin'.padEnd(12)}${info.originMm.map((x) => x.toFixed(3)).join(', ')} mm (RAS)`,
    `${'orientation'.padEnd(12)}${info.orientation}  direction [${info.direction.map((x) => x.toFixed(4)).join(', ')}]`,
    `${'dtype'.padEnd(12)}${info.dtype}`,
    `${'range'.padEnd(12)}${info.min} .. ${info.max}  mean ${info.mean.toPrecision(6)}  std ${info.std.toPrecision(6)}`,
  ];
  if (info.nonFinite > 0) lines.push(`${'warning'.padEnd(12)}${info.nonFinite} NaN/Inf values`);
  return lines.join('\n');
}

/** The text of a --config file, or one clear error naming the file. */
export async function readConfigText(file: string): Promise<string> {
  try { return await readFile(file, 'utf8'); } catch (e) {
    throw new MedfieldError('bad-option', file, `cannot read the config file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}
