"""Frame zips/folders (natural order, batches, ranges) and container probing without decoding."""

from __future__ import annotations

import zipfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from bigsmall.errors import VideoNotFoundError, VideoTruncatedError, VideoUnreadableError
from bigsmall.video.frame_archive import (
    list_frame_files,
    list_zip_frames,
    natural_sort_key,
    read_frame_files,
    read_frame_zip,
)
from bigsmall.video.probe import probe_video


def _png(value: int) -> bytes:
    """A PNG whose red channel is ``value`` and blue ``255 - value`` (cv2 arrays are BGR)."""
    bgr = np.full((4, 5, 3), (255 - value, 0, value), np.uint8)
    return cv2.imencode(".png", bgr)[1].tobytes()


def test_natural_sort_key_orders_numbers_numerically() -> None:
    names = ["f10.jpg", "f9.jpg", "F1.jpg", "f100.jpg"]
    assert sorted(names, key=natural_sort_key) == ["F1.jpg", "f9.jpg", "f10.jpg", "f100.jpg"]


def test_read_frame_zip_prefix_range_order_and_rgb(tmp_path: Path) -> None:
    path = tmp_path / "F001.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(12):
            archive.writestr(f"F001/T1/{i}.png", _png(10 * i))
            archive.writestr(f"F001/T2/{i}.png", _png(200))
        archive.writestr("F001/T1/notes.txt", "not a frame")
    assert list_zip_frames(path, "f001/t1/")[:3] == [
        "F001/T1/0.png",
        "F001/T1/1.png",
        "F001/T1/2.png",
    ]
    assert len(list_zip_frames(path)) == 24
    batches = list(read_frame_zip(path, 25.0, "F001/T1/", frame_range=(2, 11), batch_size=4))
    assert [len(b) for b in batches] == [4, 4, 1]
    assert [b.start_index for b in batches] == [2, 6, 10]
    frames = np.concatenate([b.frames for b in batches])
    assert frames.shape == (9, 4, 5, 3) and frames.dtype == np.uint8
    np.testing.assert_array_equal(frames[:, 0, 0, 0], 10 * np.arange(2, 11))  # R channel
    np.testing.assert_array_equal(frames[:, 0, 0, 2], 255 - 10 * np.arange(2, 11))
    np.testing.assert_allclose(batches[1].timestamps_sec, np.arange(6, 10) / 25.0)


def test_frame_folder_and_errors(tmp_path: Path) -> None:
    for i in (1, 2, 10):
        (tmp_path / f"img{i}.png").write_bytes(_png(i))
    assert [p.name for p in list_frame_files(tmp_path)] == ["img1.png", "img2.png", "img10.png"]
    (batch,) = read_frame_files(tmp_path, 30.0)
    np.testing.assert_array_equal(batch.frames[:, 0, 0, 0], [1, 2, 10])
    (tmp_path / "img11.png").write_bytes(b"garbage")
    with pytest.raises(VideoTruncatedError, match="img11"):
        list(read_frame_files(tmp_path, 30.0))
    with pytest.raises(VideoNotFoundError):
        list_zip_frames(tmp_path / "missing.zip")
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(VideoUnreadableError):
        list_zip_frames(tmp_path / "bad.zip")


@pytest.mark.parametrize(
    ("suffix", "codec"), [(".mp4", "libx264"), (".mkv", "mpeg4"), (".avi", "mpeg4")]
)
def test_probe_video_reads_fps_and_frame_count(tmp_path: Path, suffix: str, codec: str) -> None:
    path = tmp_path / f"clip{suffix}"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(24000, 1001))
        stream.width, stream.height, stream.pix_fmt = 16, 16, "yuv420p"
        for i in range(23):
            frame = av.VideoFrame.from_ndarray(np.full((16, 16, 3), i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    info = probe_video(path)
    assert info.frame_count == 23
    assert info.fps == pytest.approx(24000 / 1001, rel=1e-3)
    (tmp_path / "junk.mp4").write_bytes(b"\x00" * 100)
    with pytest.raises(VideoUnreadableError, match=r"junk\.mp4"):
        probe_video(tmp_path / "junk.mp4")
    with pytest.raises(VideoNotFoundError):
        probe_video(tmp_path / "nope.mp4")
