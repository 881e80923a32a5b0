"""Classic rPPG methods recover the heart rate from mean-RGB traces with motion and drift."""

from __future__ import annotations

import time

import numpy as np
import pytest

from bigsmall.constants import HR_BAND_HZ
from bigsmall.signal import (
    RPPG_METHODS,
    SignalError,
    bandpass,
    extract_pulse,
    heart_rate,
    simulate_ppg,
    simulate_rgb_trace,
)
from bigsmall.signal.rppg import fast_ica_sources

FS = 30.0
DURATION_SEC = 30.0
RATES_BPM = (55.0, 72.0, 95.0, 130.0)
#: Realistic trace: pulse 0.3% (AC/DC std) along Pbv, illumination drift 10% (slow, all
#: channels), motion 1% (intensity and specular along (1,1,1), up to 2 Hz), sensor noise 0.1%.
REALISTIC = {"pulse_amplitude": 0.003, "illumination_drift": 0.1, "motion": 0.01,
             "noise_std": 0.001}  # fmt: skip
#: GREEN cannot separate motion from the pulse: it is tested with 0.2% motion.
MILD_MOTION = {**REALISTIC, "motion": 0.002}
#: Strong motion (5%): only the methods that model skin reflection (CHROM, POS, PBV) survive.
STRONG_MOTION = {**REALISTIC, "motion": 0.05}
MOTION_ROBUST = ("chrom", "pos", "pbv")
#: Published polarity of each method relative to a blood-volume PPG (skin darkens as it rises).
POLARITY = {"chrom": 1, "green": -1, "ica": -1, "lgi": -1, "omit": -1, "pbv": -1, "pos": -1}


def _rate(rgb: np.ndarray, method: str) -> float:
    pulse = extract_pulse(rgb, FS, method)
    return heart_rate(bandpass(pulse, FS, HR_BAND_HZ, order=2), FS)


@pytest.mark.parametrize("method", sorted(RPPG_METHODS))
def test_method_recovers_rate_with_motion_and_drift(method: str) -> None:
    settings = MILD_MOTION if method == "green" else REALISTIC
    for bpm in RATES_BPM:
        rgb = simulate_rgb_trace(DURATION_SEC, FS, bpm, 15.0, seed=int(bpm), **settings)
        assert _rate(rgb, method) == pytest.approx(bpm, abs=3.0), f"{method} at {bpm} bpm"


@pytest.mark.parametrize("method", MOTION_ROBUST)
def test_skin_model_methods_survive_strong_motion(method: str) -> None:
    for bpm in RATES_BPM:
        rgb = simulate_rgb_trace(DURATION_SEC, FS, bpm, 15.0, seed=int(bpm), **STRONG_MOTION)
        assert _rate(rgb, method) == pytest.approx(bpm, abs=3.0), f"{method} at {bpm} bpm"


def test_green_fails_under_strong_motion() -> None:
    """The motion in these traces is a real challenge: GREEN gets most rates wrong."""
    errors = []
    for bpm in RATES_BPM:
        rgb = simulate_rgb_trace(DURATION_SEC, FS, bpm, 15.0, seed=int(bpm), **STRONG_MOTION)
        errors.append(abs(_rate(rgb, "green") - bpm))
    assert sum(e > 3.0 for e in errors) >= 2, errors


@pytest.mark.parametrize("method", sorted(RPPG_METHODS))
def test_output_shape_polarity_and_correlation_with_ppg(method: str) -> None:
    rgb = simulate_rgb_trace(DURATION_SEC, FS, 80.0, seed=3, noise_std=0.0, illumination_drift=0.0)
    pulse = extract_pulse(rgb, FS, method)
    assert pulse.shape == (rgb.shape[0],)
    ppg = simulate_ppg(DURATION_SEC, FS, 80.0, seed=np.random.default_rng(3).integers(2**31))
    filtered = bandpass(pulse, FS, HR_BAND_HZ, order=2)
    reference = bandpass(ppg, FS, HR_BAND_HZ, order=2)
    assert POLARITY[method] * np.corrcoef(filtered, reference)[0, 1] > 0.9


