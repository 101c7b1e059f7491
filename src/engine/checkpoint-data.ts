/**
 * Training checkpoints as safetensors bytes (platform-neutral; src/platform/checkpoint.ts puts
 * them on disk atomically). One file holds everything needed to resume bit-exactly: parameters,
 * the optimiser's state (OptimizerState), RNG states, the step, and the resolved config.
 * Layout and naming are documented in docs/checkpoints.md:
 *
 *   tensors                                  dtype  shape
 *   <param.name>                             F32    param.shape      e.g. 'mlp.layer1.weight'
 *   <optimizer tensor key>                   F32    [length]         e.g. 'adam.m.mlp.layer1.weight'
 *   'optimizer.scalars'                      F64    [n]              values of optimizer.scalars
 *   'rng.<name>'                             F64    [2]              [counter, spare or NaN]
 *
 *   __metadata__ (strings)
 *   format='medfield-checkpoint', format_version='1', step='<integer>',
 *   params='<JSON array of names, model order>', rngs='<JSON array of names>',
 *   optimizer='<JSON {kind, tensors: [keys], scalars: [names]}>' (absent without optimiser),
 *   config='<resolved config JSON>' (absent without config), plus caller keys.
 *
 * Scalars and RNG states are stored as F64 tensors rather than JSON text so that every bit
 * (including -0 and NaN) survives the round trip.
 */
import { MedfieldError } from '../core/errors.js';
import type { Rng, RngState } from '../core/rng.js';
import { decodeSafetensors, encodeSafetensors, encodeSafetensorsChunks, type SafetensorsInput } from '../io/safetensors.js';
import { shapeSize, zeroGrad, type Optimizer, type OptimizerState, type ParamTensor } from './params.js';

export const CHECKPOINT_FORMAT = 'medfield-checkpoint';
export const CHECKPOINT_FORMAT_VERSION = 1;
/** Metadata keys this module writes; caller metadata may not use them. */
export const CHECKPOINT_RESERVED_KEYS = ['format', 'format_version', 'step', 'params', 'rngs', 'optimizer', 'config'] as const;
const SCALARS_KEY = 'optimizer.scalars';
const RNG_PREFIX = 'rng.';

/** What a checkpoint stores. */
export interface CheckpointInput {
  /** Completed optimiser steps (integer >= 0); training resumes at this step. */
  readonly step: number;
  readonly params: readonly ParamTensor[];
  readonly optimizer?: OptimizerState;
  /** Named RNG states, e.g. { sampler: rng.getState() }. */
  readonly rngs?: Readonly<Record<string, RngState>>;
  /** The run's fully resolved config (JSON-serialisable plain data). */
  readonly config?: unknown;
  /** Extra string metadata (not one of CHECKPOINT_RESERVED_KEYS). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A decoded checkpoint, validated for internal consistency (not yet against a model). */
export interface CheckpointData {
  readonly step: number;
  /** Parameter tensors in model order. */
  readonly params: ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;
  readonly optimizer: OptimizerState | null;
  readonly rngs: Readonly<Record<string, RngState>>;
  /** Parsed resolved config (undefined when none was stored). */
  readonly config: unknown;
  /** The raw `__metadata__` map (all keys, including caller keys). */
  readonly metadata: Readonly<Record<string, string>>;
}

function badData(subject: string, msg: string): never {
  throw new MedfieldError('bad-data', subject, msg);
}

function buildTensors(input: CheckpointInput): { tensors: Map<string, SafetensorsInput>; metadata: Record<string, string> } {
  const subject = 'checkpoint';
  if (!Number.isSafeInteger(input.step) || input.step < 0) badData(`${subject}.step`, `expected an integer >= 0, got ${input.step}`);
  const tensors = new Map<string, SafetensorsInput>();
  const owner = new Map<string, string>();
  const add = (key: string, what: string, t: SafetensorsInput): void => {
    const prev = owner.get(key);
    if (prev !== undefined) badData(`tensor '${key}'`, `name used twice in the checkpoint (${prev} and ${what})`);
    owner.set(key, what);
    tensors.set(key, t);
  };
  for (const p of input.params) {
    if (p.data.length !== shapeSize(p.shape)) badData(`tensor '${p.name}'`, `shape [${p.shape.join(', ')}] needs ${shapeSize(p.shape)} values, data has ${p.data.length}`);
    add(p.name, 'parameter', { data: p.data, shape: p.shape, dtype: 'F32' });
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(input.metadata ?? {})) {
    if ((CHECKPOINT_RESERVED_KEYS as readonly string[]).includes(k)) badData(`checkpoint metadata '${k}'`, 'is a reserved key');
    if (typeof v !== 'string') badData(`checkpoint metadata '${k}'`, `must be a string, got ${typeof v}`);
    metadata[k] = v;
  }
  metadata['format'] = CHECKPOINT_FORMAT;
  metadata['format_version'] = String(CHECKPOINT_FORMAT_VERSION);
  metadata['step'] = String(input.step);
  metadata['params'] = JSON.stringify(input.params.map((p) => p.name));
  if (input.optimizer) {
    const o = input.optimizer;
    const keys = Object.keys(o.tensors);
    for (const k of keys) add(k, `optimizer state (${o.kind})`, { data: o.tensors[k]!, dtype: 'F32' });
    const names = Object.keys(o.scalars);
    const values = new Float64Array(names.length);
    names.forEach((n, i) => {
      const v = o.scalars[n];
      if (typeof v !== 'number') badData(`optimizer scalar '${n}'`, `must be a number, got ${typeof v}`);
      values[i] = v;
    });
    add(SCALARS_KEY, 'optimizer scalars', { data: values, dtype: 'F64' });
    metadata['optimizer'] = JSON.stringify({ kind: o.kind, tensors: keys, scalars: names });
  }
  const rngNames = Object.keys(input.rngs ?? {});
  for (const n of rngNames) {
    const s = input.rngs![n]!;
    if (!Number.isInteger(s.counter) || s.counter < 0 || s.counter > 0xffffffff) badData(`rng '${n}'`, `counter must be an integer in [0, 2^32), got ${s.counter}`);
    add(RNG_PREFIX + n, `rng '${n}'`, { data: new Float64Array([s.counter, s.spare === null ? NaN : s.spare]), dtype: 'F64' });
  }
  metadata['rngs'] = JSON.stringify(rngNames);
  if (input.config !== undefined) {
    let json: string | undefined;
    try {
      json = JSON.stringify(input.config);
    } catch (e) {
      badData('checkpoint.config', `is not JSON-serialisable (${(e as Error).message})`);
    }
    if (json === undefined) badData('checkpoint.config', 'is not JSON-serialisable');
    metadata['config'] = json;
  }
  return { tensors, metadata };
}

/** Encodes a checkpoint as byte chunks (header, then views of each tensor: no copy of the data). */
export function encodeCheckpointChunks(input: CheckpointInput): Uint8Array<ArrayBufferLike>[] {
  const { tensors, metadata } = buildTensors(input);
  return encodeSafetensorsChunks(tensors, metadata);
}

/** Encodes a checkpoint as one safetensors byte array. */
export function encodeCheckpoint(input: CheckpointInput): Uint8Array {
  const { tensors, metadata } = buildTensors(input);
  return encodeSafetensors(tensors, metadata);
}

function parseJson(subject: string, key: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new MedfieldError('bad-file', subject, `metadata '${key}' is not valid JSON (${(e as Error).message})`);
  }
}

