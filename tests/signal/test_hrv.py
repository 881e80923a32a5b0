"""HRV: a simulated pulse with known beats, recovered (NeuroKit2-style: simulate, recover)."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.signal.hrv import beat_times, hrv_from_beats
from bigsmall.signal.simulate import simulate_ppg_beats

BAND = (0.7, 3.0)


@pytest.mark.parametrize(("hr", "sdnn"), [(62.0, 50.0), (85.0, 25.0), (110.0, 15.0)])
def test_known_beats_are_recovered_at_camera_rate(hr: float, sdnn: float) -> None:
    """The same beats (same seed) sampled at 1 kHz give the truth at the systolic peaks; at a
    camera's 30 fps the mean interval is within 10 ms and RMSSD within 25 %."""
    fine, onsets = simulate_ppg_beats(60.0, 1000.0, hr, hrv_sdnn_ms=sdnn, seed=3)
    truth = hrv_from_beats(beat_times(fine, 1000.0, BAND, expected_rate_hz=hr / 60.0))
    ppg, _ = simulate_ppg_beats(60.0, 30.0, hr, hrv_sdnn_ms=sdnn, seed=3)
    result = hrv_from_beats(beat_times(ppg, 30.0, BAND, expected_rate_hz=hr / 60.0))
    assert truth is not None and result is not None
    assert truth.rmssd_ms > 10.0  # there is variability to measure
    assert abs(result.mean_ibi_ms - truth.mean_ibi_ms) < 10.0
    assert result.rmssd_ms == pytest.approx(truth.rmssd_ms, rel=0.25)
    assert abs(result.beats - np.sum((onsets > 0) & (onsets < 60.0))) <= 2


def test_sub_sample_timing_beats_the_sample_grid() -> None:
    """Without interpolation a 30 fps camera quantizes beats to 33 ms; the parabola refines
    them well below that."""
    fs = 30.0
    ppg, _ = simulate_ppg_beats(60.0, fs, 73.0, hrv_sdnn_ms=0.0, seed=1)
    times = beat_times(ppg, fs, BAND, expected_rate_hz=73.0 / 60.0)
    jitter_ms = np.std(np.diff(times)) * 1000.0
    assert jitter_ms < 5.0  # constant true interval: what is left is timing error
    assert np.std(np.diff(np.round(times * fs) / fs)) * 1000.0 > 8.0  # the grid's own error


def test_missed_beat_is_dropped_not_counted_as_variability() -> None:
    times = np.arange(0.0, 60.0, 0.8)
    times = np.delete(times, 30)  # one beat missed: a 1.6 s interval
    result = hrv_from_beats(times)
    assert result is not None and result.intervals_kept == len(times) - 2
    assert result.mean_ibi_ms == pytest.approx(800.0)
    assert result.rmssd_ms == pytest.approx(0.0, abs=1e-6)
    assert hrv_from_beats(np.array([0.0, 1.0, 2.0])) is None  # too few intervals


def test_beat_consistency_gate_keeps_rmssd_honest() -> None:
    """Clips whose beats pass the consistency gate read RMSSD within 25 %; noise lowers the
    consistency (the gate's calibration, on a small scale: see the module docstring)."""
    from bigsmall.signal.filters import bandpass
    from bigsmall.signal.hrv import MIN_BEAT_CONSISTENCY, beat_consistency

    rng = np.random.default_rng(5)
    passed, errors, by_noise = 0, [], {}
    for trial in range(40):
        hr, sdnn, seed = rng.uniform(55, 110), rng.uniform(15, 60), int(rng.integers(1e9))
        fine, _ = simulate_ppg_beats(60.0, 1000.0, hr, hrv_sdnn_ms=sdnn, seed=seed)
        truth = hrv_from_beats(beat_times(fine, 1000.0, BAND, expected_rate_hz=hr / 60))
        ppg, _ = simulate_ppg_beats(60.0, 30.0, hr, hrv_sdnn_ms=sdnn, seed=seed)
        sigma = (0.02, 0.5)[trial % 2]
        wave = bandpass(ppg + rng.normal(0.0, sigma, ppg.size), 30.0, BAND)
        times = beat_times(wave, 30.0, BAND, expected_rate_hz=hr / 60)
        consistency = beat_consistency(wave, 30.0, times)
        by_noise.setdefault(sigma, []).append(consistency)
        if consistency >= MIN_BEAT_CONSISTENCY:
            passed += 1
            errors.append(abs(hrv_from_beats(times).rmssd_ms / truth.rmssd_ms - 1))
    assert passed >= 15  # the clean clips pass
    assert np.mean(np.array(errors) < 0.25) >= 0.9
    assert np.median(by_noise[0.02]) > np.median(by_noise[0.5])


