"""Cropping and resizing frames (area interpolation, as BigSmall's reference pipeline).

Narayanswamy et al., BigSmall, WACV 2024: frames are resized to 144x144 with area
interpolation after a face crop; on BP4D+ each portrait frame is cut to its bottom W x W square.
"""

from __future__ import annotations

import cv2
import numpy as np

from bigsmall.video.boxes import Box

#: BigSmall's Big input size (height, width).
BIG_SIZE_HW: tuple[int, int] = (144, 144)


def crop_resize(
    frame: np.ndarray,
    box: Box | None,
    size_hw: tuple[int, int] = BIG_SIZE_HW,
    interpolation: int = cv2.INTER_AREA,
) -> np.ndarray:
    """Crop ``frame`` (H, W, C) to ``box`` (whole frame if ``None``), resize to ``size_hw``.

    Returns (size_h, size_w, C) of the frame's dtype. An empty box falls back to the frame.
    """
    if box is not None:
        x0, y0, x1, y1 = box.clip(frame.shape[1], frame.shape[0]).to_int()
        if x1 > x0 and y1 > y0:
            frame = frame[y0:y1, x0:x1]
    height, width = size_hw
    return cv2.resize(frame, (width, height), interpolation=interpolation)


def crop_resize_frames(
    frames: np.ndarray,
    boxes: list[Box | None] | None,
    size_hw: tuple[int, int] = BIG_SIZE_HW,
    interpolation: int = cv2.INTER_AREA,
) -> np.ndarray:
    """:func:`crop_resize` over (T, H, W, C) frames with one box per frame -> (T, h, w, C)."""
    out = np.empty((frames.shape[0], *size_hw, frames.shape[-1]), dtype=frames.dtype)
    for i, frame in enumerate(frames):
        out[i] = crop_resize(frame, None if boxes is None else boxes[i], size_hw, interpolation)
    return out


def bp4d_square_box(width: int, height: int) -> Box:
    """The reference's BP4D+ framing: the bottom W x W square of a portrait frame (rows H-W..H).

    Landscape or square frames are returned whole.
    """
    if height > width:
        return Box(0.0, float(height - width), float(width), float(width))
    return Box(0.0, 0.0, float(width), float(height))


def bp4d_square_crop(frame: np.ndarray) -> np.ndarray:
    """The bottom W x W square of a portrait (H > W) frame; other frames unchanged (a view)."""
    height, width = frame.shape[:2]
    return frame[height - width :] if height > width else frame
