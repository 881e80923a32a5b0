"""BigSmall inputs from a video in one streaming pass, with memory flat in video length.

Narayanswamy et al., "BigSmall: Efficient Multi-Task Learning for Disparate Spatial and
Temporal Physiological Measurements", WACV 2024. Per frame: face box (detected every K
frames, enlarged 1.5x) -> crop -> 144x144 area resize (uint8). From those frames:

* Big ("Standardized"): x = clip(u / 255, 1/255, 1); (x - mean) / std over the whole clip.
  The clip's mean/std come from a 256-bin histogram of the uint8 values, so they are exact;
  the uint8 frames go to a sink (memory or a temporary file read back as a memmap) and
  :meth:`BigSmallInputs.big_standardized` applies the formula on load.
* Small ("DiffNormalized"): d_t = (x_{t+1} - x_t) / (x_{t+1} + x_t + 1e-7) at 144x144 in
  float32, area-resized to 9x9; running sums of d and d^2 over all 144x144 values give the
  clip's std, and the division is applied at the end (area resize is linear, so this equals
  resizing d / std). The last frame is zero, NaN -> 0.
* The face's mean RGB, (T, 3), from the 144x144 crop (area resize keeps the mean up to
  rounding), for classic rPPG methods.

For 8-bit 4:2:0 video without rotation the face is cropped straight from the decoded YUV
planes and only the crop is converted to RGB (OpenCV BT.601, as :func:`io.frame_to_rgb`); the
result equals converting the whole frame and cropping. Detection runs on the luma plane.
"""

from __future__ import annotations

import mmap
import queue
import tempfile
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import cv2
import numpy as np

from bigsmall.errors import NoFaceError, VideoTooShortError
from bigsmall.video.aligned_big import AlignedBig, AlignedBigBuilder, Aligner, align_region
from bigsmall.video.boxes import DEFAULT_ENLARGE_COEF, Box, FaceTracker
from bigsmall.video.crop import BIG_SIZE_HW, bp4d_square_box
from bigsmall.video.face import FaceDetector, HaarCascadeDetector
from bigsmall.video.framing import BP4D_FRAMING, Framing, framing_box
from bigsmall.video.io import (
    DEFAULT_BATCH_SIZE,
    FrameBatch,
    FrameSource,
    VideoReader,
    open_video,
)
from bigsmall.video.normalize import DIFF_EPS, standardize_table, unit_levels

#: BigSmall's Small input size (height, width).
SMALL_SIZE_HW: tuple[int, int] = (9, 9)
#: Frames re-detected every this many frames by default (1 s at 30 fps).
DEFAULT_EVERY_K_FRAMES: int = 30
#: Clips whose Big frames exceed this many bytes go to a temporary file, not RAM.
DEFAULT_MEMORY_SINK_MAX_BYTES: int = 64 * 2**20
#: Batches queued between the decoding thread and the accumulating thread.
_QUEUE_BATCHES: int = 2
#: A batch handed to the consumer thread holds at most this many bytes of crops.
_HANDOFF_MAX_BYTES: int = 16 * 1024 * 1024
_MIN_FRAMES: int = 2
#: Crops downscaled by at least this factor are area-resized on a float32 copy (faster there).
_FLOAT_RESIZE_MIN_SCALE: float = 1.3


# ---------------------------------------------------------------------------- sinks
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


# ---------------------------------------------------------------------------- result
@dataclass
class BigSmallInputs:
    """BigSmall inputs of one clip.

    big_uint8: (T, h, w, 3) uint8 face crops (may be a read-only memmap).
    big_mean, big_std: statistics of clip(big_uint8 / 255, 1/255, 1) over the whole clip.
    small: (T, 9, 9, 3) float32 diff-normalized frames (last frame zero).
    rgb: (T, 3) float64 mean RGB (0..255) of the face crop.
    boxes: (T, 4) float64 crop boxes ``[x, y, w, h]`` in frame pixels.
    face_found: (T,) bool; see :class:`bigsmall.video.boxes.FaceTracker`.
    timestamps_sec: (T,) float64.
    aligned: landmark-aligned Big frames for the frames the network reads, when asked for
        (:class:`bigsmall.video.aligned_big.AlignedBig`); the network's Big input then.
    """

    big_uint8: np.ndarray
    big_mean: float
    big_std: float
    small: np.ndarray
    rgb: np.ndarray
    boxes: np.ndarray
    face_found: np.ndarray
    fps: float
    timestamps_sec: np.ndarray
    truncated: bool = False
    aligned: AlignedBig | None = None

    def __len__(self) -> int:
        return int(self.small.shape[0])

    def big_standardized(
        self, start: int = 0, stop: int | None = None, step: int = 1
    ) -> np.ndarray:
        """(n, h, w, 3) float32 standardized Big frames for ``[start:stop:step]``; NaN -> 0."""
        table = standardize_table(self.big_mean, self.big_std)
        return table[np.asarray(self.big_uint8[start:stop:step])]


