/**
 * Checkpoints on disk: `<dir>/checkpoint.safetensors` (everything needed to resume, see
 * src/engine/checkpoint-data.ts and docs/checkpoints.md) and `<dir>/config.resolved.json` beside
 * it for people and scripts.
 *
 * Durability: each file is written to a temp name in the same directory, fsync'ed, renamed over
 * the target (atomic on POSIX), and the directory is fsync'ed so the rename itself survives a
 * crash. Until the rename, the previous checkpoint stays untouched; after any failure (disk full,
 * permissions, a crash mid-write) the temp file is removed and the old file is still the
 * complete previous checkpoint.
 */
import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { MedfieldError } from '../core/errors.js';
import {
  decodeCheckpoint, encodeCheckpointChunks, restoreCheckpoint,
  type CheckpointData, type CheckpointInput, type RestoreTarget,
} from '../engine/checkpoint-data.js';
import { readFileChecked, tempPathFor } from './fs.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const RESOLVED_CONFIG_FILE = 'config.resolved.json';

/** Writes `bytes` at `position` of an open file (the test hook replaces it to simulate failures). */
export type ChunkWriter = (fh: FileHandle, bytes: Uint8Array, position: number) => Promise<void>;

/** Default writer: loops until every byte is written, in pieces of at most 512 MiB. */
export const writeChunkFully: ChunkWriter = async (fh, bytes, position) => {
  const piece = 512 * 1024 * 1024;
  let off = 0;
  while (off < bytes.length) {
    const n = Math.min(piece, bytes.length - off);
    const { bytesWritten } = await fh.write(bytes, off, n, position + off);
    if (bytesWritten <= 0) throw new MedfieldError('io', '', 'write made no progress');
    off += bytesWritten;
  }
};

export interface SaveCheckpointOptions {
  /** File name inside `dir` (default 'checkpoint.safetensors'), e.g. 'step-001000.safetensors'. */
  readonly fileName?: string;
  /** Also write `config.resolved.json` when the checkpoint has a config (default true). */
  readonly writeConfigFile?: boolean;
  /** Test hook: how bytes reach the file. */
  readonly writeChunk?: ChunkWriter;
}

export interface SavedCheckpoint {
  readonly file: string;
  readonly configFile: string | null;
  readonly bytes: number;
}

function ioError(target: string, e: unknown): MedfieldError {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOSPC' ? 'disk full (ENOSPC)' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
    ? `directory not writable (${code})` : code ? `${code}: ${(e as Error).message}` : (e as Error).message;
  return new MedfieldError('io', target, `checkpoint write failed: ${why}; the previous checkpoint (if any) is intact`, { cause: e });
}

/** fsync a directory so a rename in it is durable; platforms that cannot (Windows) are skipped. */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Atomic durable write: temp file in the same directory, fsync, rename, fsync the directory. */
async function writeDurable(target: string, chunks: readonly Uint8Array[], writeChunk: ChunkWriter): Promise<number> {
  const tmp = tempPathFor(target);
  let fh: FileHandle | undefined;
  let pos = 0;
  try {
    fh = await fsp.open(tmp, 'wx', 0o644);
    for (const c of chunks) {
      await writeChunk(fh, c, pos);
      pos += c.length;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, target);
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw ioError(target, e);
  }
  try {
    await syncDir(path.dirname(target));
  } catch (e) {
    throw ioError(target, e);
  }
  return pos;
}

/**
 * Saves a checkpoint into `dir` (created if missing) atomically, then `config.resolved.json`
 * (pretty JSON) when `input.config` is set. On failure throws an 'io' MedfieldError naming the
 * file and leaves any previous checkpoint intact.
 */
export async function saveCheckpoint(dir: string, input: CheckpointInput, options: SaveCheckpointOptions = {}): Promise<SavedCheckpoint> {
  const file = path.join(dir, options.fileName ?? CHECKPOINT_FILE);
  const chunks = encodeCheckpointChunks(input); // validates before touching the disk
  try {
    await fsp.mkdir(dir, { recursive: true });
  } catch (e) {
    throw ioError(file, e);
  }
  const bytes = await writeDurable(file, chunks, options.writeChunk ?? writeChunkFully);
  let configFile: string | null = null;
  if (input.config !== undefined && (options.writeConfigFile ?? true)) {
    configFile = path.join(dir, RESOLVED_CONFIG_FILE);
    const text = new TextEncoder().encode(JSON.stringify(input.config, null, 2) + '\n');
    await writeDurable(configFile, [text], writeChunkFully);
  }
  return { file, configFile, bytes };
}

async function resolveFile(dirOrFile: string, fileName: string): Promise<string> {
  try {
    const st = await fsp.stat(dirOrFile);
    return st.isDirectory() ? path.join(dirOrFile, fileName) : dirOrFile;
  } catch {
    return dirOrFile; // readFileChecked reports it
  }
}

/**
 * Reads and validates a checkpoint: `dirOrFile` is a run directory (reads its
 * checkpoint.safetensors, or `fileName`) or the .safetensors file itself.
 */
export async function loadCheckpoint(dirOrFile: string, options: { fileName?: string } = {}): Promise<CheckpointData> {
  const file = await resolveFile(dirOrFile, options.fileName ?? CHECKPOINT_FILE);
  const bytes = await readFileChecked(file);
  // The bytes are not reused, so aligned tensors may alias them (one copy fewer for large tables).
  return decodeCheckpoint(bytes, file, { copy: false });
}

/** loadCheckpoint + restoreCheckpoint: fills the model (and optimiser, RNGs) and returns the step to resume at. */
export async function resumeFromCheckpoint(dirOrFile: string, target: RestoreTarget, options: { fileName?: string } = {}): Promise<number> {
  const file = await resolveFile(dirOrFile, options.fileName ?? CHECKPOINT_FILE);
  const data = await loadCheckpoint(file);
  return restoreCheckpoint(data, target, file);
}
