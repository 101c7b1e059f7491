/**
 * Geometry of the procedural brain phantom: which tissue label a world point (RAS+ mm) has.
 * Shapes are fixed in mm (an adult head about 152 x 192 x 180 mm), centred at the origin:
 * +x right, +y anterior, +z superior. A seed changes the cortical folding, the tumour's place and
 * size, the irregularity of its margins and the bias field, nothing else.
 *
 * Layers are offsets of one head ellipsoid measured with an approximate signed distance
 * d = |p| (1 - 1/r), r the ellipsoid's normalised radius (exact on the axes, within a few
 * per cent elsewhere), so scalp, skull and CSF keep roughly constant thickness in mm.
 */
import { createRng } from '../core/rng.js';
import { createSmoothNoise, smoothNoiseAt, type SmoothNoise } from './smooth-noise.js';

/** Tissue labels of the brain phantom's label map (Uint8 values). */
export const BRAIN_LABELS = {
  background: 0,
  /** Scalp and other soft tissue outside the skull. */
  scalp: 1,
  skull: 2,
  /** Extra-cerebral and sulcal CSF, interhemispheric fissure. */
  csf: 3,
  /** Cortex and deep grey nuclei (thalamus, caudate, lentiform). */
  greyMatter: 4,
  whiteMatter: 5,
  /** Lateral ventricles (CSF, kept apart from label 3 for segmentation tests). */
  ventricles: 6,
  /** Peritumoural (vasogenic) oedema, in white matter only. */
  oedema: 7,
  /** Contrast-enhancing tumour rim. */
  enhancingRim: 8,
  /** Necrotic tumour core. */
  necroticCore: 9,
} as const;
export type BrainLabel = (typeof BRAIN_LABELS)[keyof typeof BRAIN_LABELS];
/** Number of labels (values 0 .. BRAIN_LABEL_COUNT - 1). */
export const BRAIN_LABEL_COUNT = 10;

/** Head ellipsoid semi-axes (mm): x (L-R), y (P-A), z (I-S). */
const HEAD: readonly [number, number, number] = [76, 96, 90];
/** Signed-distance thresholds (mm, negative = inside the head surface). */
const SCALP_IN = -5, SKULL_IN = -12, BRAIN_OUT = -15.5, BRAIN_OUT_FOLD = 1.2;
const WM_OUT = -23, WM_FOLD = 6, GM_MIN = 2.5, SULCUS_G = -1.2, SULCUS_GM = 3;
/** The gyral field is clamped to +-G_MAX so points deeper than this need no noise evaluation. */
const G_MAX = 2.5;
const DEEP = WM_OUT - WM_FOLD * G_MAX - 1;
/** Interhemispheric fissure: CSF at |x| < half width, lined with cortex up to |x| < lining. */
const FISSURE_HALF = 1.5, FISSURE_LINING = 4.5, FISSURE_Z = 22, FISSURE_POLE_Y = 58;

interface Blob { cx: number; cy: number; cz: number; ax: number; ay: number; az: number; cosA: number; sinA: number; arch: number }

const blob = (cx: number, cy: number, cz: number, ax: number, ay: number, az: number, angleDeg = 0, arch = 0): Blob => ({
  cx, cy, cz, ax, ay, az, cosA: Math.cos((angleDeg * Math.PI) / 180), sinA: Math.sin((angleDeg * Math.PI) / 180), arch,
});

/**
 * Lateral ventricles: long in y, rotated about z so the posterior bodies diverge, and arched
 * (z shifted by arch * dy^2) so both ends dip like the real C-shape. Then deep grey nuclei.
 */
const VENTRICLES = [blob(10, 0, 14, 5.5, 28, 8, 8, 0.01), blob(-10, 0, 14, 5.5, 28, 8, -8, 0.01)];
const DEEP_GREY = [
  blob(11, -10, 2, 9, 14, 10), blob(-11, -10, 2, 9, 14, 10), // thalami
  blob(22, 6, 2, 6, 16, 10), blob(-22, 6, 2, 6, 16, 10), // lentiform nuclei
  blob(15, 18, 10, 5, 10, 8), blob(-15, 18, 10, 5, 10, 8), // caudate heads
];

function inBlob(b: Blob, x: number, y: number, z: number): boolean {
  const dx = x - b.cx, dy = y - b.cy;
  const u = b.cosA * dx + b.sinA * dy, v = -b.sinA * dx + b.cosA * dy;
  const w = z - b.cz + b.arch * v * v;
  return (u / b.ax) ** 2 + (v / b.ay) ** 2 + (w / b.az) ** 2 <= 1;
}

/** Seeded parts of the model. Plain data; build with `createBrainModel`. */
export interface BrainModel {
  seed: number;
  /** Cortical folding field (unit variance, wavelengths 14-32 mm). */
  gyri: SmoothNoise;
  /** Irregularity of the tumour margins (8-20 mm) and of the oedema (12-30 mm). */
  tumourEdge: SmoothNoise;
  oedemaEdge: SmoothNoise;
  /** Very low-frequency field (wavelengths 250-600 mm) for the multiplicative bias. */
  bias: SmoothNoise;
  /** Tumour centre (mm) and radii (mm) of necrotic core, enhancing rim and oedema. */
  tumour: { cx: number; cy: number; cz: number; rCore: number; rRim: number; rOedema: number };
}

