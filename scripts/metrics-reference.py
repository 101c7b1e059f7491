#!/usr/bin/python3
"""Generates test/fixtures/metrics-reference.json: inputs and reference values for the
metrics in src/metrics, computed independently with scikit-image, scipy and numpy.

Run from the repository root with Debian's Python (python3-skimage ships numpy, scipy and
scikit-image; `apt-get install -y python3-skimage`):

    /usr/bin/python3 scripts/metrics-reference.py

Deterministic: every array comes from a seeded numpy Generator. Inputs are rounded to a few
decimals before any metric is computed, so the JSON holds the exact values both sides use
(a short decimal parses to the same double in Python and JavaScript).

Layout conventions (match src/metrics):
  * 2D images are row-major, shape [rows, cols], flattened in C order.
  * 3D volumes are stored as numpy arrays of shape (nz, ny, nx) flattened in C order, which is
    medfield's x-fastest order i + nx*(j + ny*k); "dims" in the JSON is [nx, ny, nz] and
    "spacingMm" is per voxel axis [i, j, k].
  * Slice-wise SSIM along voxel axis a: mean over s of 2D SSIM of the slice with index s along
    that axis: axis 2 (k) -> arr[s], axis 1 (j) -> arr[:, s, :], axis 0 (i) -> arr[:, :, s].
"""
import json
import os
import sys

import numpy as np
import scipy
import skimage
from scipy import ndimage as ndi
from skimage.metrics import mean_squared_error, peak_signal_noise_ratio, structural_similarity

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'metrics-reference.json')
SSIM_KW = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)


def ssim_full(a, b, data_range):
    # float64 inputs: skimage computes in float32 when handed float32 arrays.
    return structural_similarity(a.astype(np.float64), b.astype(np.float64), data_range=data_range, full=True, **SSIM_KW)


def smooth_field(rng, shape, n_blobs=6):
    """Sum of random anisotropic Gaussian blobs, scaled to [0, 1]."""
    grids = np.meshgrid(*[np.arange(s, dtype=np.float64) for s in shape], indexing='ij')
    f = np.zeros(shape)
    for _ in range(n_blobs):
        centre = [rng.uniform(0, s) for s in shape]
        width = [rng.uniform(0.15, 0.4) * s for s in shape]
        amp = rng.uniform(0.3, 1.0)
        f += amp * np.exp(-sum(((g - c) / w) ** 2 for g, c, w in zip(grids, centre, width)) / 2)
    return (f - f.min()) / (f.max() - f.min())


def intensity_case(name, a, b, data_range, mask=None, decimals=4, volume=False):
    a = np.round(a, decimals)
    b = np.round(b, decimals)
    case = {'name': name, 'dataRange': data_range, 'a': a.ravel().tolist(), 'b': b.ravel().tolist()}
    if volume:
        nz, ny, nx = a.shape
        case['dims'] = [nx, ny, nz]
    else:
        case['rows'], case['cols'] = a.shape
    ref = {
        'mse': float(mean_squared_error(a, b)),
        'rmse': float(np.sqrt(mean_squared_error(a, b))),
        'mae': float(np.mean(np.abs(a - b))),
        'psnr': float(peak_signal_noise_ratio(a, b, data_range=data_range)),
        'ncc': float(np.corrcoef(a.ravel(), b.ravel())[0, 1]),
    }
    mssim, smap = ssim_full(a, b, data_range)
    ref['ssim'] = float(mssim)
    if volume:
        ref['sliceSsim'] = {}
        for axis, take in ((0, lambda x, s: x[:, :, s]), (1, lambda x, s: x[:, s, :]), (2, lambda x, s: x[s])):
            n = a.shape[2 - axis]
            vals = [structural_similarity(take(a, s), take(b, s), data_range=data_range, **SSIM_KW) for s in range(n)]
            ref['sliceSsim'][str(axis)] = [float(v) for v in vals]
    if mask is not None:
        m = mask.astype(bool)
        case['mask'] = m.ravel().astype(int).tolist()
        am, bm = a[m], b[m]
        ref['masked'] = {
            'mse': float(np.mean((am - bm) ** 2)),
            'mae': float(np.mean(np.abs(am - bm))),
            'psnr': float(10 * np.log10(data_range ** 2 / np.mean((am - bm) ** 2))),
            'ncc': float(np.corrcoef(am, bm)[0, 1]),
            # Masked SSIM = mean of the uncropped SSIM map over the masked voxels.
            'ssim': float(smap[m].mean(dtype=np.float64)),
        }
    case['ref'] = ref
    return case


def surfaces(mask):
    """Foreground voxels with a 6-neighbour outside (grid border counts as outside)."""
    st = ndi.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndi.binary_erosion(mask, structure=st, border_value=0)


def nsd_reference(a, b, sampling, tol):
    sa, sb = surfaces(a), surfaces(b)
    na, nb = int(sa.sum()), int(sb.sum())
    if na + nb == 0:
        return 1.0, na, nb, 0, 0
    if na == 0 or nb == 0:
        return 0.0, na, nb, 0, 0
    d_to_b = ndi.distance_transform_edt(~sb, sampling=sampling)
    d_to_a = ndi.distance_transform_edt(~sa, sampling=sampling)
    da, db = d_to_b[sa], d_to_a[sb]
    # A distance within rounding of the tolerance would make the reference fragile: refuse it.
    assert np.min(np.abs(np.concatenate([da, db]) - tol)) > 1e-6, f'surface distance ties tolerance {tol}'
    ma, mb = int((da <= tol).sum()), int((db <= tol).sum())
    return (ma + mb) / (na + nb), na, nb, ma, mb


