"""The periodogram: scipy's density periodogram, computed directly; its peak between bins."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from bigsmall.signal.spectrum import (
    dominant_frequency,
    next_power_of_two,
    periodogram,
    power_near,
    refine_peak_hz,
)


@pytest.mark.parametrize("n", [2, 3, 300, 301, 512, 900])
def test_equals_scipy_periodogram(n: int) -> None:
    x = np.random.default_rng(n).standard_normal(n) + 5.0
    freqs, power = periodogram(x, 30.0)
    ref_f, ref_p = sps.periodogram(x, fs=30.0, nfft=next_power_of_two(n), detrend="constant")
    np.testing.assert_allclose(freqs, ref_f, rtol=0, atol=1e-12)
    np.testing.assert_allclose(power, ref_p, rtol=1e-10, atol=1e-14)


def test_recovers_a_known_rate() -> None:
    t = np.arange(900) / 30.0
    x = np.sin(2 * np.pi * 1.2 * t) + 0.3 * np.random.default_rng(0).standard_normal(900)
    assert dominant_frequency(x, 30.0, (0.75, 2.5)) == pytest.approx(1.2, abs=30.0 / 1024)


def test_power_near_equals_the_periodogram_on_its_bins() -> None:
    x = np.random.default_rng(3).standard_normal(900) + 2.0
    freqs, power = periodogram(x, 30.0)
    step = freqs[1] - freqs[0]
    np.testing.assert_allclose(power_near(x, 30.0, freqs[30], step, 59), power[1:60], rtol=1e-9)


def test_refined_peak_recovers_off_bin_frequencies() -> None:
    """Sinusoids between bins in noise (SNR ≈ +3 dB per sample over 30 s): the largest bin
    errs by up to half a bin (0.015 Hz), the refined peak by a small part of that."""
    fs, n, band = 30.0, 900, (0.7, 3.0)
    rng = np.random.default_rng(4)
    resolution_hz = fs / next_power_of_two(n)
    coarse, fine = [], []
    for f_true in rng.uniform(0.8, 2.5, 40):
        t = np.arange(n) / fs
        x = np.sin(2 * np.pi * f_true * t + rng.uniform(0, 2 * np.pi)) + rng.normal(0, 0.5, n)
        peak = dominant_frequency(x, fs, band)
        coarse.append(abs(peak - f_true))
        fine.append(abs(refine_peak_hz([x], fs, band, peak) - f_true))
    assert np.mean(coarse) > 0.15 * resolution_hz
    assert np.mean(fine) < 0.3 * np.mean(coarse)
    assert max(fine) < 0.2 * resolution_hz


def test_refined_peak_of_two_waves_weights_them_as_the_mean_periodogram() -> None:
    """A tone shared by two waves of very different scales is found as with one wave."""
    fs, n = 30.0, 600
    t = np.arange(n) / fs
    rng = np.random.default_rng(5)
    a = np.sin(2 * np.pi * 1.234 * t) + rng.normal(0, 0.3, n)
    b = 1000.0 * (np.sin(2 * np.pi * 1.234 * t + 1.0) + rng.normal(0, 0.3, n))
    peak = dominant_frequency(a, fs, (0.7, 3.0))
    assert refine_peak_hz([a, b], fs, (0.7, 3.0), peak) == pytest.approx(1.234, abs=0.004)
    # kept inside the band: a peak on the band's edge is not moved out of it
    assert refine_peak_hz([a], fs, (0.7, 3.0), 0.7) >= 0.7
