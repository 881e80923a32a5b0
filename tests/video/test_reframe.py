"""Big frames cut from the face box at the weights' own framing (``big_scale``)."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.video.aligned_big import BigCutter
from bigsmall.video.boxes import Box
from bigsmall.video.frame_views import RgbView
from bigsmall.video.reframe import AU_PHOTO_BIG_SCALE, BoxReframer


def _cut(reframer: BoxReframer, face: Box, size: int = 300) -> object:
    """The reframer's cut of a grey frame (60) with the face box painted white (255), out of
    the ``face`` crop (the face box enlarged 1.5×, clipped to the frame) as inputs make it."""
    frame = np.full((size, size, 3), 60, np.uint8)
    x0, y0, x1, y1 = face.to_int()
    frame[max(y0, 0) : y1, max(x0, 0) : x1] = 255
    unclipped = face.enlarge(1.5)
    crop_box = unclipped.clip(size, size)
    view = RgbView(frame)
    return reframer.cut(view, view.crop(crop_box), crop_box, unclipped)


def test_the_face_box_at_scale_one_fills_the_frame() -> None:
    face = Box(100.0, 80.0, 100.0, 100.0)
    reframer = BoxReframer(1.0, 144)
    assert isinstance(reframer, BigCutter)
    out = _cut(reframer, face)
    assert out.image.shape == (144, 144, 3) and out.image.dtype == np.uint8
    assert out.image[2:-2, 2:-2].min() == 255  # the face box, edge to edge
    assert np.isnan(out.landmarks).all()


@pytest.mark.parametrize("scale", [1.2, 1.5, 2.0])
def test_the_face_spans_one_over_scale_of_the_frame(scale: float) -> None:
    face = Box(100.0, 80.0, 100.0, 100.0)
    out = _cut(BoxReframer(scale, 144), face)
    face_width_px = int((out.image[72, :, 0] > 157).sum())  # white across the middle row
    assert face_width_px == pytest.approx(144 / scale, abs=2)
    assert out.image[0, 0, 0] == 60 and out.image[-1, -1, 0] == 60  # background in the corners


def test_a_box_past_the_frame_edge_is_clipped_as_the_face_crop_is() -> None:
    """The AU photos' crops were clipped by the photo: the Big frame is too (no padding)."""
    face = Box(-10.0, 100.0, 100.0, 100.0)  # the face runs off the left edge
    out = _cut(BoxReframer(AU_PHOTO_BIG_SCALE, 120), face)
    row = out.image[60, :, 0]
    # the Big box spans x -20..100; 0..100 is kept (then stretched to the side, as the face
    # crop stretches a clipped box): the face (0..90) fills 90 of those 100 columns
    assert (row > 157).sum() == pytest.approx(120 * 90 / 100, abs=2)
    assert row[0] == 255 and row[-1] == 60  # the face starts at the frame's edge


def test_bad_scales() -> None:
    for scale in (0.0, 0.4, 5.0, float("nan")):
        with pytest.raises(ValueError, match="big_scale must be within"):
            BoxReframer(scale, 144)


@pytest.mark.parametrize("x", [-30.0, 0.3, 57.6, 230.0])
def test_the_cut_out_of_the_crop_equals_the_cut_out_of_the_frame(x: float) -> None:
    """Inside the crop box the Big frame is cut out of the crop already made: the very pixels
    the frame's own crop of the Big box gives (faces at either edge and in between)."""
    import cv2

    rng = np.random.default_rng(0)
    view = RgbView(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    unclipped = Box(x, 41.7, 93.3, 93.3).enlarge(1.5)
    crop_box = unclipped.clip(view.width, view.height)
    reframer = BoxReframer(AU_PHOTO_BIG_SCALE, 144)
    out = reframer.cut(view, view.crop(crop_box), crop_box, unclipped)
    expected = cv2.resize(
        view.crop(reframer.box(unclipped)), (144, 144), interpolation=cv2.INTER_AREA
    )
    np.testing.assert_array_equal(out.image, expected)
