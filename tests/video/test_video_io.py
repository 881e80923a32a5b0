"""Reading videos, frame folders and images: fps, timestamps, rotation, errors."""

from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from bigsmall.errors import (
    VideoNotFoundError,
    VideoTruncatedError,
    VideoTruncatedWarning,
    VideoUnreadableError,
)
from bigsmall.video import (
    FrameDirReader,
    StillImageReader,
    VideoReader,
    open_video,
    read_all,
    read_frame_dir,
    read_image,
    read_video,
)

FPS = 30  # the pulse_video fixture's
N_FRAMES = 120


def test_read_video_streams_batches_with_fps_and_timestamps(pulse_video: Path) -> None:
    reader = VideoReader(pulse_video, batch_size=50)
    assert reader.info.fps == pytest.approx(FPS)
    assert reader.info.frame_count == N_FRAMES
    assert (reader.info.width, reader.info.height) == (128, 96)
    assert reader.info.duration_sec == pytest.approx(N_FRAMES / FPS, abs=0.05)
    batches = list(reader)
    assert [len(b) for b in batches] == [50, 50, 20]
    assert [b.start_index for b in batches] == [0, 50, 100]
    assert batches[0].frames.dtype == np.uint8 and batches[0].frames.shape == (50, 96, 128, 3)
    times = np.concatenate([b.timestamps_sec for b in batches])
    np.testing.assert_allclose(times, np.arange(N_FRAMES) / FPS, atol=1e-6)
    assert not reader.truncated


def test_decoded_colours_match_source(pulse_video: Path, pulse_frames: np.ndarray) -> None:
    clip = read_all(pulse_video)
    err = np.abs(clip.frames.astype(float) - pulse_frames.astype(float))
    assert err.mean() < 2.0  # near-lossless encode, BT.601 conversion back to RGB


def test_max_frames_and_read_all(pulse_video: Path) -> None:
    clip = read_all(pulse_video, max_frames=7)
    assert clip.frames.shape[0] == 7 and clip.fps == pytest.approx(FPS)
    assert sum(len(b) for b in read_video(pulse_video, batch_size=4, max_frames=10)) == 10


def test_mpeg4_codec(tmp_path: Path, make_blob_frames, make_video) -> None:
    path = make_video(tmp_path / "m.mp4", make_blob_frames(12), codec="mpeg4")
    assert read_all(path).frames.shape == (12, 96, 128, 3)


def test_variable_frame_rate_is_resampled_to_a_grid(
    tmp_path: Path, make_blob_frames, make_video
) -> None:
    """A VFR file comes out on a uniform grid at its typical rate, each grid time
    showing the latest frame at or before it (held through the gaps), with a note."""
    pts_ms = [0, 33, 66, 150, 183, 300, 333, 366, 400, 433]
    frames = np.stack([np.full((96, 128, 3), 20 * i, np.uint8) for i in range(10)])
    path = make_video(tmp_path / "vfr.mp4", frames, pts=pts_ms, time_base=(1, 1000))
    reader = VideoReader(path)
    assert "Variable frame rate" in reader.info.timing_note
    assert reader.info.fps == pytest.approx(1000 / 33)
    clip = read_all(path)
    step = 1 / reader.info.fps
    np.testing.assert_allclose(np.diff(clip.timestamps_sec), step, atol=1e-9)
    assert clip.timestamps_sec[0] == 0.0 and len(clip.frames) == 14  # 0 .. 433 ms
    for frame, t_sec in zip(clip.frames, clip.timestamps_sec, strict=True):
        shown = max(i for i, p in enumerate(pts_ms) if p / 1000 <= t_sec + 0.5 * step)
        assert abs(float(frame.mean()) - 20 * shown) < 3, (t_sec, shown)


def test_constant_rate_file_keeps_its_frames(pulse_video: Path) -> None:
    reader = VideoReader(pulse_video)
    assert reader.info.timing_note is None
    assert sum(1 for _ in reader.iter_frames()) == reader.info.frame_count


def test_untimed_stream_needs_fps(tmp_path: Path, make_blob_frames) -> None:
    """A raw H.264 stream has no timestamps (PyAV guesses 25 fps): refused without ``fps``;
    a given rate is used, and said when the file claims another."""
    import av

    path = tmp_path / "raw.h264"
    container = av.open(str(path), "w", format="h264")
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
    for rgb in make_blob_frames(30):
        for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    with pytest.raises(VideoUnreadableError, match=r"pass its frame rate, e\.g\. --fps 30"):
        VideoReader(path)
    clip = read_all(path, fps=30.0)
    assert clip.fps == 30.0 and len(clip.frames) == 30
    np.testing.assert_allclose(clip.timestamps_sec, np.arange(30) / 30.0)


