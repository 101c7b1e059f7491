/**
 * Loaders for the real X-ray projection data of ../shared/data (docs/real-projection-data.md):
 * the HTC2022 fan-beam sinogram (MATLAB v5 .mat) and TomoPy's parallel-beam tooth (HDF5, Data
 * Exchange layout). Node-only: they read files (and h5wasm's Node build reads the host
 * filesystem directly). Geometry follows docs/coordinate-systems.md ("X-ray geometry").
 */
import { promises as fsp } from 'node:fs';
import { MedfieldError } from '../core/errors.js';
import type { XrayGeometry } from '../geometry/xray.js';
import { validateXrayGeometry } from '../geometry/xray.js';
import { readMat, isMatV73, matField, matScalar, matString, matToFloat64, type MatFile, type MatNumericClass, type MatNumericData, type MatValue } from '../io/mat.js';
import { flatDarkToLineIntegrals } from '../physics/flat-dark.js';
import { estimateRotationCentre, mirroredShiftPx, type RotationCentreEstimate } from '../physics/rotation-centre.js';
import { readFileChecked } from './fs.js';

/** The HTC2022 fan-beam sinogram and its geometry. */
export interface HtcFanbeamData {
  /** Line integrals as stored in the file (already -log of flat-field-corrected counts), Float32 [views, 1, cols]. */
  sinogram: Float32Array;
  /** View angles in rad, as stored (the file gives degrees). */
  anglesRad: Float64Array;
  /** Fan beam = cone beam with one detector row; grid 512 x 512 x 1 at the effective pixel size. */
  geometry: XrayGeometry;
  /** Shape of `sinogram`. */
  shape: { views: number; rows: 1; cols: number };
  /** The file's `parameters` struct as plain numbers and strings (units in the names where the file gives them). */
  parameters: Record<string, number | string | number[]>;
}

/** HTC2022 reconstructions are 512 x 512 images (the challenge's target size). */
export const HTC_GRID = 512;

/**
 * Reads the HTC2022 .mat (e.g. htc2022_ta_sparse_example.mat): one struct variable (CtDataLimited
 * or CtDataFull) with fields `sinogram` (views x cols, double) and `parameters`.
 *
 * Geometry: DSO = distanceSourceOrigin, DSD = distanceSourceDetector, du = pixelSizePost (binned
 * detector pixel, mm), nDetector = [numDetectorsPost, 1]; the grid is 512 x 512 x 1 voxels of
 * effectivePixelSizePost (= du * DSO / DSD, the pixel size at the rotation axis): 75.9 mm, which
 * holds the 70 mm disc. Angles are used as stored (no flip): the challenge's own ASTRA code uses
 * them as a counter-clockwise source rotation with detector pixel 0 first, which is medfield's
 * convention up to a rigid 90-degree rotation of the world (see docs/real-projection-data.md).
 */
export async function loadHtcFanbeam(path: string): Promise<HtcFanbeamData> {
  const mat = await readMatFile(path);
  let root: MatValue | undefined;
  let rootName = '';
  for (const [name, v] of mat.variables) {
    if (v.kind === 'struct' && v.fieldNames.includes('sinogram') && v.fieldNames.includes('parameters')) { root = v; rootName = name; break; }
  }
  if (!root) {
    throw new MedfieldError('bad-file', path, `expected a struct variable with fields 'sinogram' and 'parameters' (HTC2022 layout), found ${[...mat.variables.keys()].join(', ') || 'no variables'}`);
  }
  const subject = `${path}:${rootName}`;
  const sino = matField(root, 'sinogram', subject);
  const params = matField(root, 'parameters', subject);
  const ps = `${subject}.parameters`;
  const num = (name: string): number => matScalar(matField(params, name, ps), `${ps}.${name}`);
  if (sino.kind !== 'numeric' || sino.dims.length !== 2) throw new MedfieldError('bad-file', `${subject}.sinogram`, 'expected a 2-D numeric array (views x detector pixels)');
  const [views, cols] = sino.dims as [number, number];
  const anglesDeg = matToFloat64(matField(params, 'angles', ps), `${ps}.angles`);
  if (anglesDeg.length !== views) throw new MedfieldError('bad-file', `${ps}.angles`, `expected ${views} angles (one per sinogram row), got ${anglesDeg.length}`);
  const nDet = num('numDetectorsPost');
  if (nDet !== cols) throw new MedfieldError('bad-file', `${ps}.numDetectorsPost`, `expected ${cols} (the sinogram's columns), got ${nDet}`);
  const unit = matString(matField(params, 'distanceUnit', ps), `${ps}.distanceUnit`);
  if (unit !== 'mm') throw new MedfieldError('bad-file', `${ps}.distanceUnit`, `expected 'mm', got '${unit}'`);
  const DSO = num('distanceSourceOrigin');
  const DSD = num('distanceSourceDetector');
  const du = num('pixelSizePost');
  const effective = num('effectivePixelSizePost');
  // column-major (views x cols) -> row-major [views, 1, cols]
  const data = matToFloat64(sino, `${subject}.sinogram`);
  const sinogram = new Float32Array(views * cols);
  for (let v = 0; v < views; v++) for (let c = 0; c < cols; c++) sinogram[v * cols + c] = data[v + views * c]!;
  const anglesRad = new Float64Array(views);
  for (let i = 0; i < views; i++) anglesRad[i] = (anglesDeg[i]! * Math.PI) / 180;
  const geometry: XrayGeometry = {
    mode: 'cone',
    DSD,
    DSO,
    nDetector: [cols, 1],
    dDetector: [du, du],
    offDetector: [0, 0],
    nVoxel: [HTC_GRID, HTC_GRID, 1],
    dVoxel: [effective, effective, effective],
    offOrigin: [0, 0, 0],
  };
  validateXrayGeometry(geometry, anglesRad, subject);
  const parameters: Record<string, number | string | number[]> = {};
  if (params.kind === 'struct') {
    for (const [k, v] of Object.entries(params.elements[0] ?? {})) {
      if (v.kind === 'char') parameters[k] = v.text;
      else if (v.kind === 'numeric' && !v.imag) {
        const a = matToFloat64(v, `${ps}.${k}`);
        parameters[k] = a.length === 1 ? a[0]! : Array.from(a);
      }
    }
  }
  return { sinogram, anglesRad, geometry, shape: { views, rows: 1, cols }, parameters };
}

