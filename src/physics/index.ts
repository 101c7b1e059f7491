/** X-ray physics: the projection operator contract, simulation protocols, projectors, noise and classical reconstruction. */
export * from './operator.js';
export * from './protocols.js';
