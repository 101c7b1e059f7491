/** Node worker_threads entry of an engine thread: receives its init message, then serves kernel ops. */
import { parentPort } from 'node:worker_threads';
import { engineWorkerMain, type EngineWorkerInit } from '../engine/cpu/worker-main.js';

parentPort!.once('message', (init: EngineWorkerInit) => {
  engineWorkerMain(init, () => parentPort!.postMessage('ready'));
  process.exit(0);
});
