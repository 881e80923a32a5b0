"""The periodogram: scipy's density periodogram, computed directly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal as sps

from bigsmall.signal.spectrum import dominant_frequency, next_power_of_two, periodogram


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
