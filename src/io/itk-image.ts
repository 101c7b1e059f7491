/**
 * Conversion between itk-wasm `Image` objects and medfield volumes. Pure data, no node imports,
 * and only *type* imports from itk-wasm, so this module adds nothing to a browser bundle.
 *
 * Frames (see docs/coordinate-systems.md):
 * - medfield's world frame is RAS+ mm; ITK's is LPS+ mm. The two differ by F = diag(-1, -1, 1),
 *   so on the boundary `origin_RAS = F * origin_LPS` and `direction_RAS = F * direction_LPS`
 *   (the first two *rows* of the direction matrix change sign; F is its own inverse, so the same
 *   operation converts back).
 * - itk-wasm stores `Image.direction` as a row-major `dimension x dimension` Float64Array whose
 *   column c is the world direction of voxel axis c (`getMatrixElement(m, cols, row, col) =
 *   m[col + row * cols]`). Verified on a real file: stroke-mri-cstar/T2.nii.gz has sform row 0 =
 *   (0.99359, 0.01600, 0.11189); ITK returns direction[0..2] = (-0.99359, -0.01600, -0.11189),
 *   i.e. row 0 of F * sform, and writing it as NRRD gives `space directions` whose first vector
 *   (axis 0) is (direction[0], direction[3], direction[6]) = (-0.99359, 0.04970, -0.10151).
 * - Voxel order is the same in both (x fastest), so data is copied without reordering.
 */
import type { Image, ImageType } from 'itk-wasm';
import { MedfieldError } from '../core/errors.js';
import { dtypeOf, voxelCount, type DType, type Vec3, type Volume, type VolumeSeries, type VoxelArray } from '../core/volume.js';

/** The ITK component types medfield can hold (64-bit integers are not among them). */
const SUPPORTED_COMPONENTS: readonly string[] = ['int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];

function copyTyped(dtype: DType, src: ArrayLike<number>): VoxelArray {
  // A fresh array on an ordinary ArrayBuffer: itk-wasm hands out views on SharedArrayBuffers,
  // which behave differently when posted to workers or wrapped in a node Buffer.
  switch (dtype) {
    case 'float32': return Float32Array.from(src);
    case 'float64': return Float64Array.from(src);
    case 'int8': return Int8Array.from(src);
    case 'uint8': return Uint8Array.from(src);
    case 'int16': return Int16Array.from(src);
    case 'uint16': return Uint16Array.from(src);
    case 'int32': return Int32Array.from(src);
    case 'uint32': return Uint32Array.from(src);
  }
}

/** Negates the x and y components: RAS <-> LPS for points (F = diag(-1,-1,1) is an involution). */
export function flipXY(p: readonly number[]): Vec3 {
  return [-p[0], -p[1], p[2]];
}

/** Row-major 3x3 direction converted RAS <-> LPS: F * D (rows 0 and 1 negated). */
export function flipDirectionRows(d: ArrayLike<number>): Float64Array {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[r * 3 + c] = (r < 2 ? -1 : 1) * d[r * 3 + c];
  return out;
}

function isFiniteAll(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
  return true;
}

/**
 * Converts an itk-wasm image to a Volume (RAS+ mm).
 * - 3D scalar -> Volume; 4D scalar -> VolumeSeries (frames = size[3], frameSpacing = spacing[3]
 *   in the file's unit, usually s); 2D scalar -> Volume with nz = 1, spacing z = 1 mm.
 * - More than one component (RGB, vectors, tensors) or 64-bit integers -> MedfieldError('unsupported').
 * - Inconsistent sizes/spacing/direction (what a corrupt file can yield) -> MedfieldError('bad-file').
 * The data is copied into a new array of the same dtype.
 * @param subject file name (or other label) used in error messages.
 */
export function itkImageToVolume(img: Image, subject = img.name): Volume | VolumeSeries {
  const t = img.imageType;
  const dim = t.dimension;
  if (t.components !== 1 || (t.pixelType !== 'Scalar' && t.pixelType !== 'Unknown')) {
    throw new MedfieldError('unsupported', subject,
      `image has ${t.components} components per voxel (pixel type ${t.pixelType}); only scalar (1-component) images are supported`);
  }
  if (!SUPPORTED_COMPONENTS.includes(t.componentType)) {
    throw new MedfieldError('unsupported', subject, `voxel type ${t.componentType} is not supported; expected one of ${SUPPORTED_COMPONENTS.join(', ')}`);
  }
  if (dim < 2 || dim > 4) throw new MedfieldError('unsupported', subject, `image has ${dim} dimensions; expected 2, 3 or 4`);
  const size = img.size.slice(0, dim);
  if (size.length !== dim || size.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new MedfieldError('bad-file', subject, `invalid image size [${img.size.join(', ')}]`);
  }
  if (img.data === null) throw new MedfieldError('bad-file', subject, 'image has no voxel data');
  const n = voxelCount(size);
  if (img.data.length !== n) {
    throw new MedfieldError('bad-file', subject, `voxel data has ${img.data.length} values, size ${size.join('x')} needs ${n} (truncated or corrupt file?)`);
  }
  const spacing = img.spacing.slice(0, dim);
  if (spacing.length !== dim || spacing.slice(0, Math.min(dim, 3)).some((s) => !Number.isFinite(s) || s <= 0)) {
    throw new MedfieldError('bad-file', subject, `invalid voxel spacing [${img.spacing.join(', ')}]; expected positive finite values`);
  }
  if (img.direction.length !== dim * dim || img.origin.length < dim) {
    throw new MedfieldError('bad-file', subject, `direction/origin do not match a ${dim}-D image`);
  }
  const dirNum = Array.from(img.direction as ArrayLike<number>);
  if (!isFiniteAll(dirNum) || !isFiniteAll(img.origin)) throw new MedfieldError('bad-file', subject, 'non-finite origin or direction');

  // Spatial part: the top-left min(dim,3) block of the row-major dim x dim matrix, padded with identity.
  const sd = Math.min(dim, 3);
  const lps = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let r = 0; r < sd; r++) for (let c = 0; c < sd; c++) lps[r * 3 + c] = dirNum[r * dim + c];
  const originLps: Vec3 = [img.origin[0], img.origin[1], sd > 2 ? img.origin[2] : 0];
  const dims: Vec3 = [size[0], size[1], sd > 2 ? size[2] : 1];
  const spacingMm: Vec3 = [spacing[0], spacing[1], sd > 2 ? spacing[2] : 1];

  const dtype = t.componentType as DType; // checked against SUPPORTED_COMPONENTS above
  const data = copyTyped(dtype, img.data as ArrayLike<number>);
  const volume: Volume = { data, dims, spacingMm, originMm: flipXY(originLps), direction: flipDirectionRows(lps) };
  if (dim === 4) {
    const frameSpacing = Number.isFinite(spacing[3]) && spacing[3] > 0 ? spacing[3] : 0;
    const series: VolumeSeries = { ...volume, frames: size[3], frameSpacing };
    return series;
  }
  return volume;
}

