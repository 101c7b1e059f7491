/**
 * Filtered back-projection: FDK (Feldkamp, Davis & Kress 1984) for circular cone beam, and FBP
 * for parallel beam and for 2D fan beam (a cone beam with one detector row).
 *
 * Geometry and layouts follow docs/coordinate-systems.md ("X-ray geometry") and pixelRay in
 * src/geometry/xray.ts: in the frame of view theta (rotated by theta about +z around offOrigin)
 * a point q = p - offOrigin has x' = q.(cos, sin, 0) towards the source, y' = q.(-sin, cos, 0)
 * along the detector u axis and z' = q_z along v. The cone-beam ray from the source (DSO, 0, 0)
 * through q meets the detector plane x' = -(DSD - DSO) at
 *   u = y' M,  v = z' M,  M = DSD / L,  L = DSO - x',
 * detector pixel (row, col) has its centre at u = (col - (nu-1)/2) du + offU,
 * v = ((nv-1)/2 - row) dv + offV (row 0 = top). Parallel beam: u = y', v = z'.
 *
 * Reconstruction formula (Kak & Slaney 1988, eq. 3.?? for collinear detectors, rewritten for
 * the real detector at distance DSD, where the ramp's degree -2 homogeneity turns the virtual
 * detector's filter into DSD/DSO times the real one):
 *   f(p) = s * sum_i dtheta_i * W(p, theta_i) * Q_i(u*, v*),
 *   Q_i = (c * g_i) *_u h,   c = DSD / sqrt(DSD^2 + u^2 + v^2)   (cosine pre-weight; 1 for parallel),
 *   W = DSO * DSD / L^2 (cone; 1 for parallel),
 * h the band-limited ramp along u (filters.ts), dtheta_i the actual angular spacing of view i
 * (midpoint rule, circular on a full turn), s the redundancy factor: pi / (sum of dtheta) when
 * the arc is >= pi (1/2 on a full circle: every ray is measured twice), 1 for a limited arc,
 * and 1 with Parker weights (Parker 1982), which make every pair of conjugate rays sum to 1 on a
 * short scan. A uniform object of attenuation mu (1/mm) whose line integrals are mu x mm
 * reconstructs to mu.
 */
import { MedfieldError } from '../core/errors.js';
import { validateXrayGeometry, type XrayGeometry } from '../geometry/xray.js';
import { backprojectSlabWasm, createWasmFdkMemory, wasmFdkLayout, wasmSimdAvailable } from './fdk-wasm.js';
import { parkerWeight, scanQuadrature } from './scan-weights.js';
import { checkRampFilterOptions, createRampFilter, filterRows, type FilterWindow, type RampFilterOptions } from './filters.js';

/** Options of fdk / fbp. */
export interface FdkOptions extends RampFilterOptions {
  /**
   * Parker short-scan weights (cone beam): 'auto' (default) applies them when the views cover
   * at least 180 deg but less than a full turn; true forces them (the arc must be >= 180 deg);
   * false never applies them.
   */
  parker?: 'auto' | boolean;
  /**
   * Back-projection kernel: 'auto' (default) uses the WebAssembly SIMD kernel (Float32 inner
   * arithmetic, src/physics/fdk-wasm.ts) when the runtime has it, else the TypeScript reference
   * (Float64 inner arithmetic); 'js' forces the reference.
   */
  backprojector?: 'auto' | 'js';
}

/** Everything the filtering and back-projection stages need, as plain (postable) data. */
export interface FdkPlan {
  mode: 'cone' | 'parallel';
  nu: number; nv: number; du: number; dv: number; offU: number; offV: number;
  DSD: number; DSO: number;
  nx: number; ny: number; nz: number; dx: number; dy: number; dz: number;
  nViews: number;
  cos: Float64Array; sin: Float64Array;
  /** Quadrature weight x redundancy factor per view (rad). */
  viewWeight: Float64Array;
  /** Parker weighting: on/off, half-arc overscan delta (rad), beta per view (rad), gamma sign. */
  parker: boolean; parkerDelta: number; parkerBeta: Float64Array; gammaSign: number;
  window: FilterWindow; frequencyScaling: number;
}

