"""Input checks shared by the signal functions, and the error they raise."""

from __future__ import annotations

import numpy as np

from bigsmall.errors import BigSmallError


class SignalError(BigSmallError, ValueError):
    """A signal, sampling rate, band or option given to a signal function is invalid."""


def as_float_array(x: np.ndarray, name: str = "x", min_len: int = 1) -> np.ndarray:
    """Return ``x`` as float64 with time on axis 0, checking it has at least ``min_len`` samples."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        raise SignalError(f"{name} must be an array over time, got a scalar")
    if arr.shape[0] < min_len:
        raise SignalError(
            f"{name} has {arr.shape[0]} samples but at least {min_len} are needed; "
            "pass a longer signal"
        )
    return arr


def as_1d(x: np.ndarray, name: str = "x", min_len: int = 1) -> np.ndarray:
    """Return ``x`` as a finite float64 vector of shape (T,), checking its length."""
    arr = as_float_array(x, name, min_len)
    if arr.ndim != 1:
        raise SignalError(f"{name} must be 1-D of shape (T,), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise SignalError(f"{name} contains NaN or infinite values; clean or interpolate them")
    return arr


def check_fs(fs: float) -> float:
    """Return the sampling rate as a float, checking it is positive and finite."""
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 0:
        raise SignalError(f"sampling rate fs must be a positive number of Hz, got {fs}")
    return fs


def check_band(band_hz: tuple[float, float], fs: float) -> tuple[float, float]:
    """Return ``(low_hz, high_hz)`` checked against 0 < low < high < fs / 2."""
    try:
        low_hz, high_hz = (float(v) for v in band_hz)
    except (TypeError, ValueError) as exc:
        raise SignalError(f"band_hz must be a (low_hz, high_hz) pair, got {band_hz!r}") from exc
    nyquist_hz = fs / 2.0
    if not 0.0 < low_hz < high_hz < nyquist_hz:
        raise SignalError(
            f"band_hz {band_hz!r} must satisfy 0 < low < high < fs/2 = {nyquist_hz:g} Hz; "
            "choose a band below the Nyquist frequency"
        )
    return low_hz, high_hz
