"""Big frames cut from the face box at the weights' own framing (``big_scale``)."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.video.boxes import Box
from bigsmall.video.reframe import AU_PHOTO_BIG_SCALE, BoxReframer


def _region_with_face(face: Box, size: int = 300) -> np.ndarray:
    """Grey region (60) with the face box painted white (255)."""
    region = np.full((size, size, 3), 60, np.uint8)
    x0, y0, x1, y1 = face.to_int()
    region[y0:y1, x0:x1] = 255
    return region


def test_the_face_box_at_scale_one_fills_the_frame() -> None:
    face = Box(100.0, 80.0, 100.0, 100.0)
    crop_box = face.enlarge(1.5)  # what the face crop hands over
    out = BoxReframer(1.0, 144)(_region_with_face(face), crop_box)
    assert out is not None and out.image.shape == (144, 144, 3) and out.image.dtype == np.uint8
    assert out.image[2:-2, 2:-2].min() == 255  # the face box, edge to edge
    assert np.isnan(out.landmarks).all()


@pytest.mark.parametrize("scale", [1.2, 1.5, 2.0])
def test_the_face_spans_one_over_scale_of_the_frame(scale: float) -> None:
    face = Box(100.0, 80.0, 100.0, 100.0)
    out = BoxReframer(scale, 144)(_region_with_face(face), face.enlarge(1.5))
    row = out.image[72, :, 0]
    face_width_px = int((row > 157).sum())  # white pixels across the middle row
    assert face_width_px == pytest.approx(144 / scale, abs=2)
    assert out.image[0, 0, 0] == 60 and out.image[-1, -1, 0] == 60  # background in the corners


def test_a_box_past_the_region_edge_is_padded_not_squeezed() -> None:
    face = Box(0.0, 0.0, 100.0, 100.0)  # the face at the region's corner
    reframer = BoxReframer(AU_PHOTO_BIG_SCALE, 120)
    out = reframer(_region_with_face(face), face.enlarge(1.5))
    assert out.image.shape == (120, 120, 3)
    # the face keeps its share of the frame (1 / 1.2): edge pixels are repeated outside
    assert (out.image[60, :, 0] > 157).sum() >= 120 / AU_PHOTO_BIG_SCALE - 2


def test_no_box_no_frame_and_bad_scales() -> None:
    assert BoxReframer(1.2, 144)(np.zeros((10, 10, 3), np.uint8), None) is None
    for scale in (0.0, 0.4, 5.0, float("nan")):
        with pytest.raises(ValueError, match="big_scale must be within"):
            BoxReframer(scale, 144)
