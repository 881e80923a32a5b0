"""Streaming video input with PyAV: frame batches, timestamps, rotation, frame folders.

Frames are decoded once, in batches, never the whole clip unless :func:`read_all` is asked
for. Colour conversion of 8-bit 4:2:0 video uses OpenCV's BT.601 I420 converter (about 1.7x
faster than swscale on 640x360); other pixel formats go through swscale (``rgb24``).
Timestamps come from each frame's ``pts``; rotation from the display matrix is applied so
frames come out upright.

Frame timing (every analysis downstream assumes frames on a uniform grid):

- A variable-frame-rate file (phones drop from 30 to 10 fps in the dark) is resampled to a
  uniform grid at its typical rate (1 / the median frame interval) by the timestamps: each grid
  time shows the latest frame at or before it (frames held or dropped, as a player shows them);
  :attr:`VideoInfo.timing_note` says so.
- A stream without timestamps (a raw ``.h264``) or without a frame rate (an AVI with rate 0)
  is refused unless the caller gives ``fps``; a rate given for a file replaces the container's
  (timestamps = frame index / fps), with a note when they disagree.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from bigsmall.errors import (
    VideoNotFoundError,
    VideoTruncatedError,
    VideoTruncatedWarning,
    VideoUnreadableError,
)

#: Frames per batch yielded by the readers.
DEFAULT_BATCH_SIZE: int = 32
#: File name endings read as frame images.
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp")
#: Pixel formats converted with OpenCV's I420 converter (8-bit planar 4:2:0, limited range).
_I420_FORMATS: frozenset[str] = frozenset({"yuv420p"})
_QUARTER_TURN_DEG: int = 90
_MP4_HEADER_BYTES: int = 12
#: Decoding fewer than this fraction of the container's frame count (and more than
#: :data:`_TRUNCATION_SLACK_FRAMES` short) is reported as truncation; containers often count
#: a few frames that edit lists drop.
_TRUNCATION_MIN_FRACTION: float = 0.98
_TRUNCATION_SLACK_FRAMES: int = 3
#: A file yielding fewer than this fraction of the frames :attr:`VideoInfo.frame_count`
#: announces (the container's count, or its duration × fps: Matroska has no count) ended early.
TRUNCATED_FRACTION: float = 0.9
_FULL_TURN_DEG: int = 360


@dataclass(frozen=True)
class VideoInfo:
    """What is known about a video before decoding it all.

    ``width``/``height`` are those of the frames as yielded (after rotation).
    ``frame_count`` is the container's count, or duration x fps when the container has none
    or its frames are resampled to a uniform grid.
    """

    path: Path
    fps: float
    frame_count: int
    width: int
    height: int
    rotation_deg: int
    duration_sec: float
    #: How the frame times were made uniform, when they were (see the module docstring).
    timing_note: str | None = None


#: A file is variable-frame-rate when more than this share of its frame intervals differ from
#: the median interval by more than :data:`_VFR_TOLERANCE` of it.
_VFR_SHARE: float = 0.02
_VFR_TOLERANCE: float = 0.25
#: Container formats whose streams carry no timestamps of their own (elementary streams).
_UNTIMED_FORMATS: frozenset[str] = frozenset({"h264", "hevc", "mpegvideo", "m4v", "rawvideo"})


def _packet_times(path: Path) -> np.ndarray:
    """(N,) sorted presentation times (s) of the video stream's packets, from a demux pass of
    its own (no decoding); empty when the packets carry no timestamps."""
    container, stream = _open_container(path)
    try:
        time_base = float(stream.time_base) if stream.time_base else 0.0
        pts = [p.pts for p in container.demux(stream) if p.size and p.pts is not None]
    except av.error.FFmpegError:
        pts = []  # damaged: the decoder reports it
    finally:
        container.close()
    if not pts or not time_base:
        return np.zeros(0)
    return np.sort(np.asarray(pts, np.float64) * time_base)


@dataclass(frozen=True)
class _Timing:
    """How a file's frames are timed: ``fps`` of the grid; ``grid`` True to resample decoded
    frames onto it by their timestamps; ``by_index`` True for times = index / fps."""

    fps: float
    grid: bool = False
    by_index: bool = False
    note: str | None = None


def _timing(path: Path, container: Any, stream: Any, fps_given: float | None) -> _Timing:
    declared = _stream_fps(stream)
    if fps_given is not None:
        note = None
        if declared and abs(declared - fps_given) > 0.01 * fps_given:
            note = f"Frame rate {fps_given:g} fps given (the file says {declared:.3g}); used."
        return _Timing(float(fps_given), by_index=True, note=note)
    untimed = container.format.name in _UNTIMED_FORMATS
    times = np.zeros(0) if untimed else _packet_times(path)
    if times.size < 3:
        if untimed or not declared:
            raise VideoUnreadableError(
                f"{path}: the file gives no frame timestamps or frame rate (a raw stream?); "
                "pass its frame rate, e.g. --fps 30"
            )
        return _Timing(declared, by_index=True)
    intervals = np.diff(times)
    intervals = intervals[intervals > 0]
    median = float(np.median(intervals)) if intervals.size else 0.0
    if median <= 0:
        raise VideoUnreadableError(f"{path}: frame timestamps do not advance; pass --fps")
    off = np.abs(intervals - median) > _VFR_TOLERANCE * median
    if off.mean() <= _VFR_SHARE:
        return _Timing(declared or 1.0 / median)
    grid_fps = 1.0 / median
    low, high = 1.0 / np.percentile(intervals, 95), 1.0 / np.percentile(intervals, 5)
    note = (
        f"Variable frame rate ({low:.3g}-{high:.3g} fps): frames were resampled by their "
        f"timestamps to a uniform {grid_fps:.3g} fps grid."
    )
    return _Timing(grid_fps, grid=True, note=note)


@dataclass(frozen=True)
class FrameBatch:
    """Consecutive decoded frames.

    ``frames``: (n, H, W, 3) uint8 RGB. ``timestamps_sec``: (n,) float64 from the start of
    the stream. ``start_index``: index of the batch's first frame in the clip.
    """

    frames: np.ndarray
    timestamps_sec: np.ndarray
    start_index: int

    def __len__(self) -> int:
        return int(self.frames.shape[0])


@dataclass(frozen=True)
class VideoClip:
    """A whole clip in memory: ``frames`` (T, H, W, 3) uint8 RGB, ``timestamps_sec`` (T,)."""

    frames: np.ndarray
    timestamps_sec: np.ndarray
    fps: float
    info: VideoInfo


def _rotation_k(rotation_deg: int) -> int:
    """Counter-clockwise quarter turns that make a frame upright (np.rot90's ``k``)."""
    return (round(rotation_deg / _QUARTER_TURN_DEG) * _QUARTER_TURN_DEG % _FULL_TURN_DEG) // (
        _QUARTER_TURN_DEG
    )


