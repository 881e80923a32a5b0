"""Big frames cut from the face box at the weights' own framing (``big_scale``)."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.video.aligned_big import BigCutter
from bigsmall.video.boxes import Box
from bigsmall.video.frame_views import RgbView
from bigsmall.video.reframe import AU_PHOTO_BIG_SCALE, BoxReframer


def _frame_with_face(face: Box, size: int = 300) -> RgbView:
    """Grey frame (60) with the face box painted white (255)."""
    frame = np.full((size, size, 3), 60, np.uint8)
    x0, y0, x1, y1 = face.to_int()
    frame[max(y0, 0) : y1, max(x0, 0) : x1] = 255
    return RgbView(frame)


def test_the_face_box_at_scale_one_fills_the_frame() -> None:
    face = Box(100.0, 80.0, 100.0, 100.0)
    reframer = BoxReframer(1.0, 144)
    assert isinstance(reframer, BigCutter)
    out = reframer.cut(_frame_with_face(face), face.enlarge(1.5))  # the face crop's box
    assert out.image.shape == (144, 144, 3) and out.image.dtype == np.uint8
    assert out.image[2:-2, 2:-2].min() == 255  # the face box, edge to edge
    assert np.isnan(out.landmarks).all()


@pytest.mark.parametrize("scale", [1.2, 1.5, 2.0])
def test_the_face_spans_one_over_scale_of_the_frame(scale: float) -> None:
    face = Box(100.0, 80.0, 100.0, 100.0)
    out = BoxReframer(scale, 144).cut(_frame_with_face(face), face.enlarge(1.5))
    face_width_px = int((out.image[72, :, 0] > 157).sum())  # white across the middle row
    assert face_width_px == pytest.approx(144 / scale, abs=2)
    assert out.image[0, 0, 0] == 60 and out.image[-1, -1, 0] == 60  # background in the corners


def test_a_box_past_the_frame_edge_is_clipped_as_the_face_crop_is() -> None:
    """The AU photos' crops were clipped by the photo: the Big frame is too (no padding)."""
    face = Box(-10.0, 100.0, 100.0, 100.0)  # the face runs off the left edge
    out = BoxReframer(AU_PHOTO_BIG_SCALE, 120).cut(_frame_with_face(face), face.enlarge(1.5))
    row = out.image[60, :, 0]
    # the Big box spans x -20..100; 0..100 is kept (then stretched to the side, as the face
    # crop stretches a clipped box): the face (0..90) fills 90 of those 100 columns
    assert (row > 157).sum() == pytest.approx(120 * 90 / 100, abs=2)
    assert row[0] == 255 and row[-1] == 60  # the face starts at the frame's edge


def test_bad_scales() -> None:
    for scale in (0.0, 0.4, 5.0, float("nan")):
        with pytest.raises(ValueError, match="big_scale must be within"):
            BoxReframer(scale, 144)