/**
 * Converts a Volume (RAS+ mm) to an itk-wasm image (LPS+ mm), keeping the dtype. A VolumeSeries
 * with more than one frame becomes a 4D image (4th spacing = frameSpacing, or 1 when unknown).
 * The voxel data is shared, not copied (itk-wasm copies it into wasm memory when it runs).
 */
export function volumeToItkImage(v: Volume | VolumeSeries, name = 'medfield'): Image {
  const frames = 'frames' in v ? v.frames : 1;
  const dim = frames > 1 ? 4 : 3;
  const nvox = voxelCount(v.dims);
  if (v.data.length !== nvox * frames) {
    throw new MedfieldError('bad-data', name, `volume data has ${v.data.length} values, dims ${v.dims.join('x')} x ${frames} frames need ${nvox * frames}`);
  }
  const lps = flipDirectionRows(v.direction);
  const direction = new Float64Array(dim * dim);
  for (let r = 0; r < dim; r++) for (let c = 0; c < dim; c++) {
    direction[r * dim + c] = r < 3 && c < 3 ? lps[r * 3 + c] : r === c ? 1 : 0;
  }
  const origin = flipXY(v.originMm) as number[];
  const spacing: number[] = [...v.spacingMm];
  const size: number[] = [...v.dims];
  if (dim === 4) {
    origin.push(0);
    spacing.push('frameSpacing' in v && v.frameSpacing > 0 ? v.frameSpacing : 1);
    size.push(frames);
  }
  const imageType: ImageType = { dimension: dim, componentType: dtypeOf(v.data), pixelType: 'Scalar', components: 1 };
  return { imageType, name, origin, spacing, direction, size, metadata: new Map(), data: v.data };
}
