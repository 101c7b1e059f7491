/**
 * Reading and writing volumes through ITK (itk-wasm's @itk-wasm/image-io), for NRRD and
 * MetaImage (and, as an independent cross-check of medfield's own codec, NIfTI).
 *
 * itk-wasm in Node has three habits this module contains (all seen on this machine):
 * - a C++ exception (e.g. a truncated NRRD) is thrown as a bare number and the runtime first
 *   `console.log`s "Exception while running pipeline: ..." -- on **stdout**, which would break
 *   `--json`; pipelines also echo their own stdout/stderr (ITK warnings) through `console.*`;
 * - Emscripten sets `process.exitCode` (to 1 after a failure), so a caught error would still make
 *   the process exit non-zero;
 * - ITK's NIfTI reader does not notice missing bytes: a truncated .nii or .nii.gz "loads" with
 *   zero-filled voxels. Files named .nii/.nii.gz are therefore size-checked here first.
 * `runItkQuietly` captures the console output of every itk-wasm call (used in error messages;
 * echoed to stderr when MEDFIELD_ITK_VERBOSE is set) and restores `process.exitCode`.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { createGunzip } from 'node:zlib';
import { readImageNode, writeImageNode } from '@itk-wasm/image-io';
import { MedfieldError } from '../core/errors.js';
import type { Volume, VolumeSeries } from '../core/volume.js';
import { itkImageToVolume, volumeToItkImage } from '../io/itk-image.js';
import { writeViaTemp } from './fs.js';

/** An itk-wasm call failed; `output` is what it printed while running (may be empty). */
export class ItkRunError extends Error {
  readonly output: string;
  constructor(message: string, output: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ItkRunError';
    this.output = output;
  }
}

type ConsoleMethod = 'log' | 'info' | 'debug' | 'warn' | 'error';
const CONSOLE_METHODS: readonly ConsoleMethod[] = ['log', 'info', 'debug', 'warn', 'error'];
/** Capture buffers of the itk-wasm calls in flight (calls may overlap when awaited together). */
const activeCaptures = new Set<string[]>();
let savedConsole: Record<ConsoleMethod, (...args: unknown[]) => void> | null = null;

function installConsoleCapture(): void {
  if (savedConsole !== null) return;
  const saved = {} as Record<ConsoleMethod, (...args: unknown[]) => void>;
  for (const m of CONSOLE_METHODS) {
    saved[m] = console[m];
    console[m] = (...args: unknown[]) => {
      const text = format(...args);
      for (const c of activeCaptures) c.push(text);
      // Never stdout: only stderr, and only on request.
      if (process.env.MEDFIELD_ITK_VERBOSE) process.stderr.write(`[itk] ${text}\n`);
    };
  }
  savedConsole = saved;
}

function removeConsoleCapture(): void {
  if (savedConsole === null || activeCaptures.size > 0) return;
  for (const m of CONSOLE_METHODS) console[m] = savedConsole[m];
  savedConsole = null;
}

/** Last lines of captured itk output that carry information (drops the runtime's boilerplate). */
function summarise(lines: string[]): string {
  const useful = lines.join('\n').split('\n').map((l) => l.trim())
    .filter((l) => l !== '' && !/^(Exception while running pipeline:|stdout:|stderr:)$/.test(l) && !l.startsWith('Build module in Debug mode'))
    .map((l) => l.replace(/^(stdout|stderr): /, ''));
  return [...new Set(useful)].slice(-4).join(' | ').slice(0, 400);
}

/**
 * Runs an itk-wasm call with its console output captured (nothing reaches stdout) and
 * `process.exitCode` restored. Failures become an `ItkRunError` whose message says what ITK said.
 */
export async function runItkQuietly<T>(fn: () => Promise<T>): Promise<T> {
  const capture: string[] = [];
  const exitCode = process.exitCode;
  activeCaptures.add(capture);
  installConsoleCapture();
  try {
    return await fn();
  } catch (e) {
    const said = summarise(capture);
    // itk-wasm throws a bare number (a C++ exception pointer) from release builds.
    const what = typeof e === 'number' ? 'ITK raised an exception' : e instanceof Error ? e.message : String(e);
    throw new ItkRunError(said && !what.includes(said) ? `${what}: ${said}` : what, capture.join('\n'), { cause: e });
  } finally {
    activeCaptures.delete(capture);
    removeConsoleCapture();
    process.exitCode = exitCode;
  }
}

