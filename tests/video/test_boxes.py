"""Box geometry and the detect-every-K face tracker."""

from __future__ import annotations

import pytest

from bigsmall.video import Box, FaceTracker, largest_box, median_box


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