/** Draws the seeded parts (always in the same order, so a seed means one phantom). */
export function createBrainModel(seed: number): BrainModel {
  const rng = createRng(seed);
  const gyri = createSmoothNoise(rng, 24, 14, 32);
  const tumourEdge = createSmoothNoise(rng, 12, 8, 20);
  const oedemaEdge = createSmoothNoise(rng, 12, 12, 30);
  const bias = createSmoothNoise(rng, 6, 250, 600);
  // Deep white matter of one frontal/parietal hemisphere, clear of the ventricles (|x| <= 17).
  const side = rng.next() < 0.5 ? -1 : 1;
  const cx = side * (30 + 6 * rng.next()), cy = 8 + 18 * rng.next(), cz = 14 + 12 * rng.next();
  const rRim = 11 + 3 * rng.next();
  const rCore = rRim * (0.5 + 0.15 * rng.next());
  const rOedema = rRim + 10 + 6 * rng.next();
  return { seed, gyri, tumourEdge, oedemaEdge, bias, tumour: { cx, cy, cz, rCore, rRim, rOedema } };
}

/** Approximate signed distance (mm) to the head ellipsoid surface; negative inside. */
export function headDistanceMm(x: number, y: number, z: number): number {
  const r = Math.sqrt((x / HEAD[0]) ** 2 + (y / HEAD[1]) ** 2 + (z / HEAD[2]) ** 2);
  if (r < 1e-12) return -HEAD[0];
  return Math.sqrt(x * x + y * y + z * z) * (1 - 1 / r);
}

const clampG = (g: number): number => (g > G_MAX ? G_MAX : g < -G_MAX ? -G_MAX : g);

/** Tissue label (see BRAIN_LABELS) at world point (x, y, z) mm. */
export function brainLabelAt(m: BrainModel, x: number, y: number, z: number): BrainLabel {
  const d = headDistanceMm(x, y, z);
  if (d > 0) return BRAIN_LABELS.background;
  if (d > SCALP_IN) return BRAIN_LABELS.scalp;
  if (d > SKULL_IN) return BRAIN_LABELS.skull;
  let label: BrainLabel;
  if (d < DEEP) {
    label = BRAIN_LABELS.whiteMatter; // below the deepest fold: no noise needed
  } else {
    const g = clampG(smoothNoiseAt(m.gyri, x, y, z));
    const surface = BRAIN_OUT + BRAIN_OUT_FOLD * g;
    if (d > surface) return BRAIN_LABELS.csf;
    const wm = Math.min(WM_OUT + WM_FOLD * g, surface - GM_MIN);
    if (d < wm) label = BRAIN_LABELS.whiteMatter;
    // Sulci: where the folding field is low, open CSF between the cortical linings.
    else if (g < SULCUS_G && d > wm + SULCUS_GM) label = BRAIN_LABELS.csf;
    else label = BRAIN_LABELS.greyMatter;
  }
  const ax = Math.abs(x);
  if (ax < FISSURE_LINING && (z > FISSURE_Z || Math.abs(y) > FISSURE_POLE_Y)) {
    if (ax < FISSURE_HALF) label = BRAIN_LABELS.csf;
    else if (label === BRAIN_LABELS.whiteMatter) label = BRAIN_LABELS.greyMatter;
  }
  if (label === BRAIN_LABELS.whiteMatter) {
    for (const b of DEEP_GREY) if (inBlob(b, x, y, z)) { label = BRAIN_LABELS.greyMatter; break; }
  }
  if (label === BRAIN_LABELS.whiteMatter || label === BRAIN_LABELS.greyMatter) {
    for (const b of VENTRICLES) if (inBlob(b, x, y, z)) { label = BRAIN_LABELS.ventricles; break; }
  }
  return tumourLabel(m, x, y, z, label);
}

/** Tumour over parenchyma: necrotic core, enhancing rim, then oedema (white matter only). */
function tumourLabel(m: BrainModel, x: number, y: number, z: number, label: BrainLabel): BrainLabel {
  const t = m.tumour;
  const dx = x - t.cx, dy = y - t.cy, dz = z - t.cz;
  const r2 = dx * dx + dy * dy + dz * dz;
  const reach = t.rOedema + 5 * G_MAX;
  if (r2 > reach * reach || label === BRAIN_LABELS.csf) return label;
  const r = Math.sqrt(r2);
  if (r < t.rRim + 1.5 * G_MAX) {
    const e = 1.5 * clampG(smoothNoiseAt(m.tumourEdge, x, y, z));
    if (r < t.rCore + e) return BRAIN_LABELS.necroticCore;
    if (r < t.rRim + e) return BRAIN_LABELS.enhancingRim;
  }
  if (label === BRAIN_LABELS.whiteMatter && r < t.rOedema + 5 * clampG(smoothNoiseAt(m.oedemaEdge, x, y, z))) {
    return BRAIN_LABELS.oedema;
  }
  return label;
}