/** Values per view of the filtered-projection buffer: [col][row] with one zero column and row of padding. */
export function filteredViewSize(plan: Pick<FdkPlan, 'nu' | 'nv'>): number {
  return (plan.nu + 1) * (plan.nv + 1);
}


/** Builds the plan of an FDK/FBP reconstruction; validates geometry, angles and options. */
export function planFdk(geo: XrayGeometry, anglesRad: ArrayLike<number>, opts: FdkOptions = {}): FdkPlan {
  validateXrayGeometry(geo, anglesRad);
  checkRampFilterOptions(opts, 'options');
  if (geo.rotDetector && geo.rotDetector.some((r) => r !== 0)) {
    throw new MedfieldError('unsupported', 'geometry.rotDetector',
      'FDK/FBP assume a detector perpendicular to the central ray; expected rotDetector [0, 0, 0] or absent (use an iterative method for a rotated detector)');
  }
  const parkerOpt = opts.parker ?? 'auto';
  if (parkerOpt !== 'auto' && parkerOpt !== true && parkerOpt !== false) {
    throw new MedfieldError('bad-option', 'options.parker', `expected 'auto', true or false, got ${String(parkerOpt)}`);
  }
  const n = anglesRad.length;
  const q = scanQuadrature(anglesRad);
  const cone = geo.mode === 'cone';
  let parker = false;
  if (cone) {
    if (parkerOpt === true) {
      if (q.span < Math.PI) throw new MedfieldError('bad-option', 'options.parker', `Parker weights need views over at least 180 deg; these span ${(q.span * 180 / Math.PI).toFixed(2)} deg`);
      parker = true;
    } else if (parkerOpt === 'auto') {
      parker = !q.fullTurn && q.span >= Math.PI && q.total < 2 * Math.PI * (1 - 1e-3);
    }
  }
  // Redundancy factor: Parker weights already sum conjugate rays to one.
  const scale = parker ? 1 : q.total >= Math.PI * (1 - 1e-3) ? Math.PI / q.total : 1;
  const viewWeight = new Float64Array(n);
  const cosA = new Float64Array(n), sinA = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    viewWeight[i] = q.weights[i]! * scale;
    cosA[i] = Math.cos(anglesRad[i]!);
    sinA[i] = Math.sin(anglesRad[i]!);
  }
  return {
    mode: geo.mode,
    nu: geo.nDetector[0], nv: geo.nDetector[1], du: geo.dDetector[0], dv: geo.dDetector[1],
    offU: geo.offDetector[0], offV: geo.offDetector[1], DSD: geo.DSD, DSO: geo.DSO,
    nx: geo.nVoxel[0], ny: geo.nVoxel[1], nz: geo.nVoxel[2], dx: geo.dVoxel[0], dy: geo.dVoxel[1], dz: geo.dVoxel[2],
    nViews: n, cos: cosA, sin: sinA, viewWeight,
    parker, parkerDelta: (q.span - Math.PI) / 2, parkerBeta: q.beta, gammaSign: q.direction,
    window: opts.window ?? 'ram-lak', frequencyScaling: opts.frequencyScaling ?? 1,
  };
}

/** Scratch buffers of the filtering stage (reusable across calls with the same plan). */
export interface FilterScratch { row: Float64Array; a: Float64Array; b: Float64Array; out: Float64Array; filter: ReturnType<typeof createRampFilter> }

/** Allocates the filtering scratch for a plan. */
export function createFilterScratch(plan: FdkPlan): FilterScratch {
  const filter = createRampFilter(plan.nu, plan.du, { window: plan.window, frequencyScaling: plan.frequencyScaling });
  return {
    filter, row: new Float64Array(plan.nu * plan.nv), a: new Float64Array(filter.size), b: new Float64Array(filter.size),
    out: new Float64Array(plan.nu * plan.nv),
  };
}

/**
 * Stage 1: weights (cosine, Parker, quadrature) and ramp-filters views [v0, v1) of
 * `projections` ([views, nv, nu], row 0 = top) into `filtered` (filteredViewSize values per
 * view, [col][row] transposed with a zero column and row of padding for the interpolation).
 */
