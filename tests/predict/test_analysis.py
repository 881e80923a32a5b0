from __future__ import annotations

from dataclasses import astuple

import numpy as np
import pytest

from bigsmall.predict import analysis
from bigsmall.signal import simulate_ppg, simulate_respiration

FS = 30.0


@pytest.mark.parametrize(
    ("read", "seed", "draws", "most"),
    [
        (analysis.prepare, 1, 100, 0.05),  # the integrated waveform
        (analysis.rate_wave, 22, 200, 0.03),  # on its own scale, as predict reads it
    ],
)
def test_white_noise_read_as_a_network_output_rarely_passes(
    read, seed: int, draws: int, most: float
) -> None:
    rng = np.random.default_rng(seed)
    passed = [
        analysis.estimate(read(rng.standard_normal(300), FS, "heart", True), FS, "heart").reliable
        for _ in range(draws)
    ]
    assert np.mean(passed) <= most


def test_clear_pulse_is_read_and_reported() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(600) / FS
    wave = np.sin(2 * np.pi * 1.2 * t) + 0.5 * rng.standard_normal(t.size)
    est = analysis.estimate(analysis.prepare(wave, FS, "heart", False), FS, "heart")
    assert abs(est.rate_bpm - 72.0) < 2.0
    assert est.quality == "good"
    assert est.snr_db > analysis.PULSE_SNR_GOOD_DB


def test_rate_is_read_between_the_bins() -> None:
    """30 s at 30 fps: bins 1.76 bpm apart; a pulse at 72.95 bpm lies half-way between two, and
    a breathing at 15.0 /min 0.94 /min from its nearest bin; both are reported within 0.2."""
    rng = np.random.default_rng(6)
    t = np.arange(900) / FS
    pulse = np.sin(2 * np.pi * 72.95 / 60 * t) + 0.5 * rng.standard_normal(t.size)
    heart = analysis.estimate(analysis.prepare(pulse, FS, "heart", False), FS, "heart")
    assert abs(heart.rate_bpm - 72.95) < 0.2
    breath = np.sin(2 * np.pi * 15.0 / 60 * t) + 0.3 * rng.standard_normal(t.size)
    br = analysis.estimate(analysis.prepare(breath, FS, "breathing", False), FS, "breathing")
    assert abs(br.rate_bpm - 15.0) < 0.2


def test_breathing_rate_and_withheld_on_noise() -> None:
    t = np.arange(900) / FS
    est = analysis.estimate(
        analysis.prepare(np.sin(2 * np.pi * 0.25 * t), FS, "breathing", False), FS, "breathing"
    )
    assert abs(est.rate_bpm - 15.0) < 1.0
    zero = analysis.estimate(np.zeros(900), FS, "breathing")
    assert np.isnan(zero.rate_bpm) and zero.quality == "poor"


def test_longest_run() -> None:
    mask = np.array([0, 1, 1, 0, 1, 1, 1, 0], bool)
    assert analysis.longest_run(mask) == (4, 7)
    assert analysis.longest_run(np.zeros(3, bool)) == (0, 0)


def test_bridge_gaps_fills_short_inner_gaps_only() -> None:
    mask = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 1, 0], bool)
    # at 1 fps: the 2-s gap is read through; the 3-s one and those at the ends are not
    bridged = analysis.bridge_gaps(mask, 1.0, max_gap_sec=2.0)
    assert bridged.astype(int).tolist() == [0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0]
    assert analysis.longest_run(bridged) == (1, 6)
    assert analysis.bridge_gaps(mask, 1.0, max_gap_sec=3.0)[6:9].all()
    assert not analysis.bridge_gaps(np.zeros(4, bool), 1.0).any()


