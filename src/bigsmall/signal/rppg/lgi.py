"""LGI: local group invariance.

Pilz, Zaunseder, Krajewski & Blazek (2018), "Local group invariance for heart rate estimation
from face videos in the wild", CVPR Workshops. The dominant direction ``u`` of the colour
samples (first left singular vector of C (3, T), i.e. the skin tone under varying intensity)
is projected out, ``Y = (I − u uᵀ) C``, and the green row of ``Y`` is the pulse.
"""

from __future__ import annotations

import numpy as np

from bigsmall.signal.rppg._common import check_rgb
from bigsmall.signal.rppg.green import GREEN_CHANNEL


def lgi(rgb: np.ndarray, fs: float) -> np.ndarray:
    """LGI pulse (T,) of the mean-RGB trace ``rgb`` (T, 3) sampled at ``fs`` Hz."""
    arr, _ = check_rgb(rgb, fs)
    colours = arr.T  # (3, T)
    u, _, _ = np.linalg.svd(colours @ colours.T)
    dominant = u[:, :1]
    projected = (np.eye(colours.shape[0]) - dominant @ dominant.T) @ colours
    return projected[GREEN_CHANNEL] - projected[GREEN_CHANNEL].mean()
