"""Smoothness-priors detrending.

Tarvainen, Ranta-aho & Karjalainen (2002), "An advanced detrending method with application to
HRV analysis", IEEE Trans. Biomed. Eng. 49(2):172-175. The stationary part is
``z_stat = (I - (I + λ² D₂ᵀD₂)⁻¹) z`` with ``D₂`` the (T-2, T) second-difference matrix.

The reference implementation builds the dense T×T inverse (O(T²) memory). Here
``A = I + λ² D₂ᵀD₂`` is symmetric positive definite and pentadiagonal, so the trend
``A⁻¹ z`` is one banded Cholesky solve: O(T) time and memory.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solveh_banded

from bigsmall.signal.validation import SignalError, as_float_array

#: Smoothing parameter used by the BigSmall evaluation (and the rPPG toolbox).
DEFAULT_LAMBDA: float = 100.0
#: Stencil of the second difference operator D₂.
_SECOND_DIFF: tuple[float, float, float] = (1.0, -2.0, 1.0)


def _upper_bands(n: int, lambda_: float) -> np.ndarray:
    """Upper banded storage (3, n) of ``I + λ² D₂ᵀD₂`` as :func:`solveh_banded` expects."""
    stencil = np.asarray(_SECOND_DIFF)
    width = stencil.size
    n_rows = n - width + 1  # rows of D₂
    bands = np.zeros((width, n))
    # Each row r of D₂ touches columns r..r+2 and adds stencil[i]*stencil[j] to entry (r+i, r+j).
    for offset in range(width):  # offset = j - i >= 0
        for i in range(width - offset):
            j = i + offset
            # entries (r+i, r+j) for r in [0, n_rows): upper storage row width-1-offset, column r+j
            bands[width - 1 - offset, j : j + n_rows] += stencil[i] * stencil[j]
    bands *= lambda_**2
    bands[width - 1] += 1.0
    return bands


def detrend_smoothness_prior(x: np.ndarray, lambda_: float = DEFAULT_LAMBDA) -> np.ndarray:
    """Remove the slow trend of ``x`` (T,) or (T, C) along axis 0; returns the same shape.

    Equals ``(I - inv(I + λ² D₂ᵀD₂)) @ x`` (the dense formula) at O(T) cost.
    """
    arr = as_float_array(x)
    if not np.isfinite(lambda_) or lambda_ < 0:
        raise SignalError(f"detrend lambda_ must be a non-negative number, got {lambda_!r}")
    n = arr.shape[0]
    if n < len(_SECOND_DIFF):  # D₂ is empty: the trend is the signal itself, nothing is smooth
        return arr - arr
    trend = solveh_banded(_upper_bands(n, float(lambda_)), arr, check_finite=False)
    return arr - trend


def detrend_smoothness_prior_dense(x: np.ndarray, lambda_: float = DEFAULT_LAMBDA) -> np.ndarray:
    """The reference's dense O(T²) formula, for testing on short signals only."""
    arr = as_float_array(x)
    n = arr.shape[0]
    d2 = np.zeros((n - 2, n))
    for i, value in enumerate(_SECOND_DIFF):
        d2[np.arange(n - 2), np.arange(n - 2) + i] = value
    identity = np.eye(n)
    return (identity - np.linalg.inv(identity + lambda_**2 * d2.T @ d2)) @ arr
