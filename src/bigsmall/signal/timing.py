"""Matching time stamps: the nearest sample of one sorted time series to each time of another
(labels to video frames, one pulse estimate's beats to another's)."""

from __future__ import annotations

import numpy as np


def nearest_index(source_times: np.ndarray, target_times: np.ndarray) -> np.ndarray:
    """Index into sorted ``source_times`` (S,) of the nearest sample to each target time (T,);
    ties go to the earlier sample."""
    if source_times.size == 1:
        return np.zeros(target_times.shape, dtype=np.intp)
    right = np.clip(np.searchsorted(source_times, target_times), 1, source_times.size - 1)
    left = right - 1
    take_left = np.abs(target_times - source_times[left]) <= np.abs(
        source_times[right] - target_times
    )
    return np.where(take_left, left, right)