/** TomoPy's tooth after flat/dark correction, with its parallel-beam geometry. */
export interface ToothParallelData {
  /** Line integrals -log((raw - dark) / (flat - dark)), Float32 [views, rows, cols]. */
  lineIntegrals: Float32Array;
  /** View angles in rad (the file's /exchange/theta, converted from its `units` attribute). */
  anglesRad: Float64Array;
  /** Parallel beam, 1 unit = 1 detector pixel (the pixel size is not stored); offDetector from the rotation-centre estimate. */
  geometry: XrayGeometry;
  /** Shape of `lineIntegrals` (= /exchange/data). */
  shape: { views: number; rows: number; cols: number };
  /** Frames in /exchange/data_white and /exchange/data_dark. */
  flatFrames: number;
  darkFrames: number;
  /** Rotation axis: centre-of-mass fit over all views (used for offDetector). */
  rotationCentre: RotationCentreEstimate;
  /** Independent check: axis column from the 0-degree view and the mirrored last view (about 1 degree short of 180 in this file), or null if the last view is more than 2 degrees from 180. */
  mirroredAxisColumn: number | null;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

interface H5Dataset { shape: number[] | null; value: unknown; attrs: Record<string, { value: unknown }> }
interface H5File { get(name: string): unknown; close(): unknown }

async function openHdf5(path: string): Promise<H5File> {
  const head = new Uint8Array(8);
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch {
    await readFileChecked(path); // throws the clear not-found / permission error
    throw new MedfieldError('bad-file', path, 'cannot open');
  }
  try { await fh.read(head, 0, 8, 0); } finally { await fh.close(); }
  if (head.length < 8 || HDF5_SIGNATURE.some((b, i) => head[i] !== b)) throw new MedfieldError('bad-file', path, 'expected an HDF5 file (no HDF5 signature in its first 8 bytes)');
  const mod = (await import('h5wasm/node')).default;
  await mod.ready;
  return new mod.File(path, 'r') as unknown as H5File;
}

function h5Array(f: H5File, path: string, name: string, rank: number): { data: Float32Array | Float64Array; shape: number[] } {
  const ds = f.get(name) as H5Dataset | null;
  if (!ds || !('shape' in ds)) throw new MedfieldError('bad-file', `${path}:${name}`, 'missing dataset (expected TomoPy Data Exchange layout: /exchange/data, data_white, data_dark, theta)');
  const shape = ds.shape ?? [];
  if (shape.length !== rank) throw new MedfieldError('bad-file', `${path}:${name}`, `expected a ${rank}-D dataset, got shape [${shape.join(', ')}]`);
  const v = ds.value;
  if (v instanceof Float32Array || v instanceof Float64Array) return { data: v, shape };
  if (ArrayBuffer.isView(v) && !(v instanceof DataView) && !(v instanceof BigInt64Array) && !(v instanceof BigUint64Array)) {
    return { data: Float64Array.from(v as unknown as ArrayLike<number>), shape };
  }
  throw new MedfieldError('bad-file', `${path}:${name}`, 'expected a numeric dataset');
}

/**
 * Reads TomoPy's tooth.h5 (Data Exchange: /exchange/data [views, rows, cols] raw counts,
 * data_white and data_dark frames, theta per view) and returns flat/dark-corrected line
 * integrals with a parallel-beam geometry in pixel units: du = dv = 1, grid cols x cols x rows
 * voxels of 1, DSO = cols and DSD = 2 cols (they only place the ray origins outside the grid).
 * The rotation axis is estimated from the data (centre of mass, src/physics/rotation-centre.ts)
 * and returned as offDetector so that FBP is sharp.
 */
export async function loadToothParallel(path: string): Promise<ToothParallelData> {
  const f = await openHdf5(path);
  try {
    const raw = h5Array(f, path, 'exchange/data', 3);
    const white = h5Array(f, path, 'exchange/data_white', 3);
    const dark = h5Array(f, path, 'exchange/data_dark', 3);
    const theta = h5Array(f, path, 'exchange/theta', 1);
    const [views, rows, cols] = raw.shape as [number, number, number];
    for (const [name, a] of [['exchange/data_white', white], ['exchange/data_dark', dark]] as const) {
      if (a.shape[1] !== rows || a.shape[2] !== cols) throw new MedfieldError('bad-file', `${path}:${name}`, `expected frames of ${rows} x ${cols} (as /exchange/data), got [${a.shape.join(', ')}]`);
    }
    if (theta.data.length !== views) throw new MedfieldError('bad-file', `${path}:exchange/theta`, `expected ${views} angles (one per view), got ${theta.data.length}`);
    const unitsAttr = (f.get('exchange/theta') as H5Dataset).attrs['units'];
    const units = unitsAttr ? String(unitsAttr.value) : 'degrees';
    let scale: number;
    if (/^deg/i.test(units)) scale = Math.PI / 180;
    else if (/^rad/i.test(units)) scale = 1;
    else throw new MedfieldError('bad-file', `${path}:exchange/theta@units`, `expected 'degrees' or 'radians', got '${units}'`);
    const anglesRad = new Float64Array(views);
    for (let i = 0; i < views; i++) anglesRad[i] = theta.data[i]! * scale;
    const shape = { views, rows, cols };
    const lineIntegrals = flatDarkToLineIntegrals(raw.data, white.data, dark.data, shape);
    const rotationCentre = estimateRotationCentre(lineIntegrals, shape, anglesRad);
    // 0-degree view vs the mirrored last view, summed over rows
    let mirroredAxisColumn: number | null = null;
    const span = Math.abs(anglesRad[views - 1]! - anglesRad[0]!);
    if (Math.abs(span - Math.PI) <= (2 * Math.PI) / 180) {
      const a = new Float64Array(cols), b = new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          a[c]! += lineIntegrals[r * cols + c]!;
          b[c]! += lineIntegrals[((views - 1) * rows + r) * cols + c]!;
        }
      }
      mirroredAxisColumn = mirroredShiftPx(a, b, cols);
    }
    const geometry: XrayGeometry = {
      mode: 'parallel',
      DSD: 2 * cols,
      DSO: cols,
      nDetector: [cols, rows],
      dDetector: [1, 1],
      offDetector: [rotationCentre.offDetectorPx, 0],
      nVoxel: [cols, cols, rows],
      dVoxel: [1, 1, 1],
      offOrigin: [0, 0, 0],
    };
    validateXrayGeometry(geometry, anglesRad, path);
    return { lineIntegrals, anglesRad, geometry, shape, flatFrames: white.shape[0]!, darkFrames: dark.shape[0]!, rotationCentre, mirroredAxisColumn };
  } finally {
    f.close();
  }
}

