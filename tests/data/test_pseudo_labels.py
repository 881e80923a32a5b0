"""POS pseudo-PPG for BP4D+: band around the mean HR, envelope-normalised, right rate."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.data.pseudo_labels import pos_pseudo_ppg, pseudo_label_band_hz
from bigsmall.signal import heart_rate, simulate_rgb_trace


def test_band_is_mean_hr_plus_minus_20_over_fs_clamped() -> None:
    assert pseudo_label_band_hz(72.0, 25.0) == pytest.approx((0.70, 2.0))
    assert pseudo_label_band_hz(150.0, 25.0) == pytest.approx((1.7, 3.0))
    assert pseudo_label_band_hz(90.0, 50.0) == pytest.approx((1.1, 1.9))
    with pytest.raises(ValueError, match="positive"):
        pseudo_label_band_hz(0.0, 25.0)


def test_pseudo_label_recovers_the_pulse_rate_with_unit_envelope() -> None:
    fs, hr_bpm = 25.0, 84.0
    rgb = simulate_rgb_trace(30.0, fs, hr_bpm, noise_std=0.001, seed=3)
    pulse = pos_pseudo_ppg(rgb, fs, mean_heart_rate_bpm=80.0)
    assert pulse.shape == (rgb.shape[0],)
    assert heart_rate(pulse, fs) == pytest.approx(hr_bpm, abs=1.5)
    envelope = np.abs(pulse[50:-50])
    assert envelope.max() <= 1.0 + 1e-9 and np.percentile(envelope, 99) > 0.95
    raw = pos_pseudo_ppg(rgb, fs, 80.0, envelope=False)
    assert np.corrcoef(raw, pulse)[0, 1] > 0.9
    assert np.abs(raw).max() < 0.5  # band-passed POS keeps the trace's small scale
