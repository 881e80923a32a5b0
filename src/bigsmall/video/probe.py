"""Frame rate and frame count of a video file from its container, without decoding.

PyAV reads the stream header (``average_rate``, ``frames``); when the container does not
store a frame count (Matroska/WebM often do not) the video packets are demuxed and counted,
which reads the file but decodes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from bigsmall.errors import VideoNotFoundError, VideoUnreadableError


class VideoProbe(NamedTuple):
    """What :func:`probe_video` reports."""

    fps: float
    frame_count: int


def probe_video(path: str | Path) -> VideoProbe:
    """``(fps, frame_count)`` of the first video stream of ``path``.

    Raises:
        VideoNotFoundError: the file does not exist.
        VideoUnreadableError: it is not a container with a video stream PyAV can open.
    """
    import av  # lazy: keeps `import bigsmall.video` light

    path = Path(path)
    if not path.is_file():
        raise VideoNotFoundError(f"{path}: video file not found; check the path")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoUnreadableError(f"{path}: no video stream in the file")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            if not rate:
                raise VideoUnreadableError(f"{path}: the container gives no frame rate")
            fps = float(rate)
            count = int(stream.frames or 0)
            if count <= 0:
                count = sum(1 for packet in container.demux(stream) if packet.size > 0)
    except av.error.FFmpegError as exc:
        raise VideoUnreadableError(f"{path}: cannot be opened as a video ({exc})") from exc
    if count <= 0:
        raise VideoUnreadableError(f"{path}: the video has no frames")
    return VideoProbe(fps=fps, frame_count=count)
