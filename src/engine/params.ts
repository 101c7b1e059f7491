/**
 * Trainable parameters as plain data: the contract between the kernels (encodings, MLPs),
 * which write gradients, and the optimisers, which read them and update `data` in place.
 *
 * A tensor is row-major with `shape`; `rowSize` = product of shape[1..] (1 for a vector), so
 * row r occupies data[r*rowSize .. (r+1)*rowSize). Hash-grid tables are [entries, features]:
 * a kernel that touches only some rows sets `touched[r] = 1` for each row it wrote a gradient
 * to, which lets a sparse/lazy optimiser update only those rows (instant-NGP section 4).
 * Dense tensors (MLP weights) leave `touched` undefined: every row counts as touched.
 */
export interface ParamTensor {
  /** Stable name, used as the safetensors key, e.g. 'encoding.level03.table', 'mlp.layer1.weight'. */
  readonly name: string;
  /** Row-major shape. */
  readonly shape: readonly number[];
  /** Values, length = product(shape). Float32, possibly over a SharedArrayBuffer. */
  readonly data: Float32Array;
  /** Gradient accumulator, same length as data; kernels add into it, `zeroGrad` clears it. */
  readonly grad: Float32Array;
  /** Per-row touch flags for sparse tensors (length = shape[0]); undefined for dense tensors. */
  readonly touched?: Uint8Array;
}

/** Number of elements of a shape. */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Elements per row (product of shape[1..]); 1 for vectors. */
export function rowSize(shape: readonly number[]): number {
  let n = 1;
  for (let i = 1; i < shape.length; i++) n *= shape[i]!;
  return n;
}

/**
 * Allocates a parameter tensor. `shared` puts data and grad on SharedArrayBuffers so worker
 * threads can read and accumulate without copies; `sparseRows` adds the touched-row flags.
 */
export function createParam(
  name: string,
  shape: readonly number[],
  options: { shared?: boolean; sparseRows?: boolean } = {},
): ParamTensor {
  const n = shapeSize(shape);
  const alloc = (bytes: number): ArrayBufferLike =>
    options.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const data = new Float32Array(alloc(n * 4));
  const grad = new Float32Array(alloc(n * 4));
  const touched = options.sparseRows ? new Uint8Array(alloc(shape[0] ?? 1)) : undefined;
  return touched ? { name, shape: [...shape], data, grad, touched } : { name, shape: [...shape], data, grad };
}

/** Clears gradients (and touch flags) of all tensors. */
export function zeroGrad(params: readonly ParamTensor[]): void {
  for (const p of params) {
    p.grad.fill(0);
    p.touched?.fill(0);
  }
}

/**
 * An optimiser's resumable state as plain data (what a checkpoint stores next to the parameters):
 * `tensors` by safetensors key (e.g. 'adam.m.mlp.layer1.weight'), `scalars` such as the step count.
 * Restoring it with the same parameters must make the next update bit-identical.
 */
export interface OptimizerState {
  readonly kind: string;
  readonly tensors: Readonly<Record<string, Float32Array>>;
  readonly scalars: Readonly<Record<string, number>>;
}

/** What every optimiser offers (Adam, sparse Adam, SGD): update in place from `grad`, state in/out. */
export interface Optimizer {
  /** Applies one update with learning rate `lr` to every tensor it was built with. */
  step(lr: number): void;
  /** Snapshot of the resumable state (copies). */
  state(): OptimizerState;
  /** Restores a snapshot taken by `state()` of an optimiser over the same tensors. */
  loadState(state: OptimizerState): void;
}
