export * from './nifti.js';
export * from './npy.js';
export * from './png.js';
export * from './dataset.js';
export * from './safetensors.js';
export * from './mat.js';
