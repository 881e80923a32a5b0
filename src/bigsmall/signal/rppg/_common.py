"""Helpers shared by the rPPG methods: input checks, normalisation, sliding-window algebra."""

from __future__ import annotations

import numpy as np

from bigsmall.signal.validation import SignalError, as_float_array, check_fs

#: Number of colour channels of a mean-RGB trace.
N_CHANNELS: int = 3
#: Guards divisions by a channel mean or a standard deviation.
EPS: float = 1e-9


def check_rgb(rgb: np.ndarray, fs: float, min_len: int = 2) -> tuple[np.ndarray, float]:
    """Return ``rgb`` as float64 (T, 3) and ``fs`` checked."""
    arr = as_float_array(rgb, "rgb", min_len)
    if arr.ndim != 2 or arr.shape[1] != N_CHANNELS:
        raise SignalError(f"rgb must be a (T, 3) mean-RGB trace, got shape {arr.shape}")
    return arr, check_fs(fs)


def window_samples(window_sec: float, fs: float, n: int) -> int:
    """Window length in samples (at least 2, at most the signal length)."""
    return int(min(max(2, np.ceil(window_sec * fs)), n))


def temporal_normalize(rgb: np.ndarray) -> np.ndarray:
    """Divide each channel of ``rgb`` (T, 3) by its temporal mean."""
    return rgb / np.maximum(np.abs(rgb.mean(axis=0, keepdims=True)), EPS)


def window_moments(x: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (M, C) and covariance (M, C, C) of every ``window``-sample window of ``x`` (T, C).

    Window ``m`` covers samples ``m .. m + window - 1``; M = T - window + 1. Computed with
    cumulative sums (O(T)), after removing the global mean to limit cancellation.
    """
    centred = x - x.mean(axis=0)
    zero = np.zeros((1, *centred.shape[1:]))
    sums = np.concatenate([zero, np.cumsum(centred, axis=0)])
    outer = centred[:, :, None] * centred[:, None, :]
    outer_sums = np.concatenate([zero[:, :, None] * zero[:, None, :], np.cumsum(outer, axis=0)])
    mean = (sums[window:] - sums[:-window]) / window
    second = (outer_sums[window:] - outer_sums[:-window]) / window
    covariance = second - mean[:, :, None] * mean[:, None, :]
    return mean + x.mean(axis=0), covariance


def overlap_add_projections(x: np.ndarray, weights: np.ndarray, window: int) -> np.ndarray:
    """Overlap-add of the zero-mean window projections ``x[m:m+window] @ weights[m]``.

    ``x`` is (T, C), ``weights`` (M, C) with M = T - window + 1; returns (T,):
    ``out[t] = Σ_m (x[t] − mean_m(x)) · weights[m]`` over the windows m that contain t.
    Equal to looping over the windows, in O(T).
    """
    n = x.shape[0]
    mean, _ = window_moments(x, window)
    zero_w = np.zeros((1, weights.shape[1]))
    cum_w = np.concatenate([zero_w, np.cumsum(weights, axis=0)])
    cum_b = np.concatenate([[0.0], np.cumsum(np.einsum("mc,mc->m", mean, weights))])
    t = np.arange(n)
    first = np.maximum(t - window + 1, 0)  # windows first..last contain sample t
    last = np.minimum(t, weights.shape[0] - 1) + 1
    active_weights = cum_w[last] - cum_w[first]
    active_offsets = cum_b[last] - cum_b[first]
    return np.einsum("tc,tc->t", x, active_weights) - active_offsets