export function filterProjections(plan: FdkPlan, projections: Float32Array, filtered: Float32Array,
  v0 = 0, v1 = plan.nViews, scratch: FilterScratch = createFilterScratch(plan)): void {
  const { nu, nv, du, dv, offU, offV, DSD } = plan;
  const cone = plan.mode === 'cone';
  const S = nv + 1, block = filteredViewSize(plan);
  const cu = (nu - 1) / 2, cv = (nv - 1) / 2;
  const { row: w, out } = scratch;
  for (let view = v0; view < v1; view++) {
    const base = view * nu * nv;
    const vw = plan.viewWeight[view]!;
    const beta = plan.parkerBeta[view]!;
    for (let r = 0; r < nv; r++) {
      const v = (cv - r) * dv + offV;
      for (let c = 0; c < nu; c++) {
        const u = (c - cu) * du + offU;
        let weight = vw;
        if (cone) {
          weight *= DSD / Math.sqrt(DSD * DSD + u * u + v * v);
          // Fan angle: +u is clockwise from the central ray seen from +z (u axis = R(theta) (0,1,0)).
          if (plan.parker) weight *= parkerWeight(beta, -plan.gammaSign * Math.atan(u / DSD), plan.parkerDelta);
        }
        w[r * nu + c] = projections[base + r * nu + c]! * weight;
      }
    }
    filterRows(scratch.filter, w, 0, nv, out, 0, scratch.a, scratch.b);
    const fb = view * block;
    for (let c = 0; c < nu; c++) {
      const col = fb + c * S;
      for (let r = 0; r < nv; r++) filtered[col + r] = out[r * nu + c]!;
      filtered[col + nv] = 0;
    }
    filtered.fill(0, fb + nu * S, fb + block);
  }
}

/**
 * Stage 2: voxel-driven back-projection of all views of `filtered` into z-slices [k0, k1) of
 * `out` (Float32 [nz, ny, nx], x fastest), overwriting them. Bilinear detector interpolation;
 * a voxel whose projection falls within half a pixel outside the detector takes the edge value,
 * further out it gets nothing from that view. `acc` (optional scratch, >= nx*ny*(k1-k0)) holds
 * the slab z-fastest so the inner loop over z runs over contiguous memory.
 */