def frame_to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """Convert one decoded frame to (H, W, 3) uint8 RGB (not rotated)."""
    name = frame.format.name
    if name in _I420_FORMATS and frame.width % 2 == 0 and frame.height % 2 == 0:
        return cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2RGB_I420)
    return frame.to_ndarray(format="rgb24")


def _open_container(path: Path) -> tuple[Any, Any]:
    if not path.exists():
        raise VideoNotFoundError(f"{path}: video not found; check the path")
    if path.is_file() and path.stat().st_size == 0:
        raise VideoUnreadableError(f"{path}: file is empty; re-copy or re-export the video")
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        if "moov atom not found" in str(exc):
            raise VideoTruncatedError(
                f"{path}: video is truncated (its index is missing) and nothing can be decoded; "
                "re-copy the file or re-export it"
            ) from exc
        with path.open("rb") as handle:
            header = handle.read(_MP4_HEADER_BYTES)
        if header[4:8] == b"ftyp":
            raise VideoTruncatedError(
                f"{path}: MP4/MOV file without a readable index (truncated or corrupt) and "
                "nothing can be decoded; re-copy the file or re-export it"
            ) from exc
        raise VideoUnreadableError(
            f"{path}: not a readable video ({exc.__class__.__name__}); "
            "convert it to MP4 (H.264) or pass a frame folder"
        ) from exc
    if not container.streams.video:
        container.close()
        raise VideoUnreadableError(f"{path}: file has no video stream; pass a video file")
    return container, container.streams.video[0]


