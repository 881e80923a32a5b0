"""Aligned Big frames next to the usual inputs: which frames, which statistics, what a miss is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from bigsmall.video import Box, build_bigsmall_inputs
from bigsmall.video.aligned_big import AlignedBigBuilder, align_region
from bigsmall.video.normalize import standardize_table

SIDE = 32


@dataclass
class _Face:
    image: np.ndarray
    landmarks: np.ndarray


class FakeAligner:
    """Records its calls; returns a constant image whose value encodes the call number, and
    refuses every ``miss_every``-th call (no landmarks)."""

    def __init__(self, miss_every: int = 0) -> None:
        self.calls: list[tuple[tuple[int, ...], Box | None]] = []
        self.miss_every = miss_every

    def __call__(self, rgb: np.ndarray, face_box: Box | None) -> _Face | None:
        self.calls.append((rgb.shape, face_box))
        k = len(self.calls)
        if self.miss_every and k % self.miss_every == 0:
            return None
        points = np.tile(np.float32([[8.0, 16.0]]), (49, 1))
        return _Face(np.full((SIDE, SIDE, 3), 10 * k % 250, np.uint8), points)


def test_aligned_frames_every_stride_with_their_statistics(pulse_video: Path) -> None:
    aligner = FakeAligner(miss_every=4)
    inputs = build_bigsmall_inputs(
        pulse_video, crop="full", align=aligner, align_side=SIDE, align_stride=3, batch_size=16
    )
    n = len(inputs)
    aligned = inputs.aligned
    assert aligned is not None and aligned.stride == 3
    assert len(aligner.calls) == len(aligned) == -(-n // 3)  # frames 0, 3, 6, ...
    assert aligned.frames.shape == (len(aligned), SIDE, SIDE, 3)
    # every 4th call found no landmarks: a plain crop, NaN landmarks, counted
    assert aligned.found.tolist() == [(k + 1) % 4 != 0 for k in range(len(aligned))]
    assert np.isnan(aligned.landmarks[~aligned.found]).all()
    found_points = aligned.landmarks[aligned.found]
    np.testing.assert_allclose(found_points, np.broadcast_to([0.25, 0.5], found_points.shape))
    assert aligned.frames[0].max() == 10 and aligned.frames[1].max() == 20
    # the Standardized statistics are the aligned frames' own, over the clip
    x = np.clip(aligned.frames / 255.0, 1 / 255, 1.0)
    assert aligned.mean == pytest.approx(x.mean(), rel=1e-6)
    assert aligned.std == pytest.approx(x.std(), rel=1e-6)
    table = standardize_table(aligned.mean, aligned.std)
    assert abs(float(table[aligned.frames].mean())) < 1e-4
    # the usual inputs are untouched by alignment
    plain = build_bigsmall_inputs(pulse_video, crop="full", batch_size=16)
    assert plain.aligned is None
    np.testing.assert_array_equal(np.asarray(plain.big_uint8), np.asarray(inputs.big_uint8))
    np.testing.assert_array_equal(plain.small, inputs.small)
    # a window starting at frame s reads the aligned frame at or just before s
    assert aligned.index_of(0) == 0 and aligned.index_of(5) == 1
    assert aligned.index_of(10**6) == len(aligned) - 1


def test_region_and_hint_around_a_tracked_face() -> None:
    crop = Box(100.0, 50.0, 60.0, 80.0)
    region, hint = align_region(crop, face_hint=True)
    assert region.center == pytest.approx(crop.center)
    assert (region.w, region.h) == pytest.approx((120.0, 160.0))
    assert hint == Box(30.0, 40.0, 60.0, 80.0)  # the crop, in region pixels
    assert align_region(crop, face_hint=False) == (crop, None)


def test_builder_rejects_a_wrong_size_and_needs_frames() -> None:
    builder = AlignedBigBuilder(SIDE, 1)
    with pytest.raises(ValueError, match="no aligned frames"):
        builder.result()
    with pytest.raises(ValueError, match="expected side"):
        builder.add(_Face(np.zeros((8, 8, 3), np.uint8), np.zeros((49, 2))), np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="stride"):
        AlignedBigBuilder(SIDE, 0)


def test_aligned_frames_follow_the_big_stream_to_a_file(pulse_video: Path) -> None:
    """A long clip's Big frames go to a temporary file; its aligned frames go there too (not a
    list in RAM), with the same values and statistics as kept in memory."""
    kept = {
        sink: build_bigsmall_inputs(
            pulse_video,
            crop="full",
            align=FakeAligner(),
            align_side=SIDE,
            align_stride=2,
            big_sink=sink,
        ).aligned
        for sink in ("memory", "file")
    }
    in_ram, on_file = kept["memory"], kept["file"]
    assert in_ram is not None and on_file is not None
    assert not isinstance(in_ram.frames, np.memmap)
    assert isinstance(on_file.frames, np.memmap) and not on_file.frames.flags.writeable
    np.testing.assert_array_equal(np.asarray(on_file.frames), in_ram.frames)
    assert (on_file.mean, on_file.std) == (in_ram.mean, in_ram.std)
    np.testing.assert_array_equal(on_file.landmarks, in_ram.landmarks)