export function backprojectSlab(plan: FdkPlan, filtered: Float32Array, out: Float32Array, k0 = 0, k1 = plan.nz,
  acc: Float32Array = new Float32Array(plan.nx * plan.ny * (k1 - k0))): void {
  const { nu, nv, du, dv, offU, offV, DSD, DSO, nx, ny, nz, dx, dy, dz } = plan;
  const cone = plan.mode === 'cone';
  const nk = k1 - k0;
  if (nk <= 0) return;
  acc.fill(0, 0, nx * ny * nk);
  const S = nv + 1, block = filteredViewSize(plan);
  const cu = (nu - 1) / 2, cv = (nv - 1) / 2;
  const X = new Float64Array(nx), Y = new Float64Array(ny);
  for (let i = 0; i < nx; i++) X[i] = (i - (nx - 1) / 2) * dx;
  for (let j = 0; j < ny; j++) Y[j] = (j - (ny - 1) / 2) * dy;
  // Views are processed in groups of VIEW_GROUP per voxel column, so the column's nk
  // accumulators stay in L1 while the group's views are added (the volume is streamed through
  // memory once per group instead of once per view). Per view: x-terms of x' and y'.
  const G = VIEW_GROUP;
  const xc = new Float64Array(G * nx), xs = new Float64Array(G * nx);
  // z' of slice 0 of the whole grid: rows are computed from the global slice index so that any
  // split into slabs gives bit-identical results.
  const z0 = (-(nz - 1) / 2) * dz;
  const rowTop = cv + offV / dv; // row coordinate of v = 0
  const invDu = 1 / du, invDv = 1 / dv;
  const uMax = nu - 1, vMax = nv - 1;
  const DSOD = DSO * DSD;
  for (let v0 = 0; v0 < plan.nViews; v0 += G) {
    const gn = Math.min(G, plan.nViews - v0);
    for (let g = 0; g < gn; g++) {
      const c = plan.cos[v0 + g]!, s = plan.sin[v0 + g]!;
      for (let i = 0; i < nx; i++) { xc[g * nx + i] = X[i]! * c; xs[g * nx + i] = X[i]! * s; }
    }
    for (let j = 0; j < ny; j++) {
      const rowBase = j * nx;
      for (let i = 0; i < nx; i++) for (let g = 0; g < gn; g++) {
        const view = v0 + g;
        const fb = view * block;
        const c = plan.cos[view]!, s = plan.sin[view]!;
        const xr = xc[g * nx + i]! + Y[j]! * s; // towards the source
        const yr = Y[j]! * c - xs[g * nx + i]!; // along u
        let M = 1, W = 1;
        if (cone) {
          if (!(DSO - xr > 0)) continue; // at or behind the source: no ray of this view
          const invL = 1 / (DSO - xr);
          M = DSD * invL;
          W = DSOD * invL * invL;
        }
        let colf = (yr * M - offU) * invDu + cu;
        if (colf < -0.5 || colf > nu - 0.5) continue;
        colf = colf < 0 ? 0 : colf > uMax ? uMax : colf;
        const c0 = colf | 0;
        const fc = colf - c0;
        const w0 = W * (1 - fc), w1 = W * fc;
        // row(k) = r0 - k dr for grid slice k (z' = z0 + k dz), decreasing in k.
        const dr = dz * M * invDv;
        const r0 = rowTop - z0 * M * invDv;
        const idr = 1 / dr;
        // Slices whose row lies in [-0.5, nv - 0.5] (clamped to the slab), and the interior ones
        // whose row lies in [0, nv - 1] (no clamping needed). Clamp as doubles, then make them
        // int32: V8 then indexes with integers instead of converting a double on every access.
        let kAf = Math.ceil((r0 - (nv - 0.5)) * idr), kBf = Math.floor((r0 + 0.5) * idr);
        if (kAf < k0) kAf = k0;
        if (kBf > k1 - 1) kBf = k1 - 1;
        if (kAf > kBf) continue;
        let kIf = Math.ceil((r0 - vMax) * idr), kJf = Math.floor(r0 * idr);
        if (kIf < kAf) kIf = kAf;
        if (kIf > kBf + 1) kIf = kBf + 1; // (dr < 1/2: the lower edge band may hold slices past the slab)
        if (kJf > kBf) kJf = kBf;
        const kA = kAf | 0, kB = kBf | 0, kI = kIf | 0, kJ = kJf | 0;
        const colBase = fb + c0 * S;
        const a = (rowBase + i) * nk - k0;
        let k = kA;
        // Edge slices (within half a pixel outside the outer row centres) clamp to the edge row.
        for (; k < kI; k++) {
          let rf = r0 - k * dr;
          rf = rf < 0 ? 0 : rf > vMax ? vMax : rf;
          const r = rf | 0, fr = rf - r, idx = colBase + r;
          acc[a + k] += w0 * (filtered[idx]! + fr * (filtered[idx + 1]! - filtered[idx]!))
            + w1 * (filtered[idx + S]! + fr * (filtered[idx + S + 1]! - filtered[idx + S]!));
        }
        for (; k <= kJ; k++) {
          const rf = r0 - k * dr;
          const r = rf | 0;
          const fr = rf - r;
          const idx = colBase + r;
          const f00 = filtered[idx]!, f01 = filtered[idx + 1]!, f10 = filtered[idx + S]!, f11 = filtered[idx + S + 1]!;
          acc[a + k] += w0 * (f00 + fr * (f01 - f00)) + w1 * (f10 + fr * (f11 - f10));
        }
        for (; k <= kB; k++) {
          let rf = r0 - k * dr;
          rf = rf < 0 ? 0 : rf > vMax ? vMax : rf;
          const r = rf | 0, fr = rf - r, idx = colBase + r;
          acc[a + k] += w0 * (filtered[idx]! + fr * (filtered[idx + 1]! - filtered[idx]!))
            + w1 * (filtered[idx + S]! + fr * (filtered[idx + S + 1]! - filtered[idx + S]!));
        }
      }
    }
  }
  // z-fastest slab -> Volume order (x fastest).
  for (let k = 0; k < nk; k++) {
    const o = (k0 + k) * nx * ny;
    for (let p = 0; p < nx * ny; p++) out[o + p] = acc[p * nk + k]!;
  }
}

