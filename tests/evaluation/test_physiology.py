import numpy as np
import pytest

from bigsmall.evaluation.physiology import prepare_waveform, recording_rates
from bigsmall.evaluation.settings import RECOMMENDED_RR_DETREND_LAMBDA, EvalSettings
from bigsmall.signal import diff_normalize, simulate_ppg, simulate_respiration

FS = 25.0


@pytest.mark.parametrize("hr_bpm", [52.0, 75.0, 118.0, 146.0])
def test_heart_rate_from_diff_normalized_waves(hr_bpm: float) -> None:
    ppg = simulate_ppg(60.0, FS, hr_bpm, seed=1)
    label = diff_normalize(ppg)
    rng = np.random.default_rng(0)
    pred = label + 0.3 * rng.standard_normal(label.size)
    rates = recording_rates(pred, label, FS, "heart", EvalSettings())
    assert rates.reference_bpm == pytest.approx(hr_bpm, abs=1.0)
    assert rates.predicted_bpm == pytest.approx(hr_bpm, abs=1.5)
    assert rates.snr_db > 0


@pytest.mark.parametrize("rr_bpm", [9.0, 15.0, 24.0])
def test_breathing_rate_from_diff_normalized_waves(rr_bpm: float) -> None:
    resp = diff_normalize(simulate_respiration(90.0, FS, rr_bpm, seed=2))
    settings = EvalSettings(rr_detrend_lambda=RECOMMENDED_RR_DETREND_LAMBDA)
    rates = recording_rates(resp, resp, FS, "breathing", settings)
    assert rates.predicted_bpm == pytest.approx(rr_bpm, abs=1.0)


def test_paper_breathing_detrend_removes_slow_breaths() -> None:
    """λ = 100 at 25 fps high-passes near 0.4 Hz: a 9 /min breath loses most of its power."""
    t = np.arange(int(90 * FS)) / FS
    breath = np.sin(2 * np.pi * 0.15 * t)
    paper = prepare_waveform(breath, FS, "breathing", EvalSettings(diff_normalized=False))
    ours = prepare_waveform(
        breath,
        FS,
        "breathing",
        EvalSettings(diff_normalized=False, rr_detrend_lambda=RECOMMENDED_RR_DETREND_LAMBDA),
    )
    core = slice(250, -250)
    assert np.std(paper[core]) < 0.1 * np.std(breath)
    # What remains with the recommended λ is the 1st-order band-pass's own roll-off at 0.13 Hz.
    assert np.std(ours[core]) > 0.5 * np.std(breath)
    assert np.std(ours[core]) > 5 * np.std(paper[core])


def test_raw_reference_against_diff_prediction() -> None:
    ppg = simulate_ppg(60.0, FS, 88.0, seed=3)
    rates = recording_rates(
        diff_normalize(ppg), ppg, FS, "heart", EvalSettings(), reference_diff_normalized=False
    )
    assert rates.predicted_bpm == pytest.approx(rates.reference_bpm, abs=1.0)


def test_prepare_removes_drift() -> None:
    t = np.arange(int(40 * FS)) / FS
    x = np.sin(2 * np.pi * 1.2 * t) + 0.05 * t  # linear drift
    out = prepare_waveform(x, FS, "heart", EvalSettings(diff_normalized=False))
    assert abs(np.polyfit(t, out, 1)[0]) < 1e-3


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown waveform kind"):
        prepare_waveform(np.zeros(100), FS, "blink", EvalSettings())
