"""Decoded frames seen through one small interface: find faces, cut RGB crops and grey regions.

For 8-bit 4:2:0 video without rotation the face is cropped straight from the decoded YUV
planes and only the crop is converted to RGB (OpenCV BT.601, as
:func:`bigsmall.video.io.frame_to_rgb`); the result equals converting the whole frame and
cropping. Detection runs on the luma plane.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

import av
import cv2
import numpy as np

from bigsmall.video.boxes import Box
from bigsmall.video.face import FaceDetector
from bigsmall.video.io import FrameBatch, VideoReader


class FrameView(Protocol):
    """A decoded frame that can find faces and hand out RGB crops."""

    width: int
    height: int

    def detect(self, detector: FaceDetector, near: Box | None) -> list[Box]: ...

    def crop(self, box: Box | None) -> np.ndarray: ...

    def gray(self, box: Box) -> np.ndarray:
        """(h, w) uint8 grey levels (0–255) inside ``box`` clipped to the frame (may be empty):
        the levels OpenCV's RGB-to-grey gives of the RGB frame, within rounding, whether the
        frame came as RGB or as YUV planes."""
        ...


class RgbView:
    """An RGB frame already in memory."""

    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb
        self.height, self.width = rgb.shape[:2]

    def detect(self, detector: FaceDetector, near: Box | None) -> list[Box]:
        detect_gray = getattr(detector, "detect_gray", None)
        if detect_gray is not None:
            return detect_gray(cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY), near)
        return detector.detect(self.rgb)

    def crop(self, box: Box | None) -> np.ndarray:
        if box is None:
            return self.rgb
        x0, y0, x1, y1 = box.clip(self.width, self.height).to_int()
        return self.rgb[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else self.rgb

    def gray(self, box: Box) -> np.ndarray:
        bounds = _inside(box, self.width, self.height)
        if bounds is None:
            return np.zeros((0, 0), np.uint8)
        x0, y0, x1, y1 = bounds
        return cv2.cvtColor(np.ascontiguousarray(self.rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)


def _inside(box: Box, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Integer ``(x0, y0, x1, y1)`` of ``box`` clipped to the frame; ``None`` when empty."""
    x0, y0, x1, y1 = box.clip(width, height).to_int()
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


#: Video-range luma (16–235) to full range (0–255), rounded.
_FULL_RANGE: np.ndarray = np.clip(np.round((np.arange(256) - 16.0) * 255.0 / 219.0), 0, 255).astype(
    np.uint8
)


def _plane(frame: av.VideoFrame, index: int, height: int, width: int) -> np.ndarray:
    plane = frame.planes[index]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:height, :width]


class I420View:
    """A yuv420p frame (even size, no rotation): crops converted to RGB on their own."""

    def __init__(self, frame: av.VideoFrame) -> None:
        self.width, self.height = frame.width, frame.height
        half_h, half_w = self.height // 2, self.width // 2
        self.y = _plane(frame, 0, self.height, self.width)
        self.u = _plane(frame, 1, half_h, half_w)
        self.v = _plane(frame, 2, half_h, half_w)

    def detect(self, detector: FaceDetector, near: Box | None) -> list[Box]:
        detect_gray = getattr(detector, "detect_gray", None)
        if detect_gray is not None:
            return detect_gray(self.y, near)
        full = np.concatenate([self.y.ravel(), self.u.ravel(), self.v.ravel()])
        rgb = cv2.cvtColor(full.reshape(-1, self.width), cv2.COLOR_YUV2RGB_I420)
        return detector.detect(rgb)

    def crop(self, box: Box | None) -> np.ndarray:
        x0, y0, x1, y1 = 0, 0, self.width, self.height
        if box is not None:
            bx0, by0, bx1, by1 = box.clip(self.width, self.height).to_int()
            if bx1 > bx0 and by1 > by0:
                x0, y0, x1, y1 = bx0, by0, bx1, by1
        # Convert the even-aligned region around the crop (chroma is per 2x2 block), then cut
        # the crop itself: identical to converting the whole frame and cropping.
        ax0, ay0 = x0 - x0 % 2, y0 - y0 % 2
        ax1, ay1 = min(x1 + x1 % 2, self.width), min(y1 + y1 % 2, self.height)
        rgb = self._convert(ax0, ay0, ax1, ay1)
        return rgb[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0]

    def gray(self, box: Box) -> np.ndarray:
        """The luma plane inside ``box`` stretched from video range (16–235) to 0–255 (the
        grey of the BT.601 RGB frame: its weights sum to 1, so grey equals luma)."""
        bounds = _inside(box, self.width, self.height)
        if bounds is None:
            return np.zeros((0, 0), np.uint8)
        x0, y0, x1, y1 = bounds
        return cv2.LUT(self.y[y0:y1, x0:x1], _FULL_RANGE)

    def _convert(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        h, w = y1 - y0, x1 - x0
        buf = np.empty(h * w * 3 // 2, np.uint8)
        quarter = (h // 2) * (w // 2)
        buf[: h * w].reshape(h, w)[:] = self.y[y0:y1, x0:x1]
        cy0, cy1, cx0, cx1 = y0 // 2, y1 // 2, x0 // 2, x1 // 2
        buf[h * w : h * w + quarter].reshape(h // 2, w // 2)[:] = self.u[cy0:cy1, cx0:cx1]
        buf[h * w + quarter :].reshape(h // 2, w // 2)[:] = self.v[cy0:cy1, cx0:cx1]
        return cv2.cvtColor(buf.reshape(h * 3 // 2, w), cv2.COLOR_YUV2RGB_I420)


def views_from_reader(reader: VideoReader) -> Iterator[tuple[FrameView, float]]:
    """(view, timestamp) per decoded frame; 8-bit 4:2:0 frames stay in YUV."""
    for frame, t_sec in reader.iter_frames():
        fast = (
            reader._rot_k == 0
            and frame.format.name == "yuv420p"
            and frame.width % 2 == 0
            and frame.height % 2 == 0
        )
        yield (I420View(frame) if fast else RgbView(reader.to_rgb(frame))), t_sec


def views_from_batches(batches: Iterable[FrameBatch]) -> Iterator[tuple[FrameView, float]]:
    """(view, timestamp) per frame of RGB batches."""
    for batch in batches:
        for frame, t_sec in zip(batch.frames, batch.timestamps_sec, strict=True):
            yield RgbView(frame), float(t_sec)
