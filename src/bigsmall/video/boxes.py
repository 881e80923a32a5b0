"""Face boxes: the :class:`Box` type, main-face choice, enlargement, clipping and tracking.

The reference pipeline (rPPG-Toolbox, Liu et al., NeurIPS 2023 D&B, used by BigSmall,
Narayanswamy et al., WACV 2024) detects a face every K frames, keeps the largest one and
enlarges its box by a coefficient (1.5) about its center. :class:`FaceTracker` does that,
holds the last box when a detection misses and smooths the box over recent detections.

Held between detections, the box moves in steps: on a moving face each re-detection shifts the
crop by a few pixels at once, every K frames — a step train at fs / K (1 Hz, 60 bpm, at the
reference's K = 30 and 30 fps) whose line stands in every colour trace and network input taken
from the crop, where a pulse reader finds it (talking faces read at exactly 60 bpm). With
``glide`` the box instead moves linearly to each new detection over the K frames until the
next one: the crop's path is continuous, its steps become kinks whose spectrum has nulls at
fs / K and its harmonics, at the cost of trailing the face by K frames more. A detection
farther than :data:`GLIDE_JUMP_FRACTION` of the box away (a fast move, another face) is taken
at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: Default enlargement of a detected face box (reference value).
DEFAULT_ENLARGE_COEF: float = 1.5
#: With ``glide``, a new box whose centre moved more than this fraction of the box's width or
#: height, or whose size changed by more than this factor (log), is jumped to at once.
GLIDE_JUMP_FRACTION: float = 0.5


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels: top-left ``(x, y)``, width ``w``, height ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def area(self) -> float:
        return max(self.w, 0.0) * max(self.h, 0.0)

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def as_array(self) -> np.ndarray:
        """(4,) float64 ``[x, y, w, h]``."""
        return np.array([self.x, self.y, self.w, self.h], dtype=np.float64)

    @classmethod
    def from_array(cls, values: Sequence[float] | np.ndarray) -> Box:
        x, y, w, h = (float(v) for v in values)
        return cls(x, y, w, h)

    def enlarge(self, coef: float = DEFAULT_ENLARGE_COEF, square: bool = False) -> Box:
        """Scale the box by ``coef`` about its center (a square of the longer side if asked)."""
        cx, cy = self.center
        w, h = self.w * coef, self.h * coef
        if square:
            w = h = max(w, h)
        return Box(cx - w / 2, cy - h / 2, w, h)

    def clip(self, width: int, height: int) -> Box:
        """Intersect with the frame ``[0, width) x [0, height)``."""
        x0, y0 = min(max(self.x, 0.0), width), min(max(self.y, 0.0), height)
        x1 = min(max(self.x + self.w, 0.0), width)
        y1 = min(max(self.y + self.h, 0.0), height)
        return Box(x0, y0, x1 - x0, y1 - y0)

    def to_int(self) -> tuple[int, int, int, int]:
        """Integer ``(x0, y0, x1, y1)`` pixel bounds, rounded outwards-to-nearest."""
        x0, y0 = round(self.x), round(self.y)
        return x0, y0, round(self.x + self.w), round(self.y + self.h)


@dataclass(frozen=True)
class BoxMapping:
    """A face box of one detector mapped to the framing of another, in source-box widths.

    The mapped box is a square of side ``scale * w`` whose centre is the source box's centre
    shifted by ``(dx * w, dy * w)`` (``w``: the source box's width).
    """

    dx: float
    dy: float
    scale: float

    def apply(self, box: Box) -> Box:
        cx, cy = box.center
        side = self.scale * box.w
        return Box(cx + self.dx * box.w - side / 2, cy + self.dy * box.w - side / 2, side, side)


def largest_box(boxes: Sequence[Box]) -> Box | None:
    """The main face: the box with the largest area, or ``None`` when there is none."""
    return max(boxes, key=lambda b: b.area) if boxes else None


def median_box(boxes: Sequence[Box]) -> Box:
    """Coordinate-wise median of boxes."""
    return Box.from_array(np.median(np.stack([b.as_array() for b in boxes]), axis=0))


#: Smoothers over the recent detections (oldest first).
SMOOTHERS: dict[str, Callable[[Sequence[Box]], Box]] = {
    "median": median_box,
    "none": lambda boxes: boxes[-1],
}


class FaceTracker:
    """Detect every ``every_k_frames`` frames, keep the largest face, hold it on a miss, smooth.

    Call :meth:`update` once per frame with the detector's boxes on detection frames
    (``detections`` not ``None``) and ``None`` on the frames in between. It returns the box to
    crop (enlarged by ``enlarge_coef``, clipped to the frame) and whether a face is
    considered present on that frame. ``face_found`` is True from a successful detection until
    the next detection that misses; it is False on frames before the first detection and
    after a miss (the last box is held for cropping meanwhile). Frames before the first
    detection have no box: :meth:`update` returns ``None`` (the input builder then uses the
    whole frame, as the reference does when it finds no face, and searches every frame).
    ``glide``: between detections the box moves to the latest one over ``every_k_frames``
    frames instead of being held (see the module's docstring).
    """

    def __init__(
        self,
        width: int,
        height: int,
        every_k_frames: int = 30,
        enlarge_coef: float = DEFAULT_ENLARGE_COEF,
        square: bool = False,
        smooth_window: int = 3,
        smoother: str = "median",
        glide: bool = False,
    ) -> None:
        if every_k_frames < 1:
            raise ValueError(f"every_k_frames must be >= 1 (got {every_k_frames})")
        self.width, self.height = width, height
        self.every_k_frames = every_k_frames
        self.enlarge_coef = enlarge_coef
        self.square = square
        self._smooth = SMOOTHERS[smoother]
        self._recent: deque[Box] = deque(maxlen=max(smooth_window, 1))
        self._box: Box | None = None
        self._unclipped: Box | None = None
        self._found = False
        self._frame_index = 0
        self._last_face: Box | None = None
        self.glide = glide
        self._glide_from: Box | None = None
        self._glide_to: Box | None = None
        self._glide_step = 0

    @property
    def box(self) -> Box | None:
        """The current crop box (``None`` before the first face)."""
        return self._box

    @property
    def unclipped_box(self) -> Box | None:
        """The current crop box before the frame clipped it (``None`` before the first face):
        its centre and size are the smoothed face box's."""
        return self._unclipped

    @property
    def last_face(self) -> Box | None:
        """The raw face box of the last detection, ``None`` if that detection missed."""
        return self._last_face

    def wants_detection(self) -> bool:
        """True when the next frame passed to :meth:`update` should carry detections."""
        return self._frame_index % self.every_k_frames == 0

    def update(self, detections: Sequence[Box] | None) -> tuple[Box | None, bool]:
        """Advance one frame; returns ``(crop box or None, face_found)``."""
        self._frame_index += 1
        if detections is not None:
            main = largest_box(detections)
            self._last_face = main
            if main is None:
                self._found = False
            else:
                self._found = True
                self._recent.append(main)
                smoothed = self._smooth(list(self._recent))
                enlarged = smoothed.enlarge(self.enlarge_coef, square=self.square)
                if not self.glide:
                    self._set_box(enlarged)
                else:
                    self._glide_towards(enlarged)
        if self.glide and self._glide_to is not None:
            self._glide_one_frame()
        return self._box, self._found

    def _set_box(self, unclipped: Box) -> None:
        self._unclipped = unclipped
        self._box = unclipped.clip(self.width, self.height)

    def _glide_towards(self, target: Box) -> None:
        current = self._unclipped
        if current is None or _far_apart(current, target):
            self._glide_from = target
        else:
            self._glide_from = current
        self._glide_to, self._glide_step = target, 0

    def _glide_one_frame(self) -> None:
        start, target = self._glide_from, self._glide_to
        assert start is not None and target is not None
        self._glide_step = min(self._glide_step + 1, self.every_k_frames)
        a = self._glide_step / self.every_k_frames
        self._set_box(
            Box(
                start.x + a * (target.x - start.x),
                start.y + a * (target.y - start.y),
                start.w + a * (target.w - start.w),
                start.h + a * (target.h - start.h),
            )
        )


def moved_apart(a: Box, b: Box, shift: float, size_ratio: float) -> bool:
    """True when ``b``'s centre lies more than ``shift`` of ``a``'s width across or of its
    height down from ``a``'s, or their widths or heights differ by more than ``size_ratio``
    (an empty box has always moved apart)."""
    if min(a.w, a.h, b.w, b.h) <= 0:
        return True
    (ax, ay), (bx, by) = a.center, b.center
    limit = np.log(size_ratio)
    return (
        abs(bx - ax) > shift * a.w
        or abs(by - ay) > shift * a.h
        or abs(np.log(b.w / a.w)) > limit
        or abs(np.log(b.h / a.h)) > limit
    )


def _far_apart(a: Box, b: Box) -> bool:
    """True when ``b`` is too far from ``a`` to glide to (:data:`GLIDE_JUMP_FRACTION`)."""
    return moved_apart(a, b, GLIDE_JUMP_FRACTION, float(np.exp(GLIDE_JUMP_FRACTION)))