def _stream_fps(stream: Any) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate is not None and float(rate) > 0:
            return float(rate)
    return 0.0


class VideoReader:
    """Stream a video as :class:`FrameBatch` es; use as an iterable or a context manager.

    ``thread_count=0`` lets FFmpeg pick (one decode thread per core).
    After iteration, ``frames_read``, ``truncated`` and :attr:`ended_early` tell what happened.
    """

    def __init__(
        self,
        path: str | Path,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_frames: int | None = None,
        thread_count: int = 0,
        fps: float | None = None,
    ) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self.max_frames = max_frames
        self.thread_count = thread_count
        self.frames_read = 0
        self.frames_yielded = 0
        self.truncated = False
        container, stream = _open_container(self.path)
        try:
            first = self._first_frame(container, stream)
            rotation = int(first.rotation or 0)
            first_w, first_h = first.width, first.height
            del first
            self._timing = _timing(self.path, container, stream, fps)
            fps = self._timing.fps
            time_base = stream.time_base or Fraction(0)
            if stream.duration is not None and time_base:
                duration_sec = float(stream.duration * time_base)
            elif container.duration is not None:
                duration_sec = container.duration / av.time_base
            else:
                duration_sec = 0.0
            self._container_frames = int(stream.frames)
        finally:
            container.close()
        frame_count = self._container_frames or round(duration_sec * fps)
        if self._timing.grid and duration_sec > 0:
            frame_count = round(duration_sec * fps)  # the grid's frames
        k = _rotation_k(rotation)
        width, height = (first_h, first_w) if k % 2 else (first_w, first_h)
        self.info = VideoInfo(
            path=self.path,
            fps=fps,
            frame_count=frame_count,
            width=width,
            height=height,
            rotation_deg=rotation,
            duration_sec=duration_sec,
            timing_note=self._timing.note,
        )
        self._rot_k = k

    def _first_frame(self, container: Any, stream: Any) -> av.VideoFrame:
        try:
            for frame in container.decode(stream):
                return frame
        except av.error.FFmpegError:
            pass
        raise VideoTruncatedError(
            f"{self.path}: no frame could be decoded (truncated or corrupt); "
            "re-copy the file or re-export it"
        )

    def iter_frames(self) -> Iterator[tuple[av.VideoFrame, float]]:
        """Yield ``(av.VideoFrame, timestamp_sec)`` without colour conversion or rotation, on
        a uniform grid (a variable-rate file's frames held or dropped; module docstring)."""
        self.frames_yielded = 0
        for item in self._gridded_frames():
            self.frames_yielded += 1
            yield item

    @property
    def ended_early(self) -> bool:
        """After iteration: the decoder failed, or far fewer frames came than announced."""
        expected = self.info.frame_count
        if self.max_frames is not None:
            expected = min(expected, self.max_frames)
        return self.truncated or self.frames_yielded < TRUNCATED_FRACTION * expected

    def _gridded_frames(self) -> Iterator[tuple[av.VideoFrame, float]]:
        if not self._timing.grid:
            yield from self._decoded_frames()
            return
        step = 1.0 / self._timing.fps
        held: tuple[av.VideoFrame, float] | None = None
        t0: float | None = None
        k = 0
        for frame, t_sec in self._decoded_frames():
            if t0 is None:
                t0 = t_sec
            # grid times before this frame (less half a step) show the frame held until now
            while held is not None and t0 + k * step < t_sec - 0.5 * step:
                yield held[0], k * step
                k += 1
            held = (frame, t_sec)
        if held is not None:
            yield held[0], k * step

    def _decoded_frames(self) -> Iterator[tuple[av.VideoFrame, float]]:
        """Every decoded frame with its own timestamp (or index / fps)."""
        container, stream = _open_container(self.path)
        stream.thread_type = "AUTO"
        stream.thread_count = self.thread_count
        time_base = float(stream.time_base) if stream.time_base else 0.0
        start_pts = stream.start_time
        fps = self.info.fps
        self.frames_read = 0
        self.truncated = False
        error: str | None = None
        try:
            decoder = container.decode(stream)
            while self.max_frames is None or self.frames_read < self.max_frames:
                try:
                    frame = next(decoder)
                except StopIteration:
                    break
                except av.error.FFmpegError as exc:
                    error = str(exc)
                    break
                if frame.pts is not None and time_base and not self._timing.by_index:
                    offset = start_pts if start_pts is not None else 0
                    t_sec = (frame.pts - offset) * time_base
                else:
                    t_sec = self.frames_read / fps
                self.frames_read += 1
                yield frame, t_sec
        finally:
            container.close()
        expected = self._container_frames  # decoded frames, before any resampling
        if self.max_frames is not None:
            expected = min(expected, self.max_frames)
        short = (
            self._container_frames > 0
            and self.frames_read < expected * _TRUNCATION_MIN_FRACTION
            and expected - self.frames_read > _TRUNCATION_SLACK_FRAMES
        )
        if error is not None or short:
            self.truncated = True
            if self.frames_read == 0:
                raise VideoTruncatedError(
                    f"{self.path}: no frame could be decoded (truncated or corrupt); "
                    "re-copy the file or re-export it"
                )
            warnings.warn(
                f"{self.path}: truncated or corrupt; decoded {self.frames_read} of about "
                f"{expected} frames" + (f" ({error})" if error else ""),
                VideoTruncatedWarning,
                stacklevel=2,
            )

    def to_rgb(self, frame: av.VideoFrame) -> np.ndarray:
        """(H, W, 3) uint8 RGB of a decoded frame, rotated upright."""
        rgb = frame_to_rgb(frame)
        return np.rot90(rgb, self._rot_k) if self._rot_k else rgb

    def __iter__(self) -> Iterator[FrameBatch]:
        frames: list[np.ndarray] = []
        times: list[float] = []
        start = 0
        for frame, t_sec in self.iter_frames():
            frames.append(self.to_rgb(frame))
            times.append(t_sec)
            if len(frames) == self.batch_size:
                yield FrameBatch(np.stack(frames), np.asarray(times, np.float64), start)
                start += len(frames)
                frames, times = [], []
        if frames:
            yield FrameBatch(np.stack(frames), np.asarray(times, np.float64), start)

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _natural_key(path: Path) -> tuple[Any, ...]:
    parts = re.split(r"(\d+)", path.name)
    return tuple(int(p) if p.isdigit() else p.lower() for p in parts)


