"""Generated test videos: a face-like blob whose brightness pulses at a known rate."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
import pytest

PULSE_HZ = 1.5
FPS = 30
N_FRAMES = 120
HEIGHT, WIDTH = 96, 128


def blob_frames(
    n_frames: int = N_FRAMES,
    fps: float = FPS,
    height: int = HEIGHT,
    width: int = WIDTH,
    pulse_hz: float = PULSE_HZ,
    amplitude: float = 6.0,
) -> np.ndarray:
    """(T, H, W, 3) uint8: a skin-coloured ellipse on grey whose brightness pulses."""
    yy, xx = np.mgrid[:height, :width]
    blob = ((yy - height / 2) / (height * 0.35)) ** 2 + ((xx - width / 2) / (width * 0.25)) ** 2
    inside = blob <= 1.0
    skin = np.array([200.0, 150.0, 120.0])
    t_sec = np.arange(n_frames) / fps
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    for i, t in enumerate(t_sec):
        frame = np.full((height, width, 3), 80.0)
        frame[inside] = skin + amplitude * np.sin(2 * np.pi * pulse_hz * t)
        frames[i] = np.clip(frame, 0, 255)
    return frames


def write_video(
    path: Path,
    frames: np.ndarray,
    fps: int = FPS,
    codec: str = "libx264",
    pts: Sequence[int] | None = None,
    time_base: tuple[int, int] | None = None,
    rotation_deg: int = 0,
    faststart: bool = False,
) -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames; optional explicit pts (VFR) and rotation."""
    from fractions import Fraction

    options = {"movflags": "faststart"} if faststart else {}
    container = av.open(str(path), "w", options=options)
    stream = container.add_stream(codec, rate=fps)
    stream.width, stream.height = frames.shape[2], frames.shape[1]
    stream.pix_fmt = "yuv420p"
    if codec == "libx264":
        stream.options = {"crf": "12", "preset": "ultrafast"}
    if time_base is not None:
        stream.codec_context.time_base = Fraction(*time_base)
        stream.time_base = Fraction(*time_base)
    if rotation_deg:
        stream.set_display_rotation(rotation_deg)
    for i, rgb in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        if pts is not None:
            frame.pts = int(pts[i])
            frame.time_base = stream.codec_context.time_base
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


@pytest.fixture(scope="session")
def pulse_frames() -> np.ndarray:
    return blob_frames()


@pytest.fixture(scope="session")
def pulse_video(tmp_path_factory: pytest.TempPathFactory, pulse_frames: np.ndarray) -> Path:
    path = tmp_path_factory.mktemp("video") / "pulse.mp4"
    return write_video(path, pulse_frames)


@pytest.fixture(scope="session")
def make_blob_frames():
    """The :func:`blob_frames` generator (test modules cannot import conftest)."""
    return blob_frames


@pytest.fixture(scope="session")
def make_video():
    """The :func:`write_video` encoder (test modules cannot import conftest)."""
    return write_video
