"""Box geometry and the detect-every-K face tracker."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.video import Box, FaceTracker, largest_box, median_box
from bigsmall.video.boxes import moved_apart


def test_enlarge_about_center_and_square() -> None:
    box = Box(10, 20, 40, 20).enlarge(1.5)
    assert box == Box(0, 15, 60, 30)
    assert box.center == (30, 30)
    sq = Box(10, 20, 40, 20).enlarge(1.5, square=True)
    assert (sq.w, sq.h) == (60, 60) and sq.center == (30, 30)


def test_clip_to_frame() -> None:
    assert Box(-10, -5, 50, 30).clip(30, 20) == Box(0, 0, 30, 20)
    assert Box(5, 5, 10, 10).clip(100, 100) == Box(5, 5, 10, 10)
    assert Box(200, 5, 10, 10).clip(100, 100).area == 0


def test_largest_and_median() -> None:
    boxes = [Box(0, 0, 10, 10), Box(5, 5, 30, 20), Box(1, 1, 20, 20)]
    assert largest_box(boxes) == Box(5, 5, 30, 20)
    assert largest_box([]) is None
    assert median_box(boxes) == Box(1, 1, 20, 20)


def test_tracker_detect_every_k_hold_and_found_flags() -> None:
    tracker = FaceTracker(100, 100, every_k_frames=3, enlarge_coef=1.0, smooth_window=1)
    face = [Box(40, 40, 20, 20), Box(10, 10, 5, 5)]
    asked, found, crops = [], [], []
    plan = [face, None, None, [], None, None, face, None]
    for dets in plan:
        asked.append(tracker.wants_detection())
        box, ok = tracker.update(dets)
        found.append(ok)
        crops.append(box)
    assert asked == [True, False, False, True, False, False, True, False]
    assert found == [True, True, True, False, False, False, True, True]
    assert all(c == Box(40, 40, 20, 20) for c in crops)  # held through the miss
    assert tracker.last_face == Box(40, 40, 20, 20)


def test_tracker_no_box_before_first_face_and_clipping() -> None:
    tracker = FaceTracker(50, 50, every_k_frames=1, enlarge_coef=2.0, smooth_window=1)
    assert tracker.update([]) == (None, False)
    box, ok = tracker.update([Box(30, 30, 20, 20)])
    assert ok and box == Box(20, 20, 30, 30)  # enlarged to (20,20,40,40), clipped at 50


def test_tracker_median_smoothing_rejects_outlier() -> None:
    tracker = FaceTracker(1000, 1000, every_k_frames=1, enlarge_coef=1.0, smooth_window=3)
    tracker.update([Box(100, 100, 50, 50)])
    tracker.update([Box(102, 100, 50, 50)])
    box, _ = tracker.update([Box(400, 400, 50, 50)])  # one spurious jump
    assert box == Box(102, 100, 50, 50)


def test_tracker_rejects_bad_k() -> None:
    with pytest.raises(ValueError):
        FaceTracker(10, 10, every_k_frames=0)


def test_the_unclipped_crop_box_keeps_the_face_box_centre_and_scale() -> None:
    """A face at the frame's edge: the crop box is clipped, the unclipped one is not (a Big
    frame cut at another framing scales the latter, bigsmall.video.reframe)."""
    tracker = FaceTracker(200, 200, every_k_frames=1, enlarge_coef=1.5)
    assert tracker.unclipped_box is None
    box, found = tracker.update([Box(-10.0, 50.0, 100.0, 100.0)])
    assert found and box.x == 0.0 and box.w == pytest.approx(115.0)  # clipped at x = 0
    unclipped = tracker.unclipped_box
    assert (unclipped.x, unclipped.w) == (pytest.approx(-35.0), pytest.approx(150.0))
    assert unclipped.center == pytest.approx((40.0, 100.0))


def _crop_path(glide: bool, n_frames: int = 9000, k: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """(T,) crop-box centre x of a tracker following a face that sways ±20 px at 0.2 Hz, and
    (T,) the face's own centre x."""
    tracker = FaceTracker(
        1000, 1000, every_k_frames=k, enlarge_coef=1.0, smooth_window=1, glide=glide
    )
    xs, faces = [], []
    for t in range(n_frames):
        face_x = 400.0 + 20.0 * np.sin(2 * np.pi * 0.2 * t / 30.0)
        dets = [Box(face_x, 300.0, 100.0, 100.0)] if tracker.wants_detection() else None
        box, _ = tracker.update(dets)
        xs.append(box.center[0])
        faces.append(face_x + 50.0)
    return np.asarray(xs), np.asarray(faces)