def read_image(path: str | Path) -> np.ndarray:
    """Read a still image as (H, W, 3) uint8 RGB."""
    path = Path(path)
    if not path.is_file():
        raise VideoNotFoundError(f"{path}: image not found; check the path")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise VideoUnreadableError(f"{path}: not a readable image; pass a PNG or JPEG file")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class FrameDirReader:
    """Stream a folder of PNG/JPEG frames (sorted by the number in their names) as batches."""

    def __init__(
        self,
        directory: str | Path,
        fps: float | None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_frames: int | None = None,
    ) -> None:
        self.path = Path(directory)
        if not self.path.is_dir():
            raise VideoNotFoundError(f"{self.path}: frame folder not found; check the path")
        files = sorted(
            (p for p in self.path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
            key=_natural_key,
        )
        if not files:  # said before any missing frame rate: a rate would not help
            raise VideoUnreadableError(
                f"{self.path}: a folder with no videos and no {'/'.join(IMAGE_SUFFIXES)} "
                "frames; pass a video, or a folder of frames or photos"
            )
        if fps is None:
            raise VideoUnreadableError(
                f"{self.path}: a frame folder needs its frame rate; pass fps (e.g. --fps 30)"
            )
        if fps <= 0:
            raise VideoUnreadableError(f"{self.path}: frame rate must be > 0 (got {fps})")
        if max_frames is not None:
            files = files[:max_frames]
        self.files = files
        self.batch_size = batch_size
        first = read_image(files[0])
        self.info = VideoInfo(
            path=self.path,
            fps=float(fps),
            frame_count=len(files),
            width=first.shape[1],
            height=first.shape[0],
            rotation_deg=0,
            duration_sec=len(files) / fps,
        )
        self.truncated = False

    def __iter__(self) -> Iterator[FrameBatch]:
        fps = self.info.fps
        for start in range(0, len(self.files), self.batch_size):
            chunk = self.files[start : start + self.batch_size]
            frames = []
            for file in chunk:
                image = read_image(file)
                if image.shape[:2] != (self.info.height, self.info.width):
                    raise VideoUnreadableError(
                        f"{file}: frame size {image.shape[1]}x{image.shape[0]} differs from "
                        f"the first frame's {self.info.width}x{self.info.height}"
                    )
                frames.append(image)
            times = np.arange(start, start + len(chunk), dtype=np.float64) / fps
            yield FrameBatch(np.stack(frames), times, start)

    def __enter__(self) -> FrameDirReader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class StillImageReader:
    """A still image seen as a clip of ``n_frames`` identical frames at ``fps``."""

    def __init__(
        self,
        path: str | Path,
        n_frames: int,
        fps: float,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.path = Path(path)
        self.image = read_image(self.path)
        self.batch_size = batch_size
        self.info = VideoInfo(
            path=self.path,
            fps=float(fps),
            frame_count=n_frames,
            width=self.image.shape[1],
            height=self.image.shape[0],
            rotation_deg=0,
            duration_sec=n_frames / fps,
        )
        self.truncated = False

    def __iter__(self) -> Iterator[FrameBatch]:
        total = self.info.frame_count
        for start in range(0, total, self.batch_size):
            n = min(self.batch_size, total - start)
            frames = np.broadcast_to(self.image, (n, *self.image.shape)).copy()
            yield FrameBatch(frames, np.arange(start, start + n) / self.info.fps, start)


FrameSource = VideoReader | FrameDirReader | StillImageReader


def open_video(
    path: str | Path,
    fps: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_frames: int | None = None,
) -> FrameSource:
    """Open a video file or a frame folder (which needs ``fps``) as a batch source; ``fps``
    given for a file replaces its own rate (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        return FrameDirReader(path, fps, batch_size=batch_size, max_frames=max_frames)
    return VideoReader(path, batch_size=batch_size, max_frames=max_frames, fps=fps)


def read_video(
    path: str | Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_frames: int | None = None,
) -> Iterator[FrameBatch]:
    """Iterate over a video's :class:`FrameBatch` es (streaming; flat memory)."""
    yield from VideoReader(path, batch_size=batch_size, max_frames=max_frames)


def read_frame_dir(
    directory: str | Path,
    fps: float,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_frames: int | None = None,
) -> Iterator[FrameBatch]:
    """Iterate over a frame folder's :class:`FrameBatch` es (natural sort by number)."""
    yield from FrameDirReader(directory, fps, batch_size=batch_size, max_frames=max_frames)


def read_all(
    path: str | Path, fps: float | None = None, max_frames: int | None = None
) -> VideoClip:
    """Load a whole video or frame folder into memory (only for short clips)."""
    source = open_video(path, fps=fps, max_frames=max_frames)
    batches = list(source)
    if batches:
        frames = np.concatenate([b.frames for b in batches])
        times = np.concatenate([b.timestamps_sec for b in batches])
    else:
        frames = np.zeros((0, source.info.height, source.info.width, 3), np.uint8)
        times = np.zeros(0)
    return VideoClip(frames=frames, timestamps_sec=times, fps=source.info.fps, info=source.info)
