/**
 * medfield's library entry point. Everything exported here is platform-neutral (no node:*
 * imports) so it loads in a browser bundle or a worker; filesystem, ITK/DICOM readers and
 * registration live in `medfield/node` (src/platform).
 */
export * from './core/index.js';
export * from './io/index.js';
export * from './metrics/index.js';
export * from './phantom/index.js';
export * from './preprocess/index.js';
export * from './geometry/index.js';
export * from './physics/index.js';
export * from './engine/index.js';
export * from './train/index.js';
export * from './export/index.js';
export { encodeGif, type GifOptions } from './io/gif.js';
export * from './field/index.js';
export * from './render/index.js';
export * from './svr/index.js';
