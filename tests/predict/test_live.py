from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bigsmall.constants import AU_NAMES
from bigsmall.predict.live import LiveEstimator
from bigsmall.video import read_all


def _statuses(estimator: LiveEstimator, frames: np.ndarray) -> list:
    return [s for s in (estimator.process(f) for f in frames) if s is not None]


def test_pos_live_first_estimate_after_window(demo_video: tuple[Path, object]) -> None:
    path, truth = demo_video
    clip = read_all(path)
    statuses = _statuses(
        LiveEstimator(clip.fps, method="pos", breathing="motion", window_sec=10.0), clip.frames
    )
    assert len(statuses) == 24  # one per second of video
    assert all(s.pulse_quality == "waiting" for s in statuses[:9])
    assert statuses[9].time_sec == 10.0 and statuses[9].pulse_quality != "waiting"
    rates = [s.heart_rate_bpm for s in statuses[9:] if s.heart_rate_bpm is not None]
    assert len(rates) >= 10
    assert abs(np.median(rates) - truth.heart_rate_bpm) < 3.0
    assert statuses[-1].breathing_rate_bpm is not None
    assert abs(statuses[-1].breathing_rate_bpm - truth.breathing_rate_bpm) < 2.0
    assert statuses[-1].active_aus is None
    assert statuses[-1].latency_ms_median > 0 and statuses[-1].frames_per_sec > 0
    assert statuses[-1].latency_ms_median <= statuses[-1].latency_ms_p95
    assert "HR" in statuses[-1].line() and "latency" in statuses[-1].line()


def test_model_live_runs_windows(demo_video: tuple[Path, object], tiny_weights: Path) -> None:
    from bigsmall.predict.runner import load_model, make_runner

    path, _ = demo_video
    clip = read_all(path)
    loaded = load_model(tiny_weights)
    runner = make_runner(loaded, "torch", "cpu", print, threads=1)
    module = loaded.module
    calls: list[int] = []

    def counting(big, small):
        calls.append(big.shape[0])
        assert small.shape[0] == big.shape[0] * module.n_segment
        return runner(big, small)

    estimator = LiveEstimator(
        clip.fps,
        runner=counting,
        n_segment=module.n_segment,
        window_sec=5.0,
        big_hw=(module.big_size,) * 2,
        small_hw=(module.small_size,) * 2,
    )
    statuses = _statuses(estimator, clip.frames[:240])
    assert len(statuses) == 8 and sum(calls) == 80  # 240 frames = 80 windows of 3
    assert len(estimator.bvp) == 240
    assert statuses[-1].active_aus is not None
    assert set(statuses[-1].active_aus) <= set(AU_NAMES)
    assert statuses[4].pulse_quality != "waiting"
    # the face leaves the picture: no AUs are shown beside "face: NO"
    blank = np.full_like(clip.frames[:30], 90)
    gone = _statuses(estimator, blank)
    assert gone and not gone[-1].face_found and gone[-1].active_aus is None


def test_model_method_needs_runner() -> None:
    with pytest.raises(ValueError, match="runner"):
        LiveEstimator(30.0)


def test_zero_frame_rate_is_one_line() -> None:
    from bigsmall.errors import ConfigError

    with pytest.raises(ConfigError, match="frame rate must be above 0"):
        LiveEstimator(0.0, method="pos")


@pytest.mark.parametrize("crop", ["face", "bp4d_framing", "full"])
def test_live_crops_as_predict_does(demo_video: tuple[Path, object], crop: str) -> None:
    """The Big frame live makes under a weights' crop is the one predict's builder makes."""
    from bigsmall.video import build_bigsmall_inputs

    path, _ = demo_video
    frames = read_all(path).frames[:40]
    built = build_bigsmall_inputs(
        [_batch(frames)], crop=crop, fps=30.0, threaded=False, big_sink="memory"
    )
    live = LiveEstimator(30.0, method="pos", breathing="motion", crop=crop)
    for i, frame in enumerate(frames):
        box, _ = live._box(frame)
        big = live._crop(frame, box)
        if i in (0, 39):
            diff = np.abs(big.astype(int) - np.asarray(built.big_uint8[i]).astype(int))
            assert diff.mean() < 1.0, (crop, i, diff.mean())


def test_live_rejects_an_unknown_crop() -> None:
    from bigsmall.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown crop 'bp4d_square'"):
        LiveEstimator(30.0, method="pos", breathing="motion", crop="bp4d_square")


