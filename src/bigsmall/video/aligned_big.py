"""Landmark-aligned Big frames (the † inputs of BigSmall's Table 2 and all of Table 4).

Narayanswamy et al., BigSmall, WACV 2024: "the Big branch input is landmark face aligned and
cropped" following JAA-Net (Shao et al., ECCV 2018) and JÂA-Net (Shao et al., IJCV 2021). The
Small branch keeps its steady face crop (its pulse and breathing signals live in tiny
frame-to-frame changes that a per-frame warp would disturb), so the aligned frames are an
extra stream next to the usual inputs, computed only for the frames the network reads: one
in ``stride`` (BigSmall's Big branch sees the first frame of every window of N).

A frame whose landmarks cannot be found keeps a plain resize of its face crop in the stream
(so every window still has a Big frame) and NaN landmarks; :attr:`AlignedBig.found` counts
them. Standardization statistics are those of the aligned frames over the whole clip, as the
paper's "Standardized" Big input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import cv2
import numpy as np

from bigsmall.video.boxes import Box
from bigsmall.video.normalize import unit_levels
from bigsmall.video.sinks import BigFrameSink, MemoryBigSink

#: Region around the tracked face crop searched for landmarks, in crop widths.
ALIGN_REGION_SCALE: float = 2.0
#: Landmarks per aligned frame (the JAA-Net inner 49 of :mod:`bigsmall.video.align`).
N_LANDMARKS: int = 49


class AlignedFaceLike(Protocol):
    """What an aligner returns (:class:`bigsmall.video.align.AlignedFace`)."""

    image: np.ndarray
    landmarks: np.ndarray


#: (RGB region (H, W, 3) uint8, face box in the region or None) → aligned face or None.
Aligner = Callable[[np.ndarray, Box | None], AlignedFaceLike | None]


@runtime_checkable
class BigCutter(Protocol):
    """Instead of an :data:`Aligner`: cuts the Big frame from the frame ``view`` (a
    :class:`bigsmall.video.frame_views.FrameView`) or the crop already made of it
    (:class:`bigsmall.video.reframe.BoxReframer`). ``crop_rgb`` (h, w, 3) uint8 is the frame
    cut at ``crop_box`` (clipped to the frame), ``unclipped_box`` the crop box before clipping
    (frame pixels)."""

    def cut(
        self, view: Any, crop_rgb: np.ndarray, crop_box: Box, unclipped_box: Box
    ) -> AlignedFaceLike: ...


@dataclass
class AlignedBig:
    """Aligned Big frames of one clip.

    frames: (T_a, S, S, 3) uint8, frame ``i * stride`` of the clip each.
    stride: clip frames per aligned frame (N with Big temporal downsampling, else 1).
    mean, std: statistics of clip(frames / 255, 1/255, 1) over the clip (Standardized input).
    landmarks: (T_a, L, 2) float32 landmark (x, y) as fractions of the side S; NaN where none
        were found.
    found: (T_a,) bool, landmarks found (the frame is aligned; else a plain crop).
    """

    frames: np.ndarray
    stride: int
    mean: float
    std: float
    landmarks: np.ndarray
    found: np.ndarray

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def index_of(self, frame: int) -> int:
        """Index of the aligned frame serving clip frame ``frame`` (the latest at or before it)."""
        return min(frame // self.stride, len(self) - 1)


def align_region(crop_box: Box, face_hint: bool) -> tuple[Box, Box | None]:
    """The frame region to search for landmarks and the face box inside it (region pixels).

    ``face_hint``: ``crop_box`` is a tracked face box enlarged about its centre (crop mode
    ``face``); the region is then :data:`ALIGN_REGION_SCALE` times larger (the aligned image
    frames more than the face box) and the hint is the crop box itself. Other crops (a whole
    BP4D+ square, a framing) are searched as they are, without a hint.
    """
    if not face_hint:
        return crop_box, None
    region = crop_box.enlarge(ALIGN_REGION_SCALE)
    return region, Box(crop_box.x - region.x, crop_box.y - region.y, crop_box.w, crop_box.h)


class AlignedBigBuilder:
    """Collects aligned frames (in clip order) and their running statistics.

    sink: where the frames go as they are added (a :class:`bigsmall.video.sinks.FileBigSink`
    keeps memory flat in video length, as the main Big stream's); RAM by default.
    """

    def __init__(
        self,
        side: int,
        stride: int,
        n_landmarks: int = N_LANDMARKS,
        sink: BigFrameSink | None = None,
    ) -> None:
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride}")
        self.side, self.stride, self.n_landmarks = side, stride, n_landmarks
        self._sink: BigFrameSink = MemoryBigSink() if sink is None else sink
        self._count = 0
        self._landmarks: list[np.ndarray] = []
        self._found: list[bool] = []
        self._lut = unit_levels()
        self._sum = self._sumsq = 0.0

    def add(self, aligned: AlignedFaceLike | None, fallback_crop: np.ndarray) -> None:
        """Add the next aligned frame, or (no landmarks) a resize of ``fallback_crop``."""
        if aligned is not None:
            image = np.ascontiguousarray(aligned.image, np.uint8)
            if image.shape != (self.side, self.side, 3):
                raise ValueError(f"aligned image {image.shape}, expected side {self.side}")
            points = np.asarray(aligned.landmarks, np.float32) / np.float32(self.side)
        else:
            image = cv2.resize(fallback_crop, (self.side, self.side), interpolation=cv2.INTER_AREA)
            points = np.full((self.n_landmarks, 2), np.nan, np.float32)
        x = cv2.LUT(image, self._lut)
        self._sum += float(np.sum(x, dtype=np.float64))
        self._sumsq += float(cv2.norm(x, cv2.NORM_L2SQR))
        self._sink.write(image[None])
        self._count += 1
        self._landmarks.append(points)
        self._found.append(aligned is not None)

    def result(self) -> AlignedBig:
        if not self._count:
            raise ValueError("no aligned frames")
        count = self._count * self.side * self.side * 3
        mean = self._sum / count
        std = float(np.sqrt(max(self._sumsq / count - mean * mean, 0.0)))
        return AlignedBig(
            frames=self._sink.finish(),
            stride=self.stride,
            mean=mean,
            std=std,
            landmarks=np.stack(self._landmarks),
            found=np.asarray(self._found, bool),
        )