def test_rates_over_time_columns_and_invalid_windows() -> None:
    t = np.arange(int(30 * FS)) / FS
    pulse = analysis.prepare(np.sin(2 * np.pi * 1.5 * t), FS, "heart", False)
    valid = t < 20.0
    cols = analysis.rates_over_time(pulse, None, valid, FS, 10.0)
    assert cols["time_s"][0] == 5.0
    early = cols["heart_rate_bpm"][cols["time_s"] <= 15.0]
    assert np.all(np.abs(early - 90.0) < 4.0)
    late = cols["heart_rate_bpm"][cols["time_s"] > 25.0 - 1e-9]
    assert np.all(np.isnan(late))
    assert np.all(np.isnan(cols["breathing_rate_bpm"]))


def test_rates_over_time_tracks_a_known_step_change() -> None:
    """Simulated truth: 60 then 100 beats per minute (60 s each), breathing at 15 per minute."""
    ppg = np.concatenate(
        [simulate_ppg(60.0, FS, 60.0, seed=1), simulate_ppg(60.0, FS, 100.0, seed=2)]
    )
    resp = simulate_respiration(120.0, FS, 15.0, seed=0)
    pulse = analysis.prepare(ppg, FS, "heart", False)
    breathing = analysis.prepare(resp, FS, "breathing", False)
    cols = analysis.rates_over_time(pulse, breathing, np.ones(ppg.size, bool), FS, 20.0)
    times, hr = cols["time_s"], cols["heart_rate_bpm"]
    assert times[0] == 10.0 and np.allclose(np.diff(times), analysis.RATE_STEP_SEC)
    np.testing.assert_allclose(hr[times <= 50.0], 60.0, atol=2.0)
    np.testing.assert_allclose(hr[times >= 70.0], 100.0, atol=2.0)
    np.testing.assert_allclose(cols["breathing_rate_bpm"], 15.0, atol=1.0)


def test_noise_pairs_rarely_pass_the_fused_threshold() -> None:
    """Two independent noises read together (a network-like and a POS-like wave) pass the
    fused gate about as rarely as one noise passes the single-wave gate."""
    rng = np.random.default_rng(3)
    passed = []
    for _ in range(150):
        net = analysis.prepare(rng.standard_normal(300), FS, "heart", True)
        pos = analysis.prepare(rng.standard_normal(300), FS, "heart", False)
        est = analysis.estimate([net, pos], FS, "heart")
        assert est.n_waves == 2
        passed.append(est.reliable)
    assert np.mean(passed) <= 0.03


def test_fused_reading_finds_a_pulse_neither_wave_shows_alone() -> None:
    """A weak common pulse under independent noise in two estimates (each below the
    single-wave gate on most draws) is read together, at the right rate, more often."""
    rng = np.random.default_rng(4)
    t = np.arange(900) / FS
    alone, together = [], []
    for _ in range(40):
        pulse = 0.25 * np.sin(2 * np.pi * 1.5 * t + rng.uniform(0, 6.3))
        a = analysis.prepare(pulse + rng.standard_normal(t.size), FS, "heart", False)
        b = analysis.prepare(np.roll(pulse, 7) + rng.standard_normal(t.size), FS, "heart", False)
        one, both = analysis.estimate(a, FS, "heart"), analysis.estimate([a, b], FS, "heart")
        alone.append(one.reliable and abs(one.rate_bpm - 90) < 3)
        together.append(both.reliable and abs(both.rate_bpm - 90) < 3)
    assert np.mean(together) >= np.mean(alone) + 0.2


def test_one_wave_in_a_list_equals_the_wave() -> None:
    rng = np.random.default_rng(5)
    wave = analysis.prepare(rng.standard_normal(600), FS, "heart", True)
    a, b = (
        analysis.estimate(wave, FS, "heart"),
        analysis.estimate([wave, np.zeros(600)], FS, "heart"),
    )
    assert b.n_waves == 1  # an all-zero estimate (e.g. POS on a static clip) is left out
    assert (a.rate_bpm, a.snr_db, a.quality) == (b.rate_bpm, b.snr_db, b.quality) or (
        np.isnan(a.rate_bpm) and np.isnan(b.rate_bpm) and a.snr_db == b.snr_db
    )


