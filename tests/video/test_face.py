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
from bigsmall.video.face import (
    DEFAULT_DETECTOR,
    DETECTORS,
    FALLBACK_MAX_GAP,
    FallbackDetector,
)


def test_no_face_in_flat_frame() -> None:
    assert HaarCascadeDetector().detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_registry() -> None:
    assert isinstance(create_detector("haar"), FaceDetector)
    assert DEFAULT_DETECTOR in DETECTORS
    assert isinstance(create_detector(DEFAULT_DETECTOR), FaceDetector)
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


def _darkest_face_frame(seed: int) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """A procedural head with the synthetic generator's darkest skin tone, composited."""
    import dataclasses

    from bigsmall.data.synthetic.renderer import SKIN_PALETTE, render_procedural, sample_look

    look = sample_look(np.random.default_rng(seed))
    darkest = tuple(float(v) for v in SKIN_PALETTE[-1])
    look = dataclasses.replace(look, skin_tone=1.0, skin_rgb=darkest)
    asset = render_procedural(look, 240, 320, np.random.default_rng(seed + 100))
    alpha = asset.alpha[..., None]
    rgb = asset.person * alpha + asset.background * (1.0 - alpha)
    return (np.clip(rgb, 0.0, 1.0) * 255.0).round().astype(np.uint8), asset.face_box


@pytest.mark.parametrize("equalize_retry", [True, False])
def test_darkest_skin_faces_found(equalize_retry: bool) -> None:
    seeds = range(8)
    hits = 0
    for seed in seeds:
        image, (fx, fy, fw, fh) = _darkest_face_frame(seed)
        boxes = HaarCascadeDetector(equalize_retry=equalize_retry).detect(image)
        hits += any(
            abs(b.center[0] - (fx + fw / 2)) < fw / 2 and abs(b.center[1] - (fy + fh / 2)) < fh / 2
            for b in boxes
        )
    if equalize_retry:
        assert hits == len(seeds)
    else:  # the plain cascade misses most of them: what the CLAHE retry is for
        assert hits <= len(seeds) // 2


def test_detectors_never_share_a_loaded_cascade() -> None:
    import gc

    first, second = HaarCascadeDetector(), HaarCascadeDetector()
    assert first._cascade is not second._cascade
    loaded = first._cascade
    del first
    gc.collect()
    from bigsmall.video import face

    assert any(c is loaded for c in face._FREE_CASCADES)  # handed back for reuse
    # A new detector reuses a free cascade (no second XML parse), never one in use.
    third = HaarCascadeDetector()
    assert not any(c is third._cascade for c in face._FREE_CASCADES)
    assert third._cascade is not second._cascade
    assert third.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def _cut_inside_the_face(faces_dir: Path, cut: float) -> np.ndarray:
    """single_face.jpg cropped to its face box less ``cut`` of the box on every side."""
    image = read_image(faces_dir / "single_face.jpg")
    face = HaarCascadeDetector().detect(image)[0]
    x0, y0, x1, y1 = (int(v) for v in face.to_int())
    cut_w, cut_h = int(cut * face.w), int(cut * face.h)
    return np.ascontiguousarray(image[y0 + cut_h : y1 - cut_h, x0 + cut_w : x1 - cut_w])


def test_face_filling_the_frame_is_found(faces_dir: Path) -> None:
    """A tight crop whose face touches the edges (as in face-photo datasets) is found by the
    padded retry, with its box in the crop's own coordinates."""
    tight = _cut_inside_the_face(faces_dir, 0.02)
    boxes = HaarCascadeDetector().detect(tight)
    assert len(boxes) >= 1
    box = max(boxes, key=lambda b: b.area)
    # The face is the crop: its box is about the crop's size, centred, partly outside.
    assert 0.8 * tight.shape[1] < box.w < 1.4 * tight.shape[1]
    cx, cy = box.center
    assert abs(cx - tight.shape[1] / 2) < 0.15 * tight.shape[1]
    assert abs(cy - tight.shape[0] / 2) < 0.2 * tight.shape[0]


def _tight_crop_with_a_small_face(faces_dir: Path) -> np.ndarray:
    """single_face.jpg cut inside the face, a small copy of the face pasted on its cheek."""
    import cv2

    tight = _cut_inside_the_face(faces_dir, 0.12)
    side = int(0.3 * tight.shape[1])
    top, left = tight.shape[0] // 2, int(0.05 * tight.shape[1])
    tight[top : top + side, left : left + side] = cv2.resize(tight, (side, side))
    return tight


