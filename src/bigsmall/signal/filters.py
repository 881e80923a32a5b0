"""Zero-phase filters and normalisations of physiological signals.

Butterworth filters are designed in second-order-section form and applied forward and backward
(:func:`scipy.signal.sosfiltfilt`), so they add no delay; the effective order is twice ``order``.
All functions filter along axis 0 (time), so (T,) and (T, C) inputs both work.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal as sps

from bigsmall.signal.validation import SignalError, as_float_array, check_band, check_fs

#: Added to denominators that may vanish (same constant as the spec's diff-normalisation).
EPS: float = 1e-7


def _sosfiltfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Forward-backward SOS filtering along axis 0, shortening the padding for short signals."""
    default_padlen = 3 * (
        2 * sos.shape[0] + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum())
    )
    padlen = min(default_padlen, x.shape[0] - 1)
    return sps.sosfiltfilt(sos, x, axis=0, padlen=padlen)


@functools.lru_cache(maxsize=64)
def _butterworth_sos(
    order: int, cutoff: float | tuple[float, float], btype: str, fs: float
) -> np.ndarray:
    """The filter's second-order sections, designed once per (order, cutoff, type, fs): the
    design costs more than filtering a few hundred samples (callers get a copy)."""
    return sps.butter(order, cutoff, btype=btype, fs=fs, output="sos")


def _butterworth(
    x: np.ndarray, fs: float, cutoff: float | tuple[float, float], btype: str, order: int
) -> np.ndarray:
    """Zero-phase Butterworth filter of ``x`` (T,) or (T, C); cutoffs already checked."""
    sos = _butterworth_sos(_check_order(order), cutoff, btype, fs).copy()
    return _sosfiltfilt(sos, as_float_array(x, min_len=2))


def bandpass(x: np.ndarray, fs: float, band_hz: tuple[float, float], order: int = 1) -> np.ndarray:
    """Zero-phase Butterworth band-pass of ``x`` (T,) or (T, C) to ``band_hz`` = (low, high) Hz."""
    fs = check_fs(fs)
    return _butterworth(x, fs, check_band(band_hz, fs), "bandpass", order)


def lowpass(x: np.ndarray, fs: float, cutoff_hz: float, order: int = 1) -> np.ndarray:
    """Zero-phase Butterworth low-pass of ``x`` (T,) or (T, C) at ``cutoff_hz``."""
    fs = check_fs(fs)
    return _butterworth(x, fs, _check_cutoff(cutoff_hz, fs), "lowpass", order)


def highpass(x: np.ndarray, fs: float, cutoff_hz: float, order: int = 1) -> np.ndarray:
    """Zero-phase Butterworth high-pass of ``x`` (T,) or (T, C) at ``cutoff_hz``."""
    fs = check_fs(fs)
    return _butterworth(x, fs, _check_cutoff(cutoff_hz, fs), "highpass", order)


def standardize(x: np.ndarray) -> np.ndarray:
    """``(x - mean) / std`` over all of ``x``, NaN (e.g. a constant input) replaced by 0."""
    arr = as_float_array(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (arr - arr.mean()) / arr.std()
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def diff_normalize(x: np.ndarray) -> np.ndarray:
    """The spec's label normalisation: ``np.diff``, divided by its std, a zero appended, NaN → 0.

    ``x`` is (T,) or (T, C) (one std over all elements, as for the spec's frames); the result
    has the same shape and its last sample is 0.
    """
    arr = as_float_array(x)
    d = np.diff(arr, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = d / np.std(d)
    out = np.concatenate([d, np.zeros((1, *arr.shape[1:]))], axis=0)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


def envelope_normalize(x: np.ndarray) -> np.ndarray:
    """Divide ``x`` (T,) by its Hilbert envelope ``|hilbert(x)|`` (a unit-amplitude wave)."""
    arr = as_float_array(x, min_len=2)
    envelope = np.abs(sps.hilbert(arr, axis=0))
    return arr / np.maximum(envelope, EPS)


def _check_order(order: int) -> int:
    if int(order) != order or order < 1:
        raise SignalError(f"filter order must be a positive integer, got {order!r}")
    return int(order)


def _check_cutoff(cutoff_hz: float, fs: float) -> float:
    cutoff_hz = float(cutoff_hz)
    if not 0.0 < cutoff_hz < fs / 2.0:
        raise SignalError(f"cutoff {cutoff_hz:g} Hz must lie in (0, fs/2 = {fs / 2:g} Hz)")
    return cutoff_hz
