"""The mean colour of the face's skin over time (the trace classic rPPG reads best).

Averaging the whole face crop mixes in hair, eyes, background and, on a talking face, the
mouth opening and closing: their colour changes swamp a pulse of a few tenths of a percent.
Here only skin-coloured pixels inside the face's upper region count: pixels whose chrominance
lies in the skin box of Chai & Ngan ("Face segmentation using skin-color map in videophone
applications", IEEE TCSVT 9(4), 1999: 133 ≤ Cr ≤ 173, 77 ≤ Cb ≤ 127), inside the forehead-to-
cheeks part of the face box (the mouth and chin below it are left out). Frames where too few
pixels pass (greyscale video, an unusual light) use the region's plain mean instead.

The region is given in fractions of the crop: :data:`FACE_REGIONS` says where the detected face
box sits in the crop of each crop mode, and :func:`skin_region` keeps its upper part.
"""

from __future__ import annotations

import cv2
import numpy as np

from bigsmall.video.inputs import read_stored_frames

#: Where the detected face box sits in the crop of each crop mode, as fractions of the crop
#: (x0, y0, x1, y1): ``face`` enlarges the box 1.5× about its centre; ``bp4d_framing`` is a
#: square 2.6 face widths wide centred 0.3 face widths above the face's centre
#: (:data:`bigsmall.video.framing.BP4D_FRAMING`); the other modes do not detect a face.
FACE_REGIONS: dict[str, tuple[float, float, float, float]] = {
    "face": (1 / 6, 1 / 6, 5 / 6, 5 / 6),
    "bp4d_framing": (0.8 / 2.6, 1.1 / 2.6, 1.8 / 2.6, 2.1 / 2.6),
    "bp4d": (0.0, 0.0, 1.0, 1.0),
    "full": (0.0, 0.0, 1.0, 1.0),
}
#: Part of the face box kept (fractions of the box): forehead to cheeks, no mouth or chin.
UPPER_FACE: tuple[float, float, float, float] = (0.05, 0.0, 0.95, 0.72)
#: Chrominance box of skin (Chai & Ngan 1999), (Cr low, Cr high, Cb low, Cb high).
SKIN_CR_CB: tuple[int, int, int, int] = (133, 173, 77, 127)
#: A frame with fewer skin pixels than this fraction of the region uses the region's mean.
MIN_SKIN_FRACTION: float = 0.05


def skin_region(
    crop: str, rows: tuple[float, float] = (UPPER_FACE[1], UPPER_FACE[3])
) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) fractions of the crop: the upper face of ``crop``'s face box (``rows``:
    other rows of the box, as fractions of its height, across the same width)."""
    fx0, fy0, fx1, fy1 = FACE_REGIONS[crop]
    ux0, _, ux1, _ = UPPER_FACE
    (top, bottom), width, height = rows, fx1 - fx0, fy1 - fy0
    return (fx0 + ux0 * width, fy0 + top * height, fx0 + ux1 * width, fy0 + bottom * height)


def skin_mean_rgb(patch: np.ndarray) -> np.ndarray:
    """(3,) mean RGB of the skin-coloured pixels of an (h, w, 3) uint8 patch (or its mean)."""
    ycrcb = cv2.cvtColor(patch, cv2.COLOR_RGB2YCrCb)
    cr_lo, cr_hi, cb_lo, cb_hi = SKIN_CR_CB
    mask = cv2.inRange(ycrcb, (0, cr_lo, cb_lo), (255, cr_hi, cb_hi))
    if cv2.countNonZero(mask) < MIN_SKIN_FRACTION * mask.size:
        return np.asarray(cv2.mean(patch)[:3])
    return np.asarray(cv2.mean(patch, mask=mask)[:3])


def region_slices(
    region: tuple[float, float, float, float], height: int, width: int
) -> tuple[slice, slice]:
    """(rows, cols) of an (height, width) crop covered by ``region`` ((x0, y0, x1, y1) fractions),
    at least one pixel each way."""
    x0, y0, x1, y1 = region
    left, top = round(x0 * width), round(y0 * height)
    return (
        slice(top, max(round(y1 * height), top + 1)),
        slice(left, max(round(x1 * width), left + 1)),
    )


class SkinColourTrace:
    """Mean skin RGB of each Big frame in ``region`` (a
    :class:`~bigsmall.video.inputs.FrameReader`).

    region: (x0, y0, x1, y1) fractions of the crop (e.g. :func:`skin_region`).
    """

    def __init__(self, region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)) -> None:
        self.region = region
        self.values: list[np.ndarray] = []

    def update(self, big_rgb: np.ndarray, box_xywh: object = None) -> None:
        rows, cols = region_slices(self.region, big_rgb.shape[0], big_rgb.shape[1])
        self.values.append(skin_mean_rgb(np.ascontiguousarray(big_rgb[rows, cols])))

    def result(self) -> np.ndarray:
        """(T, 3) float64 mean skin RGB (0..255)."""
        return np.asarray(self.values, np.float64).reshape(-1, 3)


def skin_rgb_trace(
    big_uint8: np.ndarray, region: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
) -> np.ndarray:
    """(T, 3) float64 mean skin RGB (0..255) of (T, h, w, 3) uint8 face crops in ``region``."""
    return read_stored_frames(big_uint8, None, {"skin": SkinColourTrace(region)})["skin"]
