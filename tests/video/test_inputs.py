"""The one-pass BigSmall input builder against the spec's reference formulas."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bigsmall.errors import NoFaceError, VideoTooShortError
from bigsmall.video import (
    Box,
    build_bigsmall_inputs,
    crop_resize,
    diff_normalize_frames,
    read_all,
    read_video,
    standardize_frames,
    uint8_to_unit_float,
)
from bigsmall.video.inputs import read_stored_frames
from bigsmall.video.io import FrameBatch

PULSE_HZ = 1.5  # the pulse_video fixture's


def _reference_small(big_uint8: np.ndarray, small_hw: tuple[int, int] = (9, 9)) -> np.ndarray:
    d = diff_normalize_frames(uint8_to_unit_float(big_uint8, np.float64))
    return np.stack(
        [cv2.resize(f, small_hw[::-1], interpolation=cv2.INTER_AREA) for f in d]
    ).astype(np.float32)


def test_equals_reference_formulas(pulse_video: Path) -> None:
    """Big/Small from the streaming builder equal the spec's whole-clip float64 formulas.

    Compared: the reference applied to the builder's own uint8 144x144 frames (which are
    themselves checked against crop + area resize of the decoded RGB frames).
    """
    inputs = build_bigsmall_inputs(pulse_video, crop="full", batch_size=16)
    clip = read_all(pulse_video)
    n = clip.frames.shape[0]
    assert len(inputs) == n and inputs.big_uint8.shape == (n, 144, 144, 3)
    expected_big = np.stack([crop_resize(f, None) for f in clip.frames])
    np.testing.assert_array_equal(np.asarray(inputs.big_uint8), expected_big)

    x = uint8_to_unit_float(expected_big, np.float64)
    assert inputs.big_mean == pytest.approx(x.mean(), rel=1e-6)
    assert inputs.big_std == pytest.approx(x.std(), rel=1e-6)
    np.testing.assert_allclose(inputs.big_standardized(), standardize_frames(x), atol=1e-5)
    np.testing.assert_allclose(
        inputs.big_standardized(3, 30, 3), standardize_frames(x)[3:30:3], atol=1e-5
    )

    small_ref = _reference_small(expected_big)
    assert inputs.small.shape == (n, 9, 9, 3) and inputs.small.dtype == np.float32
    assert np.abs(small_ref).max() > 1.0  # a real signal, not zeros
    np.testing.assert_allclose(inputs.small, small_ref, atol=1e-5)
    assert not inputs.small[-1].any()

    np.testing.assert_allclose(inputs.rgb, expected_big.reshape(n, -1, 3).mean(1), atol=1e-9)
    np.testing.assert_allclose(inputs.timestamps_sec, clip.timestamps_sec)
    assert inputs.fps == pytest.approx(30.0)
    assert inputs.face_found.all() and (inputs.boxes == [0, 0, 128, 96]).all()


def test_rgb_trace_carries_the_pulse(pulse_video: Path) -> None:
    inputs = build_bigsmall_inputs(pulse_video, crop="full")
    green = inputs.rgb[:, 1] - inputs.rgb[:, 1].mean()
    spectrum = np.abs(np.fft.rfft(green * np.hanning(green.size), n=4096))
    freqs = np.fft.rfftfreq(4096, d=1 / inputs.fps)
    assert freqs[np.argmax(spectrum)] == pytest.approx(PULSE_HZ, abs=0.1)
    assert np.ptp(green) > 1.0


def test_workers_file_sink_and_batches_give_same_result(pulse_video: Path) -> None:
    serial = build_bigsmall_inputs(pulse_video, crop="full", threaded=False, big_sink="memory")
    threaded = build_bigsmall_inputs(pulse_video, crop="full", threaded=True, big_sink="file")
    assert isinstance(threaded.big_uint8, np.memmap)
    np.testing.assert_array_equal(np.asarray(threaded.big_uint8), serial.big_uint8)
    np.testing.assert_array_equal(threaded.small, serial.small)
    # RGB batches (the generic path) give the same frames as the YUV fast path.
    from_batches = build_bigsmall_inputs(read_video(pulse_video), crop="full", fps=30.0)
    np.testing.assert_array_equal(from_batches.big_uint8, serial.big_uint8)
    np.testing.assert_allclose(from_batches.small, serial.small, atol=1e-6)
    with pytest.raises(ValueError, match="fps"):
        build_bigsmall_inputs(read_video(pulse_video), crop="full")


class _FrameLog:
    """A reader that keeps a copy of every frame and box it is shown."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def update(self, big_rgb: np.ndarray, box_xywh: tuple[float, ...]) -> None:
        self.rows.append(np.concatenate([big_rgb.ravel().astype(np.float64), box_xywh]))

    def result(self) -> np.ndarray:
        return np.stack(self.rows)


