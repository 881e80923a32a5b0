from __future__ import annotations

import cv2
import numpy as np

from bigsmall.predict import analysis
from bigsmall.predict.motion import RISE, HeadPoseTracker, head_pose

FS = 30.0
BOX = (100.0, 120.0, 180.0, 180.0)  # crop box [x, y, w, h] in frame pixels


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (420, 380, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (9, 9), 2.5)


def _crops(scene: np.ndarray, warps: list[np.ndarray], boxes: np.ndarray) -> np.ndarray:
    """Each frame: ``scene`` warped by a 2×3 matrix, cut at its box, resized to 144²."""
    height, width = scene.shape[:2]
    out = []
    for warp, (x, y, w, h) in zip(warps, boxes, strict=True):
        frame = cv2.warpAffine(scene, warp, (width, height), flags=cv2.INTER_CUBIC)
        window = frame[int(y) : int(y + h), int(x) : int(x + w)]
        out.append(cv2.resize(window, (144, 144), interpolation=cv2.INTER_AREA))
    return np.stack(out)


def _shift(up_px: float) -> np.ndarray:
    return np.float32([[1, 0, 0], [0, 1, -up_px]])


def _rate(wave: np.ndarray) -> float:
    return analysis.estimate(
        analysis.prepare(wave, FS, "breathing", False), FS, "breathing"
    ).rate_bpm


def test_sub_pixel_rise_is_recovered_in_frame_pixels() -> None:
    n = 240
    up = 2.0 * np.sin(2 * np.pi * 0.25 * np.arange(n) / FS)
    boxes = np.tile(BOX, (n, 1))
    pose = head_pose(_crops(_scene(), [_shift(u) for u in up], boxes), boxes)
    measured = np.arange(0, n, 3)  # the frames the pose is measured on
    assert np.corrcoef(pose[measured, 0], up[measured])[0, 1] > 0.99
    assert np.max(np.abs(pose[measured, 0] - up[measured])) < 0.3
    assert np.max(np.abs(pose[:, 1])) < 0.005 and np.max(np.abs(pose[:, 2])) < 0.005


def test_box_jumps_cancel_out() -> None:
    n = 120
    boxes = np.tile(BOX, (n, 1))
    boxes[40:, 1] += 10.0  # a re-detection moves the box 10 px down; the face did not move
    boxes[80:, 1] -= 15.0
    boxes[80:, 3] += 8.0  # ... and another one changes its size
    pose = head_pose(_crops(_scene(1), [_shift(0.0)] * n, boxes), boxes)
    assert np.max(np.abs(pose[:, 0])) < 0.5


def test_a_box_that_jumps_elsewhere_and_back_leaves_no_step() -> None:
    """A detection taken at once (a box twice the size, off to one side: another "face") for
    two seconds, then the face's box again: the crops show different things, so no points are
    followed across; the still face's rise stays flat."""
    n = 150
    boxes = np.tile(BOX, (n, 1))
    boxes[60:120] = (40.0, 60.0, 330.0, 330.0)
    boxes[90:120] = (60.0, 80.0, 300.0, 300.0)  # then a small step there: followed
    pose = head_pose(_crops(_scene(4), [_shift(0.0)] * n, boxes), boxes)
    assert np.max(np.abs(pose[:, RISE])) < 0.5
    assert np.max(np.abs(pose[:, 2])) < 0.005


def test_breathing_is_read_through_a_rolling_and_zooming_head() -> None:
    """A head rolling ±3° at 18 /min and changing size ±3 % at 25 /min about its centre while
    breathing lifts it ±1.5 px at 12 /min: the rise reads the breathing; rotation and scale are
    measured apart."""
    n = 900
    t = np.arange(n) / FS
    roll_deg = 3.0 * np.sin(2 * np.pi * 0.3 * t)
    zoom = 1.0 + 0.03 * np.sin(2 * np.pi * 0.42 * t)
    breath = 1.5 * np.sin(2 * np.pi * 0.2 * t)
    centre = (BOX[0] + BOX[2] / 2, BOX[1] + BOX[3] / 2)
    warps = []
    for angle, scale, lift in zip(roll_deg, zoom, breath, strict=True):
        warp = cv2.getRotationMatrix2D(centre, float(angle), float(scale))
        warp[1, 2] -= lift
        warps.append(warp.astype(np.float32))
    boxes = np.tile(BOX, (n, 1))
    pose = head_pose(_crops(_scene(2), warps, boxes), boxes)
    measured = np.arange(0, n, 3)
    assert abs(_rate(pose[:, RISE]) - 12.0) < 0.5
    assert np.corrcoef(pose[measured, RISE], breath[measured])[0, 1] > 0.95
    assert np.corrcoef(pose[measured, 1], np.radians(roll_deg[measured]))[0, 1] < -0.99
    assert np.corrcoef(pose[measured, 2], np.log(zoom[measured]))[0, 1] > 0.99


def test_tracker_matches_batch_function() -> None:
    n = 30
    boxes = np.tile(BOX, (n, 1))
    crops = _crops(_scene(3), [_shift(float(i % 5)) for i in range(n)], boxes)
    tracker = HeadPoseTracker()
    incremental = np.array([tracker.update(c, b) for c, b in zip(crops, boxes, strict=True)])
    np.testing.assert_allclose(incremental, head_pose(crops, boxes))