def test_slow_and_fast_breathing_across_the_whole_range_are_read() -> None:
    """People breathe 6–28 /min at rest; 30 s of head motion near either end (and just inside
    the paper's 7.8 /min edge, once withheld as the band's first bin) is read within 0.3. (At
    30 fps the band's first bin is 5.27 /min: rates of 6.0–6.15 /min still fall on it.)"""
    rng = np.random.default_rng(11)
    t = np.arange(900) / FS
    for rate in (6.3, 8.5, 28.0):
        motion = np.sin(2 * np.pi * rate / 60 * t + 1.0) + 0.3 * rng.standard_normal(t.size)
        est = analysis.estimate(analysis.prepare(motion, FS, "breathing", False), FS, "breathing")
        assert est.reliable and abs(est.rate_bpm - rate) < 0.3, (rate, est)


def test_rate_outside_the_band_counts_as_its_edge() -> None:
    freqs_hz = np.arange(513) * FS / 1024
    band = analysis.PRODUCT_SETTINGS.band_hz("breathing")
    assert analysis.at_band_edge(freqs_hz, 0.03, band)  # below the band
    assert analysis.at_band_edge(freqs_hz, freqs_hz[3], band)  # its first bin
    assert not analysis.at_band_edge(freqs_hz, freqs_hz[4], band)


def test_a_lead_wave_is_read_alone_where_it_is_clear() -> None:
    """Head motion breathing at 9 /min and a respiration output of noise with a stronger
    line at 20 /min: read together their mean spectrum is split and below the pair's gate, read
    with the motion leading the motion's rate stands; where the lead is noise the pair is read
    as without a lead."""
    rng = np.random.default_rng(12)
    t = np.arange(900) / FS
    motion = np.sin(2 * np.pi * 9.0 / 60 * t) + 0.4 * rng.standard_normal(t.size)
    resp = np.sin(2 * np.pi * 20.0 / 60 * t) + 2.0 * rng.standard_normal(t.size)
    waves = [
        analysis.prepare(resp, FS, "breathing", False),
        analysis.prepare(motion, FS, "breathing", False),
    ]
    led = analysis.estimate(waves, FS, "breathing", analysis.ReadingOrder(leads=(1,)))
    assert led.n_waves == 1 and abs(led.rate_bpm - 9.0) < 0.3
    together = analysis.estimate(waves, FS, "breathing")
    assert together.n_waves == 2 and not abs(together.rate_bpm - 9.0) < 0.3
    noise = analysis.prepare(rng.standard_normal(t.size), FS, "breathing", False)
    pair = [waves[0], noise]
    np.testing.assert_equal(
        astuple(analysis.estimate(pair, FS, "breathing", analysis.ReadingOrder(leads=(1,)))),
        astuple(analysis.estimate(pair, FS, "breathing")),
    )


def test_leads_are_read_alone_in_turn_then_the_chosen_ones_together() -> None:
    """The face's motion is noise, the shoulders breathe at 14 /min, the respiration output is
    noise with a line at 22 /min: leading with the face then the shoulders gives the shoulders'
    rate alone; where no lead is clear only the estimates named ``together`` are read."""
    rng = np.random.default_rng(5)
    t = np.arange(900) / FS

    def breathing(rate_bpm: float, noise: float) -> np.ndarray:
        wave = np.sin(2 * np.pi * rate_bpm / 60 * t) + noise * rng.standard_normal(t.size)
        return analysis.prepare(wave, FS, "breathing", False)

    face, shoulders, resp = breathing(14.0, 30.0), breathing(14.0, 0.4), breathing(22.0, 2.0)
    order = analysis.ReadingOrder(leads=(1, 2), together=(0, 1))
    led = analysis.estimate([resp, face, shoulders], FS, "breathing", order)
    assert led.n_waves == 1 and abs(led.rate_bpm - 14.0) < 0.3 and led.read_from == (2,)
    quiet = breathing(14.0, 30.0)
    pair = analysis.estimate([resp, face, quiet], FS, "breathing", order)
    assert pair.n_waves == 2 and pair.read_from == (0, 1)
    np.testing.assert_equal(
        astuple(pair), astuple(analysis.estimate([resp, face], FS, "breathing"))
    )
    together = analysis.estimate([resp, face, quiet], FS, "breathing")
    assert together.n_waves == 3 and together.read_from == (0, 1, 2)
    flat = analysis.estimate([resp, np.zeros(t.size), quiet], FS, "breathing")
    assert flat.read_from == (0, 2)  # a wave that never moves is left out