def test_fast_ica_unmixes_two_sources() -> None:
    t = np.arange(3000) / FS
    sources = np.stack([np.sin(2 * np.pi * 1.1 * t), np.sign(np.sin(2 * np.pi * 0.3 * t))], 1)
    mixed = sources @ np.array([[1.0, 0.6], [0.4, 1.0]])
    recovered = fast_ica_sources(mixed)
    corr = np.abs(np.corrcoef(recovered.T, sources.T)[:2, 2:])
    assert np.sort(corr.max(axis=1)).tolist() == pytest.approx([1.0, 1.0], abs=1e-3)


def test_unknown_method_lists_names() -> None:
    rgb = simulate_rgb_trace(5.0, FS, 70.0, seed=0)
    with pytest.raises(ValueError, match=r"unknown rPPG method 'foo'.*chrom.*pos"):
        extract_pulse(rgb, FS, "foo")
    with pytest.raises(SignalError, match=r"\(T, 3\)"):
        extract_pulse(rgb[:, :2], FS, "pos")
    assert extract_pulse(rgb, FS, "POS").shape == (150,)


def _pos_loop(rgb: np.ndarray, window: int) -> np.ndarray:
    """Algorithm 1 of Wang et al. 2017, written as the paper's loop."""
    out = np.zeros(rgb.shape[0])
    projection = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
    for m in range(rgb.shape[0] - window + 1):
        segment = rgb[m : m + window]
        s = (segment / segment.mean(axis=0)) @ projection.T
        h = s[:, 0] + (s[:, 0].std() / s[:, 1].std()) * s[:, 1]
        out[m : m + window] += h - h.mean()
    return out


def _pbv_loop(x: np.ndarray, window: int, signature: np.ndarray) -> np.ndarray:
    out = np.zeros(x.shape[0])
    for m in range(x.shape[0] - window + 1):
        segment = x[m : m + window]
        q = segment.T @ segment / window
        q += 1e-6 * np.trace(q) * np.eye(3)
        w = np.linalg.solve(q, signature)
        h = segment @ w / (signature @ w)
        out[m : m + window] += h - h.mean()
    return out


def test_vectorised_pos_equals_paper_loop() -> None:
    rgb = simulate_rgb_trace(10.0, FS, 75.0, 12.0, seed=5, **REALISTIC)
    window = 48  # 1.6 s at 30 fps
    expected = _pos_loop(rgb, window)
    np.testing.assert_allclose(
        extract_pulse(rgb, FS, "pos"), expected, atol=1e-9 * np.abs(expected).max()
    )


def test_vectorised_pbv_equals_loop() -> None:
    from bigsmall.signal.rppg.pbv import FILTER_ORDER
    from bigsmall.signal.simulate import PBV_SIGNATURE

    rgb = simulate_rgb_trace(10.0, FS, 75.0, 12.0, seed=6, **REALISTIC)
    filtered = bandpass(rgb / rgb.mean(axis=0) - 1.0, FS, (0.6, 3.3), order=FILTER_ORDER)
    signature = np.asarray(PBV_SIGNATURE) / np.linalg.norm(PBV_SIGNATURE)
    expected = _pbv_loop(filtered, 48, signature)
    np.testing.assert_allclose(
        extract_pulse(rgb, FS, "pbv"), expected, atol=1e-7 * np.abs(expected).max()
    )


def test_pos_on_one_hour_is_fast() -> None:
    rgb = simulate_rgb_trace(600.0, FS, 70.0, seed=0)  # 10 min; 1 h is 6x this
    start = time.perf_counter()
    pulse = extract_pulse(rgb, FS, "pos")
    elapsed = time.perf_counter() - start
    assert np.isfinite(pulse).all()
    assert elapsed < 1.0, f"POS on 10 min took {elapsed:.2f} s"
