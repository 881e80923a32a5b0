"""Motion-based breathing: the vertical movement of the face over time.

Breathing moves the head and shoulders up and down (inhalation lifts them); over a still
sitter this is the strongest breathing cue a face video carries, and camera-based breathing
monitors have long read it from the motion of the upper body (e.g. Bartula et al., "Camera-based
system for contactless monitoring of respiration", IEEE EMBC 2013). A head that sways, rolls or
leans towards the camera moves too, at the same slow rates.

The face's pose is measured, not only its height: corner points (Shi & Tomasi, "Good features
to track", CVPR 1994) inside the face are followed from a key frame by pyramidal Lucas–Kanade
optical flow (Lucas & Kanade, IJCAI 1981; Bouguet's pyramidal form), and a similarity transform
(shift, rotation, scale) is fitted to them by least median of squares (Rousseeuw, JASA 1984),
in frame pixels (each crop's points mapped through its own box, so that the tracker's box
re-detections cancel out). The breathing trace is the rise of the face centre under that
transform (frame pixels, up positive, as the synthetic ``resp`` label); the rotation and the
log scale come with it. Fitted to points, the rise keeps apart what phase correlation of the
crop's centre (the previous reading) mixed in when the head rolled or changed size
(docs/real-faces.md: right within 2 /min on 18 of 25 held-out real-face videos against 13).
The result is labelled "motion-based" wherever it is reported because it is not a network
output.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from bigsmall.video.boxes import Box, moved_apart
from bigsmall.video.inputs import read_stored_frames

#: The pose is measured on one frame in this many (breathing is slower than 1 Hz); the frames
#: between keep the last pose.
POSE_STRIDE_FRAMES: int = 3
#: Fraction of the crop cut from each side before looking for points: the enlarged box's
#: margins hold mostly background, which does not move with the face.
MARGIN_FRACTION: float = 0.15
#: Corner points followed in the face (at most), their quality (relative to the strongest
#: corner) and spacing (crop pixels).
POSE_POINTS: int = 24
POINT_QUALITY: float = 0.01
POINT_SPACING_PX: float = 4.0
#: Lucas–Kanade window (crop pixels) and pyramid levels.
FLOW_WINDOW_PX: int = 11
FLOW_LEVELS: int = 2
#: A new key frame is taken when fewer points than this (or than half the key's) are followed,
#: or after this many measured frames.
MIN_POINTS: int = 8
KEY_INTERVAL_MEASURES: int = 300
#: A box that changes this much between two measured frames has jumped (a detection taken at
#: once: another face, a false one, a partial one): size ratio, and centre shift in box widths
#: across or heights down (:func:`bigsmall.video.boxes.moved_apart`).
#: The crops before and after show different things, so a new key is taken instead of
#: following points between them (followed across, wrong matches step the pose: a 2-s jump to
#: the whole frame read as a 70-px rise on a tight photo, then as breathing).
BOX_JUMP_SIZE_RATIO: float = 1.2
BOX_JUMP_SHIFT_FRACTION: float = 0.2
#: Columns of a pose row, and the one breathing is read from.
POSE_COLUMNS: tuple[str, ...] = ("rise_px", "rotation_rad", "log_scale")
RISE: int = 0


def _to_frame(points: np.ndarray, box: Sequence[float], crop_hw: tuple[int, int]) -> np.ndarray:
    """(N, 1, 2) crop pixels → (N, 2) frame pixels through the crop box ``[x, y, w, h]``."""
    height, width = crop_hw
    scale = np.array([box[2] / width, box[3] / height], np.float64)
    return np.asarray(box[:2], np.float64) + points.reshape(-1, 2).astype(np.float64) * scale


class HeadPoseTracker:
    """Feed one (h, w, 3) uint8 face crop and its box ``[x, y, w, h]`` at a time; each update
    returns the face's pose (:data:`POSE_COLUMNS`) relative to the first frame, (3,) float64."""

    def __init__(self, stride: int = POSE_STRIDE_FRAMES) -> None:
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.stride = stride
        self.count = 0
        self.pose = np.zeros(3)
        self.key_gray: np.ndarray | None = None
        self.key_points: np.ndarray | None = None
        self.key_box: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0)
        self.key_pose = np.zeros(3)
        self.key_age = 0
        self.last_box: tuple[float, ...] | None = None

    def update(self, crop_rgb: np.ndarray, box_xywh: Sequence[float]) -> np.ndarray:
        if self.count % self.stride == 0:
            self.measure(cv2.cvtColor(np.ascontiguousarray(crop_rgb), cv2.COLOR_RGB2GRAY), box_xywh)
        self.count += 1
        return self.pose.copy()

    def measure(self, gray: np.ndarray, box_xywh: Sequence[float]) -> np.ndarray:
        """Measure the pose on this (h, w) uint8 grey crop now, whatever the stride (for a
        caller that keeps its own); returns it, as :meth:`update` does."""
        self._measure(gray, tuple(float(v) for v in box_xywh))
        return self.pose.copy()

    def _new_key(self, gray: np.ndarray, box: tuple[float, ...]) -> None:
        height, width = gray.shape
        top, left = round(height * MARGIN_FRACTION), round(width * MARGIN_FRACTION)
        mask = np.zeros_like(gray)
        mask[top : height - top, left : width - left] = 255
        points = cv2.goodFeaturesToTrack(
            gray, POSE_POINTS, POINT_QUALITY, POINT_SPACING_PX, mask=mask
        )
        enough = points is not None and len(points) >= MIN_POINTS
        self.key_gray = gray if enough else None
        self.key_points = points if enough else None
        self.key_box, self.key_pose, self.key_age = box, self.pose.copy(), 0

    def _measure(self, gray: np.ndarray, box: tuple[float, ...]) -> None:
        jumped = self.last_box is not None and moved_apart(
            Box(*self.last_box), Box(*box), BOX_JUMP_SHIFT_FRACTION, BOX_JUMP_SIZE_RATIO
        )
        self.last_box = box
        if (
            jumped
            or self.key_gray is None
            or self.key_points is None
            or gray.shape != self.key_gray.shape
        ):
            self._new_key(gray, box)
            return
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            self.key_gray,
            gray,
            self.key_points,
            None,
            winSize=(FLOW_WINDOW_PX, FLOW_WINDOW_PX),
            maxLevel=FLOW_LEVELS,
        )
        ok = status.ravel() == 1
        if ok.sum() < max(MIN_POINTS, len(self.key_points) // 2):
            self._new_key(gray, box)  # the face turned away or changed: start again from here
            return
        src = _to_frame(self.key_points[ok], self.key_box, gray.shape)
        dst = _to_frame(moved[ok], box, gray.shape)
        fit, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
        if fit is None:
            self._new_key(gray, box)
            return
        x, y, w, h = self.key_box
        centre = np.array([x + w / 2.0, y + h / 2.0])
        rise = -float((fit[:, :2] @ centre + fit[:, 2] - centre)[1])
        rotation = float(np.arctan2(fit[1, 0], fit[0, 0]))
        log_scale = float(np.log(max(np.hypot(fit[0, 0], fit[1, 0]), 1e-6)))
        self.pose = self.key_pose + np.array([rise, rotation, log_scale])
        self.key_age += 1
        if self.key_age >= KEY_INTERVAL_MEASURES:
            self._new_key(gray, box)


class HeadPoseTrace:
    """The face's pose at every Big frame (a :class:`~bigsmall.video.inputs.FrameReader`)."""

    def __init__(self) -> None:
        self.tracker = HeadPoseTracker()
        self.poses: list[np.ndarray] = []

    def update(self, big_rgb: np.ndarray, box_xywh: Sequence[float]) -> None:
        self.poses.append(self.tracker.update(big_rgb, box_xywh))

    def result(self) -> np.ndarray:
        """(T, 3) pose per frame (:data:`POSE_COLUMNS`), starting at 0."""
        return np.asarray(self.poses, np.float64).reshape(-1, 3)


def head_pose(big_uint8: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(T, 3) face pose per frame (:data:`POSE_COLUMNS`).

    big_uint8: (T, h, w, 3) uint8 face crops (e.g. :attr:`BigSmallInputs.big_uint8`).
    boxes: (T, 4) crop boxes ``[x, y, w, h]`` in frame pixels.
    """
    return read_stored_frames(big_uint8, boxes, {"motion": HeadPoseTrace()})["motion"]