function stringArray(subject: string, key: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new MedfieldError('bad-file', subject, `metadata '${key}' must be a JSON array of strings`);
  return v as string[];
}

/**
 * Decodes checkpoint bytes and checks they are a complete medfield checkpoint: format and
 * version, every listed tensor present with the right dtype/shape, no unlisted tensors.
 * `copy: false` lets aligned tensors alias `bytes` (use when the bytes are not reused).
 */
export function decodeCheckpoint(bytes: Uint8Array, subject = 'checkpoint', options: { copy?: boolean } = {}): CheckpointData {
  const file = decodeSafetensors(bytes, subject, options);
  const md = file.metadata;
  const bad = (msg: string): never => { throw new MedfieldError('bad-file', subject, msg); };
  if (md['format'] !== CHECKPOINT_FORMAT) bad(`not a medfield checkpoint (metadata format=${JSON.stringify(md['format'] ?? null)}, expected '${CHECKPOINT_FORMAT}')`);
  const version = Number(md['format_version']);
  if (!Number.isInteger(version) || version < 1) bad(`bad format_version ${JSON.stringify(md['format_version'] ?? null)}`);
  if (version > CHECKPOINT_FORMAT_VERSION) {
    throw new MedfieldError('unsupported', subject, `checkpoint format version ${version} is newer than this build reads (${CHECKPOINT_FORMAT_VERSION}); upgrade medfield`);
  }
  const step = Number(md['step']);
  if (md['step'] === undefined || !/^\d+$/.test(md['step']) || !Number.isSafeInteger(step)) bad(`metadata 'step' must be a non-negative integer, got ${JSON.stringify(md['step'] ?? null)}`);
  const used = new Set<string>();
  const take = (key: string, what: string, dtype: 'F32' | 'F64') => {
    const t = file.tensors.get(key);
    if (!t) return bad(`tensor '${key}' (${what}) is listed in the metadata but missing from the file`);
    if (t.dtype !== dtype) return bad(`tensor '${key}' (${what}) has dtype ${t.dtype}, expected ${dtype}`);
    used.add(key);
    return t;
  };
  const params = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const name of stringArray(subject, 'params', parseJson(subject, 'params', md['params'] ?? '[]'))) {
    const t = take(name, 'parameter', 'F32');
    params.set(name, { shape: t.shape, data: t.data as Float32Array });
  }
  let optimizer: OptimizerState | null = null;
  const om = parseJson(subject, 'optimizer', md['optimizer']);
  if (om !== undefined) {
    if (typeof om !== 'object' || om === null || typeof (om as { kind?: unknown }).kind !== 'string') bad(`metadata 'optimizer' must be {kind, tensors, scalars}`);
    const o = om as { kind: string; tensors?: unknown; scalars?: unknown };
    const tensors: Record<string, Float32Array> = {};
    for (const k of stringArray(subject, 'optimizer.tensors', o.tensors)) tensors[k] = take(k, `optimizer state (${o.kind})`, 'F32').data as Float32Array;
    const names = stringArray(subject, 'optimizer.scalars', o.scalars);
    const sv = take(SCALARS_KEY, 'optimizer scalars', 'F64').data as Float64Array;
    if (sv.length !== names.length) bad(`tensor '${SCALARS_KEY}' has ${sv.length} values, metadata lists ${names.length} scalars`);
    const scalars: Record<string, number> = {};
    names.forEach((n, i) => { scalars[n] = sv[i]!; });
    optimizer = { kind: o.kind, tensors, scalars };
  }
  const rngs: Record<string, RngState> = {};
  for (const n of stringArray(subject, 'rngs', parseJson(subject, 'rngs', md['rngs'] ?? '[]'))) {
    const t = take(RNG_PREFIX + n, `rng '${n}'`, 'F64');
    const v = t.data as Float64Array;
    if (v.length !== 2 || !Number.isInteger(v[0]) || v[0]! < 0 || v[0]! > 0xffffffff) bad(`tensor '${RNG_PREFIX + n}' must hold [counter (uint32), spare]`);
    rngs[n] = { counter: v[0]!, spare: Number.isNaN(v[1]) ? null : v[1]! };
  }
  for (const k of file.tensors.keys()) if (!used.has(k)) bad(`tensor '${k}' is not listed in the checkpoint metadata (not written by medfield, or edited)`);
  const config = parseJson(subject, 'config', md['config']);
  return { step, params, optimizer, rngs, config, metadata: md };
}

