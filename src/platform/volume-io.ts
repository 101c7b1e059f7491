/**
 * Reading and writing volumes by file name: the format is chosen by extension (or a directory
 * for a DICOM series). Node-only (filesystem, zlib); the codecs themselves live in src/io.
 */
import { promises as fsp } from 'node:fs';
import { gunzipSync, gzipSync, constants as zc } from 'node:zlib';
import { MedfieldError } from '../core/errors.js';
import type { Volume, VolumeSeries, VoxelArray } from '../core/volume.js';
import { decodeNifti, encodeNifti, isGzip, type NiftiEncodeOptions } from '../io/nifti.js';
import { decodeNpy, encodeNpy } from '../io/npy.js';
import { readFileChecked, writeFileAtomic } from './fs.js';

export const VOLUME_FORMATS = ['nifti', 'nrrd', 'metaimage', 'dicom', 'npy'] as const;
export type VolumeFormat = (typeof VOLUME_FORMATS)[number];

export const READ_EXTENSIONS = ['.nii', '.nii.gz', '.nrrd', '.nhdr', '.mha', '.mhd', '.dcm', '.npy', '(DICOM folder)'];
export const WRITE_EXTENSIONS = ['.nii', '.nii.gz', '.nrrd', '.mha', '.npy'];

/** Format implied by a file name, or null for an unknown extension. */
export function formatOfPath(file: string): VolumeFormat | null {
  const f = file.toLowerCase();
  if (f.endsWith('.nii') || f.endsWith('.nii.gz')) return 'nifti';
  if (f.endsWith('.nrrd') || f.endsWith('.nhdr')) return 'nrrd';
  if (f.endsWith('.mha') || f.endsWith('.mhd')) return 'metaimage';
  if (f.endsWith('.dcm')) return 'dicom';
  if (f.endsWith('.npy')) return 'npy';
  return null;
}

export interface LoadedVolume {
  volume: Volume | VolumeSeries;
  format: VolumeFormat;
  /** Format-specific notes for `info` (e.g. which NIfTI transform defined the geometry). */
  details: Record<string, unknown>;
}

async function isDirectory(p: string): Promise<boolean> {
  try { return (await fsp.stat(p)).isDirectory(); } catch { return false; }
}

/**
 * Loads a volume from `.nii/.nii.gz` (own codec), `.nrrd/.nhdr/.mha/.mhd` (ITK), a DICOM file
 * or folder (ITK/GDCM) or `.npy` (shape (nz, ny, nx) C order, 1 mm, origin 0: .npy has no geometry).
 */
export async function loadVolume(file: string, opts: { dicomSeriesUid?: string } = {}): Promise<LoadedVolume> {
  if (await isDirectory(file)) {
    const { readDicomSeries } = await import('./dicom.js');
    return { volume: await readDicomSeries(file, { seriesUid: opts.dicomSeriesUid }), format: 'dicom', details: {} };
  }
  const format = formatOfPath(file);
  if (format === null) {
    throw new MedfieldError('bad-file', file, `unknown file extension; expected one of ${READ_EXTENSIONS.join(', ')}`);
  }
  switch (format) {
    case 'nifti': {
      const raw = await readFileChecked(file);
      let bytes = raw;
      if (isGzip(raw)) {
        try { bytes = new Uint8Array(gunzipSync(raw)); } catch (e) {
          throw new MedfieldError('bad-file', file, `corrupt or truncated gzip data (${(e as Error).message})`);
        }
      } else if (file.toLowerCase().endsWith('.gz')) {
        throw new MedfieldError('bad-file', file, 'named .gz but not gzip-compressed');
      }
      const { volume, header } = decodeNifti(bytes, file);
      return {
        volume, format,
        details: {
          niftiVersion: header.version, geometrySource: header.geometrySource, storedDtype: header.storedDtype,
          sclSlope: header.sclSlope, sclInter: header.sclInter, qformCode: header.qformCode, sformCode: header.sformCode,
        },
      };
    }
    case 'nrrd':
    case 'metaimage': {
      await readFileChecked(file); // clear error for missing files before ITK sees them
      const { readItkVolume } = await import('./itk-io.js');
      return { volume: await readItkVolume(file), format, details: {} };
    }
    case 'dicom': {
      const { readDicomSeries } = await import('./dicom.js');
      return { volume: await readDicomSeries(file, { seriesUid: opts.dicomSeriesUid }), format, details: {} };
    }
    case 'npy': {
      const { data, shape } = decodeNpy(await readFileChecked(file), file);
      if (shape.length !== 3 && shape.length !== 2) {
        throw new MedfieldError('bad-file', file, `.npy volume must be 2-D or 3-D (shape (nz, ny, nx)), got shape (${shape.join(', ')})`);
      }
      const [nz, ny, nx] = shape.length === 3 ? shape : [1, shape[0], shape[1]];
      return {
        volume: { data, dims: [nx, ny, nz], spacingMm: [1, 1, 1], originMm: [0, 0, 0], direction: new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]) },
        format, details: { note: '.npy holds no geometry: 1 mm spacing, origin 0, identity direction assumed' },
      };
    }
  }
}

/** Loads a volume and returns it alone (see loadVolume). */
export async function readVolume(file: string): Promise<Volume | VolumeSeries> {
  return (await loadVolume(file)).volume;
}

export interface WriteVolumeOptions extends NiftiEncodeOptions {
  /** gzip level for .nii.gz (0-9, default 6). */
  gzipLevel?: number;
}

/**
 * Writes a volume, format by extension (.nii, .nii.gz, .nrrd, .mha, .npy), atomically:
 * a failure leaves no file (and no partial file) under `file`.
 */
export async function writeVolume(file: string, volume: Volume | VolumeSeries, opts: WriteVolumeOptions = {}): Promise<void> {
  const format = formatOfPath(file);
  const lower = file.toLowerCase();
  if (format === null || format === 'dicom' || lower.endsWith('.nhdr') || lower.endsWith('.mhd')) {
    throw new MedfieldError('bad-option', file, `cannot write this extension; expected one of ${WRITE_EXTENSIONS.join(', ')}`);
  }
  switch (format) {
    case 'nifti': {
      let bytes = encodeNifti(volume, opts);
      if (lower.endsWith('.gz')) bytes = new Uint8Array(gzipSync(bytes, { level: opts.gzipLevel ?? zc.Z_DEFAULT_COMPRESSION }));
      await writeFileAtomic(file, bytes);
      return;
    }
    case 'nrrd':
    case 'metaimage': {
      const { writeItkVolume } = await import('./itk-io.js');
      await writeItkVolume(file, volume);
      return;
    }
    case 'npy': {
      const frames = 'frames' in volume ? volume.frames : 1;
      const shape = frames > 1 ? [frames, volume.dims[2], volume.dims[1], volume.dims[0]] : [volume.dims[2], volume.dims[1], volume.dims[0]];
      await writeFileAtomic(file, encodeNpy({ data: volume.data as VoxelArray, shape }));
      return;
    }
  }
}
