/** Training: the TrainTask contract, the trainer, task registry, volume-fit task and metrics log. */
export type { TaskStepResult, TrainTask } from './task.js';
export * from './trainer.js';
export * from './registry.js';
export * from './volume-fit-task.js';
export * from './metrics-log.js';
export * from './attenuation-task.js';
export { createRadianceTask, resolveRadianceTaskConfig, radianceTaskSchema, RADIANCE_TASK_PRESETS, type RadianceTaskConfig, type RadianceTaskConfigInput, type RadianceDataset, type RadianceTrainTask } from './radiance-task.js';
