"""Frames stored as image files: a zip archive (BP4D+'s ``2D+3D/F001.zip``) or a folder.

Members are ordered by *natural* sort of their names (``2.jpg`` before ``10.jpg``), the same
order :func:`list_zip_frames` / :func:`list_frame_files` report, so a source can count frames
without decoding and the reader yields them in the order the labels were aligned to.
Decoding is OpenCV's ``imdecode``; frames come out as :class:`~bigsmall.video.io.FrameBatch`
es of uint8 RGB, like the rest of the video layer.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from bigsmall.errors import VideoNotFoundError, VideoTruncatedError, VideoUnreadableError
from bigsmall.video.io import DEFAULT_BATCH_SIZE, IMAGE_SUFFIXES, FrameBatch

#: File extensions treated as frames (lower case): the same as the frame-folder reader's.
IMAGE_EXTENSIONS: tuple[str, ...] = IMAGE_SUFFIXES

_DIGITS = re.compile(r"(\d+)")


def natural_sort_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Key sorting ``"img2"`` before ``"img10"`` (digit runs compare as numbers)."""
    parts = _DIGITS.split(name)
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts if p)


def _is_image(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


def list_zip_frames(zip_path: str | Path, member_prefix: str | None = None) -> list[str]:
    """Image members of ``zip_path`` under ``member_prefix`` (case-insensitive), natural-sorted.

    Reads only the archive's directory: nothing is decompressed.
    """
    zip_path = Path(zip_path)
    if not zip_path.is_file():
        raise VideoNotFoundError(f"{zip_path}: frame archive not found; check the dataset path")
    prefix = (member_prefix or "").replace("\\", "/").lower()
    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = [
                info.filename
                for info in archive.infolist()
                if not info.is_dir()
                and _is_image(info.filename)
                and info.filename.replace("\\", "/").lower().startswith(prefix)
            ]
    except (zipfile.BadZipFile, OSError) as exc:
        raise VideoUnreadableError(f"{zip_path}: not a readable zip archive ({exc})") from exc
    return sorted(names, key=natural_sort_key)


def list_frame_files(frame_dir: str | Path) -> list[Path]:
    """Image files directly inside ``frame_dir``, natural-sorted by name."""
    frame_dir = Path(frame_dir)
    if not frame_dir.is_dir():
        raise VideoNotFoundError(f"{frame_dir}: frame folder not found; check the dataset path")
    files = [p for p in frame_dir.iterdir() if p.is_file() and _is_image(p.name)]
    return sorted(files, key=lambda p: natural_sort_key(p.name))


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Decode one encoded image to ``(H, W, 3)`` uint8 RGB."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise VideoTruncatedError(f"{name}: frame image cannot be decoded (corrupt or empty)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _select(names: list, frame_range: tuple[int, int] | None) -> tuple[list, int]:
    if frame_range is None:
        return names, 0
    start, stop = frame_range
    return names[start:stop], start


def _batches(
    read: Iterator[np.ndarray], first_index: int, fps: float, batch_size: int, source: str
) -> Iterator[FrameBatch]:
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    batch: list[np.ndarray] = []
    index = first_index
    for frame in read:
        if batch and frame.shape != batch[0].shape:
            raise VideoUnreadableError(
                f"{source}: frame {index} has shape {frame.shape}, others {batch[0].shape}"
            )
        batch.append(frame)
        index += 1
        if len(batch) == batch_size:
            yield _to_batch(batch, index, fps)
            batch = []
    if batch:
        yield _to_batch(batch, index, fps)


def _to_batch(frames: list[np.ndarray], stop_index: int, fps: float) -> FrameBatch:
    start = stop_index - len(frames)
    times_sec = np.arange(start, stop_index, dtype=np.float64) / fps
    return FrameBatch(np.stack(frames), times_sec, start)


def read_frame_zip(
    zip_path: str | Path,
    fps: float,
    member_prefix: str | None = None,
    *,
    frame_range: tuple[int, int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[FrameBatch]:
    """Stream the frames stored in a zip archive.

    Args:
        zip_path: the archive.
        fps: frame rate used for the timestamps.
        member_prefix: only members under this prefix (e.g. ``"F001/T1/"``), case-insensitive.
        frame_range: ``(start, stop)`` indices into the natural-sorted member list, or ``None``.
        batch_size: frames per yielded batch (the last one may be shorter).

    Yields:
        :class:`FrameBatch` es: ``frames`` ``(B, H, W, 3)`` uint8 RGB, ``timestamps_sec``
        ``(B,)`` = ``index / fps`` and ``start_index``, where indices count from the first
        member under the prefix (not from ``frame_range``).
    """
    names, first = _select(list_zip_frames(zip_path, member_prefix), frame_range)

    def decode_all() -> Iterator[np.ndarray]:
        with zipfile.ZipFile(zip_path) as archive:
            for name in names:
                try:
                    data = archive.read(name)
                except (zipfile.BadZipFile, OSError) as exc:
                    message = f"{zip_path}: member {name} unreadable ({exc})"
                    raise VideoTruncatedError(message) from exc
                yield decode_image(data, f"{zip_path}:{name}")

    yield from _batches(decode_all(), first, fps, batch_size, str(zip_path))


def read_frame_files(
    frame_dir: str | Path,
    fps: float,
    *,
    frame_range: tuple[int, int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[FrameBatch]:
    """Stream the image files of a folder (natural-sorted), as :func:`read_frame_zip` does."""
    files, first = _select(list_frame_files(frame_dir), frame_range)

    def decode_all() -> Iterator[np.ndarray]:
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise VideoTruncatedError(f"{path}: frame file unreadable ({exc})") from exc
            yield decode_image(data, str(path))

    yield from _batches(decode_all(), first, fps, batch_size, str(frame_dir))