def test_a_reading_order_must_name_estimates_that_exist() -> None:
    wave = np.sin(np.arange(900) / FS)
    with pytest.raises(ValueError, match="beyond the 2 given"):
        analysis.estimate([wave, wave], FS, "breathing", analysis.ReadingOrder(leads=(2,)))
    with pytest.raises(ValueError, match=">= 0"):
        analysis.ReadingOrder(leads=(-1,))
    with pytest.raises(ValueError, match="at least one"):
        analysis.ReadingOrder(together=())


def test_breathing_reads_follow_the_source() -> None:
    """It arranges whatever it is given (here ``(wave, diff-normalized)``; ``predict`` adds a
    label)."""
    model, face, shoulders = (np.ones(3), True), (np.zeros(3), False), (np.full(3, 2.0), False)
    reads, order = analysis.breathing_reads("fused", model, [face, shoulders])
    assert [r[0][0] for r in reads] == [1.0, 0.0, 2.0]
    assert order == analysis.ReadingOrder(leads=(1, 2), together=(0, 1))
    reads, order = analysis.breathing_reads("motion", model, [face, shoulders])
    assert [r[0][0] for r in reads] == [0.0, 2.0] and order.leads == (0, 1)
    assert order.together == (0,)  # never averaged
    reads, order = analysis.breathing_reads("model", model, [face, shoulders])
    assert [r[0][0] for r in reads] == [1.0] and order == analysis.ALL_TOGETHER
    reads, order = analysis.breathing_reads("fused", None, [face])  # no network: the motion
    assert [r[0][0] for r in reads] == [0.0] and order == analysis.ALL_TOGETHER


def test_a_diff_normalized_output_is_read_on_its_own_scale() -> None:
    """A network trained on diff-normalized labels outputs the pulse's derivative plus noise
    that is white on that scale; its integral (the waveform shown) reddens the noise, which
    buries a fast pulse under the band's low end. 20 s of a 110 bpm pulse's derivative with
    white noise (0.8 per sample, about twice its amplitude): read integrated, 3 of 40 draws give
    the rate; read on its own scale, 33 of 40, all right."""
    rng = np.random.default_rng(21)
    t = np.arange(600) / FS
    integrated = own_scale = 0
    for _ in range(40):
        pulse = np.sin(2 * np.pi * 110 / 60 * t + rng.uniform(0, 2 * np.pi))
        output = np.diff(pulse, prepend=pulse[0]) + 0.8 * rng.standard_normal(t.size)
        a = analysis.estimate(analysis.prepare(output, FS, "heart", True), FS, "heart")
        b = analysis.estimate(analysis.rate_wave(output, FS, "heart", True), FS, "heart")
        integrated += a.reliable and abs(a.rate_bpm - 110) < 3
        own_scale += b.reliable and abs(b.rate_bpm - 110) < 3
    assert integrated <= 5 and own_scale >= 30
    wave = analysis.prepare(output, FS, "heart", False)
    np.testing.assert_array_equal(analysis.rate_wave(output, FS, "heart", False), wave)


