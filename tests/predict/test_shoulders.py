from __future__ import annotations

import cv2
import numpy as np
import pytest

from bigsmall.predict import Predictor, analysis
from bigsmall.predict.live import LiveEstimator
from bigsmall.predict.motion import RISE
from bigsmall.predict.shoulders import (
    MIN_REGION_PX,
    ShouldersTrace,
    ShouldersTracker,
    shoulders_region,
)
from bigsmall.video.boxes import Box
from bigsmall.video.frame_views import RgbView

FS = 30.0
HEIGHT, WIDTH = 360, 320
FACE = Box(110.0, 40.0, 100.0, 100.0)  # the detector's face box, frame pixels


def _texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).integers(0, 255, (*shape, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (9, 9), 2.5)


def _frames(body_up_px: np.ndarray, face_up_px: np.ndarray) -> list[np.ndarray]:
    """A still textured background; a textured "body" (everything from 140 px down, 60–260
    across) lifted by ``body_up_px``; the face's square lifted by ``face_up_px``."""
    background, body = _texture((HEIGHT, WIDTH), 0), _texture((HEIGHT, 200), 1)
    face = _texture((100, 100), 2)
    frames = []
    for body_up, face_up in zip(body_up_px, face_up_px, strict=True):
        frame = background.copy()
        moved = cv2.warpAffine(
            body, np.float32([[1, 0, 0], [0, 1, -body_up]]), (200, HEIGHT), flags=cv2.INTER_CUBIC
        )
        frame[140:, 60:260] = moved[140:]
        y = round(40 - face_up)
        frame[y : y + 100, 110:210] = face
        frames.append(frame)
    return frames


def _rate(rise: np.ndarray) -> analysis.RateEstimate:
    wave = analysis.rate_wave(rise, FS, "breathing", False)
    return analysis.estimate(wave, FS, "breathing")


def test_the_region_lies_below_the_face_and_needs_room() -> None:
    region = shoulders_region(FACE, WIDTH, HEIGHT)
    assert region is not None
    assert region.y == pytest.approx(155.0) and region.h == pytest.approx(200.0)
    assert region.x == pytest.approx(70.0) and region.w == pytest.approx(180.0)
    low_face = Box(110.0, HEIGHT - 110.0, 100.0, 100.0)  # its chin at the frame's edge
    assert shoulders_region(low_face, WIDTH, HEIGHT) is None
    # a region cut by the frame's edge to just the least height is kept
    just = Box(110.0, HEIGHT - 115.0 - MIN_REGION_PX, 100.0, 100.0)
    region = shoulders_region(just, WIDTH, HEIGHT)
    assert region is not None and region.h == pytest.approx(MIN_REGION_PX)


def test_the_shoulders_breathing_is_read_while_the_face_nods_at_speech_rates() -> None:
    """The body rises ±1.5 px at 15 /min; the face bobs ±4 px at 24 /min (talking): the
    shoulders' rise gives 15 /min, the face's motion does not reach into the region."""
    n = 900
    t = np.arange(n) / FS
    body = 1.5 * np.sin(2 * np.pi * 0.25 * t)
    face = 4.0 * np.sin(2 * np.pi * 0.4 * t)
    trace = ShouldersTrace()
    for frame in _frames(body, face):
        trace.update(RgbView(frame), FACE)
    rise = trace.result()[:, RISE]
    assert rise.shape == (n,)
    measured = np.arange(0, n, 3)
    assert np.corrcoef(rise[measured], body[measured])[0, 1] > 0.98
    assert np.max(np.abs(rise[measured] - body[measured])) < 0.15
    est = _rate(rise)
    assert est.reliable and abs(est.rate_bpm - 15.0) < 0.5


def test_no_face_no_region_no_motion() -> None:
    n = 300
    body = 1.5 * np.sin(2 * np.pi * 0.25 * np.arange(n) / FS)
    tracker = ShouldersTracker()
    frames = _frames(body, np.zeros(n))
    poses = [tracker.update(RgbView(f), None) for f in frames]
    assert tracker.region is None and not np.any(poses)
    low = Box(110.0, HEIGHT - 110.0, 100.0, 100.0)  # no room below this face
    poses = [tracker.update(RgbView(f), low) for f in frames]
    assert tracker.region is None and not np.any(poses)


def test_the_region_stays_put_under_small_box_changes_and_moves_with_the_face() -> None:
    tracker = ShouldersTracker()
    frame = _frames(np.zeros(1), np.zeros(1))[0]
    view = RgbView(frame)
    tracker.update(view, FACE)
    first = tracker.region
    tracker.update(view, Box(114.0, 43.0, 104.0, 104.0))  # detection jitter
    assert tracker.region == first
    tracker.update(view, None)  # a missed detection keeps the region
    assert tracker.region == first
    tracker.update(view, Box(40.0, 30.0, 100.0, 100.0))  # the person moved 0.7 faces across
    assert tracker.region is not None and tracker.region.x == pytest.approx(0.0)


def test_a_face_first_seen_low_gets_its_region_once_there_is_room() -> None:
    tracker = ShouldersTracker()
    view = RgbView(_frames(np.zeros(1), np.zeros(1))[0])
    tracker.update(view, Box(110.0, 250.0, 100.0, 100.0))  # chin at the frame's edge: no room
    assert tracker.region is None
    tracker.update(view, Box(110.0, 210.0, 100.0, 100.0))  # 0.4 faces higher: room now
    assert tracker.region is not None and tracker.region.h == pytest.approx(35.0)
    tracker.update(view, Box(110.0, 180.0, 100.0, 100.0))  # 0.3 faces higher: 1.9× the rows
    assert tracker.region.h == pytest.approx(65.0)
    tracker.update(view, Box(110.0, 170.0, 100.0, 100.0))  # a little higher: kept
    assert tracker.region.h == pytest.approx(65.0)


def test_a_still_body_reads_no_breathing() -> None:
    n = 900
    trace = ShouldersTrace()
    for frame in _frames(np.zeros(n), 4.0 * np.sin(2 * np.pi * 0.4 * np.arange(n) / FS)):
        trace.update(RgbView(frame), FACE)
    rise = trace.result()[:, RISE]
    assert np.max(np.abs(rise)) < 0.2


class _FixedFace:
    """A detector that finds the scene's face square wherever it is asked."""

    def detect(self, rgb: np.ndarray) -> list[Box]:
        return [FACE]


def test_live_reads_the_shoulders_where_the_face_motion_is_unclear() -> None:
    """A face jittering at random (no rhythm) above shoulders breathing at 15 /min: the face's
    motion gives no rate, the shoulders' does, in ``live`` as in ``predict``."""
    n = 900
    t = np.arange(n) / FS
    body = 1.5 * np.sin(2 * np.pi * 0.25 * t)
    jitter = np.random.default_rng(3).uniform(-3.0, 3.0, n).round()
    live = LiveEstimator(FS, method="pos", breathing="motion")
    live.detector = _FixedFace()
    for frame in _frames(body, jitter):
        live.process(frame)
    breaths, order = live._breaths()
    face, shoulders = (analysis.rate_wave(w, FS, "breathing", dn) for w, dn in breaths)
    assert not analysis.estimate(face, FS, "breathing").reliable
    assert abs(analysis.estimate(shoulders, FS, "breathing").rate_bpm - 15.0) < 0.5
    assert order.leads == (0, 1)
    whole = live.summary()
    assert whole.breathing_rate_bpm is not None and abs(whole.breathing_rate_bpm - 15.0) < 0.5


def test_predict_reads_the_shoulders_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same scene through ``predict`` (an array, as a video would be read): the rate comes
    from the shoulders and the summary says so; a still body gets no rate and no source."""
    monkeypatch.setattr("bigsmall.video.inputs.create_detector", lambda *a, **k: _FixedFace())
    n = 900
    t = np.arange(n) / FS
    jitter = np.random.default_rng(3).uniform(-3.0, 3.0, n).round()
    breathing = np.stack(_frames(1.5 * np.sin(2 * np.pi * 0.25 * t), jitter))
    result = Predictor(method="pos").predict(breathing, fps=FS)
    assert result.signal_quality["breathing_read_from"] == "shoulders motion"
    assert result.breathing_rate_bpm is not None and abs(result.breathing_rate_bpm - 15.0) < 0.5
    still = Predictor(method="pos").predict(np.stack(_frames(np.zeros(n), jitter)), fps=FS)
    assert still.breathing_rate_bpm is None
    assert still.signal_quality["breathing_read_from"] is None
