export * from './xray.js';
export * from './grid.js';
export * from './ray-box.js';
export * from './pinhole.js';
export * from './slice-stack.js';
