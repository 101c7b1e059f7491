/** Registers the neural reconstruction tasks with the trainer's registry (src/train/registry.ts). */
import { registerTaskFactory } from '../src/train/registry.js';
import { createAttenuationTask } from '../src/train/attenuation-task.js';
import { createRadianceTask } from '../src/train/radiance-task.js';

/** The presets `medfield train` uses when neither --preset nor a config names one. */
export const DEFAULT_ATTENUATION_PRESET = 'dense-fdk-tv';
export const DEFAULT_RADIANCE_PRESET = 'hash';

let done = false;

export function registerNeuralTasks(): void {
  if (done) return;
  done = true;
  // config (a full object, validated by the task's zod schema) wins over a preset name
  registerTaskFactory('attenuation', (ds, opts, backend) =>
    createAttenuationTask(ds, (opts.config ?? opts.preset ?? DEFAULT_ATTENUATION_PRESET) as Parameters<typeof createAttenuationTask>[1], backend));
  registerTaskFactory('radiance', (ds, opts, backend) =>
    createRadianceTask(ds, (opts.config ?? opts.preset ?? DEFAULT_RADIANCE_PRESET) as Parameters<typeof createRadianceTask>[1], backend));
}
