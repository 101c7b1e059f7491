/** Registers the neural reconstruction tasks with the trainer's registry (src/train/registry.ts). */
import { deepMerge } from '../src/core/merge.js';
import { ATTENUATION_PRESETS, resolveAttenuationConfig, type AttenuationConfigInput } from '../src/field/attenuation.js';
import { reconstructDataset } from '../src/platform/reconstruct.js';
import { registerTaskFactory, type TaskOptions } from '../src/train/registry.js';
import { createAttenuationTask } from '../src/train/attenuation-task.js';
import { createRadianceTask } from '../src/train/radiance-task.js';
import { RADIANCE_TASK_PRESETS } from '../src/train/radiance-config.js';

/** The presets `medfield train` uses when neither --preset nor a config names one. */
export const DEFAULT_ATTENUATION_PRESET = 'dense-fdk-tv';
export const DEFAULT_RADIANCE_PRESET = 'hash';

let done = false;

/**
 * The task config from the options: a preset name alone, a config object alone, or the config's
 * keys merged over the preset's (so `{preset: 'dense-fdk-tv', task: {warmStart: {kind: 'sart'}}}`
 * changes one key). Unknown preset names go through as names so the task's error lists the known ones.
 */
function configOf(opts: TaskOptions, presets: Record<string, unknown>, fallback: string): unknown {
  const name = opts.preset ?? (opts.config ? undefined : fallback);
  if (!opts.config) return name;
  const base = name !== undefined ? presets[name] : undefined;
  if (name !== undefined && !base) return name;
  return base ? deepMerge(structuredClone(base) as Record<string, unknown>, opts.config) : opts.config;
}

export function registerNeuralTasks(): void {
  if (done) return;
  done = true;
  registerTaskFactory('attenuation', async (ds, opts, backend) => {
    const input = configOf(opts, ATTENUATION_PRESETS, DEFAULT_ATTENUATION_PRESET) as AttenuationConfigInput | string;
    const cfg = resolveAttenuationConfig(input);
    // the SART warm start is computed here (threaded, platform code); the task fits the field to it
    const initialVolume = cfg.warmStart.kind === 'sart'
      ? (await reconstructDataset(ds, { method: 'sart', iterations: cfg.warmStart.sartEpochs })).data : undefined;
    return createAttenuationTask(ds, input, backend, initialVolume ? { initialVolume } : {});
  });
  registerTaskFactory('radiance', (ds, opts, backend) =>
    createRadianceTask(ds, configOf(opts, RADIANCE_TASK_PRESETS, DEFAULT_RADIANCE_PRESET) as Parameters<typeof createRadianceTask>[1], backend));
}