def _is_the_whole_face(box: Box | None, frame: np.ndarray) -> bool:
    if box is None or box.w < 0.9 * frame.shape[1]:
        return False
    cx, cy = box.center
    return abs(cx - frame.shape[1] / 2) < 0.15 * frame.shape[1] and (
        abs(cy - frame.shape[0] / 2) < 0.2 * frame.shape[0]
    )


def test_a_face_inside_a_tight_crop_gives_way_to_the_face_around_it(
    faces_dir: Path, monkeypatch
) -> None:
    """On a photo cut inside the face, the cascade can find a smaller "face" (an eye, a mouth;
    here a small copy of the face pasted on the cheek) and never look for the one that fills
    the frame: a whole-frame search whose largest face is small also looks around it."""
    tight = _tight_crop_with_a_small_face(faces_dir)
    assert _is_the_whole_face(detect_largest_face(tight, HaarCascadeDetector()), tight)
    # Without the look around, the pasted copy is what the cascade reports ...
    monkeypatch.setattr(HaarCascadeDetector, "_enclosing_faces", lambda self, gray, boxes: [])
    small = detect_largest_face(tight, HaarCascadeDetector())
    assert small is not None and small.w < 0.5 * tight.shape[1]
    # ... and where the cascade finds no face around it, the CNN fallback is asked for one.
    detector = create_detector("haar+cnn")
    if not isinstance(detector, FallbackDetector):
        pytest.skip("dlib is not installed")
    assert _is_the_whole_face(detect_largest_face(tight, detector), tight)
    monkeypatch.setattr(FallbackDetector, "_around", lambda self, gray, boxes: [])
    assert not _is_the_whole_face(detect_largest_face(tight, create_detector("haar+cnn")), tight)


class _Scripted:
    """A detector that finds a face on the calls listed in ``hits`` and counts its calls."""

    def __init__(self, hits: set[int] = frozenset()) -> None:
        self.hits, self.calls, self.nears = hits, 0, []

    def detect_gray(self, gray: np.ndarray, near: Box | None = None) -> list[Box]:
        self.calls += 1
        self.nears.append(near)
        return [Box(1.0, 1.0, 10.0, 10.0)] if self.calls in self.hits else []

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        return self.detect_gray(frame_rgb[..., 0])


def test_fallback_backs_off_on_a_video_without_a_face() -> None:
    frame = np.zeros((8, 8), np.uint8)
    primary, fallback = _Scripted(), _Scripted()
    detector = FallbackDetector(primary, fallback)
    for _ in range(900):
        assert detector.detect_gray(frame) == []
    assert primary.calls == 900
    # after each miss the fallback sits out 1, 2, 4, ... 64 searches: 7 runs to reach the
    # longest gap (0+1+2+...+64 = 127 searches), then one run per 65
    assert fallback.calls == 7 + (900 - 127 + 64) // 65
    assert all(near is None for near in fallback.nears)


def test_fallback_runs_at_once_again_after_a_find() -> None:
    frame = np.zeros((8, 8), np.uint8)
    fallback = _Scripted(hits={3})
    detector = FallbackDetector(_Scripted(), fallback)
    results = [bool(detector.detect_gray(frame)) for _ in range(8)]
    # runs on searches 1, 3 (after sitting out 1) and 6 (after 2), which finds the face; that
    # resets the wait, so it runs again on search 7 (not after 4 more)
    assert results == [False] * 5 + [True, False, False]
    assert fallback.calls == 4
    # a face found on every run is searched for on every frame
    detector2 = FallbackDetector(_Scripted(), _Scripted(hits={1, 2, 3}))
    assert all(detector2.detect_gray(frame) for _ in range(3))


def test_fallback_never_searches_near_a_known_face() -> None:
    frame = np.zeros((8, 8), np.uint8)
    fallback = _Scripted(hits={1})
    detector = FallbackDetector(_Scripted(), fallback)
    assert detector.detect_gray(frame, near=Box(0.0, 0.0, 4.0, 4.0)) == []
    assert fallback.calls == 0  # the caller searches the whole frame next
    assert detector.detect_gray(frame) != [] and fallback.calls == 1
    # the primary's find is returned as it is, the fallback not asked
    found = FallbackDetector(_Scripted(hits={1}), fallback).detect_gray(frame)
    assert found == [Box(1.0, 1.0, 10.0, 10.0)] and fallback.calls == 1
    assert FALLBACK_MAX_GAP == 64


def test_default_detector_is_the_cascade_alone_without_dlib(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "dlib", None)  # `import dlib` now raises ImportError
    assert isinstance(create_detector(DEFAULT_DETECTOR), HaarCascadeDetector)
