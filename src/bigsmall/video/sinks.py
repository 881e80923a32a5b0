"""Where a clip's uint8 Big frames go while they are built: RAM for short clips, a temporary
file (read back as a memory map) for long ones, so that memory stays flat in video length."""

from __future__ import annotations

import mmap
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np


def release_pages(frames: np.ndarray) -> None:
    """Drop the resident pages of a memory-mapped array (they are re-read from the file when
    touched again), so that scanning a long video's crops keeps the resident memory flat."""
    handle = getattr(frames, "_mmap", None)
    if isinstance(handle, mmap.mmap) and hasattr(handle, "madvise"):
        handle.madvise(mmap.MADV_DONTNEED)


class BigFrameSink(Protocol):
    """Receives the uint8 Big frames batch by batch; ``finish`` returns them as (T, h, w, 3)."""

    def write(self, frames: np.ndarray) -> None: ...

    def finish(self) -> np.ndarray: ...


class MemoryBigSink:
    """Keeps the Big frames in RAM (short clips)."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []

    def write(self, frames: np.ndarray) -> None:
        self._parts.append(frames.copy())

    def adopt(self, frames: np.ndarray) -> None:
        """Keep ``frames`` without copying; the caller must not write to them again."""
        self._parts.append(frames)

    def finish(self) -> np.ndarray:
        return np.concatenate(self._parts) if self._parts else np.zeros((0, 0, 0, 3), np.uint8)


class FileBigSink:
    """Writes the Big frames to ``path`` (an anonymous temporary file by default) and maps
    it back.

    The temporary file has no name from the start (``tempfile.TemporaryFile``: unlinked at
    once), so nothing is left behind whatever ends the process (Ctrl-C, an error, SIGKILL);
    its space is freed with the returned read-only :class:`numpy.memmap`. Written with
    ``write()`` (not through a mapping) so the pages never count in this process's resident
    memory.
    """

    def __init__(self, path: str | Path | None = None, directory: str | Path | None = None):
        self.path = None if path is None else Path(path)
        if self.path is None:
            self._file = tempfile.TemporaryFile(prefix="bigsmall_big_", dir=directory)
        else:
            self._file = self.path.open("w+b")
        self._shape: tuple[int, ...] | None = None
        self._count = 0

    def write(self, frames: np.ndarray) -> None:
        self._shape = frames.shape[1:]
        self._count += frames.shape[0]
        self._file.write(np.ascontiguousarray(frames, dtype=np.uint8).tobytes())

    def finish(self) -> np.ndarray:
        self._file.flush()
        if self._shape is None or self._count == 0:
            result = np.zeros((0, 0, 0, 3), np.uint8)
        else:
            shape = (self._count, *self._shape)
            result = np.memmap(self._file, np.uint8, mode="r", shape=shape)
        self._file.close()  # the mapping keeps its own handle
        return result
