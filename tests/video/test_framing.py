"""BP4D+-like face framing: geometry, padded crops, perturbations, and the real-face check."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bigsmall.video.boxes import Box
from bigsmall.video.framing import (
    BP4D_FRAMING,
    FRAMINGS,
    Framing,
    crop_framed,
    crop_framed_frames,
    crop_square_padded,
    framing_box,
    nearby_framings,
)


def test_framing_box_geometry() -> None:
    face = Box(100.0, 100.0, 50.0, 50.0)
    box = framing_box(face, Framing(scale=2.0, dx=0.2, dy=-0.4))
    assert (box.x, box.y, box.w, box.h) == pytest.approx((85.0, 55.0, 100.0, 100.0))
    assert framing_box(face, FRAMINGS["toolbox"]) == face.enlarge(1.5)


def test_crop_inside_matches_slice_and_pads_outside() -> None:
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
    inside = crop_square_padded(frame, Box(10.0, 5.0, 40.0, 40.0), (20, 20))
    want = cv2.resize(frame[5:45, 10:50], (20, 20), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(inside, want)
    # half the box above the frame: top rows replicate the first row, scale is kept
    out = crop_square_padded(frame, Box(0.0, -20.0, 40.0, 40.0), (40, 40))
    assert out.shape == (40, 40, 3)
    np.testing.assert_array_equal(out[:20], np.broadcast_to(frame[0, :40], (20, 40, 3)))
    np.testing.assert_array_equal(out[20:], frame[:20, :40])


def test_nearby_framings() -> None:
    near = nearby_framings(Framing(2.0, 0.0, -0.4), rel_scales=(-0.1, 0.0, 0.1), shifts=(0.05,))
    assert near[0] == Framing(2.0, 0.0, -0.4)
    assert [f.scale for f in near[1:3]] == pytest.approx([1.8, 2.2])
    assert near[3] == Framing(2.0, 0.1, -0.4)
    assert near[4].dy == pytest.approx(-0.3)
    assert len(nearby_framings()) == 1 + 4 + 2 * 4


def test_frames_need_one_box_each() -> None:
    frames = np.zeros((2, 30, 30, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="2 frames but 1"):
        crop_framed_frames(frames, [Box(0, 0, 10, 10)])


def test_bp4d_framing_on_real_face(faces_dir: Path) -> None:
    from bigsmall.video.face import detect_largest_face

    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "single_face.jpg")), cv2.COLOR_BGR2RGB)
    face = detect_largest_face(rgb)
    assert face is not None
    crop = crop_framed(rgb, face, BP4D_FRAMING)
    assert crop.shape == (144, 144, 3) and crop.dtype == np.uint8
    box = framing_box(face, BP4D_FRAMING)
    # the face box sits in the lower half of the square and spans 1/scale of its width
    assert face.center[1] - box.y > box.h / 2
    assert face.w / box.w == pytest.approx(1 / BP4D_FRAMING.scale)


def test_bp4d_framing_mode_matches_crop_framed(faces_dir) -> None:
    """The one-pass input builder's ``bp4d_framing`` crops equal ``crop_framed`` on the frames
    (padded where the 2.6x square leaves the 640x360 frame)."""
    from bigsmall.video import HaarCascadeDetector, build_bigsmall_inputs, read_all
    from bigsmall.video.boxes import Box
    from bigsmall.video.framing import BP4D_FRAMING, crop_framed

    path = faces_dir / "single_face.mp4"
    inputs = build_bigsmall_inputs(path, crop="bp4d_framing", max_frames=12, threaded=False)
    clip = read_all(path, max_frames=12)
    assert inputs.face_found.all()
    face = HaarCascadeDetector().detect(clip.frames[0])
    assert face
    framed = Box(*inputs.boxes[0])
    # The recorded box is the framed square around the tracked face, 2.6 face widths wide.
    assert framed.w == pytest.approx(framed.h, rel=0.02)
    assert framed.y < 0 or framed.x < 0 or framed.y + framed.h > clip.frames.shape[1]
    tracked = max(face, key=lambda b: b.w * b.h)
    assert framed.w == pytest.approx(BP4D_FRAMING.scale * tracked.w, rel=0.15)
    # Same pixels as cropping the decoded RGB frame with padding (up to rounding of the box).
    reference = crop_framed(clip.frames[0], tracked, BP4D_FRAMING)
    diff = np.abs(inputs.big_uint8[0].astype(int) - reference.astype(int)).mean()
    assert diff < 6.0
