/**
 * The contract between a neural reconstruction model (an attenuation field trained on X-ray
 * line integrals, a radiance field trained on rendered views, a field fitted to a volume) and
 * the trainer that drives it (steps, schedules, evaluation, checkpoints, early stop, reports).
 *
 * A task owns its field(s), its ray sampler and its optimiser; the trainer owns time, learning
 * rate, evaluation and persistence. Everything a checkpoint must hold to resume bit-exactly is
 * reachable from `params()`, `optimizers()` and `rngs()`.
 */
import type { Rng } from '../core/rng.js';
import type { GridFields } from '../geometry/grid.js';
import type { Optimizer, ParamTensor } from '../engine/params.js';

/** What one optimisation step reports. */
export interface TaskStepResult {
  /** Training loss of this step (the quantity being minimised, before regularisers). */
  loss: number;
  /** Loss including regularisers (TV, ...), when any. */
  totalLoss?: number;
  /** Training PSNR of this step's rays/pixels, data range as `dataRange` of the task. */
  psnr?: number;
}

export interface TrainTask {
  /** 'attenuation' (X-ray line integrals), 'radiance' (views), 'volume-fit'. */
  readonly kind: string;
  /** The data range used for the task's 2D PSNR/SSIM (e.g. max of the training projections). */
  readonly viewDataRange: number;
  /**
   * One optimisation step at learning-rate multiplier `lrScale` (1 = the configured base rate;
   * the trainer's schedule supplies it) with the given step index (0-based, for coarse-to-fine
   * schedules inside the task). Must not keep references to trainer buffers.
   */
  step(stepIndex: number, lrScale: number): TaskStepResult;
  /**
   * Renders the views with the given indices of the task's dataset (e.g. its test split) as the
   * dataset stores them: Float32 [n, rows, cols] in the order given.
   */
  renderViews(viewIndices: readonly number[]): Float32Array;
  /** Renders views at arbitrary angles (rad) around the dataset's rotation axis: Float32 [n, rows, cols]. */
  renderAngles(anglesRad: ArrayLike<number>): Float32Array;
  /** Samples the field's volume quantity (attenuation / density / intensity) on a grid: Float32 [nz, ny, nx], x fastest. */
  sampleGrid(grid: GridFields): Float32Array;
  /** Parameters to checkpoint, with unique names. */
  params(): readonly ParamTensor[];
  /** Optimisers to checkpoint, by name. */
  optimizers(): Readonly<Record<string, Optimizer>>;
  /** Random streams to checkpoint, by name (ray sampling, jitter). */
  rngs(): Readonly<Record<string, Rng>>;
  /** The task's fully resolved config (plain JSON) for config.resolved.json. */
  resolvedConfig(): Record<string, unknown>;
  /** Releases worker threads and memory. */
  dispose(): void;
}
