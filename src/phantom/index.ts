/**
 * Built-in phantoms: the analytic 3D Shepp-Logan (exact line integrals, the oracle for
 * projectors and reconstructions) and a procedural brain MRI phantom with tissue labels.
 * All live on grids covering a cube of edge fovMm centred at the world origin (RAS+ mm).
 */
export {
  type PhantomEllipsoid, type EllipsoidPhantom, type LineIntegralBatch,
  eulerZxzDeg, makeEllipsoid, ellipsoidPhantom, checkPhantom, phantomValueAt, phantomValuesAt,
  phantomLineIntegral, phantomLineIntegrals, ellipsoidHalfExtentsMm,
} from './ellipsoid.js';
export { type PhantomGrid, phantomGrid, MAX_PHANTOM_VOXELS } from './grid.js';
export { type VoxelizeOptions, voxelizePhantom } from './voxelize.js';
export {
  type SheppLoganRow, type SheppLoganVariant, type SheppLoganOptions,
  SHEPP_LOGAN_VARIANTS, SHEPP_LOGAN_3D_TABLES, sheppLogan3d,
} from './shepp-logan.js';
export { type BrainLabel, BRAIN_LABELS, BRAIN_LABEL_COUNT } from './brain-model.js';
export {
  type BrainContrast, type BrainNoiseKind, type BrainNoiseOptions, type BrainPhantomOptions, type BrainPhantom,
  BRAIN_CONTRASTS, BRAIN_INTENSITIES, BRAIN_NOISE_KINDS, brainPhantom, brainLabelCounts,
} from './brain.js';
