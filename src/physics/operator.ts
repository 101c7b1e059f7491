/**
 * The linear X-ray operator A (volume -> projections) and its exact adjoint A^T, as consumed by
 * iterative reconstruction (SART, SIRT, CGLS) and produced by the projectors. Implementations
 * may run on worker threads, hence the Promises; buffers may live on SharedArrayBuffers.
 *
 * Layouts: a volume x is Float32 [nz, ny, nx] flattened with x fastest (Volume order,
 * i + nx*(j + ny*k)) on the geometry's grid; projections y are Float32 [views, nv, nu] flattened
 * (row 0 = top, docs/coordinate-systems.md "X-ray geometry"), views in `anglesRad` order.
 */
import type { XrayGeometry } from '../geometry/xray.js';

export interface ProjectionOperator {
  readonly geometry: XrayGeometry;
  readonly anglesRad: Float64Array;
  /** Number of volume values nx*ny*nz. */
  readonly volumeSize: number;
  /** Number of values of one projection nu*nv. */
  readonly viewSize: number;
  /**
   * y_v = (A x)_v for each view index v in `views` (default: all views), written (not added)
   * to y at offset v*viewSize; other views of y are left untouched.
   */
  forward(x: Float32Array, y: Float32Array, views?: Int32Array): Promise<void>;
  /**
   * x = sum over v in `views` (default all) of A_v^T y_v, written (not added) to x.
   * Exact adjoint of `forward`: <A x, y> = <x, A^T y> to float rounding.
   */
  adjoint(y: Float32Array, x: Float32Array, views?: Int32Array): Promise<void>;
  /** Releases worker threads, if any. */
  dispose(): void;
}
