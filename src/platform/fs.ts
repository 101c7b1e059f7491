import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { MedfieldError } from '../core/errors.js';

/** A temp path next to `target` (same directory, same extension) for write-then-rename. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  // Keep the full extension (e.g. .nii.gz) at the end, since some writers dispatch on it.
  const dot = base.indexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const ext = dot > 0 ? base.slice(dot) : '';
  return path.join(dir, `.${stem}.tmp-${process.pid}-${randomBytes(4).toString('hex')}${ext}`);
}

/** Checks that the directory of `target` exists and is writable; throws a clear error otherwise. */
export async function assertWritableTarget(target: string): Promise<void> {
  const dir = path.dirname(path.resolve(target));
  try {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw new MedfieldError('io', target, `cannot write: ${dir} is not a directory`);
    await fsp.access(dir, 2 /* W_OK */);
  } catch (e) {
    if (e instanceof MedfieldError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MedfieldError('io', target, `cannot write: directory ${dir} does not exist`);
    throw new MedfieldError('io', target, `cannot write: directory ${dir} is not writable (${code ?? String(e)})`);
  }
}

/**
 * Runs `produce(tempPath)` to create the file under a temporary name in the target directory,
 * then renames it onto `target`. On any failure the temp file is removed and `target` is left
 * untouched, so nothing half-written is ever visible under the final name.
 */
export async function writeViaTemp(target: string, produce: (tmp: string) => Promise<void>): Promise<void> {
  await assertWritableTarget(target);
  const tmp = tempPathFor(target);
  try {
    await produce(tmp);
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if (e instanceof MedfieldError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new MedfieldError('io', target, `write failed (${code ?? (e as Error).message})`, { cause: e });
  }
}

/** Atomic write of bytes (temp + rename). */
export async function writeFileAtomic(target: string, bytes: Uint8Array | string): Promise<void> {
  await writeViaTemp(target, (tmp) => fsp.writeFile(tmp, bytes));
}

/**
 * Writes a folder atomically: `fill(tmp)` writes everything into a temporary folder beside `dir`,
 * which is renamed onto `dir` only when complete (an existing folder is swapped out and removed).
 * Refuses a non-empty `dir` unless `overwrite`; on any failure the temporary folder is removed and
 * `dir` is untouched. `what` names the content in the error ('the dataset', 'the simulation').
 */
export async function writeFolderAtomic(dir: string, fill: (tmp: string) => Promise<void>, opts: { overwrite?: boolean; what: string }): Promise<void> {
  const target = path.resolve(dir);
  let exists = false;
  try {
    const entries = await fsp.readdir(target);
    exists = true;
    if (entries.length > 0 && !opts.overwrite) throw new MedfieldError('io', dir, 'folder exists and is not empty; choose another -o or pass --overwrite');
  } catch (e) {
    if (e instanceof MedfieldError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new MedfieldError('io', dir, 'exists and is not a folder');
    if (code !== 'ENOENT') throw new MedfieldError('io', dir, `cannot inspect (${code ?? String(e)})`);
  }
  const parent = path.dirname(target);
  try { await fsp.access(parent, 2); } catch {
    throw new MedfieldError('io', dir, `cannot write: parent folder ${parent} does not exist or is not writable`);
  }
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fsp.mkdir(tmp);
    await fill(tmp);
    if (exists) {
      const old = `${tmp}-old`;
      await fsp.rename(target, old);
      await fsp.rename(tmp, target);
      await fsp.rm(old, { recursive: true, force: true });
    } else {
      await fsp.rename(tmp, target);
    }
  } catch (e) {
    await fsp.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    if (e instanceof MedfieldError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new MedfieldError('io', dir, `writing ${opts.what} failed (${code ?? (e as Error).message})`, { cause: e });
  }
}

/** Reads a whole file, turning ENOENT/EISDIR/EACCES into clear MedfieldErrors. */
export async function readFileChecked(file: string): Promise<Uint8Array> {
  try {
    const buf = await fsp.readFile(file);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MedfieldError('bad-file', file, 'file not found');
    if (code === 'EISDIR') throw new MedfieldError('bad-file', file, 'is a directory, expected a file');
    if (code === 'EACCES') throw new MedfieldError('bad-file', file, 'permission denied');
    throw new MedfieldError('bad-file', file, `cannot read (${code ?? String(e)})`, { cause: e });
  }
}
