"""Simulated PPG, respiration and mean-RGB traces."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.signal import (
    PBV_SIGNATURE,
    SignalError,
    bandpass,
    simulate_ppg,
    simulate_ppg_beats,
    simulate_respiration,
    simulate_rgb_trace,
)

FS = 30.0


def test_ppg_shape_normalisation_and_seed() -> None:
    x = simulate_ppg(10.0, FS, 72.0, hrv_sdnn_ms=30.0, seed=4)
    assert x.shape == (300,)
    assert x.dtype == np.float64
    assert x.mean() == pytest.approx(0.0, abs=1e-12)
    assert x.std() == pytest.approx(1.0)
    np.testing.assert_array_equal(x, simulate_ppg(10.0, FS, 72.0, hrv_sdnn_ms=30.0, seed=4))
    assert not np.allclose(x, simulate_ppg(10.0, FS, 72.0, hrv_sdnn_ms=30.0, seed=5))


def test_ppg_beats_follow_rate_and_hrv() -> None:
    _, onsets = simulate_ppg_beats(300.0, FS, 75.0, hrv_sdnn_ms=50.0, seed=0)
    intervals_ms = np.diff(onsets) * 1000
    assert intervals_ms.mean() == pytest.approx(800.0, rel=0.01)
    assert intervals_ms.std() == pytest.approx(50.0, rel=0.15)
    _, regular = simulate_ppg_beats(60.0, FS, 75.0, seed=0)
    assert np.ptp(np.diff(regular)) < 1e-9


def test_ppg_has_a_dicrotic_notch() -> None:
    """With a dicrotic wave each beat has two maxima; without it, one."""
    for dicrotic, maxima_per_beat in [(0.0, 1), (0.5, 2)]:
        x = simulate_ppg(20.0, 100.0, 60.0, dicrotic=dicrotic, seed=0)
        maxima = np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] > x[2:]))
        assert len(maxima) in range(20 * maxima_per_beat - 2, 20 * maxima_per_beat + 2)


def test_respiration() -> None:
    x = simulate_respiration(60.0, FS, 12.0, rate_variability=0.1, seed=0)
    assert x.shape == (1800,)
    assert x.std() == pytest.approx(1.0)
    crossings = np.sum((x[:-1] < 0) & (x[1:] >= 0))
    assert crossings == pytest.approx(12, abs=2)


def test_rgb_trace_carries_pulse_along_pbv() -> None:
    rgb = simulate_rgb_trace(30.0, FS, 70.0, illumination_drift=0.0, noise_std=0.0, seed=0)
    assert rgb.shape == (900, 3)
    pulsatile = bandpass(rgb / rgb.mean(axis=0) - 1, FS, (0.7, 4.0), order=2)
    direction = np.linalg.svd(pulsatile, full_matrices=False)[2][0]
    pbv = np.asarray(PBV_SIGNATURE) / np.linalg.norm(PBV_SIGNATURE)
    assert abs(direction @ pbv) > 0.999
    assert pulsatile.std(axis=0) @ pbv == pytest.approx(0.003, rel=0.1)


def test_rgb_trace_drift_is_common_to_all_channels() -> None:
    rgb = simulate_rgb_trace(60.0, FS, 70.0, illumination_drift=0.1, noise_std=0.0, seed=1)
    relative = rgb / rgb.mean(axis=0)
    slow = relative - bandpass(relative, FS, (0.5, 5.0), order=2)
    assert slow[:, 0].std() > 0.03
    np.testing.assert_allclose(slow[:, 0], slow[:, 1], atol=0.01)


def test_invalid_arguments() -> None:
    with pytest.raises(SignalError, match="heart_rate_bpm"):
        simulate_ppg(10.0, FS, 0.0)
    with pytest.raises(SignalError, match="fewer than 2"):
        simulate_respiration(0.01, FS, 12.0)
