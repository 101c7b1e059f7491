/**
 * DICOM series: listing (which series a folder holds) and loading one series as a Volume.
 *
 * Pixel decoding, slice sorting and rescaling are done by ITK/GDCM (@itk-wasm/dicom), which
 * decodes JPEG 2000, JPEG-LS, RLE, big-endian and multi-frame (Enhanced) objects. Grouping into
 * series is done here, from a small header scan, because GDCM's series reader silently keeps
 * one series of a mixed folder. (@itk-wasm/dicom's readDicomTags can read the same tags, but each
 * call instantiates a wasm module: ~100-170 ms per file, against well under 1 ms for the scan.)
 *
 * Geometry: ITK gives LPS; the Volume is RAS+ mm (see io/itk-image.ts). The slice spacing is the
 * step between ImagePositionPatient values along the slice normal, never SliceThickness (slices
 * may overlap or have gaps). Voxel values have RescaleSlope/Intercept applied (CT in HU).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { readImageDicomFileSeriesNode } from '@itk-wasm/dicom';
import { MedfieldError } from '../core/errors.js';
import type { Volume } from '../core/volume.js';
import { itkImageToVolume } from '../io/itk-image.js';
import { runItkQuietly } from './itk-io.js';

/** What one DICOM file header says (the tags medfield groups and sorts by). */
export interface DicomFileHeader {
  file: string;
  transferSyntax: string;
  sopClassUid: string;
  /** (0020,000E); empty when the file carries none (some anonymisers remove it). */
  seriesUid: string;
  description: string;
  modality: string;
  seriesNumber: number | null;
  instanceNumber: number | null;
  /** ImagePositionPatient (LPS mm), null when absent (e.g. multi-frame objects keep it per frame). */
  position: number[] | null;
  /** ImageOrientationPatient (row then column direction cosines, LPS), null when absent. */
  orientation: number[] | null;
  rows: number;
  cols: number;
  frames: number;
}

/** One series found by listDicomSeries. */
export interface DicomSeriesInfo {
  /** Identifier to pass as `seriesUid` to readDicomSeries: the SeriesInstanceUID, or a made-up
   *  `no-uid:<n>:<description>` when the files have none, with `#k` appended when one UID holds
   *  images of different size/orientation. */
  id: string;
  /** SeriesInstanceUID as stored (may be empty). */
  seriesUid: string;
  description: string;
  modality: string;
  seriesNumber: number | null;
  /** Files, sorted along the slice normal (then by InstanceNumber, then name). */
  files: string[];
  rows: number;
  cols: number;
  /** Total frames over all files (= files.length for ordinary single-frame series). */
  frames: number;
  transferSyntaxes: string[];
}

class Truncated extends Error {}

const LATIN1 = new TextDecoder('latin1');

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const TAGS: Record<number, string> = {
  0x00020010: 'ts', 0x00080016: 'sop', 0x00080060: 'modality', 0x0008103e: 'description', 0x0020000e: 'series',
  0x00200011: 'seriesNumber', 0x00200013: 'instance', 0x00200032: 'position', 0x00200037: 'orientation',
  0x00280008: 'frames', 0x00280010: 'rows', 0x00280011: 'cols',
};

interface Cursor { dv: DataView; pos: number; le: boolean; explicit: boolean }

function u16(c: Cursor): number {
  if (c.pos + 2 > c.dv.byteLength) throw new Truncated();
  const v = c.dv.getUint16(c.pos, c.le); c.pos += 2; return v;
}
function u32(c: Cursor): number {
  if (c.pos + 4 > c.dv.byteLength) throw new Truncated();
  const v = c.dv.getUint32(c.pos, c.le); c.pos += 4; return v;
}

/**
 * Walks data elements from c.pos. At top level (`out` given) it stops at the pixel data or the
 * first group above 0x0028 (everything needed comes before); nested items are skipped.
 */