# ---------------------------------------------------------------------------- frame views
class _FrameView(Protocol):
    width: int
    height: int

    def detect(self, detector: FaceDetector, near: Box | None) -> list[Box]: ...

    def crop(self, box: Box | None) -> np.ndarray: ...


class _RgbView:
    def __init__(self, rgb: np.ndarray) -> None:
        self.rgb = rgb
        self.height, self.width = rgb.shape[:2]

    def detect(self, detector: FaceDetector, near: Box | None) -> list[Box]:
        detect_gray = getattr(detector, "detect_gray", None)
        if detect_gray is not None:
            return detect_gray(cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY), near)
        return detector.detect(self.rgb)

    def crop(self, box: Box | None) -> np.ndarray:
        if box is None:
            return self.rgb
        x0, y0, x1, y1 = box.clip(self.width, self.height).to_int()
        return self.rgb[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else self.rgb


def _plane(frame: av.VideoFrame, index: int, height: int, width: int) -> np.ndarray:
    plane = frame.planes[index]
    return np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:height, :width]


class _I420View:
    """A yuv420p frame (even size, no rotation): crops converted to RGB on their own."""

    def __init__(self, frame: av.VideoFrame) -> None:
        self.width, self.height = frame.width, frame.height
        half_h, half_w = self.height // 2, self.width // 2
        self.y = _plane(frame, 0, self.height, self.width)
        self.u = _plane(frame, 1, half_h, half_w)
        self.v = _plane(frame, 2, half_h, half_w)

    def detect(self, detector: FaceDetector, near: Box | None) -> list[Box]:
        detect_gray = getattr(detector, "detect_gray", None)
        if detect_gray is not None:
            return detect_gray(self.y, near)
        full = np.concatenate([self.y.ravel(), self.u.ravel(), self.v.ravel()])
        rgb = cv2.cvtColor(full.reshape(-1, self.width), cv2.COLOR_YUV2RGB_I420)
        return detector.detect(rgb)

    def crop(self, box: Box | None) -> np.ndarray:
        x0, y0, x1, y1 = 0, 0, self.width, self.height
        if box is not None:
            bx0, by0, bx1, by1 = box.clip(self.width, self.height).to_int()
            if bx1 > bx0 and by1 > by0:
                x0, y0, x1, y1 = bx0, by0, bx1, by1
        # Convert the even-aligned region around the crop (chroma is per 2x2 block), then cut
        # the crop itself: identical to converting the whole frame and cropping.
        ax0, ay0 = x0 - x0 % 2, y0 - y0 % 2
        ax1, ay1 = min(x1 + x1 % 2, self.width), min(y1 + y1 % 2, self.height)
        rgb = self._convert(ax0, ay0, ax1, ay1)
        return rgb[y0 - ay0 : y1 - ay0, x0 - ax0 : x1 - ax0]

    def _convert(self, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
        h, w = y1 - y0, x1 - x0
        buf = np.empty(h * w * 3 // 2, np.uint8)
        quarter = (h // 2) * (w // 2)
        buf[: h * w].reshape(h, w)[:] = self.y[y0:y1, x0:x1]
        cy0, cy1, cx0, cx1 = y0 // 2, y1 // 2, x0 // 2, x1 // 2
        buf[h * w : h * w + quarter].reshape(h // 2, w // 2)[:] = self.u[cy0:cy1, cx0:cx1]
        buf[h * w + quarter :].reshape(h // 2, w // 2)[:] = self.v[cy0:cy1, cx0:cx1]
        return cv2.cvtColor(buf.reshape(h * 3 // 2, w), cv2.COLOR_YUV2RGB_I420)


def _views_from_reader(reader: VideoReader) -> Iterator[tuple[_FrameView, float]]:
    for frame, t_sec in reader.iter_frames():
        fast = (
            reader._rot_k == 0
            and frame.format.name == "yuv420p"
            and frame.width % 2 == 0
            and frame.height % 2 == 0
        )
        yield (_I420View(frame) if fast else _RgbView(reader.to_rgb(frame))), t_sec


def _views_from_batches(batches: Iterable[FrameBatch]) -> Iterator[tuple[_FrameView, float]]:
    for batch in batches:
        for frame, t_sec in zip(batch.frames, batch.timestamps_sec, strict=True):
            yield _RgbView(frame), float(t_sec)


# ---------------------------------------------------------------------------- box policies
def _face_policy(
    detector: FaceDetector, every_k_frames: int, enlarge_coef: float, square: bool
) -> Callable[[_FrameView], tuple[Box | None, bool]]:
    state: dict[str, Any] = {"tracker": None}

    def policy(view: _FrameView) -> tuple[Box | None, bool]:
        tracker = state["tracker"]
        if tracker is None:
            tracker = FaceTracker(
                view.width, view.height, every_k_frames, enlarge_coef, square=square
            )
            state["tracker"] = tracker
        # Until a face is first found, look on every frame.
        if tracker.box is None or tracker.wants_detection():
            near = tracker.last_face
            faces = view.detect(detector, near)
            if not faces and near is not None:
                # Lost near the last face (moved, or too coarse at the tracking scale): search
                # the whole frame now rather than holding a stale box for a whole period.
                faces = view.detect(detector, None)
            return tracker.update(faces)
        return tracker.update(None)

    return policy


def _framing_policy(
    detector: FaceDetector, every_k_frames: int, framing: Framing
) -> Callable[[_FrameView], tuple[Box | None, bool]]:
    """Track the face box itself (no enlargement) and frame it as ``framing`` says; the box may
    leave the frame (see :func:`_padded_crop`)."""
    track = _face_policy(detector, every_k_frames, 1.0, False)

    def policy(view: _FrameView) -> tuple[Box | None, bool]:
        box, found = track(view)
        return (None if box is None else framing_box(box, framing)), found

    return policy


def _plain_crop(view: _FrameView, box: Box | None) -> np.ndarray:
    return view.crop(box)


def _padded_crop(view: _FrameView, box: Box | None) -> np.ndarray:
    """The crop of ``box`` with the parts outside the frame filled by replicating edge pixels
    (what :func:`bigsmall.video.framing.crop_square_padded` does on a whole RGB frame)."""
    crop = view.crop(box)
    if box is None:
        return crop
    x0, y0, x1, y1 = box.to_int()
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = max(0, y1 - view.height), max(0, x1 - view.width)
    if top or left or bottom or right:
        crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
    return crop


def _bp4d_policy(view: _FrameView) -> tuple[Box | None, bool]:
    return bp4d_square_box(view.width, view.height), True


def _full_policy(view: _FrameView) -> tuple[Box | None, bool]:
    return Box(0.0, 0.0, float(view.width), float(view.height)), True


#: Crop modes: ``face`` (detect + track), ``bp4d`` (bottom square, no detection), ``full``.
CROP_MODES: tuple[str, ...] = ("face", "bp4d", "full", "bp4d_framing")
#: Crop modes that detect the face.
_DETECTING_MODES: frozenset[str] = frozenset({"face", "bp4d_framing"})
#: Crop modes whose box may extend past the frame (the crop is padded, not clipped).
_PADDED_MODES: frozenset[str] = frozenset({"bp4d_framing"})


# ---------------------------------------------------------------------------- threading
#: One prepared frame: (RGB crop, box (x, y, w, h), face found, timestamp in s, aligned face
#: or None when the frame is aligned, else :data:`_NOT_ALIGNED`).
_Prepared = tuple[np.ndarray, tuple[float, float, float, float], bool, float, Any]
_NOT_ALIGNED = object()
_DONE = object()


def _in_background(items: Iterator[_Prepared], batch_size: int) -> Iterator[_Prepared]:
    """Run ``items`` on a daemon thread, handing over lists of ``batch_size`` items.

    Batching keeps thread hand-offs (and GIL switches) rare; the queue bounds memory to
    a few batches, each at most ``batch_size`` items and :data:`_HANDOFF_MAX_BYTES` of crops.
    Exceptions (and warnings' side effects) of the producer surface here.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=_QUEUE_BATCHES)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            batch: list[_Prepared] = []
            held = 0
            for item in items:
                batch.append(item)
                held += item[0].nbytes
                # by count, or sooner for big crops (4K video): memory stays flat in resolution
                if len(batch) == batch_size or held >= _HANDOFF_MAX_BYTES:
                    if not put(batch):
                        return
                    batch, held = [], 0
            if batch:
                put(batch)
        except BaseException as exc:  # handed to the consumer, re-raised there
            put(exc)
        finally:
            put(_DONE)

    worker = threading.Thread(target=produce, name="bigsmall-decode", daemon=True)
    worker.start()
    try:
        while (got := handoff.get()) is not _DONE:
            if isinstance(got, BaseException):
                raise got
            yield from got
    finally:
        stop.set()
        worker.join()


# ---------------------------------------------------------------------------- builder
class _Accumulator:
    """Per-frame Big/Small/RGB computation with running statistics (cache-sized arrays).

    Big statistics accumulate sum(x) and sum(x^2) of the unit-float frames in float64;
    Small statistics accumulate sum(d) and sum(d^2) of the 144x144 differences in float64.
    """

    def __init__(
        self,
        size_hw: tuple[int, int],
        small_hw: tuple[int, int],
        batch: int,
        sink: BigFrameSink,
    ) -> None:
        self.size_hw, self.small_hw = size_hw, small_hw
        self.buf = np.empty((batch, *size_hw, 3), np.uint8)
        self.n = 0
        self.sink = sink
        self.lut = unit_levels()
        self.x_sum = self.x_sumsq = 0.0
        self.d_sum = self.d_sumsq = 0.0
        self.n_frames = 0
        self.prev: np.ndarray | None = None
        self.eps = np.full((*size_hw, 3), DIFF_EPS, np.float32)
        self.x_bufs = (np.empty((*size_hw, 3), np.float32), np.empty((*size_hw, 3), np.float32))
        self.d_buf = np.empty((*size_hw, 3), np.float32)
        self.den_buf = np.empty((*size_hw, 3), np.float32)
        self.small: list[np.ndarray] = []
        self.small_buf = np.empty((batch, *small_hw, 3), np.float32)
        self.n_small = 0
        self.rgb = array("d")  # flat (T * 3,) mean RGB

    def slot(self) -> np.ndarray:
        """The (h, w, 3) uint8 buffer the next Big frame is written into (then :meth:`commit`)."""
        return self.buf[self.n]

    def add(self, big_rgb: np.ndarray) -> None:
        """Add one (h, w, 3) uint8 Big frame (already cropped and resized)."""
        self.slot()[:] = big_rgb
        self.commit()

    def commit(self) -> None:
        """Account for the Big frame just written into :meth:`slot`.

        Every step writes into buffers allocated once (two x buffers swap roles as the
        current and previous frame), so a frame costs no allocations.
        """
        big = self.buf[self.n]
        self.n += 1
        self.n_frames += 1
        pixels = big.shape[0] * big.shape[1]
        self.rgb.extend(v / pixels for v in cv2.sumElems(big)[:3])
        x = cv2.LUT(big, self.lut, dst=self.x_bufs[self.n_frames % 2])
        self.x_sum += sum(cv2.sumElems(x))
        self.x_sumsq += cv2.norm(x, cv2.NORM_L2SQR)
        if self.prev is not None:
            d, den = self.d_buf, self.den_buf
            cv2.subtract(x, self.prev, dst=d)
            cv2.add(x, self.prev, dst=den)
            cv2.add(den, self.eps, dst=den)
            cv2.divide(d, den, dst=d)
            self.d_sum += sum(cv2.sumElems(d))
            self.d_sumsq += cv2.norm(d, cv2.NORM_L2SQR)
            small_h, small_w = self.small_hw
            cv2.resize(
                d,
                (small_w, small_h),
                dst=self.small_buf[self.n_small],
                interpolation=cv2.INTER_AREA,
            )
            self.n_small += 1
            if self.n_small == self.small_buf.shape[0]:
                self.small.append(self.small_buf.copy())
                self.n_small = 0
        self.prev = x
        if self.n == self.buf.shape[0]:
            self.flush()

    def flush(self) -> None:
        if self.n:
            adopt = getattr(self.sink, "adopt", None)
            if adopt is not None:  # hand the batch over and write the next one elsewhere
                adopt(self.buf[: self.n])
                self.buf = np.empty_like(self.buf)
            else:
                self.sink.write(self.buf[: self.n])
            self.n = 0

    def big_stats(self) -> tuple[float, float]:
        count = self.n_frames * int(np.prod(self.size_hw)) * 3
        mean = self.x_sum / count
        return mean, float(np.sqrt(max(self.x_sumsq / count - mean * mean, 0.0)))

    def small_result(self) -> np.ndarray:
        small_h, small_w = self.small_hw
        parts = [*self.small, self.small_buf[: self.n_small]]
        parts.append(np.zeros((1, small_h, small_w, 3), np.float32))
        small = np.concatenate(parts)
        self.small.clear()
        count = max(self.n_frames - 1, 1) * int(np.prod(self.size_hw)) * 3
        mean = self.d_sum / count
        std = np.sqrt(max(self.d_sumsq / count - mean * mean, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            small /= np.float32(std)
        small[~np.isfinite(small)] = 0.0
        return small


def build_bigsmall_inputs(
    source: str | Path | FrameSource | Iterable[FrameBatch],
    *,
    crop: str = "face",
    detector: FaceDetector | None = None,
    every_k_frames: int = DEFAULT_EVERY_K_FRAMES,
    enlarge_coef: float = DEFAULT_ENLARGE_COEF,
    square: bool = False,
    size_hw: tuple[int, int] = BIG_SIZE_HW,
    small_hw: tuple[int, int] = SMALL_SIZE_HW,
    fps: float | None = None,
    max_frames: int | None = None,
    big_sink: BigFrameSink | str = "auto",
    require_face: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    threaded: bool = True,
    align: Aligner | None = None,
    align_side: int | None = None,
    align_stride: int = 1,
) -> BigSmallInputs:
    """Decode once and build BigSmall's Big/Small inputs, boxes and the face RGB trace.

    source: a video path, a frame folder (needs ``fps``), a reader from
        :func:`bigsmall.video.io.open_video`, or any iterable of :class:`FrameBatch`
        (then ``fps`` is required).
    crop: one of :data:`CROP_MODES`. ``face`` detects every ``every_k_frames`` frames (every
        frame until the first face), keeps the largest face, enlarges it by ``enlarge_coef``;
        frames before the first face use the whole frame and have ``face_found`` False.
        ``bp4d_framing`` tracks the face the same way and crops it as
        :data:`bigsmall.video.framing.BP4D_FRAMING` (the framing the authors' BP4D+ weights
        learned: a square 2.6 face widths wide), padding where it leaves the frame.
    big_sink: ``"auto"`` (RAM for short clips, else a temporary file), ``"memory"``,
        ``"file"``, or a :class:`BigFrameSink`.
    require_face: raise :class:`NoFaceError` when a detecting mode finds no face at all.
    threaded: decode, detect and crop on a background thread (handing over ``batch_size``
        frames at a time) while the calling thread resizes and computes the inputs; a video
        path is then decoded with one FFmpeg thread (less CPU than frame threading, and the
        two Python-level threads already fill two cores).
    align: a landmark aligner (:class:`bigsmall.video.align.FaceAligner`): frames ``0,
        align_stride, 2·align_stride, ...`` are also aligned into ``align_side``² images
        (:attr:`BigSmallInputs.aligned`), searched in a region around the tracked face.
    """
    if crop not in CROP_MODES:
        raise ValueError(f"unknown crop mode {crop!r}; choose from {CROP_MODES}")
    name: str
    if isinstance(source, str | Path):
        if Path(source).is_dir():
            source = open_video(source, fps=fps, batch_size=batch_size, max_frames=max_frames)
        else:
            decode_threads = 1 if threaded else 0
            source = VideoReader(
                source, batch_size, max_frames, thread_count=decode_threads, fps=fps
            )
    info = getattr(source, "info", None)
    if isinstance(source, VideoReader):
        views = _views_from_reader(source)
    else:
        views = _views_from_batches(source)
    if info is not None:
        name, clip_fps = str(info.path), info.fps
    else:
        if fps is None:
            raise ValueError("fps is required when source is a plain iterable of FrameBatch")
        name, clip_fps = "frames", float(fps)

    if isinstance(big_sink, str):
        frame_bytes = int(np.prod(size_hw)) * 3
        expected = info.frame_count if info is not None else 0
        # Unknown length (a plain iterable, or no frame count) goes to a file to be safe.
        auto_file = expected == 0 or expected * frame_bytes > DEFAULT_MEMORY_SINK_MAX_BYTES
        use_file = big_sink == "file" or (big_sink == "auto" and auto_file)
        sink: BigFrameSink = FileBigSink() if use_file else MemoryBigSink()
    else:
        sink = big_sink

    policies: dict[str, Callable[[], Callable[[_FrameView], tuple[Box | None, bool]]]] = {
        "face": lambda: _face_policy(
            detector or HaarCascadeDetector(), every_k_frames, enlarge_coef, square
        ),
        "bp4d": lambda: _bp4d_policy,
        "full": lambda: _full_policy,
        "bp4d_framing": lambda: _framing_policy(
            detector or HaarCascadeDetector(), every_k_frames, BP4D_FRAMING
        ),
    }
    policy = policies[crop]()
    acc = _Accumulator(size_hw, small_hw, batch_size, sink)
    boxes = array("d")  # flat (T * 4,) [x, y, w, h]
    found = bytearray()
    times = array("d")
    n_frames = 0
    height, width = size_hw

    float_crop: dict[tuple[int, ...], np.ndarray] = {}  # reused while the box stays put
    float_big = np.empty((height, width, 3), np.float32)

    def resize_big(crop_rgb: np.ndarray, out: np.ndarray) -> None:
        """Area-resize the (H, W, 3) uint8 crop into ``out`` (h, w, 3) uint8."""
        min_scale = min(crop_rgb.shape[0] / height, crop_rgb.shape[1] / width)
        if min_scale >= _FLOAT_RESIZE_MIN_SCALE:
            # Strong downscaling: OpenCV's uint8 area resize computes in float and rounds;
            # doing it on a float32 copy gives identical frames and is faster there (the
            # uint8 path is faster for mild downscaling, where the copy dominates).
            crop_f = float_crop.get(crop_rgb.shape)
            if crop_f is None:
                float_crop.clear()
                crop_f = float_crop[crop_rgb.shape] = np.empty(crop_rgb.shape, np.float32)
            np.copyto(crop_f, crop_rgb)
            cv2.resize(crop_f, (width, height), dst=float_big, interpolation=cv2.INTER_AREA)
            cv2.convertScaleAbs(float_big, dst=out)
        else:
            cv2.resize(crop_rgb, (width, height), dst=out, interpolation=cv2.INTER_AREA)

    cut = _padded_crop if crop in _PADDED_MODES else _plain_crop
    aligned_builder = None
    if align is not None:
        if not align_side:
            raise ValueError("align_side is required with align")
        aligned_builder = AlignedBigBuilder(align_side, align_stride)

    def aligned_face(view: _FrameView, box: Box, face: bool) -> Any:
        region, hint = align_region(box, face_hint=crop == "face")
        return align(_padded_crop(view, region), hint) if face else None

    def frames_in() -> Iterator[_Prepared]:
        """Decode, detect and crop (and align): one :data:`_Prepared` per frame."""
        count = 0
        for view, t_sec in views:
            if max_frames is not None and count >= max_frames:
                break
            box, face = policy(view)
            full = Box(0.0, 0.0, float(view.width), float(view.height))
            b = box or full
            aligned = _NOT_ALIGNED
            if align is not None and count % align_stride == 0:
                aligned = aligned_face(view, b, face)
            yield cut(view, box), (b.x, b.y, b.w, b.h), face, t_sec, aligned
            count += 1

    # Threaded: this thread resizes and accumulates while a background thread decodes,
    # detects and crops (roughly half the work each).
    prepared = _in_background(frames_in(), batch_size) if threaded else frames_in()
    for crop_rgb, box_xywh, face, t_sec, aligned in prepared:
        resize_big(crop_rgb, acc.slot())
        if aligned_builder is not None and aligned is not _NOT_ALIGNED:
            aligned_builder.add(aligned, crop_rgb)
        acc.commit()
        boxes.extend(box_xywh)
        found.append(face)
        times.append(t_sec)
        n_frames += 1
    acc.flush()
    big = sink.finish()
    if crop in _DETECTING_MODES and require_face and not any(found):
        raise NoFaceError(
            f"{name}: no face found in any of {n_frames} frames; use a video with a visible, "
            "frontal face"
        )
    if n_frames < _MIN_FRAMES:
        raise VideoTooShortError(
            f"{name}: {n_frames} frame(s) decoded; BigSmall inputs need at least {_MIN_FRAMES}"
        )
    big_mean, big_std = acc.big_stats()
    return BigSmallInputs(
        big_uint8=big,
        big_mean=big_mean,
        big_std=big_std,
        small=acc.small_result(),
        rgb=np.frombuffer(acc.rgb, np.float64).reshape(-1, 3).copy(),
        boxes=np.frombuffer(boxes, np.float64).reshape(-1, 4).copy(),
        face_found=np.frombuffer(found, np.uint8).astype(bool),
        fps=clip_fps,
        timestamps_sec=np.asarray(times, np.float64),
        truncated=bool(getattr(source, "truncated", False)),
        aligned=None if aligned_builder is None else aligned_builder.result(),
    )