def _nodding(rise_px: float, seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """A 96 bpm pulse in two estimates under a talking head's nod (1.05 Hz, 63 bpm, printed
    into both 2× stronger than the pulse, partly through its velocity), and the head's pose
    (T, 3) whose rise swings ``rise_px`` (rms) in the heart band."""
    rng = np.random.default_rng(seed)
    fs, n = 30.0, 900
    t = np.arange(n) / fs
    nod = np.sqrt(2.0) * np.sin(2 * np.pi * 1.05 * t)
    waves = [
        0.5 * np.sin(2 * np.pi * 1.6 * t + phase)
        + 1.0 * nod
        + 0.6 * np.gradient(nod) * fs / (2 * np.pi)
        + 0.2 * rng.standard_normal(n)
        for phase in (0.0, 0.7)
    ]
    pose = np.stack([rise_px * nod, 0.001 * rng.standard_normal(n), np.zeros(n)], axis=1)
    return waves, pose


def test_a_moving_heads_motion_is_regressed_out_of_the_pulse() -> None:
    fs, height = 30.0, 300.0
    waves, pose = _nodding(rise_px=3.0)  # 1 % of the crop's height: a talking head
    before = analysis.estimate(waves, fs, "heart")
    assert before.reliable and before.rate_bpm == pytest.approx(63.0, abs=1.0)  # the nod
    cleaned = analysis.without_head_motion(waves, pose, 0, height, fs)
    after = analysis.estimate(cleaned, fs, "heart")
    assert after.reliable and after.rate_bpm == pytest.approx(96.0, abs=1.0)  # the pulse


def test_a_still_heads_motion_is_left_alone() -> None:
    """Below HEAD_MOTION_MIN_REL of the crop (e.g. a head's ballistocardiac motion, which
    moves with the pulse itself) nothing is regressed: the waves come back as they were."""
    fs, height = 30.0, 300.0
    rise = 0.5 * analysis.HEAD_MOTION_MIN_REL * height
    waves, pose = _nodding(rise_px=rise)
    same = analysis.without_head_motion(waves, pose, 0, height, fs)
    assert all(a is b for a, b in zip(same, waves, strict=True))
    # just above it the same motion is regressed
    waves, pose = _nodding(rise_px=2.0 * analysis.HEAD_MOTION_MIN_REL * height)
    moved = analysis.without_head_motion(waves, pose, 0, height, fs)
    assert not np.allclose(moved[0], waves[0])
    # no face (height 0) or no pose measured (NaN): nothing to measure the motion against
    assert analysis.without_head_motion(waves, pose, 0, 0.0, fs)[0] is waves[0]
    blank = np.full_like(pose, np.nan)
    assert analysis.without_head_motion(waves, blank, 0, height, fs)[0] is waves[0]


def test_noise_with_the_head_motion_regressed_out_rarely_passes() -> None:
    """Regressing a moving head's pose out of two white-noise estimates keeps the fused gate's
    false alarms as rare as without (10 s: about 1 % of draws either way)."""
    from bigsmall.signal.filters import bandpass

    fs, n, draws = 30.0, 300, 300
    rng = np.random.default_rng(3)
    passed = 0
    for _ in range(draws):
        waves = [
            analysis.rate_wave(rng.standard_normal(n), fs, "heart", True),
            analysis.rate_wave(rng.standard_normal(n), fs, "heart", False),
        ]
        pose = np.stack(
            [bandpass(rng.standard_normal(n), fs, (0.3, 4.0), 2) * s for s in (30.0, 0.05, 0.05)],
            axis=1,
        )  # a talking head: ~3 px of in-band rise on a 300-px crop, far above the threshold
        cleaned = analysis.without_head_motion(waves, pose, 0, 300.0, fs)
        assert not np.allclose(cleaned[0], waves[0])
        passed += analysis.estimate(cleaned, fs, "heart").reliable
    assert passed / draws <= 0.03


HEIGHT_PX = 300.0  # a crop 300 px high (a face 200 px high)


def _swaying_head(seed: int) -> tuple[np.ndarray, float]:
    """(T, 3) pose (rise px, roll rad, log scale) of an animated photo: breathing 1.5 px at a
    random 15–27 /min, a ±2° roll at 0.2 Hz about a pivot 100 px beside the face's centre and a
    ±3 % scale at 0.12 Hz about one 60 px above it (7.2 /min), tracker noise; and the rate."""
    rng = np.random.default_rng(seed)
    t = np.arange(900) / FS
    rate = rng.uniform(15.0, 27.0)
    roll = np.deg2rad(2.0) * np.sin(2 * np.pi * 0.2 * t + rng.uniform(0, 6))
    log_scale = np.log1p(0.03 * np.sin(2 * np.pi * 0.12 * t + rng.uniform(0, 6)))
    rise = 1.5 * np.sin(2 * np.pi * rate / 60 * t) + 100.0 * roll + 60.0 * log_scale
    noisy = rise + 0.1 * rng.standard_normal(t.size)
    return np.stack([noisy, roll, log_scale], axis=1), rate


@pytest.mark.parametrize("seed", range(4))
def test_a_swaying_heads_breathing_is_read_once_its_roll_and_scale_are_regressed_out(
    seed: int,
) -> None:
    pose, rate = _swaying_head(seed)

    def read(rise: np.ndarray) -> float:
        wave = analysis.prepare(rise, FS, "breathing", False)
        return analysis.estimate(wave, FS, "breathing").rate_bpm

    assert not abs(read(pose[:, 0]) - rate) < 2.0  # the sway wins (or nothing passes)
    assert read(analysis.rise_without_sway(pose, 0, FS, HEIGHT_PX)) == pytest.approx(rate, abs=1.0)


def test_a_head_that_does_not_roll_or_scale_keeps_its_rise() -> None:
    pose, _ = _swaying_head(0)
    still = pose.copy()
    still[:, 1:] = 0.0
    np.testing.assert_array_equal(analysis.rise_without_sway(still, 0, FS, HEIGHT_PX), pose[:, 0])
    short = analysis.rise_without_sway(pose[:5], 0, FS, HEIGHT_PX)
    np.testing.assert_array_equal(short, pose[:5, 0])
    # without a face (no height) nothing is measured against: the rise as it is
    np.testing.assert_array_equal(analysis.rise_without_sway(pose, 0, FS, 0.0), pose[:, 0])


def test_a_pivot_too_far_to_be_a_heads_is_not_regressed_out() -> None:
    """A breathing rise and a scale that barely moves but follows the breathing (its fit
    reads a pivot 40 crop heights away): the scale is left out, the breathing kept; the roll,
    a real sway about a pivot 100 px away, is still removed."""
    pose, rate = _swaying_head(1)
    t = np.arange(pose.shape[0]) / FS
    breath = np.sin(2 * np.pi * rate / 60 * t)
    pose[:, 0] = 1.5 * breath + 100.0 * pose[:, 1]
    pose[:, 2] = 1.5 * breath / (40.0 * HEIGHT_PX)
    cleaned = analysis.rise_without_sway(pose, 0, FS, HEIGHT_PX)
    np.testing.assert_allclose(cleaned - cleaned.mean(), 1.5 * (breath - breath.mean()), atol=0.05)


def test_a_still_pictures_tracker_jitter_is_no_breathing() -> None:
    """A body that rises by 0.3 px (rms) with 15 breaths a minute in a 480-px crop is read; the
    tracker's jitter on a still picture (0.003 px rms, noise that can peak anywhere in the band)
    is left out, whatever its spectrum's SNR."""
    fs, height = 30.0, 480.0
    t = np.arange(int(30 * fs)) / fs
    rng = np.random.default_rng(4)
    breathing = 0.3 * np.sqrt(2) * np.sin(2 * np.pi * 0.25 * t) + rng.normal(0, 0.05, t.size)
    kept = analysis.body_motion(breathing, fs, height)
    assert np.array_equal(kept, breathing)
    est = analysis.estimate([analysis.prepare(kept, fs, "breathing", False)], fs, "breathing")
    assert est.reliable and abs(est.rate_bpm - 15.0) < 0.5
    jitter = 0.003 * np.sin(2 * np.pi * 0.2 * t) + rng.normal(0, 0.001, t.size)  # a clear "peak"
    assert not np.any(analysis.body_motion(jitter, fs, height))
    alone = analysis.estimate([analysis.prepare(jitter, fs, "breathing", False)], fs, "breathing")
    assert alone.reliable  # its SNR alone would give a rate: the amplitude is what tells
    both = [
        analysis.prepare(w, fs, "breathing", False)
        for w in (analysis.body_motion(jitter, fs, height), kept)
    ]
    assert analysis.estimate(both, fs, "breathing").read_from == (1,)
    assert not np.any(analysis.body_motion(breathing, fs, 0.0))  # no face measured: no motion


def _harmonic_and_pulse(
    pulse_bpm: float | None, breathing_bpm: float, seed: int, pulse_amplitude: float = 0.6
) -> np.ndarray:
    """(900,) a POS-like wave: the breathing's colour at three times its rate (amplitude 1),
    a pulse at ``pulse_bpm`` (or none) and white noise; 30 s at 30 fps."""
    rng = np.random.default_rng(seed)
    t = np.arange(900) / FS
    wave = 1.0 * np.sin(2 * np.pi * 3 * breathing_bpm / 60.0 * t) + rng.standard_normal(t.size)
    if pulse_bpm is not None:
        wave += pulse_amplitude * np.sin(2 * np.pi * pulse_bpm / 60.0 * t + 0.3)
    return analysis.prepare(wave, FS, "heart", False)


def test_no_pulse_is_read_at_the_breathings_harmonics() -> None:
    """Known truth: a pulse at 95 bpm and the breathing's third harmonic (24 /min → 72)."""
    harmonics = analysis.breathing_harmonics_hz(24.0)
    np.testing.assert_allclose(harmonics, [0.8, 1.2])
    assert analysis.breathing_harmonics_hz(None) == analysis.breathing_harmonics_hz(np.nan) == ()
    # a weaker pulse: the harmonic is given as the heart rate unless barred; barred, it is
    # noise the pulse does not stand out of, so nothing is given (rather than 72)
    weak = _harmonic_and_pulse(95.0, 24.0, seed=5)
    assert abs(analysis.estimate(weak, FS, "heart").rate_bpm - 72.0) < 1.0
    est = analysis.estimate(weak, FS, "heart", not_at_hz=harmonics)
    assert not est.reliable and abs(est.passed_over_bpm - 72.0) < 1.0
    # a stronger pulse is read either way
    strong = _harmonic_and_pulse(95.0, 24.0, seed=5, pulse_amplitude=1.2)
    for not_at_hz in ((), harmonics):
        assert abs(analysis.estimate(strong, FS, "heart", not_at_hz=not_at_hz).rate_bpm - 95) < 1


def test_a_breathing_harmonic_alone_gives_no_heart_rate() -> None:
    """No pulse: the harmonic is the only peak; barred, what is left is noise, withheld."""
    withheld = 0
    for seed in range(20):
        wave = _harmonic_and_pulse(None, 24.0, seed=seed)
        assert analysis.estimate(wave, FS, "heart").reliable  # read as a pulse without the rule
        est = analysis.estimate(wave, FS, "heart", not_at_hz=analysis.breathing_harmonics_hz(24.0))
        assert abs(est.passed_over_bpm - 72.0) < 1.0
        withheld += not est.reliable
    assert withheld >= 19


def test_rates_over_time_read_the_pulse_away_from_each_windows_breathing_harmonics() -> None:
    breathing_bpm = 26.0
    resp = simulate_respiration(60.0, FS, breathing_bpm, seed=3)
    rng = np.random.default_rng(4)
    t = np.arange(resp.size) / FS
    colour = np.sin(2 * np.pi * 2 * breathing_bpm / 60.0 * t) + 0.7 * rng.standard_normal(t.size)
    pulse = analysis.prepare(colour, FS, "heart", False)
    breathing = analysis.prepare(resp, FS, "breathing", False)
    valid = np.ones(t.size, bool)
    alone = analysis.rates_over_time(pulse, None, valid, FS, 10.0)
    np.testing.assert_allclose(alone["heart_rate_bpm"], 52.0, atol=3.0)  # read without breathing
    both = analysis.rates_over_time(pulse, breathing, valid, FS, 10.0)
    np.testing.assert_allclose(both["breathing_rate_bpm"], breathing_bpm, atol=1.0)
    assert np.isnan(both["heart_rate_bpm"]).mean() >= 0.9
