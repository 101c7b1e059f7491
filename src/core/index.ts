export * from './errors.js';
export * from './volume.js';
export * from './rng.js';
export * from './merge.js';
