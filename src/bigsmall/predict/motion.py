"""Motion-based breathing: the vertical movement of the face over time.

Breathing moves the head and shoulders up and down (inhalation lifts them); over a still
sitter this is the strongest breathing cue a face video carries, and camera-based breathing
monitors have long read it from the motion of the upper body (e.g. Bartula et al., "Camera-based
system for contactless monitoring of respiration", IEEE EMBC 2013). Here the face's vertical
position is tracked by phase correlation (Kuglin & Hines, 1975) of the centre of each face
crop (the Big frames BigSmall already computes) against a key frame, converted to frame
pixels. When the crop box moves (a re-detection) a new key frame starts and the step across
is the content shift from the previous frame plus the box's own move, so that box jumps
cancel out:

    p_t - p_{t-1} = Δc_t · h_t / H + (y_t - y_{t-1})

with Δc_t the content shift between crops (crop pixels), ``h_t`` the box height, ``H`` the
crop height and ``y_t`` the box top. The result is the face's vertical position (up
positive, so that inhalation is up, like the synthetic ``resp`` label); it is labelled
"motion-based" wherever it is reported because it is not a network output.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from bigsmall.video.inputs import read_stored_frames

#: Crops are area-downscaled by this factor before phase correlation (speed; the correlation
#: peak's centroid keeps sub-pixel accuracy).
MOTION_DOWNSCALE: int = 2
#: Fraction of the crop cut from each side: the enlarged box's margins hold mostly background,
#: which does not move with breathing.
MARGIN_FRACTION: float = 0.15
#: A frame is compared with a key frame (not with its predecessor, whose small errors would
#: add up to a random walk) until the box changes or this many frames have passed.
KEY_INTERVAL_FRAMES: int = 60
#: Shifts larger than this fraction of the compared height are tracking glitches; ignored.
MAX_SHIFT_FRACTION: float = 0.25


class VerticalMotionTracker:
    """Feed one (h, w, 3) uint8 face crop and its box ``[x, y, w, h]`` at a time.

    Keeps the face's vertical position in frame pixels, up positive (starts at 0).
    """

    def __init__(self, crop_hw: tuple[int, int], downscale: int = MOTION_DOWNSCALE) -> None:
        height, width = crop_hw
        self.margin_hw = (round(height * MARGIN_FRACTION), round(width * MARGIN_FRACTION))
        inner_h = height - 2 * self.margin_hw[0]
        inner_w = width - 2 * self.margin_hw[1]
        # Odd sizes: OpenCV's phase correlation gave erratic sub-pixel shifts on some even
        # sizes (50, 72) of the same crops (correlation with the true breathing 0.95 → 0.1).
        self.size_wh = (max(inner_w // downscale, 8) | 1, max(inner_h // downscale, 8) | 1)
        # Crop pixels per compared pixel (vertical).
        self.scale_y = inner_h / self.size_wh[1] / height
        self.window = cv2.createHanningWindow(self.size_wh, cv2.CV_32F)
        self.prev: np.ndarray | None = None
        self.prev_box: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
        self.key: np.ndarray | None = None
        self.key_box: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
        self.key_age = 0
        self.key_position = 0.0
        self.position = 0.0

    def prepare(self, crop_rgb: np.ndarray) -> np.ndarray:
        """(h, w, 3) uint8 crop → the downscaled float32 gray centre that is compared."""
        top, left = self.margin_hw
        inner = crop_rgb[top : crop_rgb.shape[0] - top, left : crop_rgb.shape[1] - left]
        gray = cv2.cvtColor(np.ascontiguousarray(inner), cv2.COLOR_RGB2GRAY).astype(np.float32)
        # Resized in float: rounding the averages to integers would lose the sub-pixel motion.
        return cv2.resize(gray, self.size_wh, interpolation=cv2.INTER_AREA)

    def _shift_px(self, a: np.ndarray, b: np.ndarray, box_h: float) -> float:
        """Downward content shift from ``a`` to ``b`` in frame pixels."""
        (_, shift_y), _ = cv2.phaseCorrelate(a, b, self.window)
        if abs(shift_y) > MAX_SHIFT_FRACTION * a.shape[0]:
            return 0.0
        return float(shift_y) * self.scale_y * box_h

    def update_prepared(self, gray: np.ndarray, box_xywh: Sequence[float]) -> float:
        """Add a crop from :meth:`prepare`; returns the position (frame px, up positive)."""
        box = tuple(float(v) for v in box_xywh)
        if self.prev is None:
            self.key, self.key_box, self.key_age = gray, box, 0
        elif box == self.key_box and self.key_age < KEY_INTERVAL_FRAMES:
            self.position = self.key_position - self._shift_px(self.key, gray, box[3])
            self.key_age += 1
        else:  # new key frame: step from the previous frame, including the box's own move
            step = self._shift_px(self.prev, gray, box[3]) + (box[1] - self.prev_box[1])
            self.position -= step
            self.key, self.key_box, self.key_age = gray, box, 0
            self.key_position = self.position
        self.prev, self.prev_box = gray, box
        return self.position

    def update(self, crop_rgb: np.ndarray, box_xywh: Sequence[float]) -> float:
        return self.update_prepared(self.prepare(crop_rgb), box_xywh)


class VerticalMotionTrace:
    """The face's vertical position at every Big frame (a
    :class:`~bigsmall.video.inputs.FrameReader`); the tracker starts at the first frame's size."""

    def __init__(self) -> None:
        self.tracker: VerticalMotionTracker | None = None
        self.positions: list[float] = []

    def update(self, big_rgb: np.ndarray, box_xywh: object) -> None:
        if self.tracker is None:
            self.tracker = VerticalMotionTracker(tuple(big_rgb.shape[:2]))
        self.positions.append(self.tracker.update(big_rgb, box_xywh))

    def result(self) -> np.ndarray:
        """(T,) vertical position in frame pixels, up positive (starts at 0)."""
        return np.asarray(self.positions, np.float64)


def vertical_motion(big_uint8: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(T,) vertical face position in frame pixels, up positive (starts at 0).

    big_uint8: (T, h, w, 3) uint8 face crops (e.g. :attr:`BigSmallInputs.big_uint8`).
    boxes: (T, 4) crop boxes ``[x, y, w, h]`` in frame pixels.
    """
    return read_stored_frames(big_uint8, boxes, {"motion": VerticalMotionTrace()})["motion"]