def test_readers_see_each_frame_as_stored(pulse_video: Path) -> None:
    inputs = build_bigsmall_inputs(
        pulse_video, crop="full", big_sink="file", readers={"log": _FrameLog()}
    )
    shown = inputs.readings["log"]
    assert shown.shape[0] == len(inputs) == 120
    stored = read_stored_frames(inputs.big_uint8, inputs.boxes, {"log": _FrameLog()})["log"]
    np.testing.assert_array_equal(shown, stored)
    frames = np.asarray(inputs.big_uint8).reshape(len(inputs), -1)
    np.testing.assert_array_equal(shown[:, :-4], frames)
    np.testing.assert_array_equal(shown[:, -4:], inputs.boxes)


def test_bp4d_mode_uses_bottom_square(tmp_path: Path, make_blob_frames, make_video) -> None:
    frames = make_blob_frames(8, height=96, width=64)  # portrait
    path = make_video(tmp_path / "portrait.mp4", frames)
    inputs = build_bigsmall_inputs(path, crop="bp4d")
    assert (inputs.boxes == [0, 32, 64, 64]).all() and inputs.face_found.all()
    decoded = read_all(path).frames
    expected = np.stack([crop_resize(f, Box(0, 32, 64, 64)) for f in decoded])
    np.testing.assert_array_equal(np.asarray(inputs.big_uint8), expected)


def test_no_face_in_generated_blob(pulse_video: Path) -> None:
    with pytest.raises(NoFaceError, match=r"pulse\.mp4"):
        build_bigsmall_inputs(pulse_video, max_frames=10)
    inputs = build_bigsmall_inputs(pulse_video, max_frames=10, require_face=False)
    assert not inputs.face_found.any() and (inputs.boxes == [0, 0, 128, 96]).all()


def test_too_short(tmp_path: Path, make_blob_frames, make_video) -> None:
    path = make_video(tmp_path / "one.mp4", make_blob_frames(1))
    with pytest.raises(VideoTooShortError, match=r"one\.mp4"):
        build_bigsmall_inputs(path, crop="full")


def test_single_face_clip_every_frame(faces_dir: Path) -> None:
    inputs = build_bigsmall_inputs(faces_dir / "single_face.mp4", every_k_frames=10)
    assert len(inputs) == 72 and inputs.face_found.all()
    x, _y, w, h = inputs.boxes[0]
    assert 150 < w < 400 and 150 < h < 360  # 1.5x an about 200 px face, clipped
    assert 200 < x + w / 2 < 450
    assert inputs.small.shape == (72, 9, 9, 3) and np.isfinite(inputs.small).all()
    # The YUV-plane crop + float area resize equal cropping the decoded RGB frame.
    frames = read_all(faces_dir / "single_face.mp4").frames
    for i in (0, 35, 71):
        expected = crop_resize(frames[i], Box(*inputs.boxes[i]))
        np.testing.assert_array_equal(inputs.big_uint8[i], expected)


def test_no_face_clip_raises(faces_dir: Path) -> None:
    with pytest.raises(NoFaceError, match=r"no_face\.mp4"):
        build_bigsmall_inputs(faces_dir / "no_face.mp4", max_frames=40)


def test_face_leaving_clip_reports_lost_frames(faces_dir: Path) -> None:
    inputs = build_bigsmall_inputs(faces_dir / "face_noface.mov", every_k_frames=5)
    found = inputs.face_found
    assert len(found) == 169 and found[:60].all() and not found[100:].any()
    first_lost = int(np.argmin(found))
    assert 60 <= first_lost <= 100
    assert found[:first_lost].all() and not found[first_lost:].any()
    # The last box is held while the face is gone.
    np.testing.assert_array_equal(inputs.boxes[first_lost], inputs.boxes[-1])


