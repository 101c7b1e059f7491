/**
 * Shared set-up of the CT protocol benchmarks (ct-protocol.ts, neural-ct.ts): simulate the
 * protocol from a volume file, and the noiseless test projections with their data range for
 * the 2D figure.
 */
import type { ProjectionOperator } from '../src/physics/operator.js';
import type { ProtocolParams } from '../src/physics/protocols.js';
import { createThreadedProjector } from '../src/platform/physics-pool.js';
import { simulateProtocol, type SimulateResult } from '../src/platform/simulate.js';
import { loadVolume } from '../src/platform/volume-io.js';

/** `--name value` from the command line, or the default. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : def;
}

export interface CtBenchSetup {
  sim: SimulateResult;
  simSeconds: number;
  /** The simulated dataset as reconstructDataset / the tasks take it. */
  ds: Pick<SimulateResult, 'meta' | 'geometry' | 'anglesRad' | 'projections'>;
  testIds: Int32Array;
  /** Siddon projector of the test views (dispose when done). */
  testOp: ProjectionOperator;
  /** Noiseless test projections of the ground truth, and their largest value (the 2D data range). */
  trueTest: Float32Array;
  testRange: number;
}

export async function setupCtBench(input: string, p: ProtocolParams, threads: number): Promise<CtBenchSetup> {
  const { volume } = await loadVolume(input);
  const t0 = performance.now();
  const sim = await simulateProtocol(volume, p, { threads });
  const simSeconds = (performance.now() - t0) / 1000;
  const testIds = Int32Array.from(sim.meta.splits.test);
  const [, nv, nu] = sim.meta.projections.shape;
  const ds = { meta: sim.meta, geometry: sim.geometry, anglesRad: sim.anglesRad, projections: sim.projections };
  const testOp = await createThreadedProjector(sim.geometry, Float64Array.from(testIds, (i) => sim.anglesRad[i]!), { method: 'siddon', threads });
  const trueTest = new Float32Array(testIds.length * nv * nu);
  await testOp.forward(sim.groundTruth.data, trueTest);
  let testRange = 0;
  for (let i = 0; i < trueTest.length; i++) if (trueTest[i]! > testRange) testRange = trueTest[i]!;
  return { sim, simSeconds, ds, testIds, testOp, trueTest, testRange };
}
