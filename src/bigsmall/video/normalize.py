"""Frame-level BigSmall input normalisation (reference formulas, whole clip in memory).

Narayanswamy et al., BigSmall, WACV 2024 (and rPPG-Toolbox, Liu et al., NeurIPS 2023 D&B):
Big input "Standardized": (x - mean) / std over the whole clip; Small input "DiffNormalized":
d_t = (x_{t+1} - x_t) / (x_{t+1} + x_t + 1e-7), divided by the std of all d, a zero frame
appended. NaN -> 0 in both. These are the references for the streaming builder in
:mod:`bigsmall.video.inputs`; use them on short clips.
"""

from __future__ import annotations

import numpy as np

#: Added to the denominator of the normalised difference.
DIFF_EPS: float = 1e-7
#: Lower clip of frames taken as floats in [0, 1] (the reference's ``1/255``).
FLOAT_FRAME_MIN: float = 1.0 / 255.0
_UINT8_MAX: float = 255.0


_UINT8_LEVELS: int = 256


def unit_levels() -> np.ndarray:
    """(256,) float32: each uint8 level as a float frame value (``/255``, clipped to
    [1/255, 1]); a lookup table for :func:`uint8_to_unit_float` (``cv2.LUT`` or indexing)."""
    levels = np.arange(_UINT8_LEVELS, dtype=np.float32) / np.float32(_UINT8_MAX)
    return np.clip(levels, FLOAT_FRAME_MIN, 1.0)


def standardize_table(mean: float, std: float) -> np.ndarray:
    """(256,) float32: each uint8 level standardized as Big frames are, ``(x - mean) / std``
    of its :func:`unit_levels` value (NaN -> 0); index it with uint8 frames."""
    with np.errstate(invalid="ignore", divide="ignore"):
        x = (unit_levels() - np.float32(mean)) / np.float32(std)
    x[np.isnan(x)] = 0.0
    return x


#: OpenCV indexes a matrix with 32-bit integers: larger arrays take NumPy's path.
_CV_MAX_ELEMENTS: int = 2**30


def apply_table(frames_u8: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table[frames_u8]`` (same shape, the table's dtype) for a (256,) ``table`` such as
    :func:`standardize_table`'s: OpenCV's lookup, about 6× faster than NumPy's indexing."""
    import cv2

    frames = np.ascontiguousarray(frames_u8)
    if frames.dtype != np.uint8 or frames.ndim == 0 or not 0 < frames.size < _CV_MAX_ELEMENTS:
        return table[frames]
    flat = frames.reshape(-1, frames.shape[-1])
    return cv2.LUT(flat, np.ascontiguousarray(table)).reshape(frames.shape)


def uint8_to_unit_float(frames: np.ndarray, dtype: type = np.float32) -> np.ndarray:
    """uint8 frames -> floats in [1/255, 1] (the reference's ``/255`` then clip)."""
    return np.clip(frames.astype(dtype) / dtype(_UINT8_MAX), FLOAT_FRAME_MIN, 1.0)


def standardize_frames(frames: np.ndarray) -> np.ndarray:
    """(x - mean) / std over all values of (T, H, W, C) ``frames``; NaN -> 0. Same shape."""
    x = frames.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (x - x.mean()) / x.std()
    out[np.isnan(out)] = 0.0
    return out


def diff_normalize_frames(frames: np.ndarray) -> np.ndarray:
    """Normalised frame differences of (T, H, W, C) frames -> (T, H, W, C), last frame zero."""
    x = frames.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = (x[1:] - x[:-1]) / (x[1:] + x[:-1] + DIFF_EPS)
        d = d / d.std()
    out = np.concatenate([d, np.zeros_like(x[:1])], axis=0)
    out[np.isnan(out)] = 0.0
    return out