function walk(c: Cursor, out: Map<string, string | number> | null): void {
  for (;;) {
    if (c.pos >= c.dv.byteLength && out) throw new Truncated();
    const start = c.pos;
    const group = u16(c), elem = u16(c);
    const tag = ((group << 16) | elem) >>> 0;
    if (tag === 0xfffee00d) { u32(c); return; } // end of an undefined-length item
    if (out && group > 0x0028 && group !== 0xfffe) { c.pos = start; return; }
    let vr = '';
    let len: number;
    if (group === 0xfffe) len = u32(c);
    else if (c.explicit) {
      if (c.pos + 2 > c.dv.byteLength) throw new Truncated();
      vr = String.fromCharCode(c.dv.getUint8(c.pos), c.dv.getUint8(c.pos + 1)); c.pos += 2;
      if (LONG_VRS.has(vr)) { c.pos += 2; len = u32(c); } else len = u16(c);
    } else len = u32(c);
    if (len === 0xffffffff) {
      if (tag === 0x7fe00010) return;
      // Undefined-length sequence (or UN holding one, whose content is implicit VR LE).
      const saved = { le: c.le, explicit: c.explicit };
      if (vr === 'UN') { c.le = true; c.explicit = false; }
      for (;;) {
        const ig = u16(c), ie = u16(c), il = u32(c);
        if (ig !== 0xfffe) throw new Error('malformed sequence');
        if (ie === 0xe0dd) break;
        if (il === 0xffffffff) walk(c, null); else c.pos += il;
      }
      Object.assign(c, saved);
      continue;
    }
    if (c.pos + len > c.dv.byteLength) throw new Truncated();
    const key = out ? TAGS[tag] : undefined;
    if (out && key) {
      if (key === 'rows' || key === 'cols') out.set(key, len >= 2 ? c.dv.getUint16(c.pos, c.le) : 0);
      else out.set(key, LATIN1.decode(new Uint8Array(c.dv.buffer, c.dv.byteOffset + c.pos, len)).replace(/[\0\s]+$/, '').trim());
    }
    c.pos += len;
    if (tag === 0x7fe00010) return;
  }
}

/**
 * Parses the tags medfield needs from the first bytes of a file (Explicit/Implicit VR little
 * endian, Explicit big endian, deflated); null when it is not DICOM.
 * @throws when the bytes end before the tags of interest or a sequence is malformed.
 */
export function parseDicomHeader(bytes: Uint8Array, file: string): DicomFileHeader | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, string | number>();
  const magic = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM';
  let c: Cursor = { dv, pos: magic ? 132 : 0, le: true, explicit: true };
  if (!magic) {
    // Old files without preamble: accept only if they start with a plausible group 0x0008 element.
    if (bytes.length < 8 || dv.getUint16(0, true) !== 0x0008) return null;
    c.explicit = /^[A-Z]{2}$/.test(String.fromCharCode(bytes[4], bytes[5]));
  }
  // File meta group: always explicit VR little endian.
  while (magic && c.pos + 4 <= bytes.length && dv.getUint16(c.pos, true) === 0x0002) {
    const before = c.pos;
    c.pos += 4;
    const vr = String.fromCharCode(bytes[c.pos], bytes[c.pos + 1]);
    c.pos += 2;
    const len = LONG_VRS.has(vr) ? (c.pos += 2, u32(c)) : u16(c);
    if (dv.getUint16(before + 2, true) === 0x0010) out.set('ts', LATIN1.decode(bytes.subarray(c.pos, c.pos + len)).replace(/[\0\s]+$/, ''));
    c.pos += len;
  }
  const ts = String(out.get('ts') ?? (c.explicit ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2'));
  if (ts === '1.2.840.10008.1.2') c.explicit = false;
  if (ts === '1.2.840.10008.1.2.2') c.le = false;
  if (ts === '1.2.840.10008.1.2.1.99') {
    const body = inflateRawSync(bytes.subarray(c.pos));
    c = { dv: new DataView(body.buffer, body.byteOffset, body.byteLength), pos: 0, le: true, explicit: true };
  }
  walk(c, out);
  const nums = (k: string): number[] | null => {
    const s = out.get(k);
    if (typeof s !== 'string' || s === '') return null;
    const v = s.split('\\').map(Number);
    return v.every(Number.isFinite) ? v : null;
  };
  const int = (k: string): number | null => { const v = nums(k); return v ? v[0] : null; };
  const position = nums('position'), orientation = nums('orientation');
  return {
    file, transferSyntax: ts, sopClassUid: String(out.get('sop') ?? ''), seriesUid: String(out.get('series') ?? ''),
    description: String(out.get('description') ?? ''), modality: String(out.get('modality') ?? ''),
    seriesNumber: int('seriesNumber'), instanceNumber: int('instance'),
    position: position?.length === 3 ? position : null, orientation: orientation?.length === 6 ? orientation : null,
    rows: Number(out.get('rows') ?? 0), cols: Number(out.get('cols') ?? 0), frames: int('frames') ?? 1,
  };
}

/** Reads and parses a file's header, first from its first 256 KiB, then whole if needed. */
async function readHeader(file: string): Promise<DicomFileHeader | null> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    for (const n of [Math.min(size, 262144), size]) {
      const buf = new Uint8Array(n);
      await fh.read(buf, 0, n, 0);
      try { return parseDicomHeader(buf, file); } catch (e) {
        if (!(e instanceof Truncated) || n === size) return null;
      }
    }
    return null;
  } finally { await fh.close(); }
}

