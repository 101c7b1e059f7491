/** Ray samplers and volume rendering along rays (X-ray line integrals, emission-absorption). */
export { stratifiedSamples, intervalDeltas, hierarchicalSamples, mergeSorted, patchPixels, bilinearPixel, carveVisualHull, occupiedSegment, type PatchOptions, type OccupancyGrid } from './samplers.js';
export { compositeEa, compositeEaBackward, compositeLine, compositeLineBackward } from './volume-render.js';
export * from './xray-rays.js';