def test_two_estimates_reveal_and_remove_their_timing_jitter() -> None:
    """Known beats read twice with independent 12 ms jitter (a camera pulse at a good SNR):
    one estimate's RMSSD is far too high; the pair's disagreement measures the jitter
    (12 / sqrt(2) ms for their mean) and removing it recovers RMSSD and SDNN."""
    from bigsmall.signal.hrv import MAX_JITTER_SHARE, hrv_from_two

    rng = np.random.default_rng(7)
    intervals = 0.8 + rng.normal(0.0, 0.030, 150)  # SDNN 30 ms, RMSSD ~42 ms
    truth = np.cumsum(intervals)
    exact = hrv_from_beats(truth)
    a = truth + rng.normal(0.0, 0.012, truth.size)
    b = truth + 0.05 + rng.normal(0.0, 0.012, truth.size)  # the other wave lags by 50 ms
    single = hrv_from_beats(a)
    both = hrv_from_two(a, b)
    assert exact is not None and single is not None and both is not None
    assert single.rmssd_ms > 1.2 * exact.rmssd_ms  # jitter inflates one estimate's RMSSD
    assert both.jitter_ms == pytest.approx(12.0 / np.sqrt(2.0), rel=0.15)
    assert both.rmssd_ms == pytest.approx(exact.rmssd_ms, rel=0.1)
    assert both.sdnn_ms == pytest.approx(exact.sdnn_ms, rel=0.1)
    assert both.mean_ibi_ms == pytest.approx(exact.mean_ibi_ms, abs=1.0)
    assert both.jitter_share < MAX_JITTER_SHARE
    # jitter as large as the variability itself: the share says the correction is untrustworthy
    noisy = hrv_from_two(
        truth + rng.normal(0, 0.04, truth.size), truth + rng.normal(0, 0.04, truth.size)
    )
    assert noisy is not None and noisy.jitter_share > MAX_JITTER_SHARE
    assert hrv_from_two(truth[:3], truth[:3]) is None  # too few beats
    assert np.isnan(hrv_from_beats(truth).jitter_ms)  # one estimate: no jitter measured


def _drifting(rng: np.random.Generator, n: int, sd_sec: float, rho: float) -> np.ndarray:
    """(n,) AR(1) timing errors of standard deviation ``sd_sec``, correlated ``rho`` from one
    beat to the next (a video's jitter drifts; it is not white)."""
    out = np.empty(n)
    out[0] = rng.normal(0.0, sd_sec)
    for k in range(1, n):
        out[k] = rho * out[k - 1] + rng.normal(0.0, sd_sec * np.sqrt(1.0 - rho**2))
    return out


def test_two_estimates_remove_jitter_that_drifts_from_beat_to_beat() -> None:
    """Independent 20 ms jitter on each estimate, correlated 0.8 from beat to beat: it adds
    far less to successive differences than white jitter would, so the white-noise correction
    (6 j**2 off RMSSD**2) would read RMSSD far too low (here zero); the correction measured on
    the differences themselves recovers RMSSD and SDNN."""
    from bigsmall.signal.hrv import hrv_from_two

    rng = np.random.default_rng(12)
    truth = np.cumsum(0.8 + rng.normal(0.0, 0.020, 200))  # SDNN 20 ms, RMSSD ~28 ms
    exact = hrv_from_beats(truth)
    a = truth + _drifting(rng, truth.size, 0.02, 0.8)
    b = truth + 0.03 + _drifting(rng, truth.size, 0.02, 0.8)
    both = hrv_from_two(a, b)
    assert exact is not None and both is not None
    measured_sq = both.rmssd_ms**2 / (1.0 - both.jitter_share)  # before the correction
    white_sq = measured_sq - 6.0 * both.jitter_ms**2  # what a white-jitter correction leaves
    assert white_sq < 0.5 * exact.rmssd_ms**2
    assert both.rmssd_ms == pytest.approx(exact.rmssd_ms, rel=0.1)
    assert both.sdnn_ms == pytest.approx(exact.sdnn_ms, rel=0.1)


