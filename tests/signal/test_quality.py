"""SNR, Pearson and MACC."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.constants import HR_BAND_HZ
from bigsmall.signal import SignalError, macc, pearson, simulate_ppg, snr_db

FS = 30.0
T_SEC = np.arange(int(30 * FS)) / FS
F0_HZ = 1.2


def test_snr_of_clean_sine_exceeds_noisy_sine() -> None:
    clean = np.sin(2 * np.pi * F0_HZ * T_SEC)
    noisy = clean + np.random.default_rng(0).normal(0, 2.0, clean.size)  # -9 dB in time
    snr_clean, snr_noisy = snr_db(clean, FS, F0_HZ), snr_db(noisy, FS, F0_HZ)
    # Even a pure 30 s sine scores ~14 dB: the spec's rectangular-window periodogram leaks
    # about 4% of the line's power beyond ±0.1 Hz.
    assert snr_clean > 12.0
    assert snr_noisy < 5.0
    assert snr_clean > snr_noisy + 8.0


def test_snr_counts_second_harmonic_as_signal_and_wrong_f0_as_noise() -> None:
    x = np.sin(2 * np.pi * F0_HZ * T_SEC) + np.sin(2 * np.pi * 2 * F0_HZ * T_SEC)
    assert snr_db(x, FS, F0_HZ, band_hz=(0.6, 3.3)) > 12.0
    assert snr_db(x, FS, 0.9, band_hz=(0.6, 3.3)) < 0.0


def test_snr_value_for_known_mix() -> None:
    """Two equal tones: one at f0, one in the band far from f0 and 2·f0 -> 0 dB."""
    x = np.sin(2 * np.pi * 1.0 * T_SEC) + np.sin(2 * np.pi * 1.5 * T_SEC)
    assert snr_db(x, FS, 1.0, HR_BAND_HZ) == pytest.approx(0.0, abs=0.5)


def test_snr_without_noise_bins_is_large_and_finite() -> None:
    """A band lying wholly within ±0.1 Hz of f0 has no noise power: no overflow, no inf."""
    x = 100.0 * np.sin(2 * np.pi * F0_HZ * T_SEC)
    with np.errstate(all="raise"):
        value = snr_db(x, FS, F0_HZ, band_hz=(1.15, 1.25))
    assert np.isfinite(value) and value > 1000.0


def test_pearson() -> None:
    x = simulate_ppg(20.0, FS, 70.0, seed=0)
    assert pearson(x, 3 * x + 1) == pytest.approx(1.0)
    assert pearson(x, -x) == pytest.approx(-1.0)
    assert pearson(x, np.ones_like(x)) == 0.0
    with pytest.raises(SignalError, match="same length"):
        pearson(x, x[:-1])


def test_macc_finds_shifted_copy() -> None:
    x = simulate_ppg(20.0, FS, 70.0, hrv_sdnn_ms=40.0, seed=0)
    shift = 7
    shifted = np.roll(x, shift)
    assert abs(pearson(x, shifted)) < 0.9
    assert macc(x, shifted, FS) == pytest.approx(1.0, abs=1e-3)
    assert macc(x, shifted, FS, max_lag_sec=(shift - 2) / FS) < 0.95


def test_noise_only_bins_count_as_noise_beside_the_rate() -> None:
    """A spectrum of three lines: the rate (1.2 Hz, power 1), a neighbour 0.05 Hz away inside
    its signal window (power 1) and one far off (power 1)."""
    from bigsmall.signal.quality import snr_db_from_spectrum

    freqs_hz = np.arange(0, 5, 0.01)
    power = np.zeros(freqs_hz.size)
    power[[120, 125, 200]] = 1.0
    assert snr_db_from_spectrum(freqs_hz, power, 1.2, HR_BAND_HZ) == pytest.approx(3.01, abs=0.01)
    neighbour = np.abs(freqs_hz - 1.25) < 0.005
    counted = snr_db_from_spectrum(freqs_hz, power, 1.2, HR_BAND_HZ, noise_only=neighbour)
    assert counted == pytest.approx(-3.01, abs=0.01)
