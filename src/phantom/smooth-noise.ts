/**
 * Seeded smooth random fields for procedural phantoms: a sum of K random plane waves,
 * g(p) = sqrt(2/K) * sum_j sin(k_j . p + phase_j), with random directions and wavelengths drawn
 * log-uniformly in a band. Each term has variance 1/2, so g has unit variance; it is smooth at the
 * scale of the shortest wavelength and costs K sines per point (no lattice, no allocation).
 */
import type { Rng } from '../core/rng.js';

/** Packed wave terms: [kx, ky, kz, phase] per term, k in radians per mm. */
export interface SmoothNoise {
  waves: Float64Array;
  /** sqrt(2 / K), the factor that gives unit variance. */
  scale: number;
}

/** Draws K waves with wavelengths (mm) log-uniform in [minWavelengthMm, maxWavelengthMm]. */
export function createSmoothNoise(rng: Rng, terms: number, minWavelengthMm: number, maxWavelengthMm: number): SmoothNoise {
  const waves = new Float64Array(terms * 4);
  const logMin = Math.log(minWavelengthMm), logMax = Math.log(maxWavelengthMm);
  for (let j = 0; j < terms; j++) {
    // Uniform direction on the sphere: z uniform in [-1, 1], azimuth uniform.
    const z = 2 * rng.next() - 1, az = 2 * Math.PI * rng.next(), rxy = Math.sqrt(1 - z * z);
    const lambda = Math.exp(logMin + (logMax - logMin) * rng.next());
    const k = (2 * Math.PI) / lambda;
    waves[4 * j] = k * rxy * Math.cos(az);
    waves[4 * j + 1] = k * rxy * Math.sin(az);
    waves[4 * j + 2] = k * z;
    waves[4 * j + 3] = 2 * Math.PI * rng.next();
  }
  return { waves, scale: Math.sqrt(2 / Math.max(1, terms)) };
}

/** Value of the field at world point (x, y, z) mm; unit variance, mean 0. */
export function smoothNoiseAt(n: SmoothNoise, x: number, y: number, z: number): number {
  const w = n.waves;
  let s = 0;
  for (let j = 0; j < w.length; j += 4) s += Math.sin(w[j] * x + w[j + 1] * y + w[j + 2] * z + w[j + 3]);
  return s * n.scale;
}