// ---- MAT-files of any version by path ----

const MAT_NUMERIC: readonly string[] = ['double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];

interface H5Entity { keys?: () => string[]; shape?: number[] | null; value?: unknown; attrs: Record<string, { value: unknown }> }

/**
 * Reads a MAT-file by path: v5/v6/v7 with `readMat` (src/io/mat.ts); v7.3 (HDF5 with a 512-byte
 * MAT preamble) through h5wasm. v7.3 mapping: a dataset's `MATLAB_class` attribute gives the
 * class; HDF5 stores MATLAB's column-major m x n array as row-major [n, m], so the bytes are
 * already in MATLAB order and dims are the HDF5 shape reversed; char data is UTF-16 code units;
 * `MATLAB_empty` marks empty arrays; groups are 1 x 1 structs (fields in `MATLAB_fields` order
 * when present). Cell arrays and complex numbers (object references and compound types in
 * v7.3) come back as 'unsupported'. The `#refs#` and `#subsystem#` groups are skipped.
 */
export async function readMatFile(path: string): Promise<MatFile> {
  const bytes = await readFileChecked(path);
  if (!isMatV73(bytes)) return readMat(bytes, path);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116)).replace(/[\s\0]+$/, '');
  const mod = (await import('h5wasm/node')).default;
  await mod.ready;
  const f = new mod.File(path, 'r') as unknown as H5Entity & { get(n: string): unknown; close(): unknown };
  try {
    const variables = new Map<string, MatValue>();
    for (const name of f.keys!()) {
      if (name.startsWith('#')) continue;
      variables.set(name, h5ToMat(f.get(name) as H5Entity, `${path}:${name}`, (n) => f.get(n) as H5Entity, name));
    }
    return { header, littleEndian: true, variables };
  } finally {
    f.close();
  }
}

