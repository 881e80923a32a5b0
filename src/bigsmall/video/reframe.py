"""Big frames cut at the framing the Big branch was trained on, beside the Small branch's crop.

BigSmall (Narayanswamy et al., WACV 2024) reads AUs from the Big branch's view of the face and
the pulse from the Small branch's frame differences; both come from one face crop in the paper.
Weights may have learned the two from different framings: the default weights' AU head learned
from tight face photos, where the face box enlarged 1.5× about its centre and clipped to the
photo leaves a crop about 1.2 face widths wide, while their pulse and breathing heads learned
from videos cut at 1.5 face widths. On a video or photo with background around the face the
1.5× crop then frames the face looser than the AU head ever saw, and smiles read far lower
(docs/real-faces.md). Such weights record ``big_scale`` (the Big frame's side in face-box
widths); the Small branch keeps the crop, and the Big frames the network reads (one in N) are
cut from the tracked face box at ``big_scale`` — clipped at the frame's edge and area-resized,
exactly as the ``face`` crop is cut, out of that crop when the Big box lies inside the crop box
(no frame region converted twice) — into the same extra stream as landmark-aligned Big frames
(:mod:`bigsmall.video.aligned_big`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from bigsmall.constants import BIG_SCALE_RANGE
from bigsmall.video.aligned_big import N_LANDMARKS
from bigsmall.video.boxes import DEFAULT_ENLARGE_COEF, Box
from bigsmall.video.frame_views import FrameView

#: Big frame side of the default weights' AU training photos, in face-box widths: the
#: ``face`` crop of those tight photos spans 1.19 face widths (median over 400 training
#: photos; quartiles 1.15 and 1.22).
AU_PHOTO_BIG_SCALE: float = 1.2


@dataclass(frozen=True)
class ReframedFace:
    """A Big frame cut from the face box (no landmarks: ``landmarks`` all NaN)."""

    image: np.ndarray
    landmarks: np.ndarray


class BoxReframer:
    """A :class:`bigsmall.video.aligned_big.BigCutter`: the ``face`` crop's box before clipping
    (the tracked face box enlarged ``crop_enlarge``×) scaled to ``scale`` face widths about its
    centre, clipped to the frame as the crop is, cut out of the crop and area-resized to
    ``side``² (uint8)."""

    def __init__(self, scale: float, side: int, crop_enlarge: float = DEFAULT_ENLARGE_COEF) -> None:
        low, high = BIG_SCALE_RANGE
        if not low <= scale <= high:
            raise ValueError(f"big_scale must be within {low}..{high}, got {scale}")
        if side < 1:
            raise ValueError(f"side must be >= 1, got {side}")
        self.scale, self.side, self.crop_enlarge = float(scale), int(side), float(crop_enlarge)

    def box(self, crop_box: Box) -> Box:
        """The Big frame's box for the crop box ``crop_box`` (same coordinates)."""
        return crop_box.enlarge(self.scale / self.crop_enlarge)

    def cut(
        self, view: FrameView, crop_rgb: np.ndarray, crop_box: Box, unclipped_box: Box
    ) -> ReframedFace:
        big_box = self.box(unclipped_box)
        if self.scale > self.crop_enlarge:  # larger than the crop: from the frame itself
            region = view.crop(big_box)
        else:
            # inside the crop box: crop pixel (0, 0) is frame pixel (cx0, cy0), as the frame's
            # crop() rounds the box; the Big box, rounded the same way, clipped to what was cut
            cx0, cy0, _, _ = crop_box.to_int()
            x0, y0, x1, y1 = big_box.to_int()
            height, width = crop_rgb.shape[:2]
            x0, x1 = min(max(x0 - cx0, 0), width), min(max(x1 - cx0, 0), width)
            y0, y1 = min(max(y0 - cy0, 0), height), min(max(y1 - cy0, 0), height)
            region = crop_rgb[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else crop_rgb
        image = cv2.resize(region, (self.side, self.side), interpolation=cv2.INTER_AREA)
        return ReframedFace(image, np.full((N_LANDMARKS, 2), np.nan, np.float32))