def test_file_sink_leaves_no_file_even_when_interrupted(
    pulse_video: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Big frames' temporary file has no name at any time, so neither a
    finished run nor one interrupted mid-way (Ctrl-C) leaves a ``bigsmall_big_*`` file."""
    import tempfile

    from bigsmall.video.io import VideoReader

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    done = build_bigsmall_inputs(pulse_video, crop="full", threaded=False, big_sink="file")
    memory = build_bigsmall_inputs(pulse_video, crop="full", threaded=False, big_sink="memory")
    assert np.array_equal(np.asarray(done.big_uint8), memory.big_uint8)
    assert list(tmp_path.iterdir()) == []

    def interrupted():
        for i, batch in enumerate(VideoReader(pulse_video, batch_size=16)):
            if i == 2:
                assert list(tmp_path.iterdir()) == []  # nothing named while writing either
                raise KeyboardInterrupt
            yield batch

    with pytest.raises(KeyboardInterrupt):
        build_bigsmall_inputs(interrupted(), crop="full", fps=30.0, big_sink="file")
    assert list(tmp_path.iterdir()) == []


def test_background_handoff_is_bounded_in_bytes_not_only_frames() -> None:
    """With 4K-sized face crops the decoding thread runs only a few frames ahead
    (batches are cut at 16 MB), so memory does not grow with resolution."""
    import time

    from bigsmall.video.handoff import in_background

    produced = [0]

    def items():
        for i in range(40):
            produced[0] += 1
            yield np.zeros((1500, 1400, 3), np.uint8), (0.0, 0.0, 1.0, 1.0), True, i / 30.0

    ahead = 0
    for consumed, _ in enumerate(in_background(items(), batch_size=32), start=1):
        time.sleep(0.002)  # a slower consumer: the producer fills the queue
        ahead = max(ahead, produced[0] - consumed)
    assert consumed == 40 and ahead <= 12  # by frames alone it would be up to 3 × 32 ahead


def test_tight_turned_face_found_by_the_cnn_fallback(
    tmp_path: Path, faces_dir: Path, make_video
) -> None:
    """A face cut as tight as a face-photo dataset's and turned 20°: the cascade alone finds
    no face in the clip; the default detector (cascade, then the CNN) finds it on every frame."""
    pytest.importorskip("dlib")
    from bigsmall.video import HaarCascadeDetector, read_image

    image = read_image(faces_dir / "single_face.jpg")
    (face,) = HaarCascadeDetector().detect(image)
    cx, cy = face.center
    turn = cv2.getRotationMatrix2D((cx, cy), 20.0, 1.0)
    turned = cv2.warpAffine(image, turn, image.shape[1::-1], borderMode=cv2.BORDER_REFLECT)
    x0, y0, x1, y1 = face.to_int()
    tight = turned[y0 + int(0.25 * face.h) : y1 - int(0.2 * face.h), x0:x1]
    tight = tight[: tight.shape[0] // 2 * 2, : tight.shape[1] // 2 * 2]
    path = make_video(tmp_path / "tight.mp4", np.repeat(tight[None], 12, axis=0))
    with pytest.raises(NoFaceError):
        build_bigsmall_inputs(path, detector=HaarCascadeDetector())
    inputs = build_bigsmall_inputs(path)
    assert inputs.face_found.all()
    _x, _y, w, h = inputs.boxes[0]  # 1.5x the face box, clipped to the frame: most of it
    assert w > 0.9 * tight.shape[1] and h > 0.9 * tight.shape[0]


class _SlidingFace:
    """A detector whose face moves 30 px to the right at each call (a face sliding across)."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, rgb: np.ndarray) -> list[Box]:
        self.calls += 1
        return [Box(20.0 + 30.0 * self.calls, 60.0, 80.0, 80.0)]


def test_the_product_box_glides_between_detections_the_datasets_box_is_held() -> None:
    """``build_bigsmall_inputs`` (what ``predict`` calls) moves the crop a little every frame
    towards each new detection; dataset preprocessing (``glide_box=False``) holds it and jumps."""
    rng = np.random.default_rng(0)  # a picture that changes (a still one keeps its box: below)
    frames = rng.integers(0, 256, (90, 240, 480, 3), dtype=np.uint8)
    batch = FrameBatch(frames, np.arange(90) / 30.0, 0)
    held_box = {"glide_box": False}  # the default (what predict gets) glides
    boxes = {
        glide: build_bigsmall_inputs(
            [batch], fps=30.0, detector=_SlidingFace(), **({} if glide else held_box)
        ).boxes
        for glide in (True, False)
    }
    held, glided = np.diff(boxes[False][:, 0]), np.diff(boxes[True][:, 0])
    # held: two jumps of 15 px (the tracker's median of recent detections moves 15 per call)
    assert np.count_nonzero(held) == 2 and np.abs(held).max() == pytest.approx(15.0)
    # gliding: the same moves spread over the 30 frames after each detection
    assert np.count_nonzero(glided) >= 55 and np.abs(glided).max() == pytest.approx(0.5)
    # ... arriving, 29 frames after the last detection, where the held box jumped
    np.testing.assert_allclose(boxes[True][-1], boxes[False][-1])


class _JitteringFace:
    """A detector whose box scatters by a few pixels from call to call (as on a still face),
    now and then jumping to a wrong place (as on a photo the face fills)."""

    def __init__(self) -> None:
        self.calls = 0
        self.rng = np.random.default_rng(1)

    def detect(self, rgb: np.ndarray) -> list[Box]:
        self.calls += 1
        if self.calls % 4 == 0:
            return [Box(300.0, 100.0, 70.0, 70.0)]
        dx, dy, dw = self.rng.uniform(-3.0, 3.0, 3)
        return [Box(100.0 + dx, 60.0 + dy, 80.0 + dw, 80.0 + dw)]


def test_a_still_pictures_box_stays_put_whatever_the_detector_says() -> None:
    """A still picture (camera noise only): after the first detection the product's box does
    not move, however the detections scatter (followed, a tight photo's box moved once a second
    and was read as a pulse); the datasets' reference box still follows every detection."""
    rng = np.random.default_rng(2)
    still = rng.integers(40, 216, (240, 480, 3)).astype(np.float64)
    frames = np.clip(still + rng.normal(0.0, 1.0, (300, 240, 480, 3)), 0, 255).astype(np.uint8)
    batch = FrameBatch(frames, np.arange(300) / 30.0, 0)
    product = build_bigsmall_inputs([batch], fps=30.0, detector=_JitteringFace())
    assert np.ptp(product.boxes, axis=0).max() == 0.0 and product.face_found.all()
    reference = build_bigsmall_inputs([batch], fps=30.0, detector=_JitteringFace(), glide_box=False)
    assert np.ptp(reference.boxes, axis=0).max() > 1.0


class _ViewLog:
    """Logs each frame's grey mean over its top-left quarter and the face box it was given."""

    def __init__(self) -> None:
        self.rows: list[list[float]] = []

    def update(self, view, face: Box | None) -> None:
        quarter = Box(0.0, 0.0, view.width / 2.0, view.height / 2.0)
        face_row = [np.nan] * 4 if face is None else [face.x, face.y, face.w, face.h]
        self.rows.append([float(view.gray(quarter).mean()), *face_row])

    def result(self) -> np.ndarray:
        return np.asarray(self.rows)


def test_view_readers_see_every_whole_frame_and_the_last_face(faces_dir: Path) -> None:
    path = faces_dir / "single_face.mp4"
    inputs = build_bigsmall_inputs(path, every_k_frames=10, view_readers={"views": _ViewLog()})
    rows = inputs.readings["views"]
    assert rows.shape == (len(inputs), 5) == (72, 5)
    # the decoded luma (YUV planes) gives the grey of the decoded RGB frames
    frames = read_all(path).frames
    h, w = frames.shape[1:3]
    grey = [cv2.cvtColor(f[: h // 2, : w // 2], cv2.COLOR_RGB2GRAY).mean() for f in frames]
    assert np.max(np.abs(rows[:, 0] - grey)) < 1.0
    faces = rows[:, 1:]
    assert np.isfinite(faces).all()
    # the crop box is the face box enlarged 1.5× about its centre (gliding between detections),
    # so the readers are handed the detection itself, not the crop
    centre = faces[:, :2] + faces[:, 2:] / 2.0
    crop_centre = inputs.boxes[:, :2] + inputs.boxes[:, 2:] / 2.0
    assert np.max(np.abs(centre - crop_centre)) < 0.1 * faces[0, 2]
    inside = (inputs.boxes[:, 0] > 0) & (inputs.boxes[:, 0] + inputs.boxes[:, 2] < w)
    assert inside.any()
    np.testing.assert_allclose(inputs.boxes[inside, 2] / faces[inside, 2], 1.5, rtol=0.1)
    with pytest.raises(ValueError, match="share the names"):
        build_bigsmall_inputs(path, readers={"x": _FrameLog()}, view_readers={"x": _ViewLog()})
