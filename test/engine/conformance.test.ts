import { createCpuBackend } from '../../src/engine/cpu/backend.js';
import { createEnginePool } from '../../src/platform/engine-pool.js';
import { backendConformance } from '../helpers/engine-conformance.js';

backendConformance('cpu inline, plain JS', async () => createCpuBackend({ simd: false }));
backendConformance('cpu inline, WASM SIMD', async () => createCpuBackend({ simd: true }));
backendConformance('cpu 2 threads, WASM SIMD', () => createEnginePool({ threads: 2, simd: true }));
backendConformance('cpu 3 threads, plain JS', () => createEnginePool({ threads: 3, simd: false }));
