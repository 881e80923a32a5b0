"""Zero-phase filters and normalisations."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.constants import HR_BAND_HZ
from bigsmall.signal import (
    SignalError,
    bandpass,
    diff_normalize,
    envelope_normalize,
    highpass,
    lowpass,
    standardize,
)

FS = 30.0
T_SEC = np.arange(int(60 * FS)) / FS


def _tone(freq_hz: float) -> np.ndarray:
    return np.sin(2 * np.pi * freq_hz * T_SEC)


def _gain(y: np.ndarray, x: np.ndarray) -> float:
    """Amplitude ratio away from the edges."""
    core = slice(len(x) // 4, 3 * len(x) // 4)
    return float(np.std(y[core]) / np.std(x[core]))


@pytest.mark.parametrize("order", [1, 2, 4])
def test_bandpass_keeps_in_band_and_attenuates_out_of_band(order: int) -> None:
    in_band, below, above = _tone(1.4), _tone(0.1), _tone(8.0)
    assert _gain(bandpass(in_band, FS, HR_BAND_HZ, order), in_band) > 0.9
    assert _gain(bandpass(below, FS, HR_BAND_HZ, order), below) < 0.05
    assert _gain(bandpass(above, FS, HR_BAND_HZ, order), above) < 0.1


def test_bandpass_is_zero_phase_and_works_per_column() -> None:
    x = _tone(1.4)
    y = bandpass(x, FS, HR_BAND_HZ, order=2)
    lags = np.arange(-10, 11)
    core = slice(300, -300)
    xcorr = [np.dot(np.roll(y, lag)[core], x[core]) for lag in lags]
    assert lags[int(np.argmax(xcorr))] == 0
    stacked = bandpass(np.stack([x, 2 * x], axis=1), FS, HR_BAND_HZ, order=2)
    np.testing.assert_allclose(stacked[:, 0], y, atol=1e-12)
    np.testing.assert_allclose(stacked[:, 1], 2 * y, atol=1e-12)


def test_lowpass_and_highpass() -> None:
    slow, fast = _tone(0.2), _tone(5.0)
    assert _gain(lowpass(slow + fast, FS, 1.0, order=4), slow) == pytest.approx(1.0, abs=0.05)
    assert _gain(lowpass(fast, FS, 1.0, order=4), fast) < 0.01
    assert _gain(highpass(slow, FS, 1.0, order=4), slow) < 0.01
    assert _gain(highpass(fast, FS, 1.0, order=4), fast) > 0.95


def test_filter_short_signal_does_not_fail() -> None:
    assert bandpass(np.arange(5.0), FS, HR_BAND_HZ).shape == (5,)


@pytest.mark.parametrize("band", [(0.0, 1.0), (2.0, 1.0), (1.0, 15.0), (1.0,)])
def test_invalid_band_raises(band: tuple) -> None:
    with pytest.raises(SignalError, match="band"):
        bandpass(_tone(1.0), FS, band)


def test_invalid_fs_and_order_raise() -> None:
    with pytest.raises(SignalError, match="fs"):
        bandpass(_tone(1.0), 0.0, HR_BAND_HZ)
    with pytest.raises(SignalError, match="order"):
        bandpass(_tone(1.0), FS, HR_BAND_HZ, order=0)


def test_standardize() -> None:
    x = 3.0 + 2.0 * _tone(1.0)
    y = standardize(x)
    assert y.mean() == pytest.approx(0.0, abs=1e-12)
    assert y.std() == pytest.approx(1.0)
    np.testing.assert_array_equal(standardize(np.ones(10)), np.zeros(10))


def test_diff_normalize_matches_spec_formula() -> None:
    rng = np.random.default_rng(3)
    x = rng.standard_normal(200).cumsum()
    d = np.diff(x)
    expected = np.append(d / np.std(d), 0.0)
    np.testing.assert_allclose(diff_normalize(x), expected, rtol=0, atol=1e-12)
    assert diff_normalize(np.ones(8)).tolist() == [0.0] * 8  # 0/0 -> NaN -> 0
    two_d = np.stack([x, 5 * x], axis=1)  # one std over all elements, as the spec's frames
    d2 = np.diff(two_d, axis=0)
    expected_2d = np.concatenate([d2 / np.std(d2), np.zeros((1, 2))])
    np.testing.assert_allclose(diff_normalize(two_d), expected_2d, atol=1e-12)


def test_envelope_normalize_flattens_amplitude_modulation() -> None:
    modulated = (1.0 + 0.8 * np.sin(2 * np.pi * 0.05 * T_SEC)) * _tone(1.5)
    y = envelope_normalize(modulated)
    core = slice(200, -200)
    peaks = np.abs(y[core]).reshape(-1, 20).max(axis=1)  # 20 samples = one period
    assert peaks.min() > 0.9
    assert peaks.max() < 1.1
