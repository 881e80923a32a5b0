"""Windows of N consecutive frames: no overlap, the remainder dropped.

BigSmall (Narayanswamy et al., WACV 2024) trains and tests on chunks of N = 3 frames; its Big
branch sees only frame 0 of each chunk (temporal downsampling by N) and its Small branch all
N. Policy, as in the reference toolbox: window ``w`` covers frames ``[w·N, (w+1)·N)``; the
last ``T mod N`` frames of a recording belong to no window and are dropped (so at most N − 1
frames per recording). Predictions of consecutive windows therefore concatenate back into the
recording's first ``n_windows(T, N)·N`` frames in time order.
"""

from __future__ import annotations

import numpy as np


def n_windows(n_frames: int, n_segment: int) -> int:
    """Number of whole windows of ``n_segment`` frames in ``n_frames`` frames."""
    if n_segment < 1:
        raise ValueError(f"n_segment must be >= 1, got {n_segment}")
    return max(int(n_frames), 0) // n_segment


def used_frames(n_frames: int, n_segment: int) -> int:
    """Frames covered by windows: ``n_windows · n_segment`` (the rest is dropped)."""
    return n_windows(n_frames, n_segment) * n_segment


def window_starts(n_frames: int, n_segment: int) -> np.ndarray:
    """(W,) int64 index of the first frame of every window: 0, N, 2N, ..."""
    return np.arange(n_windows(n_frames, n_segment), dtype=np.int64) * n_segment


def chunk(array: np.ndarray, n_segment: int) -> np.ndarray:
    """(T, ...) → (W, N, ...) windows (a view; the remainder is dropped)."""
    w = n_windows(array.shape[0], n_segment)
    return array[: w * n_segment].reshape(w, n_segment, *array.shape[1:])


def first_frames(array: np.ndarray, n_segment: int) -> np.ndarray:
    """(T, ...) → (W, ...) frame 0 of every window (a strided view)."""
    w = n_windows(array.shape[0], n_segment)
    return array[: w * n_segment : n_segment]
