"""Breathing from the shoulders: the vertical movement of the region below the face.

Inhalation lifts the shoulders and the upper chest; camera-based breathing monitors read the
upper body's motion (Bartula et al., "Camera-based system for contactless monitoring of
respiration", IEEE EMBC 2013; Shao et al., "Noncontact monitoring breathing pattern, exhalation
flow rate and pulse transit time", IEEE TBME 2014, from the shoulders' outline). A talking head
nods at the rates people breathe, which buries the breathing in the face's own motion
(:mod:`bigsmall.predict.motion`); the region below the chin moves with speech too, but is a
second, partly independent view of the rise.

The region is fixed in the frame below the face (:func:`shoulders_region`) and moved only when
the face has moved far (:data:`REPLACE_SHIFT_FACES`, :data:`REPLACE_SIZE_RATIO`); its pose is
followed as the face's is (:class:`bigsmall.predict.motion.HeadPoseTracker`: corner points,
Lucas–Kanade flow, a similarity fitted by least median of squares, in frame pixels), on a grey
copy :data:`READ_WIDTH_PX` wide. The rise (frame pixels, up positive) is a breathing estimate
read after the face's (docs/real-faces.md: on generated talking faces it gives a rate where the
face's motion gives none). Frames cannot show shoulders that are out of the picture: a face at
the bottom of the frame gives no region and no estimate.
"""

from __future__ import annotations

import cv2
import numpy as np

from bigsmall.predict.motion import POSE_COLUMNS, POSE_STRIDE_FRAMES, HeadPoseTracker
from bigsmall.video.boxes import Box, moved_apart
from bigsmall.video.frame_views import FrameView

#: The region below the face, in face-box heights from the box's top (the detector's box ends
#: about the mouth; 1.15 heights is below the chin) and its depth, and its reach beyond each side
#: of the face box, in face widths.
TOP_FACE_HEIGHTS: float = 1.15
DEPTH_FACE_HEIGHTS: float = 2.0
SIDE_FACE_WIDTHS: float = 0.4
#: Smallest region read (frame pixels, each side): fewer rows hold no shoulder.
MIN_REGION_PX: int = 16
#: The grey copy's width (pixels; the height follows the region's shape).
READ_WIDTH_PX: int = 144
#: The region is placed anew when the face's centre has moved this many face widths (across)
#: or heights (down), or its size changed by this ratio, since the face it was placed under, or
#: when a new region would be taller than the current one by this ratio.
REPLACE_SHIFT_FACES: float = 0.5
REPLACE_SIZE_RATIO: float = 1.3


def shoulders_region(face: Box, width: int, height: int) -> Box | None:
    """The region below ``face`` (frame pixels) clipped to a ``width`` × ``height`` frame;
    ``None`` where less than :data:`MIN_REGION_PX` of it is in the frame."""
    top = face.y + TOP_FACE_HEIGHTS * face.h
    region = Box(
        face.x - SIDE_FACE_WIDTHS * face.w,
        top,
        face.w * (1.0 + 2.0 * SIDE_FACE_WIDTHS),
        DEPTH_FACE_HEIGHTS * face.h,
    ).clip(width, height)
    return region if min(region.w, region.h) >= MIN_REGION_PX else None


class ShouldersTracker:
    """Feed one decoded frame and the last detected face at a time; each update returns the
    region's pose (:data:`bigsmall.predict.motion.POSE_COLUMNS`, (3,) float64; zeros until a
    region is found), measured on one frame in :data:`POSE_STRIDE_FRAMES`."""

    def __init__(self, stride: int = POSE_STRIDE_FRAMES) -> None:
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.stride = stride
        self.count = 0
        self.face: Box | None = None  # the face the region was placed under
        self.seen: Box | None = None  # the last face handed over
        self.region: Box | None = None
        self.tracker = HeadPoseTracker()  # measured directly: the stride is kept here

    def update(self, view: FrameView, face: Box | None) -> np.ndarray:
        if face is not None and face is not self.seen and face.w > 0 and face.h > 0:
            self.seen = face  # the same detection is handed over until the next one
            self._place(face, view.width, view.height)
        if self.region is not None and self.count % self.stride == 0:
            gray = view.gray(self.region)
            if gray.size:
                rows = max(round(gray.shape[0] * READ_WIDTH_PX / gray.shape[1]), 1)
                small = cv2.resize(gray, (READ_WIDTH_PX, rows), interpolation=cv2.INTER_AREA)
                self.tracker.measure(small, self.region.as_array())
        self.count += 1
        return self.tracker.pose.copy()

    def _place(self, face: Box, width: int, height: int) -> None:
        """Place the region under ``face`` where there is none yet, where the face moved far
        from the one it was placed under, or where the new one has more room below it (a face
        first seen low in the frame, then higher)."""
        candidate = shoulders_region(face, width, height)
        placed, current = self.face, self.region
        if (
            placed is None
            or current is None
            or moved_apart(placed, face, REPLACE_SHIFT_FACES, REPLACE_SIZE_RATIO)
            or (candidate is not None and candidate.h > REPLACE_SIZE_RATIO * current.h)
        ):
            self.face, self.region = face, candidate


class ShouldersTrace:
    """The shoulders' pose at every decoded frame (a
    :class:`~bigsmall.video.inputs.ViewReader`)."""

    def __init__(self) -> None:
        self.tracker = ShouldersTracker()
        self.poses: list[np.ndarray] = []

    def update(self, view: FrameView, face: Box | None) -> None:
        self.poses.append(self.tracker.update(view, face))

    def result(self) -> np.ndarray:
        """(T, 3) pose per frame (:data:`POSE_COLUMNS`), zeros before the first region."""
        return np.asarray(self.poses, np.float64).reshape(-1, len(POSE_COLUMNS))
