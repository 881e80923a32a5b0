"""The MMOD CNN face detector: tight crops the cascade misses (skipped without dlib/../shared)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bigsmall.video import Box, HaarCascadeDetector, read_image
from bigsmall.video.face_cnn import HAAR_FROM_MMOD, MmodFaceDetector

pytest.importorskip("dlib")


def test_mmod_boxes_move_and_scale_to_the_cascades() -> None:
    dx, dy, scale = HAAR_FROM_MMOD.dx, HAAR_FROM_MMOD.dy, HAAR_FROM_MMOD.scale
    box = HAAR_FROM_MMOD.apply(Box(100.0, 200.0, 50.0, 50.0))
    assert box.center == pytest.approx((125.0 + dx * 50.0, 225.0 + dy * 50.0))
    assert (box.w, box.h) == pytest.approx((50.0 * scale, 50.0 * scale))
    # the cascade's box of a face is larger and sits higher than the network's
    assert scale > 1.0 and dy < 0.0


def test_no_face_in_flat_frame() -> None:
    assert MmodFaceDetector().detect(np.full((240, 320, 3), 128, np.uint8)) == []


def _tight(image: np.ndarray, face: Box, angle_deg: float) -> tuple[np.ndarray, Box]:
    """The face of ``image`` turned by ``angle_deg`` about its centre and cut to its box's
    width with a quarter of its forehead and a fifth of its chin off; the face's box there."""
    cx, cy = face.center
    turn = cv2.getRotationMatrix2D((cx, cy), angle_deg, 1.0)
    turned = cv2.warpAffine(image, turn, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    x0, y0, x1, y1 = face.to_int()
    top = y0 + int(0.25 * face.h)
    crop = np.ascontiguousarray(turned[top : y1 - int(0.2 * face.h), x0:x1])
    return crop, Box(face.x - x0, face.y - top, face.w, face.h)


@pytest.mark.parametrize("angle_deg", [0.0, 20.0])
def test_tight_turned_face_the_cascade_misses(faces_dir: Path, angle_deg: float) -> None:
    image = read_image(faces_dir / "single_face.jpg")
    (face,) = HaarCascadeDetector().detect(image)
    crop, truth = _tight(image, face, angle_deg)
    assert HaarCascadeDetector().detect(crop) == []  # plain, CLAHE and padded passes all miss
    (found,) = MmodFaceDetector().detect(crop)
    # mapped to the cascade's geometry: the box the cascade drew on the whole photo
    assert abs(found.center[0] - truth.center[0]) < 0.1 * truth.w
    assert abs(found.center[1] - truth.center[1]) < 0.15 * truth.h
    assert 0.75 < found.w / truth.w < 1.25


def test_no_face_video_frames(faces_dir: Path) -> None:
    from bigsmall.video.io import read_all

    frames = read_all(faces_dir / "no_face.mp4").frames[::15]
    detector = MmodFaceDetector()
    assert len(frames) >= 5
    assert sum(bool(detector.detect(f)) for f in frames) == 0
