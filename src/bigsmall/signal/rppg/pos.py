"""POS: plane orthogonal to skin.

Wang, den Brinker, Stuijk & de Haan (2017), "Algorithmic principles of remote PPG", IEEE
Trans. Biomed. Eng. 64(7):1479-1491 (Algorithm 1). In each window of 1.6 s (sliding by one
sample) the colours are normalised by the window mean, projected on the plane orthogonal to the
skin tone, ``S = [[0, 1, -1], [-2, 1, 1]] · Cn``, combined by alpha tuning
``h = S1 + (σ(S1)/σ(S2)) S2``, and overlap-added (zero-mean) into the output.

Every window's ``h`` is a linear map of the raw colours, so the windows' weights come from
sliding means and covariances and the overlap-add is done with cumulative sums: O(T) instead
of a Python loop over T windows.
"""

from __future__ import annotations

import numpy as np

from bigsmall.signal.rppg._common import (
    EPS,
    check_rgb,
    overlap_add_projections,
    window_moments,
    window_samples,
)

#: Window length of the paper (1.6 s ≈ one cardiac cycle at the lowest rates of interest).
POS_WINDOW_SEC: float = 1.6
#: Projection onto the plane orthogonal to the skin tone (rows: S1, S2).
POS_PROJECTION: np.ndarray = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])


def pos(rgb: np.ndarray, fs: float, window_sec: float = POS_WINDOW_SEC) -> np.ndarray:
    """POS pulse (T,) of the mean-RGB trace ``rgb`` (T, 3) sampled at ``fs`` Hz."""
    arr, fs = check_rgb(rgb, fs)
    window = window_samples(window_sec, fs, arr.shape[0])
    mean, covariance = window_moments(arr, window)  # (M, 3), (M, 3, 3)
    # S_k = Cn · p_k = C · (p_k / mean): per-window weights on the raw colours, (M, 2, 3).
    projections = POS_PROJECTION[None, :, :] / np.maximum(np.abs(mean), EPS)[:, None, :]
    variances = np.einsum("mkc,mcd,mkd->mk", projections, covariance, projections)
    std = np.sqrt(np.maximum(variances, 0.0))
    alpha = std[:, 0] / np.maximum(std[:, 1], EPS)
    weights = projections[:, 0] + alpha[:, None] * projections[:, 1]
    return overlap_add_projections(arr, weights, window)
