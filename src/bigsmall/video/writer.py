"""A small H.264 (MP4) writer on PyAV, atomic and deterministic.

Frames are encoded with libx264 in one thread (so the same frames give the same bytes) into a
temporary file beside the target, which is renamed into place when the writer closes without
error; on an exception the temporary file is removed and nothing is left at ``path``.

Example::

    with VideoWriter("clip.mp4", fps=30, width=320, height=240, crf=23) as writer:
        writer.write(frames)  # (T, 240, 320, 3) uint8 RGB
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import av
import numpy as np

#: Encoder and pixel format of every file this writer produces.
CODEC: str = "libx264"
PIXEL_FORMAT: str = "yuv420p"
#: Chroma subsampling of :data:`PIXEL_FORMAT` requires even frame sides.
_SIDE_MULTIPLE: int = 2
#: ITU-R BT.601 limited-range RGB -> Y'CbCr weights (inputs 0-255).
_Y_WEIGHTS = np.array([0.256788, 0.504129, 0.097906], np.float32)
_CB_WEIGHTS = np.array([-0.148223, -0.290993, 0.439216], np.float32)
_CR_WEIGHTS = np.array([0.439216, -0.367788, -0.071427], np.float32)
_Y_OFFSET = np.float32(16.0)
#: Zeroed rows kept after each frame's buffer (guards reads past the last row).
_SPARE_ROWS: int = 64
_C_OFFSET = np.float32(128.0)


class VideoWriter:
    """Write RGB frames to an H.264 MP4 file (context manager).

    Args:
        path: output file (``.mp4``); written to a temporary sibling and renamed on close.
        fps: frame rate (frames per second; fractional rates are kept as a rational).
        width, height: frame size in pixels (even numbers, as yuv420p requires).
        crf: libx264 constant rate factor (0 = lossless ... 51 = worst).
        preset: libx264 speed preset (``ultrafast`` ... ``veryslow``).
        threads: encoder threads; 1 (with a preset of "superfast" or faster: the mb-tree
            lookahead of slower presets was seen to vary between processes) gives
            byte-identical output for identical input.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float,
        width: int,
        height: int,
        crf: int = 23,
        preset: str = "superfast",
        threads: int = 1,
    ) -> None:
        if width % _SIDE_MULTIPLE or height % _SIDE_MULTIPLE:
            raise ValueError(f"frame size must be even for {PIXEL_FORMAT}, got {width}x{height}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = Path(path)
        self.fps = fps
        self.width = width
        self.height = height
        self.crf = crf
        self.preset = preset
        self.threads = threads
        self.frames_written = 0
        self._tmp_path = self.path.with_name(
            f".{self.path.stem}.tmp{os.getpid()}{self.path.suffix}"
        )
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None

    def __enter__(self) -> VideoWriter:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def open(self) -> None:
        """Open the temporary output file and the encoder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(
            str(self._tmp_path), mode="w", format="mp4", options={"fflags": "+bitexact"}
        )
        rate = _as_fraction(self.fps)
        stream = container.add_stream(CODEC, rate=rate)
        stream.width = self.width
        stream.height = self.height
        stream.pix_fmt = PIXEL_FORMAT
        stream.codec_context.thread_count = self.threads
        stream.codec_context.options = {
            "crf": str(self.crf),
            "preset": self.preset,
            "threads": str(self.threads),
        }
        self._container = container
        self._stream = stream

    def write(self, frames: np.ndarray) -> None:
        """Encode frames: ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB."""
        if self._container is None or self._stream is None:
            raise RuntimeError("VideoWriter is not open; use it as a context manager")
        batch = np.asarray(frames)
        if batch.ndim == 3:
            batch = batch[None]
        if batch.dtype != np.uint8 or batch.shape[1:] != (self.height, self.width, 3):
            raise ValueError(
                f"expected uint8 frames of shape (T, {self.height}, {self.width}, 3), "
                f"got {batch.dtype} {batch.shape}"
            )
        for frame in batch:
            video_frame = _yuv_frame(rgb_to_i420(frame), self.width, self.height)
            video_frame.pts = self.frames_written
            self._container.mux(self._stream.encode(video_frame))
            self.frames_written += 1

    def close(self) -> None:
        """Flush the encoder and move the finished file to ``path``."""
        if self._container is None or self._stream is None:
            return
        self._container.mux(self._stream.encode(None))
        self._container.close()
        self._container = None
        self._stream = None
        os.replace(self._tmp_path, self.path)

    def abort(self) -> None:
        """Discard the partial file."""
        if self._container is not None:
            try:
                self._container.close()
            except (OSError, ValueError, av.FFmpegError):
                pass
            self._container = None
            self._stream = None
        self._tmp_path.unlink(missing_ok=True)


def _yuv_frame(i420: np.ndarray, width: int, height: int) -> av.VideoFrame:
    """A yuv420p frame over our own zero-padded buffer (no uninitialised bytes).

    Frames allocated by FFmpeg carry uninitialised row and line padding, which made libx264's
    output depend on earlier allocations; this buffer has zeroed spare rows after the image.
    """
    rows = height * 3 // 2
    buffer = np.zeros((rows + _SPARE_ROWS, width), np.uint8)
    buffer[:rows] = i420
    return av.VideoFrame.from_numpy_buffer(buffer[:rows], format=PIXEL_FORMAT)


def _weighted(rgb: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-pixel weighted channel sum (element-wise, not BLAS: the same bits on every call)."""
    return rgb[..., 0] * weights[0] + rgb[..., 1] * weights[1] + rgb[..., 2] * weights[2]


def rgb_to_i420(frame: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H * 3 / 2, W) uint8 planar I420, BT.601 limited range.

    Done here rather than by FFmpeg's swscale, whose output was seen to vary between calls
    for the same input (breaking byte-identical videos for identical frames).
    """
    rgb = frame.astype(np.float32)
    height, width = frame.shape[:2]
    luma = _weighted(rgb, _Y_WEIGHTS) + _Y_OFFSET
    # chroma from the 2x2 block means
    blocks = rgb.reshape(height // 2, 2, width // 2, 2, 3).mean(axis=(1, 3))
    cb = _weighted(blocks, _CB_WEIGHTS) + _C_OFFSET
    cr = _weighted(blocks, _CR_WEIGHTS) + _C_OFFSET
    planes = [luma.ravel(), cb.ravel(), cr.ravel()]
    out = np.concatenate(planes)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(height * 3 // 2, width)


def _as_fraction(fps: float) -> int | object:
    """An integer rate when ``fps`` is whole, otherwise a rational close to it."""
    from fractions import Fraction

    if float(fps).is_integer():
        return int(fps)
    return Fraction(fps).limit_denominator(1001)