async function expand(entries: string[], depth = 0): Promise<string[]> {
  const files: string[] = [];
  for (const p of entries) {
    let st;
    try { st = await fsp.stat(p); } catch { throw new MedfieldError('bad-file', p, 'not found'); }
    if (st.isDirectory()) {
      if (depth > 8) continue;
      const names = (await fsp.readdir(p)).filter((n) => !n.startsWith('.')).sort();
      files.push(...await expand(names.map((n) => path.join(p, n)), depth + 1));
    } else if (st.isFile()) files.push(p);
  }
  return files;
}

function normalOf(o: number[]): number[] {
  return [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]];
}
const along = (h: DicomFileHeader): number => {
  if (!h.position || !h.orientation) return NaN;
  const n = normalOf(h.orientation);
  return h.position[0] * n[0] + h.position[1] * n[1] + h.position[2] * n[2];
};

interface ScannedSeries { info: DicomSeriesInfo; headers: DicomFileHeader[] }

async function scanSeries(dirOrFiles: string | string[]): Promise<ScannedSeries[]> {
  const files = await expand(typeof dirOrFiles === 'string' ? [dirOrFiles] : dirOrFiles);
  const headers: DicomFileHeader[] = [];
  for (const f of files) {
    const h = await readHeader(f);
    if (h && h.rows > 0 && h.cols > 0) headers.push(h);
  }
  // One group per UID (or per number/description when there is none), split further by image
  // size and orientation, which a volume cannot mix (e.g. localisers sharing a series UID).
  const byBase = new Map<string, Map<string, DicomFileHeader[]>>();
  for (const h of headers) {
    const base = h.seriesUid || `\u0000${h.seriesNumber ?? ''}\u0000${h.description}\u0000${h.modality}`;
    const sub = `${h.rows}x${h.cols}|${(h.orientation ?? []).map((x) => x.toFixed(3)).join(',')}`;
    const parts = byBase.get(base) ?? new Map<string, DicomFileHeader[]>();
    parts.set(sub, [...parts.get(sub) ?? [], h]);
    byBase.set(base, parts);
  }
  const out: ScannedSeries[] = [];
  let unnamed = 0;
  for (const partMap of byBase.values()) {
    const parts = [...partMap.values()].sort((a, b) => b.length - a.length);
    const first = parts[0][0];
    const uidId = first.seriesUid || `no-uid:${++unnamed}:${first.description || first.modality || 'series'}`;
    parts.forEach((hs, k) => {
      hs.sort((a, b) => (along(a) - along(b)) || ((a.instanceNumber ?? 0) - (b.instanceNumber ?? 0)) || a.file.localeCompare(b.file));
      const h = hs[0];
      out.push({
        headers: hs,
        info: {
          id: parts.length > 1 ? `${uidId}#${k + 1}` : uidId, seriesUid: h.seriesUid, description: h.description,
          modality: h.modality, seriesNumber: h.seriesNumber, files: hs.map((x) => x.file), rows: h.rows, cols: h.cols,
          frames: hs.reduce((s, x) => s + x.frames, 0), transferSyntaxes: [...new Set(hs.map((x) => x.transferSyntax))],
        },
      });
    });
  }
  out.sort((a, b) => ((a.info.seriesNumber ?? 0) - (b.info.seriesNumber ?? 0)) || a.info.description.localeCompare(b.info.description) || a.info.id.localeCompare(b.info.id));
  return out;
}

/**
 * Lists the image series in a folder (searched recursively; hidden files skipped) or a list of
 * files/folders. Files that are not DICOM images (DICOMDIR, reports, other files) are ignored.
 * Series are ordered by SeriesNumber, then description.
 */
export async function listDicomSeries(dirOrFiles: string | string[]): Promise<DicomSeriesInfo[]> {
  return (await scanSeries(dirOrFiles)).map((s) => s.info);
}

function describeSeries(s: DicomSeriesInfo): string {
  return `${s.id} (${s.modality || '?'} "${s.description}", ${s.files.length} file${s.files.length === 1 ? '' : 's'}, ${s.cols}x${s.rows})`;
}

/**
 * Loads one DICOM series as a Volume (RAS+ mm, rescaled values, dtype chosen by GDCM: e.g.
 * int16 for CT in HU, uint16 for MR). `dirOrFiles` is a folder, a single file (a multi-frame
 * file loads as a 3D volume) or a list of files.
 * @throws MedfieldError 'bad-option' when several series are present and none is chosen (the
 *   message lists their ids) or the chosen id is unknown; 'bad-file' when no DICOM image is
 *   found or ITK cannot decode the files; 'unsupported' for series whose slices repeat positions
 *   (4D / multi-echo) or are unevenly spaced (missing slices).
 */