/** Views back-projected together per voxel column (see backprojectSlab). */
const VIEW_GROUP = 8;

/** Validates options.backprojector. */
export function checkBackprojector(b: unknown): 'auto' | 'js' {
  if (b === undefined || b === 'auto' || b === 'js') return b ?? 'auto';
  throw new MedfieldError('bad-option', 'options.backprojector', `expected 'auto' or 'js', got ${String(b)}`);
}

function checkProjections(plan: FdkPlan, projections: Float32Array): void {
  const need = plan.nViews * plan.nu * plan.nv;
  if (!(projections instanceof Float32Array) || projections.length !== need) {
    throw new MedfieldError('bad-data', 'projections',
      `expected a Float32Array of ${need} values ([${plan.nViews} views, ${plan.nv} rows, ${plan.nu} cols]), got ${projections instanceof Float32Array ? projections.length + ' values' : typeof projections}`);
  }
}

/** Filters and back-projects on the calling thread. */
export function reconstructFiltered(plan: FdkPlan, projections: Float32Array, backprojector: 'auto' | 'js' = 'auto'): Float32Array {
  checkProjections(plan, projections);
  if (backprojector !== 'js' && wasmSimdAvailable()) {
    // Fast path (src/physics/fdk-wasm.ts): filtered projections and accumulator in one WebAssembly.Memory.
    const layout = wasmFdkLayout(plan, [plan.nx * plan.ny * plan.nz]);
    const memory = layout && createWasmFdkMemory(layout, false);
    if (layout && memory) {
      const filteredW = new Float32Array(memory.buffer, layout.filteredOffset * 4, plan.nViews * filteredViewSize(plan));
      filterProjections(plan, projections, filteredW);
      const out = new Float32Array(plan.nx * plan.ny * plan.nz);
      backprojectSlabWasm(plan, memory, layout.filteredOffset, layout.accOffsets[0]!, out);
      return out;
    }
  }
  const filtered = new Float32Array(plan.nViews * filteredViewSize(plan));
  filterProjections(plan, projections, filtered);
  const out = new Float32Array(plan.nx * plan.ny * plan.nz);
  backprojectSlab(plan, filtered, out);
  return out;
}

/**
 * FDK reconstruction of a circular cone-beam scan (geo.mode 'cone'; rotDetector must be zero).
 * @param projections - Float32 line integrals [views, nv, nu], row 0 = top, views in angle order.
 * @returns Float32 volume [nz, ny, nx] (x fastest) on the geometry's grid, in 1/mm.
 */
export function fdk(geo: XrayGeometry, anglesRad: ArrayLike<number>, projections: Float32Array, opts: FdkOptions = {}): Float32Array {
  if (geo.mode !== 'cone') throw new MedfieldError('bad-option', 'geometry.mode', `FDK needs a cone-beam geometry, got '${geo.mode}' (use fbp)`);
  return reconstructFiltered(planFdk(geo, anglesRad, opts), projections, checkBackprojector(opts.backprojector));
}

/**
 * FBP of a parallel-beam scan (each detector row is a 2D slice) or of a 2D fan-beam scan (a
 * cone geometry with one detector row). Same output as {@link fdk}.
 */
export function fbp(geo: XrayGeometry, anglesRad: ArrayLike<number>, projections: Float32Array, opts: FdkOptions = {}): Float32Array {
  if (geo.mode === 'cone' && geo.nDetector[1] !== 1) {
    throw new MedfieldError('bad-option', 'geometry.nDetector', `FBP takes a parallel beam or a fan beam (cone with nDetector[1] = 1); this cone beam has ${geo.nDetector[1]} rows (use fdk)`);
  }
  return reconstructFiltered(planFdk(geo, anglesRad, opts), projections, checkBackprojector(opts.backprojector));
}
