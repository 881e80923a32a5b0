"""Heart and breathing rates recovered from simulated signals, noise and harmonics."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.constants import HR_BAND_HZ, HR_BAND_TOOLBOX_HZ
from bigsmall.signal import (
    SignalError,
    bandpass,
    breathing_rate,
    dominant_frequency,
    heart_rate,
    simulate_ppg,
    simulate_respiration,
)
from bigsmall.signal.rate import rate_from_spectrum

FS = 30.0
DURATION_SEC = 60.0
#: The toolbox band (36–198 bpm) covers the tested 40–180 bpm; the paper band is 45–150.
WIDE_HR_BAND_HZ = HR_BAND_TOOLBOX_HZ
#: RR_BAND_HZ starts at 7.8 /min; 6 /min needs a lower edge.
WIDE_RR_BAND_HZ = (0.08, 0.6)
#: Noise levels (power ratio of the PPG to added white Gaussian noise, 30 s at 30 fps, then the
#: paper's 1st-order band-pass) at which the rate must stay within 3 bpm. In 100 random trials
#: (45–150 bpm, 20 ms SDNN) FFT stayed within 3 bpm in all down to -10 dB, peaks in all at +6 dB
#: (98/100 at +3 dB, 88/100 at 0 dB). The fixed rates below include 141 bpm, near the band's
#: upper edge where the band-pass attenuates the pulse: there FFT holds down to -3 dB.
SNR_DB_BY_METHOD = {"fft": -3.0, "peaks": 6.0}


def _add_noise(x: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    noise_std = np.sqrt(np.var(x) / 10 ** (snr_db / 10))
    return x + np.random.default_rng(seed).normal(0.0, noise_std, x.shape)


@pytest.mark.parametrize("method", ["fft", "peaks"])
@pytest.mark.parametrize("bpm", [40, 47, 60, 75, 90, 110, 133, 150, 165, 180])
def test_heart_rate_clean_within_one_bpm(method: str, bpm: float) -> None:
    ppg = simulate_ppg(DURATION_SEC, FS, bpm, seed=int(bpm))
    assert heart_rate(ppg, FS, method, band_hz=WIDE_HR_BAND_HZ) == pytest.approx(bpm, abs=1.0)


@pytest.mark.parametrize("method", ["fft", "peaks"])
@pytest.mark.parametrize("bpm", [48, 72, 120, 148])
def test_heart_rate_paper_band_default(method: str, bpm: float) -> None:
    ppg = simulate_ppg(DURATION_SEC, FS, bpm, hrv_sdnn_ms=30.0, seed=1)
    assert heart_rate(ppg, FS, method) == pytest.approx(bpm, abs=1.0)


@pytest.mark.parametrize("method", ["fft", "peaks"])
@pytest.mark.parametrize("rate", [6, 9, 12, 16, 20, 25, 30])
def test_breathing_rate_clean_within_one_per_minute(method: str, rate: float) -> None:
    resp = simulate_respiration(90.0, FS, rate, rate_variability=0.03, seed=rate)
    band = WIDE_RR_BAND_HZ
    assert breathing_rate(resp, FS, method, band_hz=band) == pytest.approx(rate, abs=1.0)


@pytest.mark.parametrize("method", ["fft", "peaks"])
def test_heart_rate_within_three_bpm_at_documented_snr(method: str) -> None:
    snr_db = SNR_DB_BY_METHOD[method]
    errors = []
    for i, bpm in enumerate([52, 64, 77, 88, 99, 115, 128, 141]):
        ppg = simulate_ppg(30.0, FS, bpm, hrv_sdnn_ms=20.0, seed=i)
        noisy = bandpass(_add_noise(ppg, snr_db, seed=100 + i), FS, HR_BAND_HZ, order=1)
        errors.append(heart_rate(noisy, FS, method) - bpm)
    assert np.max(np.abs(errors)) < 3.0, errors


def test_noise_test_can_fail_at_much_lower_snr() -> None:
    """At -20 dB the same FFT estimate is wrong for most rates: the check above has teeth."""
    errors = []
    for i, bpm in enumerate([52, 64, 77, 88, 99, 115, 128, 141]):
        ppg = simulate_ppg(30.0, FS, bpm, seed=i)
        noisy = bandpass(_add_noise(ppg, -20.0, seed=100 + i), FS, HR_BAND_HZ, order=1)
        errors.append(abs(heart_rate(noisy, FS) - bpm))
    assert np.mean(np.array(errors) > 3.0) > 0.5


def _harmonic_pulse(bpm: float, amp2: float, amp3: float, seconds: float = 60.0) -> np.ndarray:
    t = np.arange(int(seconds * FS)) / FS
    f0 = bpm / 60.0
    return (
        np.sin(2 * np.pi * f0 * t)
        + amp2 * np.sin(2 * np.pi * 2 * f0 * t + 1.0)
        + amp3 * np.sin(2 * np.pi * 3 * f0 * t + 2.0)
    )


@pytest.mark.parametrize("method", ["fft", "peaks"])
@pytest.mark.parametrize("band", [HR_BAND_HZ, HR_BAND_TOOLBOX_HZ])
@pytest.mark.parametrize("bpm", [45, 48, 50, 52, 55])
@pytest.mark.parametrize(("amp2", "amp3"), [(1.5, 1.5), (1.0, 2.0), (2.0, 1.0)])
def test_slow_pulse_with_strong_harmonics_not_read_as_multiple(
    method: str, band: tuple[float, float], bpm: float, amp2: float, amp3: float
) -> None:
    x = _harmonic_pulse(bpm, amp2, amp3)
    assert heart_rate(x, FS, method, band_hz=band) == pytest.approx(bpm, abs=1.0)


def test_harmonic_signals_do_fool_a_naive_spectral_peak() -> None:
    naive = [
        dominant_frequency(_harmonic_pulse(b, 1.0, 2.0), FS, HR_BAND_HZ) * 60 for b in (45, 48)
    ]
    assert naive == pytest.approx([135, 144], abs=1.5)


@pytest.mark.parametrize("bpm", [90, 120, 150])
def test_fast_pulse_with_harmonics_stays_fast(bpm: float) -> None:
    """The sub-harmonic check must not halve a real fast pulse with noise."""
    ppg = simulate_ppg(30.0, FS, bpm, hrv_sdnn_ms=20.0, dicrotic=0.6, seed=bpm)
    noisy = bandpass(_add_noise(ppg, 0.0, seed=bpm), FS, HR_BAND_HZ, order=1)
    assert heart_rate(noisy, FS) == pytest.approx(bpm, abs=3.0)


def test_errors_are_clear() -> None:
    ppg = simulate_ppg(10.0, FS, 70.0, seed=0)
    with pytest.raises(SignalError, match="unknown rate method 'median'"):
        heart_rate(ppg, FS, "median")
    with pytest.raises(SignalError, match="peak"):
        heart_rate(ppg[:20], FS, "peaks")
    with pytest.raises(SignalError, match="NaN"):
        heart_rate(np.where(np.arange(ppg.size) == 5, np.nan, ppg), FS)


def test_a_slope_towards_dc_is_not_taken_for_a_subharmonic() -> None:
    """Slow drift left after a detrend rises towards DC below the band; near half the in-band
    peak's frequency it holds plenty of power, but it is a slope, not a peak: the in-band peak
    stands (the check used to return 1.8 /min, outside the 4.8–30 /min band)."""
    freqs_hz = np.arange(513) * FS / 1024  # 30 s at 30 fps: bins 0.0293 Hz apart
    power = np.full(freqs_hz.size, 0.005)
    power[:6] = [0.0, 0.43, 0.20, 0.23, 0.26, 0.005]  # drift at bins 1–3, the rhythm at bin 4
    rate = rate_from_spectrum(freqs_hz, power, (0.08, 0.5))
    assert rate == pytest.approx(60 * freqs_hz[4])
    power[2], power[3] = 0.60, 0.10  # a real peak at half the rate, just below the band
    assert rate_from_spectrum(freqs_hz, power, (0.08, 0.5)) == pytest.approx(60 * freqs_hz[2])