export async function loadDicomSeries(dirOrFiles: string | string[], opts: { seriesUid?: string } = {}): Promise<{ volume: Volume; series: DicomSeriesInfo }> {
  const subject = typeof dirOrFiles === 'string' ? dirOrFiles : dirOrFiles.length === 1 ? dirOrFiles[0] : `${dirOrFiles.length} files`;
  const scanned = await scanSeries(dirOrFiles);
  const all = scanned.map((s) => s.info);
  if (all.length === 0) throw new MedfieldError('bad-file', subject, 'no DICOM image files found');
  let chosen: DicomSeriesInfo | undefined;
  if (opts.seriesUid !== undefined) {
    chosen = all.find((s) => s.id === opts.seriesUid) ?? (all.filter((s) => s.seriesUid === opts.seriesUid).length === 1 ? all.find((s) => s.seriesUid === opts.seriesUid) : undefined);
    if (!chosen) throw new MedfieldError('bad-option', subject, `no DICOM series "${opts.seriesUid}" here; series found: ${all.map(describeSeries).join('; ')}`);
  } else if (all.length > 1) {
    throw new MedfieldError('bad-option', subject, `holds ${all.length} DICOM series; choose one by seriesUid: ${all.map(describeSeries).join('; ')}`);
  } else chosen = all[0];
  const series = chosen;

  // Check positions ourselves: GDCM would stack repeated positions or jump over missing slices.
  const headers = scanned[all.indexOf(series)].headers;
  const zs = headers.map(along);
  let stepMm: number | null = null;
  if (series.files.length > 1 && zs.every(Number.isFinite)) {
    const steps = zs.slice(1).map((z, i) => z - zs[i]);
    if (steps.some((s) => Math.abs(s) < 1e-4)) {
      throw new MedfieldError('unsupported', subject, `series ${series.id} has ${series.files.length} files at only ${new Set(zs.map((z) => z.toFixed(3))).size} distinct slice positions (4D, multi-echo or duplicated slices); select the files of one volume`);
    }
    const mean = (zs[zs.length - 1] - zs[0]) / (zs.length - 1);
    const worst = Math.max(...steps.map((s) => Math.abs(s - mean)));
    if (worst > 0.01 * Math.abs(mean) + 1e-3) {
      throw new MedfieldError('unsupported', subject, `series ${series.id} has uneven slice spacing (steps ${Math.min(...steps).toFixed(3)} to ${Math.max(...steps).toFixed(3)} mm; missing slices?)`);
    }
    stepMm = mean;
  }

  let img;
  try {
    // Real paths: itk-wasm mounts each file's folder into its virtual file system, where a
    // symlink to a file elsewhere would dangle.
    const real = await Promise.all(series.files.map((f) => fsp.realpath(f)));
    const r = await runItkQuietly(() => readImageDicomFileSeriesNode({ inputImages: real, singleSortedSeries: false }));
    img = r.outputImage;
  } catch (e) {
    throw new MedfieldError('bad-file', subject, `ITK/GDCM could not decode series ${series.id} (${e instanceof Error ? e.message : String(e)})`, { cause: e });
  }
  const volume = itkImageToVolume(img, subject);
  if ('frames' in volume) throw new MedfieldError('unsupported', subject, `series ${series.id} decodes to a 4D image; only 3D series are supported`);
  if (series.files.length > 1 && volume.dims[2] !== series.frames) {
    throw new MedfieldError('bad-file', subject, `GDCM stacked ${volume.dims[2]} slices from ${series.files.length} files of series ${series.id}`);
  }
  const p0 = headers[0].position;
  if (series.files.length > 1 && p0) {
    // GDCM stacks from the lowest position along the normal, as our sort does: same first slice.
    const d = Math.hypot(volume.originMm[0] + p0[0], volume.originMm[1] + p0[1], volume.originMm[2] - p0[2]);
    if (d > 1e-3) throw new MedfieldError('bad-file', subject, `GDCM's first slice is not the first by ImagePositionPatient (off by ${d.toFixed(3)} mm)`);
  }
  if (stepMm !== null) {
    // Positions are authoritative: check GDCM's stacking direction and spacing against them.
    const ds = Math.abs(volume.spacingMm[2] - Math.abs(stepMm));
    if (ds > 1e-3 * Math.abs(stepMm) + 1e-4) {
      throw new MedfieldError('bad-file', subject, `slice spacing from GDCM (${volume.spacingMm[2]} mm) disagrees with ImagePositionPatient (${Math.abs(stepMm)} mm)`);
    }
  }
  return { volume, series };
}

/** Loads one DICOM series as a Volume; see loadDicomSeries. */
export async function readDicomSeries(dirOrFiles: string | string[], opts: { seriesUid?: string } = {}): Promise<Volume> {
  return (await loadDicomSeries(dirOrFiles, opts)).volume;
}