def label_case(rng):
    nz, ny, nx = 16, 20, 24
    spacing_ijk = [0.8, 1.2, 2.0]  # mm along i (x), j (y), k (z)
    sampling = spacing_ijk[::-1]   # numpy axis order (z, y, x)
    z, y, x = np.meshgrid(np.arange(nz) * sampling[0], np.arange(ny) * sampling[1], np.arange(nx) * sampling[2], indexing='ij')

    def ellipsoid(c, r):
        return ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2 <= 1

    a = np.zeros((nz, ny, nx), np.int32)
    a[ellipsoid((14, 11, 8), (9, 7, 5))] = 1
    a[ellipsoid((16, 12, 12), (6, 5, 4))] = 2
    a[(z > 24) & (y < 6) & (x > 14)] = 3  # a block touching the grid border
    # Test map: label 1 shifted, label 2 dilated, label 3 missing, label 4 spurious, plus noise.
    b = np.zeros_like(a)
    b[np.roll(a == 1, shift=(1, -1, 2), axis=(0, 1, 2))] = 1
    b[ndi.binary_dilation(a == 2, iterations=1) & (b == 0)] = 2
    b[ellipsoid((4, 18, 4), (3, 3, 3))] = 4
    flip = rng.random(a.shape) < 0.01
    b[flip] = rng.integers(0, 3, size=int(flip.sum()))
    labels = [1, 2, 3, 4]
    dice = {}
    for l in labels:
        ia, ib = a == l, b == l
        den = int(ia.sum() + ib.sum())
        dice[str(l)] = 1.0 if den == 0 else float(2 * (ia & ib).sum() / den)
    present = sorted((set(np.unique(a)) | set(np.unique(b))) - {0})
    nsd = []
    for tol in (1.0, 2.5, 4.5):
        for l in [None] + labels:
            fa = (a != 0) if l is None else (a == l)
            fb = (b != 0) if l is None else (b == l)
            v, na, nb, ma, mb = nsd_reference(fa, fb, sampling, tol)
            nsd.append({'label': l, 'toleranceMm': tol, 'nsd': v, 'surfaceA': na, 'surfaceB': nb, 'matchedA': ma, 'matchedB': mb})
    # Distance transform spot check: distances (mm) from the surface of A, at every voxel.
    sa = surfaces(a != 0)
    edt = ndi.distance_transform_edt(~sa, sampling=sampling)
    return {
        'dims': [nx, ny, nz], 'spacingMm': spacing_ijk,
        'a': a.ravel().tolist(), 'b': b.ravel().tolist(),
        'dice': dice, 'meanDiceLabels': [int(l) for l in present],
        'meanDice': float(np.mean([dice[str(int(l))] for l in present])),
        'nsd': nsd,
        'surfaceACount': int(sa.sum()),
        'edtFromSurfaceA': np.round(edt, 10).ravel().tolist(),
    }


def main():
    rng = np.random.default_rng(20240611)
    cases = []
    # 2D, not square (48 rows x 40 cols), [0, 1] images.
    clean = smooth_field(rng, (48, 40))
    noisy = clean + rng.normal(0, 0.05, clean.shape)
    cases.append(intensity_case('smooth-noise-2d', clean, noisy, 1.0))
    cases.append(intensity_case('uniform-random-2d', rng.random((48, 40)), rng.random((48, 40)), 1.0))
    # CT-like units: range stated, blurred + noisy test image; mask = a disc.
    ct = -1000 + 3000 * smooth_field(rng, (48, 40), 8)
    ct_test = ndi.gaussian_filter(ct, 1.0) + rng.normal(0, 40, ct.shape)
    rr, cc = np.mgrid[0:48, 0:40]
    disc = (rr - 22) ** 2 + (cc - 21) ** 2 < 15 ** 2
    cases.append(intensity_case('ct-blur-noise-2d-masked', ct, ct_test, 3000.0, mask=disc, decimals=1))
    # Intensity-scaled copy: SSIM penalises it, NCC does not.
    cases.append(intensity_case('scaled-2d', clean, 0.6 * clean + 0.2, 1.0))
    # 3D volumes: numpy shape (nz, ny, nx) = (16, 18, 20).
    vol = smooth_field(rng, (16, 18, 20), 8)
    vol_test = vol + rng.normal(0, 0.04, vol.shape)
    zz, yy, xx = np.mgrid[0:16, 0:18, 0:20]
    ball = (zz - 8) ** 2 + (yy - 9) ** 2 + (xx - 10) ** 2 < 7 ** 2
    cases.append(intensity_case('smooth-noise-3d-masked', vol, vol_test, 1.0, mask=ball, volume=True))
    vol2 = 100 * smooth_field(rng, (16, 18, 20), 5)
    cases.append(intensity_case('blur-3d', vol2, ndi.gaussian_filter(vol2, 1.2) + rng.normal(0, 2, vol2.shape), 120.0, decimals=3, volume=True))
    out = {
        'generator': 'scripts/metrics-reference.py',
        'versions': {'python': sys.version.split()[0], 'numpy': np.__version__, 'scipy': scipy.__version__, 'skimage': skimage.__version__},
        'ssimSettings': dict(SSIM_KW, truncate=3.5, K1=0.01, K2=0.03, mode='reflect'),
        'intensity': cases,
        'labels': label_case(rng),
    }
    with open(OUT + '.tmp', 'w') as f:
        json.dump(out, f, separators=(',', ':'))
    os.replace(OUT + '.tmp', OUT)
    print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes)')


if __name__ == '__main__':
    main()