def test_rotation_metadata_is_applied(tmp_path: Path, make_video) -> None:
    frames = np.zeros((4, 32, 64, 3), np.uint8)
    frames[:, :, :16] = 255  # left quarter white
    path = make_video(tmp_path / "rot.mp4", frames, rotation_deg=90)
    reader = VideoReader(path)
    assert reader.info.rotation_deg == 90
    assert (reader.info.width, reader.info.height) == (32, 64)
    out = read_all(path).frames
    assert out.shape == (4, 64, 32, 3)
    # 90 degrees counter-clockwise: the left columns become the bottom rows.
    assert out[0, -8:].mean() > 240 and out[0, :40].mean() < 15


def test_frame_dir_natural_sort(tmp_path: Path, make_blob_frames) -> None:
    frames = make_blob_frames(12)
    for i, frame in enumerate(frames):
        cv2.imwrite(str(tmp_path / f"frame_{i}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (tmp_path / "notes.txt").write_text("not a frame")
    reader = FrameDirReader(tmp_path, fps=25.0, batch_size=5)
    assert [p.name for p in reader.files[:3]] == ["frame_0.png", "frame_1.png", "frame_2.png"]
    assert reader.files[-1].name == "frame_11.png"  # not frame_9 (lexical order)
    batches = list(read_frame_dir(tmp_path, fps=25.0, batch_size=5))
    got = np.concatenate([b.frames for b in batches])
    np.testing.assert_array_equal(got, frames)
    times = np.concatenate([b.timestamps_sec for b in batches])
    np.testing.assert_allclose(times, np.arange(12) / 25.0)
    assert isinstance(open_video(tmp_path, fps=25.0), FrameDirReader)
    with pytest.raises(VideoUnreadableError, match="frame rate"):
        open_video(tmp_path)


def test_still_image_as_clip(tmp_path: Path, make_blob_frames) -> None:
    image = make_blob_frames(1)[0]
    path = tmp_path / "still.png"
    cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(read_image(path), image)
    batches = list(StillImageReader(path, n_frames=10, fps=30.0, batch_size=4))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[-1].frames[1], image)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoNotFoundError, match=r"missing\.mp4"):
        VideoReader(tmp_path / "missing.mp4")
    with pytest.raises(VideoNotFoundError):
        FrameDirReader(tmp_path / "nodir", fps=30.0)


def test_empty_and_not_a_video(tmp_path: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoUnreadableError, match="empty"):
        VideoReader(empty)
    text = tmp_path / "notes.mp4"
    text.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoUnreadableError, match=r"notes\.mp4") as info:
        VideoReader(text)
    assert "\n" not in str(info.value)


def _cut(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    out = path.with_name("cut_" + path.name)
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def test_truncated_file_decodes_what_it_can(tmp_path: Path, make_video) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (60, 48, 64, 3), dtype=np.uint8)  # incompressible
    path = make_video(tmp_path / "fs.mp4", frames, faststart=True)
    cut = _cut(path, 0.5)
    reader = VideoReader(cut)
    with pytest.warns(VideoTruncatedWarning, match=r"cut_fs\.mp4"):
        n = sum(len(b) for b in reader)
    assert 5 < n < 50 and reader.truncated


def test_truncated_without_index_raises(tmp_path: Path, make_blob_frames, make_video) -> None:
    path = make_video(tmp_path / "plain.mp4", make_blob_frames(20))  # index written at the end
    with pytest.raises(VideoTruncatedError, match=r"cut_plain\.mp4"):
        VideoReader(_cut(path, 0.5))


def test_complete_file_does_not_warn(pulse_video: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sum(len(b) for b in read_video(pulse_video)) == N_FRAMES


def test_real_clips_metadata(faces_dir: Path) -> None:
    info = VideoReader(faces_dir / "single_face.mp4").info
    assert info.fps == pytest.approx(30.0) and info.frame_count == 72
    assert (info.width, info.height) == (640, 360)
    mov = VideoReader(faces_dir / "face_noface.mov").info
    assert mov.fps == pytest.approx(26.4, abs=0.1) and mov.frame_count == 169


def test_folder_without_frames_says_so_not_pass_fps(tmp_path: Path) -> None:
    """An empty folder is not blamed on a missing --fps."""
    from bigsmall.video.io import open_video

    (tmp_path / "notes.txt").write_text("x")
    for fps in (None, 30.0):
        with pytest.raises(VideoUnreadableError, match="no videos and no"):
            open_video(tmp_path, fps=fps)
