"""Face detection on real photos (skipped without ../shared) and on a blank frame."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bigsmall.video import (
    Box,
    FaceDetector,
    HaarCascadeDetector,
    create_detector,
    detect_largest_face,
    read_image,
)


def test_no_face_in_flat_frame() -> None:
    assert HaarCascadeDetector().detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_registry() -> None:
    assert isinstance(create_detector("haar"), FaceDetector)
    with pytest.raises(ValueError, match="haar"):
        create_detector("nope")


def test_single_face_photo(faces_dir: Path) -> None:
    image = read_image(faces_dir / "single_face.jpg")
    boxes = HaarCascadeDetector().detect(image)
    assert len(boxes) == 1
    cx, cy = boxes[0].center
    # The face is near the middle of this photo and fills about 40 % of its width.
    assert 200 < cx < 360 and 200 < cy < 340
    assert 150 < boxes[0].w < 320


def test_multi_face_photo_picks_largest(faces_dir: Path) -> None:
    image = read_image(faces_dir / "multi_face.jpg")
    detector = HaarCascadeDetector()
    boxes = detector.detect(image)
    assert len(boxes) >= 3
    main = detect_largest_face(image, detector)
    assert main is not None
    assert main.area == max(b.area for b in boxes)
    assert all(main.area > 1.05 * b.area for b in boxes if b != main)
    # The woman on the right has the largest face (about 130 px in the 1000x667 photo);
    # boxes are scaled back to the full photo, not the downscaled detection frame.
    assert 110 < main.w < 160 and 690 < main.center[0] < 780


def test_tracked_redetection_finds_same_face(faces_dir: Path) -> None:
    import cv2

    gray = cv2.cvtColor(read_image(faces_dir / "single_face.jpg"), cv2.COLOR_RGB2GRAY)
    detector = HaarCascadeDetector()
    (full,) = detector.detect_gray(gray)
    (tracked,) = detector.detect_gray(gray, near=full)
    assert abs(tracked.center[0] - full.center[0]) < 0.1 * full.w
    assert 0.7 < tracked.w / full.w < 1.4
    # Searching near a place with no face finds nothing there.
    assert detector.detect_gray(gray, near=Box(0, 0, 60, 60)) == []