def _batch(frames: np.ndarray):
    from bigsmall.video import FrameBatch

    return FrameBatch(frames, np.arange(len(frames)) / 30.0, 0)


def test_live_whole_stream_agrees_with_predict(demo_video: tuple[Path, object]) -> None:
    """On one file, live's whole-stream reading (the same model session, crop, fused pulse and
    breathing) gives predict's heart and breathing rates within 1 per minute and its AUs."""
    from bigsmall.predict import Predictor
    from bigsmall.predict.session import ModelSession

    path, truth = demo_video
    clip = read_all(path)
    session = ModelSession(backend="onnx")
    runner, _ = session.runner()
    estimator = LiveEstimator(
        clip.fps,
        runner=runner,
        n_segment=session.n_segment,
        big_hw=session.big_hw,
        small_hw=session.small_hw,
        crop=session.crop,
        breathing="fused",
    )
    _statuses(estimator, clip.frames)
    whole = estimator.summary()
    result = Predictor(backend="onnx").predict(path)
    assert result.heart_rate_bpm is not None and whole.heart_rate_bpm is not None
    assert abs(whole.heart_rate_bpm - result.heart_rate_bpm) <= 1.0
    assert abs(whole.heart_rate_bpm - truth.heart_rate_bpm) < 3.0
    assert result.breathing_rate_bpm is not None and whole.breathing_rate_bpm is not None
    assert abs(whole.breathing_rate_bpm - result.breathing_rate_bpm) <= 1.0
    present = [au for au, share in result.au_occurrence.items() if share >= 0.5]
    assert whole.active_aus == present
    assert "HR" in whole.readings() and "latency" not in whole.readings()


def test_live_aligns_the_big_frame_of_each_window(
    demo_video: tuple[Path, object], tiny_weights: Path
) -> None:
    """With an aligner (weights trained on aligned faces), the network's Big input is the
    aligned frame of each window's first frame, standardized with the aligned frames' own
    statistics; the Small branch keeps the face crop."""
    from bigsmall.predict.runner import load_model, make_runner
    from bigsmall.video.align import AlignedFace

    clip = read_all(demo_video[0])
    loaded = load_model(tiny_weights)
    runner = make_runner(loaded, "torch", "cpu", print, threads=1)
    side = loaded.module.big_size
    pattern = np.tile(np.arange(side, dtype=np.uint8)[None, :, None] * 4, (side, 1, 3))
    calls: list[object] = []

    def aligner(rgb: np.ndarray, box: object) -> AlignedFace:
        calls.append(box)
        return AlignedFace(pattern, np.full((49, 2), side / 2, np.float32), np.eye(2, 3))

    seen: list[np.ndarray] = []

    def recording(big: np.ndarray, small: np.ndarray) -> dict[str, np.ndarray]:
        seen.append(big)
        return runner(big, small)

    estimator = LiveEstimator(
        clip.fps,
        runner=recording,
        n_segment=3,
        big_hw=(side, side),
        small_hw=(loaded.module.small_size,) * 2,
        aligner=aligner,
    )
    _statuses(estimator, clip.frames[:90])
    assert len(calls) == 30 and all(box is not None for box in calls)  # frames 0, 3, 6, ...
    big = np.concatenate(seen)
    assert big.shape[0] == 30
    np.testing.assert_allclose(big, np.broadcast_to(big[:1], big.shape))  # all the pattern
    x = np.clip(pattern / 255.0, 1 / 255, 1.0)  # the Standardized input's unit levels
    expected = (x - x.mean()) / x.std()
    np.testing.assert_allclose(big[0], expected.transpose(2, 0, 1), atol=1e-3)


def test_live_reads_no_pulse_at_the_breathings_harmonic() -> None:
    """As ``predict``: three times a 24 /min breathing (72 bpm) is not read as a pulse."""
    rng = np.random.default_rng(0)
    t = np.arange(300) / 30.0
    colour = [(np.sin(2 * np.pi * 1.2 * t) + rng.standard_normal(t.size), False)]
    live = LiveEstimator(30.0, method="pos", breathing="motion")
    rate, _ = live._estimate_many(colour, "heart", 10.0)
    assert abs(rate - 72.0) < 2.0
    assert live._estimate_many(colour, "heart", 10.0, breathing_bpm=24.0) == (None, "poor")