@pytest.mark.parametrize("hr", [58.0, 95.0, 120.0])
def test_beats_timed_with_their_harmonics_keep_rmssd(hr: float) -> None:
    """A noise-free pulse as predict prepares it (a first-order heart-band filter) at 30 fps:
    timed in the heart band itself, a fast pulse's RMSSD reads 15-25 % low (its second
    harmonic cut, each beat's time smoothed with its neighbours'); timed in
    :data:`TIMING_BAND_HZ`, within 7 % of the beats of the same wave at 1 kHz."""
    from bigsmall.signal.filters import bandpass
    from bigsmall.signal.hrv import timing_band_hz

    fine, _ = simulate_ppg_beats(60.0, 1000.0, hr, hrv_sdnn_ms=20.0, seed=2)
    truth = hrv_from_beats(beat_times(fine, 1000.0, (0.5, 20.0), expected_rate_hz=hr / 60.0))
    ppg, _ = simulate_ppg_beats(60.0, 30.0, hr, hrv_sdnn_ms=20.0, seed=2)
    shown = bandpass(ppg, 30.0, (0.75, 2.5), order=1)
    wide = hrv_from_beats(beat_times(shown, 30.0, timing_band_hz(30.0), hr / 60.0))
    narrow = hrv_from_beats(beat_times(shown, 30.0, (0.75, 2.5), hr / 60.0))
    assert truth is not None and wide is not None and narrow is not None
    assert wide.rmssd_ms == pytest.approx(truth.rmssd_ms, rel=0.07)
    if hr > 90.0:
        assert narrow.rmssd_ms < 0.87 * truth.rmssd_ms


def test_no_beat_at_the_edges_and_a_band_below_nyquist() -> None:
    """Peaks within half a period of the wave's ends (the filter's transient, a partial beat)
    are not beats; the timing band's upper edge stays below Nyquist at a low frame rate."""
    from bigsmall.signal.hrv import TIMING_BAND_HZ, timing_band_hz

    hr = 72.0
    ppg, _ = simulate_ppg_beats(20.0, 30.0, hr, hrv_sdnn_ms=20.0, seed=4)
    times = beat_times(ppg, 30.0, timing_band_hz(30.0), expected_rate_hz=hr / 60.0)
    half_period = 0.5 * 60.0 / hr
    assert times.size >= 20
    assert times.min() >= half_period and times.max() <= (ppg.size - 1) / 30.0 - half_period
    assert timing_band_hz(30.0) == TIMING_BAND_HZ
    assert timing_band_hz(10.0) == (TIMING_BAND_HZ[0], pytest.approx(4.5))


def test_the_pairs_mean_wave_is_aligned_and_as_clean_as_their_mean_beats() -> None:
    """Two noisy readings of one pulse, the second 70 ms late: the pair's wave puts the second
    back on the first (its beats where the first's are, not halfway) and, with their noise
    independent, is more consistent from beat to beat than either reading alone."""
    from bigsmall.signal.hrv import beat_consistency, pair_wave, timing_band_hz
    from bigsmall.signal.timing import nearest_index

    fs = 30.0
    clean, _ = simulate_ppg_beats(60.0, fs, 75.0, hrv_sdnn_ms=30.0, seed=5)
    t = np.arange(clean.size) / fs
    late = np.interp(t - 0.07, t, clean)
    rng = np.random.default_rng(3)
    a = clean + rng.normal(0.0, 0.6, clean.size)
    b = 3.0 * late + rng.normal(0.0, 1.8, clean.size) + 5.0  # another scale and offset
    band = timing_band_hz(fs)
    times_a, times_b = beat_times(a, fs, band, 1.25), beat_times(b, fs, band, 1.25)
    mean = pair_wave(a, b, times_a, times_b, fs)
    times = beat_times(mean, fs, band, 1.25)
    exact = beat_times(clean, fs, band, 1.25)
    lag_ms = 1000.0 * np.median(times - exact[nearest_index(exact, times)])
    assert abs(lag_ms) < 15.0  # on the first reading's beats (the lag is 70 ms)
    alone = [beat_consistency(w, fs, bt) for w, bt in ((a, times_a), (b, times_b))]
    assert beat_consistency(mean, fs, times) > max(alone) + 0.005
    with pytest.raises(ValueError, match="differ in length"):
        pair_wave(a, b[:-1], times_a, times_b, fs)
