import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MedfieldError } from '../../src/core/errors.js';
import {
  BRAIN_CONTRASTS, BRAIN_INTENSITIES, BRAIN_LABEL_COUNT, BRAIN_LABELS, brainLabelCounts, brainPhantom,
  type BrainContrast,
} from '../../src/phantom/index.js';
import { PHANTOM_NOISE_STAT_REL } from '../tolerances.js';

const L = BRAIN_LABELS;

/** Mean intensity per label (NaN for absent labels). */
function labelMeans(values: Float32Array, labels: Uint8Array): number[] {
  const sum = new Array<number>(BRAIN_LABEL_COUNT).fill(0), n = new Array<number>(BRAIN_LABEL_COUNT).fill(0);
  for (let i = 0; i < labels.length; i++) { sum[labels[i]] += values[i]; n[labels[i]]++; }
  return sum.map((s, l) => s / n[l]);
}

const means = (contrast: BrainContrast, seed = 1): number[] => {
  const b = brainPhantom({ size: 64, contrast, seed });
  return labelMeans(b.volume.data, b.labels.data);
};

describe('brain phantom', () => {
  test('deterministic for a seed (volume, labels, noise); different seeds differ', () => {
    const opts = { size: 40, seed: 7, contrast: 'flair', noise: { sigma: 0.03 } } as const;
    const a = brainPhantom(opts), b = brainPhantom(opts);
    assert.deepEqual(a.labels.data, b.labels.data);
    assert.deepEqual(a.volume.data, b.volume.data);
    const c = brainPhantom({ ...opts, seed: 8 });
    let diff = 0;
    for (let i = 0; i < c.labels.data.length; i++) if (c.labels.data[i] !== a.labels.data[i]) diff++;
    assert.ok(diff > 100, `seeds 7 and 8 differ in only ${diff} labels`);
  });

  test('every label is present at 64^3, for several seeds', () => {
    for (const seed of [1, 2, 3, 4]) {
      const counts = brainLabelCounts(brainPhantom({ size: 64, seed }).labels.data);
      counts.forEach((c, l) => assert.ok(c > 0, `seed ${seed}: label ${l} absent (${counts.join(', ')})`));
      // Anatomy-ish proportions: more white than grey matter voxels is fine, but both substantial.
      assert.ok(counts[L.greyMatter] > 0.2 * counts[L.whiteMatter], `seed ${seed}: ${counts.join(', ')}`);
      assert.ok(counts[L.necroticCore] < counts[L.enhancingRim] + counts[L.oedema], `seed ${seed}: ${counts.join(', ')}`);
    }
  });

  test('contrast orderings: T1 WM > GM > CSF; T2 CSF brightest; FLAIR ventricles dark, oedema bright; T1c rim > core', () => {
    const t1 = means('t1'), t2 = means('t2'), flair = means('flair'), t1c = means('t1c');
    assert.ok(t1[L.whiteMatter] > t1[L.greyMatter] && t1[L.greyMatter] > t1[L.csf], `T1 ${t1}`);
    for (let l = 1; l < BRAIN_LABEL_COUNT; l++) {
      if (l !== L.csf && l !== L.ventricles) assert.ok(t2[L.csf] > t2[l] && t2[L.ventricles] > t2[l], `T2 CSF vs label ${l}: ${t2}`);
    }
    for (const l of [L.greyMatter, L.whiteMatter, L.oedema, L.enhancingRim, L.scalp]) {
      assert.ok(flair[L.ventricles] < flair[l], `FLAIR ventricles vs label ${l}: ${flair}`);
    }
    for (const l of [L.greyMatter, L.whiteMatter, L.csf, L.ventricles]) assert.ok(flair[L.oedema] > flair[l], `FLAIR oedema vs ${l}: ${flair}`);
    assert.ok(t1c[L.enhancingRim] > t1c[L.necroticCore] && t1c[L.enhancingRim] > t1c[L.whiteMatter], `T1c ${t1c}`);
    assert.ok(t1c[L.enhancingRim] > t1[L.enhancingRim] + 0.3, 'the rim enhances with contrast');
  });

  test('without bias field or noise every voxel is exactly its label intensity; the bias is mild and smooth', () => {
    for (const contrast of BRAIN_CONTRASTS) {
      const b = brainPhantom({ size: 24, contrast, biasField: 0 });
      const t = BRAIN_INTENSITIES[contrast];
      for (let i = 0; i < b.labels.data.length; i++) {
        if (b.volume.data[i] !== Math.fround(t[b.labels.data[i]])) assert.fail(`${contrast} voxel ${i}`);
      }
    }
    const flat = brainPhantom({ size: 32, biasField: 0 }), biased = brainPhantom({ size: 32 });
    assert.deepEqual(flat.labels.data, biased.labels.data);
    let changed = 0;
    for (let i = 0; i < flat.volume.data.length; i++) {
      const a = flat.volume.data[i], b = biased.volume.data[i];
      if (a === 0) { assert.equal(b, 0, 'background stays 0'); continue; }
      const r = b / a;
      assert.ok(r > Math.exp(-0.05 * 2.5) - 1e-6 && r < Math.exp(0.05 * 2.5) + 1e-6, `bias ratio ${r}`);
      if (Math.abs(r - 1) > 1e-3) changed++;
    }
    assert.ok(changed > 1000, 'the default bias field changes intensities');
  });

  test('Rician noise: background follows Rayleigh(sigma); Gaussian noise: background std = sigma', () => {
    const sigma = 0.05;
    const r = brainPhantom({ size: 64, biasField: 0, noise: { sigma } });
    const g = brainPhantom({ size: 64, biasField: 0, noise: { sigma, kind: 'gaussian' } });
    let n = 0, sr = 0, sg = 0, sg2 = 0;
    for (let i = 0; i < r.labels.data.length; i++) {
      if (r.labels.data[i] !== L.background) continue;
      n++; sr += r.volume.data[i]; sg += g.volume.data[i]; sg2 += g.volume.data[i] ** 2;
    }
    assert.ok(n > 1e5);
    const rayleighMean = sigma * Math.sqrt(Math.PI / 2);
    assert.ok(Math.abs(sr / n - rayleighMean) < PHANTOM_NOISE_STAT_REL * rayleighMean, `Rician background mean ${sr / n} vs ${rayleighMean}`);
    const std = Math.sqrt(sg2 / n - (sg / n) ** 2);
    assert.ok(Math.abs(std - sigma) < PHANTOM_NOISE_STAT_REL * sigma, `Gaussian background std ${std}`);
    assert.ok(Math.abs(sg / n) < 0.01 * sigma + 4 * sigma / Math.sqrt(n), `Gaussian background mean ${sg / n}`);
  });

  test('any size: 17x20x23 grid covers the fov, head upright (longest A-P), centred', () => {
    const b = brainPhantom({ size: [17, 20, 23], fovMm: 240 });
    const [nx, ny, nz] = b.labels.dims;
    assert.deepEqual([nx, ny, nz], [17, 20, 23]);
    assert.deepEqual(b.labels.dims, b.volume.dims);
    assert.deepEqual(b.labels.spacingMm, [240 / 17, 240 / 20, 240 / 23]);
    b.labels.originMm.forEach((o, a) => assert.ok(Math.abs(o - (-120 + b.labels.spacingMm[a] / 2)) < 1e-9));
    assert.deepEqual([...b.labels.direction], [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const extent = [0, 0, 0];
    for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) {
      if (b.labels.data[i + nx * (j + ny * k)] === 0) continue;
      const p = [i, j, k].map((q, a) => Math.abs(b.labels.originMm[a] + q * b.labels.spacingMm[a]));
      for (let a = 0; a < 3; a++) extent[a] = Math.max(extent[a], p[a]);
    }
    assert.ok(extent[1] > extent[0] + 10, `head extents (mm) ${extent}: expected longer A-P than L-R`);
    assert.ok(extent.every((e) => e > 60 && e < 110), `head extents (mm) ${extent}`);
    const c = Math.floor(nx / 2) + nx * (Math.floor(ny / 2) + ny * Math.floor(nz / 2));
    assert.ok(b.labels.data[c] >= L.greyMatter, 'brain tissue at the centre');
  });

  test('supersampling gives partial-volume intensities between tissue values; labels unchanged', () => {
    const a = brainPhantom({ size: 32, biasField: 0 }), b = brainPhantom({ size: 32, biasField: 0, supersample: 3 });
    assert.deepEqual(a.labels.data, b.labels.data);
    const t = BRAIN_INTENSITIES.t1.map((v) => Math.fround(v));
    let mixed = 0;
    for (let i = 0; i < b.volume.data.length; i++) {
      const v = b.volume.data[i];
      assert.ok(v >= 0 && v <= Math.max(...t) + 1e-6, `value ${v}`);
      if (!t.includes(v)) mixed++;
    }
    assert.ok(mixed > 0.02 * b.volume.data.length, `only ${mixed} partial-volume voxels`);
  });

  test('bad options are MedfieldErrors naming the option', () => {
    const bad: [object, string][] = [
      [{ size: 0 }, 'size'], [{ size: [4, 4] }, 'size'], [{ size: 8, contrast: 'pd' }, 'contrast'],
      [{ size: 8, seed: 1.5 }, 'seed'], [{ size: 8, noise: { sigma: -1 } }, 'noise.sigma'],
      [{ size: 8, supersample: 0 }, 'supersample'], [{ size: 8, fovMm: 0 }, 'fovMm'], [{ size: 8, biasField: 2 }, 'biasField'],
    ];
    for (const [opts, subject] of bad) {
      assert.throws(() => brainPhantom(opts as Parameters<typeof brainPhantom>[0]),
        (e: unknown) => e instanceof MedfieldError && e.subject === subject, JSON.stringify(opts));
    }
  });
});
