"""PBV: blood-volume pulse signature.

de Haan & van Leest (2014), "Improved motion robustness of remote-PPG by using the blood volume
pulse signature", Physiol. Meas. 35(9):1913-1926. With band-passed normalised colours ``Cn``
(3, N) of a window and their covariance ``Q = Cn Cnᵀ``, the pulse is the projection
``p = k · Pbvᵀ Q⁻¹ Cn`` that passes the known pulse direction ``Pbv`` with unit gain,
``k = 1 / (Pbvᵀ Q⁻¹ Pbv)``, and suppresses the other (motion) directions. Windows slide by one
sample and are overlap-added (computed with cumulative sums, O(T)).
"""

from __future__ import annotations

import numpy as np

from bigsmall.constants import HR_BAND_TOOLBOX_HZ
from bigsmall.signal.filters import bandpass
from bigsmall.signal.rppg._common import (
    check_rgb,
    overlap_add_projections,
    temporal_normalize,
    window_moments,
    window_samples,
)
from bigsmall.signal.simulate import PBV_SIGNATURE

#: Window length over which Q is estimated.
PBV_WINDOW_SEC: float = 1.6
#: Order of the band-pass on the normalised colours.
FILTER_ORDER: int = 2
#: Ridge added to Q, relative to its trace, so that a window without motion stays invertible.
RIDGE_FRACTION: float = 1e-6


def pbv(
    rgb: np.ndarray,
    fs: float,
    window_sec: float = PBV_WINDOW_SEC,
    band_hz: tuple[float, float] = HR_BAND_TOOLBOX_HZ,
    signature: tuple[float, float, float] = PBV_SIGNATURE,
) -> np.ndarray:
    """PBV pulse (T,) of the mean-RGB trace ``rgb`` (T, 3) sampled at ``fs`` Hz."""
    arr, fs = check_rgb(rgb, fs)
    pbv_unit = np.asarray(signature, dtype=np.float64) / np.linalg.norm(signature)
    filtered = bandpass(temporal_normalize(arr) - 1.0, fs, band_hz, order=FILTER_ORDER)
    window = window_samples(window_sec, fs, arr.shape[0])
    mean, covariance = window_moments(filtered, window)
    q = covariance + mean[:, :, None] * mean[:, None, :]  # (M, 3, 3) second moments
    trace = np.trace(q, axis1=1, axis2=2)[:, None, None]
    q = q + RIDGE_FRACTION * trace * np.eye(q.shape[1])
    solved = np.linalg.solve(q, np.broadcast_to(pbv_unit, mean.shape)[..., None])[..., 0]
    weights = solved / (solved @ pbv_unit)[:, None]
    return overlap_add_projections(filtered, weights, window)