function attrString(e: H5Entity, name: string): string | undefined {
  const a = e.attrs[name];
  if (!a) return undefined;
  const v = a.value;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(String).join('');
  if (ArrayBuffer.isView(v)) return new TextDecoder().decode(v as Uint8Array).replace(/\0+$/, '');
  return String(v);
}

function h5ToMat(e: H5Entity, subject: string, get: (n: string) => H5Entity, h5path: string): MatValue {
  const cls = attrString(e, 'MATLAB_class') ?? (typeof e.keys === 'function' ? 'struct' : 'double');
  if (typeof e.keys === 'function') {
    if (cls !== 'struct') return { kind: 'unsupported', className: cls, dims: [1, 1] };
    // field order: HDF5 link order (MATLAB_fields, a vlen char array, is not parsed)
    const fieldNames = e.keys();
    const rec: Record<string, MatValue> = {};
    for (const k of fieldNames) rec[k] = h5ToMat(get(`${h5path}/${k}`), `${subject}.${k}`, get, `${h5path}/${k}`);
    return { kind: 'struct', dims: [1, 1], fieldNames, elements: [rec] };
  }
  const shape = e.shape ?? [];
  const dims = shape.length === 0 ? [1, 1] : shape.slice().reverse();
  if (dims.length === 1) dims.push(1);
  const empty = e.attrs['MATLAB_empty'] !== undefined && Number(e.attrs['MATLAB_empty'].value) !== 0;
  const raw = e.value;
  if (empty) {
    const d = ArrayBuffer.isView(raw) ? Array.from(raw as unknown as ArrayLike<number>, Number) : [0, 0];
    const zeroDims = d.length >= 2 ? d : [0, 0];
    if (cls === 'char') return { kind: 'char', dims: zeroDims, text: '' };
    if (MAT_NUMERIC.includes(cls) || cls === 'logical') return { kind: 'numeric', class: cls === 'logical' ? 'uint8' : (cls as MatNumericClass), dims: zeroDims, logical: cls === 'logical', real: new Float64Array(0) };
    return { kind: 'unsupported', className: cls, dims: zeroDims };
  }
  if (cls === 'char') {
    const units = ArrayBuffer.isView(raw) ? Array.from(raw as unknown as ArrayLike<number>, Number) : [];
    let text = '';
    for (let i = 0; i < units.length; i += 4096) text += String.fromCharCode(...units.slice(i, i + 4096));
    return { kind: 'char', dims, text };
  }
  if (!(MAT_NUMERIC.includes(cls) || cls === 'logical')) return { kind: 'unsupported', className: cls, dims };
  if (!ArrayBuffer.isView(raw) || raw instanceof DataView) return { kind: 'unsupported', className: `${cls} (complex or compound)`, dims };
  const mcls: MatNumericClass = cls === 'logical' ? 'uint8' : (cls as MatNumericClass);
  const src = raw as unknown as ArrayLike<number | bigint>;
  let real: MatNumericData;
  switch (mcls) {
    case 'double': real = Float64Array.from(src as ArrayLike<number>); break;
    case 'single': real = Float32Array.from(src as ArrayLike<number>); break;
    case 'int8': real = Int8Array.from(src as ArrayLike<number>); break;
    case 'uint8': real = Uint8Array.from(src as ArrayLike<number>); break;
    case 'int16': real = Int16Array.from(src as ArrayLike<number>); break;
    case 'uint16': real = Uint16Array.from(src as ArrayLike<number>); break;
    case 'int32': real = Int32Array.from(src as ArrayLike<number>); break;
    case 'uint32': real = Uint32Array.from(src as ArrayLike<number>); break;
    case 'int64': real = BigInt64Array.from(src as ArrayLike<bigint>, (x) => BigInt(x)); break;
    case 'uint64': real = BigUint64Array.from(src as ArrayLike<bigint>, (x) => BigInt(x)); break;
  }
  const count = dims.reduce((a, b) => a * b, 1);
  if (real.length !== count) throw new MedfieldError('bad-file', subject, `expected ${count} values for dims ${dims.join('x')}, got ${real.length}`);
  return { kind: 'numeric', class: mcls, dims, logical: cls === 'logical', real };
}