/** What a checkpoint is restored into. */
export interface RestoreTarget {
  readonly params: readonly ParamTensor[];
  /** Restored when given (the checkpoint must then hold a matching optimiser state). */
  readonly optimizer?: Optimizer;
  /** Each named RNG gets its saved state (the checkpoint must hold every name given). */
  readonly rngs?: Readonly<Record<string, Rng>>;
}

function shapeText(s: readonly number[]): string {
  return `[${s.join(', ')}]`;
}

/**
 * Checks a decoded checkpoint against the model — same parameter names and shapes, same
 * optimiser kind and state layout, every requested RNG present — and only then copies it in
 * (so a mismatch leaves the model untouched). Gradients and touch flags are cleared. Returns the
 * step to resume at. Errors are 'bad-data' MedfieldErrors naming `subject` and the tensor.
 */
export function restoreCheckpoint(ckpt: CheckpointData, target: RestoreTarget, subject = 'checkpoint'): number {
  const bad = (msg: string): never => { throw new MedfieldError('bad-data', subject, msg); };
  const modelNames = new Set(target.params.map((p) => p.name));
  for (const p of target.params) {
    const t = ckpt.params.get(p.name);
    if (!t) bad(`has no tensor '${p.name}' (shape ${shapeText(p.shape)}) that the model needs`);
    else if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      bad(`tensor '${p.name}' has shape ${shapeText(t.shape)} in the checkpoint, the model expects ${shapeText(p.shape)}`);
    }
  }
  for (const name of ckpt.params.keys()) if (!modelNames.has(name)) bad(`tensor '${name}' is not a parameter of this model`);
  let optState: OptimizerState | undefined;
  if (target.optimizer) {
    const o = ckpt.optimizer;
    if (!o) return bad('holds no optimiser state; cannot resume the optimiser (restore parameters only, or start a new run)');
    const cur = target.optimizer.state();
    if (cur.kind !== o.kind) bad(`optimiser state is '${o.kind}', the run uses '${cur.kind}'`);
    for (const [k, v] of Object.entries(cur.tensors)) {
      const t = o.tensors[k];
      if (!t) bad(`has no optimiser tensor '${k}' (${cur.kind})`);
      else if (t.length !== v.length) bad(`optimiser tensor '${k}' has ${t.length} values in the checkpoint, the optimiser expects ${v.length}`);
    }
    for (const k of Object.keys(o.tensors)) if (!(k in cur.tensors)) bad(`optimiser tensor '${k}' is not part of this optimiser's state`);
    for (const k of Object.keys(cur.scalars)) if (!(k in o.scalars)) bad(`has no optimiser scalar '${k}' (${cur.kind})`);
    optState = o;
  }
  const rngEntries = Object.entries(target.rngs ?? {});
  for (const [n] of rngEntries) if (!ckpt.rngs[n]) bad(`has no state for rng '${n}'`);
  // Everything checked: apply.
  for (const p of target.params) p.data.set(ckpt.params.get(p.name)!.data);
  if (optState) target.optimizer!.loadState(optState);
  for (const [n, rng] of rngEntries) rng.setState(ckpt.rngs[n]!);
  zeroGrad(target.params);
  return ckpt.step;
}
