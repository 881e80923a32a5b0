from __future__ import annotations

import cv2
import numpy as np

from bigsmall.predict.motion import VerticalMotionTracker, vertical_motion


def _scene(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (400, 300, 3)).astype(np.uint8)
    return cv2.GaussianBlur(noise, (9, 9), 3)


def _crops(scene: np.ndarray, tops: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    out = []
    for top, (x, y, w, h) in zip(tops, boxes, strict=True):
        # Content moved up by `top` px == the crop window moved down over a fixed scene.
        window = scene[int(y + top) : int(y + top + h), int(x) : int(x + w)]
        out.append(cv2.resize(window, (144, 144), interpolation=cv2.INTER_AREA))
    return np.stack(out)


def test_sinusoidal_motion_is_recovered_in_frame_pixels() -> None:
    n = 300
    up = np.round(3.0 * np.sin(2 * np.pi * np.arange(n) / 60.0)).astype(int)
    boxes = np.tile([60.0, 100.0, 150.0, 150.0], (n, 1))
    pos = vertical_motion(_crops(_scene(), up, boxes), boxes)
    assert np.corrcoef(pos, up)[0, 1] > 0.98
    assert abs(np.ptp(pos) - np.ptp(up)) < 1.0


def test_box_jumps_cancel_out() -> None:
    n = 120
    boxes = np.tile([60.0, 100.0, 150.0, 150.0], (n, 1))
    boxes[40:, 1] = 110.0  # re-detection moves the box 10 px down; the face did not move
    boxes[80:, 1] = 95.0
    crops = []
    scene = _scene(1)
    for x, y, w, h in boxes:
        # The face stays put: crop rows follow the box (content shifts inside the crop).
        window = scene[int(y) : int(y + h), int(x) : int(x + w)]
        crops.append(cv2.resize(window, (144, 144), interpolation=cv2.INTER_AREA))
    pos = vertical_motion(np.stack(crops), boxes)
    # Jumps of 10 and 15 px leave under 1 px (a box move read as motion would leave 10-15).
    assert np.max(np.abs(pos)) < 1.0


def test_tracker_matches_batch_function() -> None:
    n = 50
    up = np.arange(n) % 5
    boxes = np.tile([60.0, 100.0, 150.0, 150.0], (n, 1))
    crops = _crops(_scene(2), up, boxes)
    tracker = VerticalMotionTracker((144, 144))
    incremental = np.array([tracker.update(c, b) for c, b in zip(crops, boxes, strict=True)])
    np.testing.assert_allclose(incremental, vertical_motion(crops, boxes))