/** Throws a 'bad-file' error unless `file` exists and is a regular file. */
async function assertReadableFile(file: string): Promise<void> {
  let st;
  try { st = await fsp.stat(file); } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new MedfieldError('bad-file', file, code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? String(e)})`);
  }
  if (st.isDirectory()) throw new MedfieldError('bad-file', file, 'is a directory, expected a file');
  try { await fsp.access(file, 4 /* R_OK */); } catch {
    throw new MedfieldError('bad-file', file, 'permission denied');
  }
}

/** Decompressed length and first bytes of a gzip file; throws 'bad-file' on a truncated or corrupt stream. */
async function gunzipSizeAndHead(file: string, headBytes: number): Promise<{ size: number; head: Uint8Array }> {
  const head = new Uint8Array(headBytes);
  let size = 0;
  try {
    const stream = createReadStream(file).pipe(createGunzip());
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (size < headBytes) head.set(chunk.subarray(0, headBytes - size), size);
      size += chunk.length;
    }
  } catch (e) {
    throw new MedfieldError('bad-file', file, `corrupt or truncated gzip data (${(e as Error).message})`);
  }
  return { size, head: head.subarray(0, Math.min(size, headBytes)) };
}

/**
 * Checks that a NIfTI-1/2 file holds all the bytes its header promises, because ITK's NIfTI
 * reader silently zero-fills missing ones. Unknown headers are left for ITK to reject.
 */
async function assertCompleteNifti(file: string): Promise<void> {
  let size: number, head: Uint8Array;
  if (file.toLowerCase().endsWith('.gz')) ({ size, head } = await gunzipSizeAndHead(file, 544));
  else {
    size = (await fsp.stat(file)).size;
    const fh = await fsp.open(file, 'r');
    try { head = new Uint8Array(544); const { bytesRead } = await fh.read(head, 0, 544, 0); head = head.subarray(0, bytesRead); } finally { await fh.close(); }
  }
  if (head.length < 348) throw new MedfieldError('bad-file', file, `only ${size} bytes; a NIfTI header needs at least 348`);
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (const le of [true, false]) {
    const hdr = dv.getInt32(0, le);
    let ndim: number, bitpix: number, voxOffset: number, dims: number[] = [];
    if (hdr === 348) {
      ndim = dv.getInt16(40, le); bitpix = dv.getInt16(72, le); voxOffset = dv.getFloat32(108, le);
      for (let i = 1; i <= Math.min(Math.max(ndim, 0), 7); i++) dims.push(dv.getInt16(40 + 2 * i, le));
    } else if (hdr === 540 && head.length >= 540) {
      ndim = Number(dv.getBigInt64(16, le)); bitpix = dv.getInt16(14, le); voxOffset = Number(dv.getBigInt64(168, le));
      for (let i = 1; i <= Math.min(Math.max(ndim, 0), 7); i++) dims.push(Number(dv.getBigInt64(16 + 8 * i, le)));
    } else continue;
    dims = dims.map((d) => Math.max(d, 1));
    const needed = Math.max(voxOffset, hdr === 348 ? 352 : 544) + (dims.reduce((a, b) => a * b, 1) * bitpix) / 8;
    if (Number.isFinite(needed) && needed > size) {
      throw new MedfieldError('bad-file', file, `truncated NIfTI: header needs ${needed} bytes of (decompressed) data, file has ${size}`);
    }
    return;
  }
}

/**
 * Reads a volume with ITK: NRRD (.nrrd/.nhdr), MetaImage (.mha/.mhd) and NIfTI (.nii/.nii.gz);
 * other extensions ITK knows may work too. Geometry is returned in medfield's RAS+ mm frame;
 * the voxel dtype is the file's. 4D images come back as a VolumeSeries.
 * @throws MedfieldError 'bad-file' for a missing, truncated or unreadable file, 'unsupported'
 *   for multi-component (RGB/vector) or 64-bit integer images.
 */
export async function readItkVolume(file: string): Promise<Volume | VolumeSeries> {
  await assertReadableFile(file);
  const lower = file.toLowerCase();
  if (lower.endsWith('.nii') || lower.endsWith('.nii.gz')) await assertCompleteNifti(file);
  else if (lower.endsWith('.gz')) await gunzipSizeAndHead(file, 0);
  // The real path: itk-wasm mounts the file's folder into its virtual file system, where a
  // symlink to a file elsewhere would dangle.
  const real = await fsp.realpath(file);
  let img;
  try {
    img = await runItkQuietly(() => readImageNode(real));
  } catch (e) {
    const reason = e instanceof Error ? e.message.replace(real, '').replace(/:\s*$/, '') : String(e);
    throw new MedfieldError('bad-file', file, `ITK could not read this file (corrupt, truncated or not an image: ${reason})`, { cause: e });
  }
  return itkImageToVolume(img, file);
}

/** Extensions writeItkVolume accepts: single-file formats only, so the write can be atomic. */
export const ITK_WRITE_EXTENSIONS = ['.nrrd', '.mha'] as const;

export interface WriteItkOptions {
  /** gzip the voxel data (NRRD `encoding: gzip`, MetaImage `CompressedData = True`). Default true. */
  compress?: boolean;
}

/**
 * Writes a volume (RAS+ mm geometry, any medfield dtype, kept as is) as NRRD (.nrrd) or
 * MetaImage (.mha) through ITK, atomically (temp name + rename): a failure leaves nothing behind.
 * Detached-header formats (.nhdr, .mhd) are refused: their header names the data file, so a
 * temp-then-rename write would leave the header pointing at the temp name.
 * A VolumeSeries with more than one frame is written as a 4D image.
 */
export async function writeItkVolume(file: string, volume: Volume | VolumeSeries, opts: WriteItkOptions = {}): Promise<void> {
  const lower = file.toLowerCase();
  if (!ITK_WRITE_EXTENSIONS.some((e) => lower.endsWith(e))) {
    const hint = lower.endsWith('.mhd') ? ' (write .mha: the same MetaImage format in one file)' : lower.endsWith('.nhdr') ? ' (write .nrrd: the same format in one file)' : '';
    throw new MedfieldError('bad-option', file, `ITK writer supports ${ITK_WRITE_EXTENSIONS.join(', ')}${hint}`);
  }
  const img = volumeToItkImage(volume, path.basename(file));
  await writeViaTemp(file, async (tmp) => {
    try {
      const target = path.join(await fsp.realpath(path.dirname(tmp)), path.basename(tmp));
      await runItkQuietly(() => writeImageNode(img, target, { useCompression: opts.compress ?? true }));
    } catch (e) {
      throw new MedfieldError('io', file, `ITK could not write the file (${e instanceof Error ? e.message : String(e)})`, { cause: e });
    }
  });
}
