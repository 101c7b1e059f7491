/** The neural-field compute engine: backends, encodings, MLPs, optimisers, field models. */
export * from './params.js';
export * from './backend.js';
export * from './config.js';
export { CpuBackend, createCpuBackend, type CpuBackendOptions, type Dispatcher } from './cpu/backend.js';
export { Arena } from './cpu/arena.js';
export { createThreadedCpuBackend, type WorkerLike, type ThreadedBackendOptions } from './cpu/threaded.js';
export { engineWorkerMain, type EngineWorkerInit } from './cpu/worker-main.js';
export { GridEncoding, createHashGridEncoding, hashGridLevels, type Encoding, type GridLevelPlan } from './encodings/hash-grid.js';
export { createDenseGridEncoding, denseGridLevels } from './encodings/dense-grid.js';
export { FrequencyEncoding } from './encodings/frequency.js';
export { Mlp } from './mlp.js';
export { Adam, type AdamOptions } from './optim/adam.js';
export { Sgd } from './optim/sgd.js';
export { FieldModel, type FieldModelOptions } from './field.js';
export { wasmSimdSupported } from './wasm/gemm.js';
