import type { Command } from 'commander';
import { MedfieldError } from '../src/core/errors.js';
import { volumeStats, type Volume } from '../src/core/volume.js';
import { dicePerLabel, mae, meanSliceSsim, ncc, normalizedSurfaceDice, psnr, rmse, ssim3d } from '../src/metrics/index.js';
import { createProgress } from '../src/platform/progress.js';
import { loadVolume } from '../src/platform/volume-io.js';
import { action, assertFinite, emit, log, parseNumber, type GlobalOptions } from './common.js';

export interface EvalResult {
  pred: string;
  ref: string;
  dataRange: number;
  dataRangeSource: 'option' | 'reference max - min';
  maskVoxels: number | null;
  psnr: number;
  ssim3d: number;
  sliceSsim: { axis0: number; axis1: number; axis2: number } | null;
  mae: number;
  rmse: number;
  ncc: number;
}

async function loadScalar(file: string, what: string): Promise<Volume> {
  const { volume } = await loadVolume(file);
  if ('frames' in volume && volume.frames > 1) {
    throw new MedfieldError('bad-file', file, `${what} is a 4-D series (${volume.frames} frames); expected one 3-D volume`);
  }
  return volume;
}

/** Checks that two volumes share a grid (dims exactly; spacing/origin/direction to 1e-3 mm). */
export function assertSameGrid(a: Volume, b: Volume, aName: string, bName: string): void {
  if (a.dims.some((d, i) => d !== b.dims[i])) {
    throw new MedfieldError('bad-data', aName, `dims ${a.dims.join('x')} differ from ${bName} (${b.dims.join('x')}); resample one onto the other's grid first`);
  }
  const tol = 1e-3;
  const geomDiff = Math.max(
    ...a.spacingMm.map((s, i) => Math.abs(s - b.spacingMm[i])),
    ...a.originMm.map((s, i) => Math.abs(s - b.originMm[i])),
    ...Array.from(a.direction, (s, i) => Math.abs(s - b.direction[i])),
  );
  if (geomDiff > tol) {
    throw new MedfieldError('bad-data', aName, `geometry (spacing/origin/direction) differs from ${bName} by up to ${geomDiff.toPrecision(3)}; both must be on the same grid`);
  }
}

/** Evaluates a prediction against a reference on the same grid. */
export function evaluatePair(pred: Volume, ref: Volume, opts: { dataRange?: number; mask?: ArrayLike<number>; names: [string, string]; quiet?: boolean; sliceWise?: boolean }): EvalResult {
  const [predName, refName] = opts.names;
  assertFinite(pred, predName);
  assertFinite(ref, refName);
  let dataRange = opts.dataRange;
  let dataRangeSource: EvalResult['dataRangeSource'] = 'option';
  if (dataRange === undefined) {
    const st = volumeStats(ref.data);
    dataRange = st.max - st.min;
    dataRangeSource = 'reference max - min';
    if (!(dataRange > 0)) throw new MedfieldError('bad-data', refName, 'reference is constant, so its max - min is 0; give --data-range');
  }
  const mask = opts.mask;
  const p = createProgress('eval', 6, { silent: opts.quiet });
  const o = { dataRange, mask };
  const rPsnr = psnr(ref.data, pred.data, o); p.update(1, 'ssim 3d');
  const rSsim = ssim3d(pred, ref, o); p.update(2, 'slice ssim');
  const sliceWise = opts.sliceWise ?? true;
  const s0 = sliceWise ? meanSliceSsim(pred, ref, 0, o) : NaN; p.update(3);
  const s1 = sliceWise ? meanSliceSsim(pred, ref, 1, o) : NaN; p.update(4);
  const s2 = sliceWise ? meanSliceSsim(pred, ref, 2, o) : NaN; p.update(5);
  const result: EvalResult = {
    pred: predName, ref: refName, dataRange, dataRangeSource,
    maskVoxels: mask ? countNonzero(mask) : null,
    psnr: rPsnr, ssim3d: rSsim, sliceSsim: sliceWise ? { axis0: s0, axis1: s1, axis2: s2 } : null,
    mae: mae(ref.data, pred.data, { mask }), rmse: rmse(ref.data, pred.data, { mask }), ncc: ncc(ref.data, pred.data, { mask }),
  };
  p.done();
  return result;
}

function countNonzero(m: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < m.length; i++) if (m[i] !== 0) n++;
  return n;
}

