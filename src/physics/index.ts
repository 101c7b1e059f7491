/** X-ray physics: the projection operator contract, simulation protocols, projectors, noise and classical reconstruction. */
export * from './operator.js';
export * from './protocols.js';
export * from './noise.js';
export * from './flat-dark.js';
export * from './rotation-centre.js';
export * from './reconstruction.js';
export * from './projectors.js';