def _heart_band_power(x: np.ndarray, fs: float = 30.0) -> float:
    """Power of ``x`` in the heart band (0.75–2.5 Hz)."""
    power = np.abs(np.fft.rfft(x - x.mean())) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / fs)
    return float(power[(freqs >= 0.75) & (freqs <= 2.5)].sum())


def test_gliding_box_has_no_steps_at_the_detection_rate() -> None:
    """Held between detections every 30 frames, a swaying face's box moves in steps, and the
    face moves inside the crop in a 1-s sawtooth, lines at 1 Hz ± the sway's rate (about
    60 bpm at 30 fps) in what the crop holds. Gliding, the path is continuous: its motion in
    the heart band falls more than tenfold; the box still reaches each detection."""
    (held, face), (glided, _) = _crop_path(False), _crop_path(True)
    step_held, step_glided = np.abs(np.diff(held)).max(), np.abs(np.diff(glided)).max()
    assert step_held > 20.0  # the face's move over a whole interval, at once
    assert step_glided < step_held / 25  # spread over the 30 frames
    assert _heart_band_power(face - glided) < _heart_band_power(face - held) / 10
    # at each detection's end of glide the box is where that detection put it
    reached = glided[59::30]
    np.testing.assert_allclose(reached, held[30::30][: len(reached)], atol=1e-9)


def test_gliding_box_jumps_to_a_far_face() -> None:
    tracker = FaceTracker(
        1000, 1000, every_k_frames=2, enlarge_coef=1.0, smooth_window=1, glide=True
    )
    assert tracker.update([Box(100, 100, 100, 100)])[0] == Box(100, 100, 100, 100)
    tracker.update(None)
    near, _ = tracker.update([Box(110, 100, 100, 100)])  # glides: half-way after one frame
    assert near == Box(105, 100, 100, 100)
    tracker.update(None)
    far, _ = tracker.update([Box(600, 100, 100, 100)])  # another place: taken at once
    assert far == Box(600, 100, 100, 100)


def test_moved_apart_measures_shift_per_axis_and_size_by_ratio() -> None:
    a = Box(100.0, 100.0, 100.0, 50.0)
    assert not moved_apart(a, Box(149.0, 124.0, 100.0, 50.0), 0.5, 1.3)
    assert moved_apart(a, Box(151.0, 100.0, 100.0, 50.0), 0.5, 1.3)  # across: 0.51 widths
    assert moved_apart(a, Box(100.0, 126.0, 100.0, 50.0), 0.5, 1.3)  # down: 0.52 heights
    assert not moved_apart(a, Box(90.0, 95.0, 125.0, 60.0), 0.5, 1.3)  # ×1.25 about the centre
    assert moved_apart(a, Box(100.0, 100.0, 100.0, 66.0), 0.5, 1.3)  # taller by ×1.32
    assert moved_apart(a, Box(100.0, 100.0, 76.0, 50.0), 0.5, 1.3)  # narrower by ×1.32
    assert moved_apart(a, Box(100.0, 100.0, 0.0, 50.0), 0.5, 1.3)  # an empty box
    assert moved_apart(Box(100.0, 100.0, 0.0, 0.0), a, 0.5, 1.3)
