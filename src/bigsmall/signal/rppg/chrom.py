"""CHROM: chrominance-based rPPG.

de Haan & Jeanne (2013), "Robust pulse rate from chrominance-based rPPG", IEEE Trans. Biomed.
Eng. 60(10):2878-2886. The colours are normalised by their local mean (a centred moving mean
over one window), giving ``Rn, Gn, Bn``; the chrominance signals ``X = 3Rn − 2Gn`` and
``Y = 1.5Rn + Gn − 1.5Bn`` are band-passed, and in each window (1.6 s, half-overlapping)
``S = Xf − (σ(Xf)/σ(Yf)) Yf``; the Hann-tapered windows are overlap-added.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from bigsmall.constants import HR_BAND_TOOLBOX_HZ
from bigsmall.signal.filters import bandpass
from bigsmall.signal.rppg._common import EPS, check_rgb, window_samples

#: Window length (the paper's 32 frames at 20 fps).
CHROM_WINDOW_SEC: float = 1.6
#: Chrominance projections of the normalised colours (rows: X, Y).
CHROM_PROJECTION: np.ndarray = np.array([[3.0, -2.0, 0.0], [1.5, 1.0, -1.5]])
#: Order of the band-pass on X and Y.
FILTER_ORDER: int = 2


def chrom(
    rgb: np.ndarray,
    fs: float,
    window_sec: float = CHROM_WINDOW_SEC,
    band_hz: tuple[float, float] = HR_BAND_TOOLBOX_HZ,
) -> np.ndarray:
    """CHROM pulse (T,) of the mean-RGB trace ``rgb`` (T, 3) sampled at ``fs`` Hz."""
    arr, fs = check_rgb(rgb, fs)
    n = arr.shape[0]
    window = window_samples(window_sec, fs, n)
    local_mean = uniform_filter1d(arr, size=window, axis=0, mode="nearest")
    chroma = (arr / np.maximum(np.abs(local_mean), EPS)) @ CHROM_PROJECTION.T  # (T, 2)
    filtered = bandpass(chroma, fs, band_hz, order=FILTER_ORDER)
    hop = max(1, window // 2)
    starts = list(range(0, n - window + 1, hop))
    if starts[-1] != n - window:
        starts.append(n - window)
    taper = np.hanning(window)
    out = np.zeros(n)
    for start in starts:
        xf, yf = filtered[start : start + window].T
        s = xf - (xf.std() / max(yf.std(), EPS)) * yf
        out[start : start + window] += taper * (s - s.mean())
    return out
