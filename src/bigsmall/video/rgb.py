"""Spatial mean RGB of frames: the trace that classic rPPG methods start from.

Verkruysse, Svaasand & Nelson, "Remote plethysmographic imaging using ambient light",
Opt. Express 2008: the skin's mean colour over a region carries the pulse. This is the only
implementation in the package.
"""

from __future__ import annotations

import numpy as np


def spatial_mean_rgb(frames: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean colour per frame.

    frames: (T, H, W, 3) (any numeric dtype) or a single (H, W, 3) frame.
    mask: optional (H, W) or (T, H, W) boolean skin/face mask; frames with an empty mask give NaN.
    Returns (T, 3) float64 (or (3,) for a single frame).
    """
    single = frames.ndim == 3
    x = frames[None] if single else frames
    if mask is None:
        out = x.reshape(x.shape[0], -1, x.shape[-1]).mean(axis=1, dtype=np.float64)
    else:
        m = np.broadcast_to(mask if mask.ndim == 3 else mask[None], x.shape[:3]).astype(np.float64)
        count = m.sum(axis=(1, 2))
        sums = np.einsum("thw,thwc->tc", m, x.astype(np.float64))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = sums / count[:, None]
    return out[0] if single else out