export function formatEval(r: EvalResult): string {
  const f = (x: number, d = 4) => (Number.isFinite(x) ? x.toFixed(d) : String(x));
  return [
    `pred        ${r.pred}`,
    `ref         ${r.ref}`,
    `data range  ${r.dataRange} (${r.dataRangeSource})${r.maskVoxels !== null ? `  mask: ${r.maskVoxels} voxels` : ''}`,
    `PSNR        ${f(r.psnr, 3)} dB`,
    `SSIM 3D     ${f(r.ssim3d)}`,
    ...(r.sliceSsim ? [`SSIM slices ${f(r.sliceSsim.axis0)} (axis 0)  ${f(r.sliceSsim.axis1)} (axis 1)  ${f(r.sliceSsim.axis2)} (axis 2)`] : []),
    `MAE         ${r.mae.toPrecision(5)}`,
    `RMSE        ${r.rmse.toPrecision(5)}`,
    `NCC         ${f(r.ncc)}`,
  ].join('\n');
}

export interface LabelEvalResult {
  pred: string;
  ref: string;
  nsdToleranceMm: number;
  labels: { label: number; dice: number; nsd: number; voxelsPred: number; voxelsRef: number }[];
  meanDice: number;
  meanNsd: number;
}

/** Dice and normalised surface Dice per label (every nonzero label present in either map). */
export function evaluateLabels(pred: Volume, ref: Volume, toleranceMm: number, names: [string, string]): LabelEvalResult {
  for (const [v, n] of [[pred, names[0]], [ref, names[1]]] as const) {
    for (let i = 0; i < v.data.length; i++) {
      const x = v.data[i];
      if (!Number.isInteger(x)) throw new MedfieldError('bad-data', n, `is not a label map (value ${x} at voxel ${i} is not an integer)`);
    }
  }
  const per = dicePerLabel(pred.data, ref.data);
  const labels = per.map((d) => ({
    label: d.label, dice: d.dice,
    nsd: normalizedSurfaceDice(pred, ref, { toleranceMm, label: d.label }),
    voxelsPred: d.countA, voxelsRef: d.countB,
  }));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
  return { pred: names[0], ref: names[1], nsdToleranceMm: toleranceMm, labels, meanDice: mean(labels.map((l) => l.dice)), meanNsd: mean(labels.map((l) => l.nsd)) };
}

export function formatLabelEval(r: LabelEvalResult): string {
  return [
    `pred ${r.pred}`, `ref  ${r.ref}`, `surface Dice tolerance ${r.nsdToleranceMm} mm`, '',
    `${'label'.padEnd(8)}${'Dice'.padStart(8)}${'NSD'.padStart(8)}${'voxels pred'.padStart(14)}${'voxels ref'.padStart(13)}`,
    ...r.labels.map((l) => `${String(l.label).padEnd(8)}${l.dice.toFixed(4).padStart(8)}${l.nsd.toFixed(4).padStart(8)}${String(l.voxelsPred).padStart(14)}${String(l.voxelsRef).padStart(13)}`),
    `${'mean'.padEnd(8)}${r.meanDice.toFixed(4).padStart(8)}${r.meanNsd.toFixed(4).padStart(8)}`,
  ].join('\n');
}

export function registerEval(program: Command): void {
  program
    .command('eval <pred> <ref>')
    .description('compare a volume with a reference on the same grid: PSNR, SSIM (3D and slice-wise), MAE, RMSE, NCC')
    .option('--data-range <r>', 'intensity range R for PSNR/SSIM (default: reference max - min, printed)', parseNumber('--data-range', { min: 0, exclusiveMin: true }))
    .option('--mask <file>', 'evaluate only where this volume (same grid) is nonzero')
    .option('--labels', 'the inputs are label maps: Dice and normalised surface Dice per label instead')
    .option('--nsd-tolerance <mm>', 'surface Dice tolerance in mm (with --labels)', parseNumber('--nsd-tolerance', { min: 0 }), 1)
    .action(action(async (predFile: string, refFile: string, opts: { dataRange?: number; mask?: string; labels?: boolean; nsdTolerance: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const pred = await loadScalar(predFile, 'prediction');
      const ref = await loadScalar(refFile, 'reference');
      assertSameGrid(pred, ref, predFile, refFile);
      if (opts.labels) {
        const r = evaluateLabels(pred, ref, opts.nsdTolerance, [predFile, refFile]);
        emit(g, r, () => formatLabelEval(r));
        return;
      }
      let mask: ArrayLike<number> | undefined;
      if (opts.mask) {
        const m = await loadScalar(opts.mask, 'mask');
        assertSameGrid(m, ref, opts.mask, refFile);
        mask = m.data;
        if (countNonzero(mask) === 0) throw new MedfieldError('bad-data', opts.mask, 'mask is empty (no nonzero voxels)');
      }
      if (!g.json) log(g, `data range ${opts.dataRange ?? '(reference max - min)'}`);
      const r = evaluatePair(pred, ref, { dataRange: opts.dataRange, mask, names: [predFile, refFile], quiet: g.quiet });
      emit(g, r, () => formatEval(r));
    }));
}
