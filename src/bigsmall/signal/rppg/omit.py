"""OMIT: orthogonal matrix image transformation.

Casado & López (2023), "Face2PPG: An unsupervised pipeline for blood volume pulse extraction
from faces", IEEE J. Biomed. Health Inform. 27(11). Like LGI, but the dominant colour axis is
found with a QR decomposition instead of an SVD: the first orthonormal column ``q`` of the QR
decomposition of the colour correlation ``C Cᵀ`` (C is (3, T)) spans the skin-tone axis;
``Y = (I − q qᵀ) C`` and the green row of ``Y`` is the pulse. (Using ``C Cᵀ`` rather than
``C`` makes ``q`` a whole-trace average instead of the first sample's colour.)
"""

from __future__ import annotations

import numpy as np

from bigsmall.signal.rppg._common import check_rgb
from bigsmall.signal.rppg.green import GREEN_CHANNEL


def omit(rgb: np.ndarray, fs: float) -> np.ndarray:
    """OMIT pulse (T,) of the mean-RGB trace ``rgb`` (T, 3) sampled at ``fs`` Hz."""
    arr, _ = check_rgb(rgb, fs)
    colours = arr.T  # (3, T)
    q, _ = np.linalg.qr(colours @ colours.T)
    dominant = q[:, :1]
    projected = (np.eye(colours.shape[0]) - dominant @ dominant.T) @ colours
    return projected[GREEN_CHANNEL] - projected[GREEN_CHANNEL].mean()
