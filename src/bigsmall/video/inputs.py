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

Where the pieces live: crops and their vocabulary in :mod:`bigsmall.video.framing`, decoded
frames in :mod:`bigsmall.video.frame_views` (YUV crops), Big-frame storage in
:mod:`bigsmall.video.sinks`, the decode thread in :mod:`bigsmall.video.handoff`, aligned Big
frames in :mod:`bigsmall.video.aligned_big`; this module builds the inputs from them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from bigsmall.errors import NoFaceError, VideoTooShortError
from bigsmall.video.aligned_big import (
    AlignedBig,
    AlignedBigBuilder,
    Aligner,
    BigCutter,
    align_region,
)
from bigsmall.video.boxes import DEFAULT_ENLARGE_COEF, Box
from bigsmall.video.crop import BIG_SIZE_HW
from bigsmall.video.face import DEFAULT_DETECTOR, FaceDetector, create_detector
from bigsmall.video.frame_views import FrameView, views_from_batches, views_from_reader
from bigsmall.video.framing import (
    CROP_MODES,
    DETECTING_MODES,
    FacePolicy,
    FramingPolicy,
    crop_policy,
    cut_crop,
    padded_crop,
)
from bigsmall.video.handoff import in_background
from bigsmall.video.io import (
    DEFAULT_BATCH_SIZE,
    FrameBatch,
    FrameSource,
    VideoReader,
    open_video,
)
from bigsmall.video.normalize import DIFF_EPS, apply_table, standardize_table, unit_levels
from bigsmall.video.sinks import BigFrameSink, FileBigSink, MemoryBigSink, release_pages

#: BigSmall's Small input size (height, width).
SMALL_SIZE_HW: tuple[int, int] = (9, 9)
#: Frames re-detected every this many frames by default (1 s at 30 fps).
DEFAULT_EVERY_K_FRAMES: int = 30
#: The face box glides between detections by default (``predict``, ``live``); dataset
#: preprocessing holds it, as the reference does (:class:`bigsmall.video.boxes.FaceTracker`).
DEFAULT_GLIDE_BOX: bool = True
#: Clips whose Big frames exceed this many bytes go to a temporary file, not RAM.
DEFAULT_MEMORY_SINK_MAX_BYTES: int = 64 * 2**20
_MIN_FRAMES: int = 2
#: Crops downscaled by at least this factor are area-resized on a float32 copy (faster there).
_FLOAT_RESIZE_MIN_SCALE: float = 1.3


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
    readings: what each :class:`FrameReader` given to :func:`build_bigsmall_inputs` read,
        by the name it was given under (each (T, ...)).
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
    readings: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.small.shape[0])

    def big_standardized(
        self, start: int = 0, stop: int | None = None, step: int = 1
    ) -> np.ndarray:
        """(n, h, w, 3) float32 standardized Big frames for ``[start:stop:step]``; NaN -> 0."""
        table = standardize_table(self.big_mean, self.big_std)
        return apply_table(np.asarray(self.big_uint8[start:stop:step]), table)


class FrameReader(Protocol):
    """Reads something from every Big frame while it is made (still in cache, no second pass
    over the stored frames): e.g. the skin colour or the head's motion."""

    def update(self, big_rgb: np.ndarray, box_xywh: tuple[float, float, float, float]) -> None:
        """One (h, w, 3) uint8 Big frame and its crop box ``[x, y, w, h]`` (frame pixels)."""

    def result(self) -> np.ndarray:
        """(T, ...) what was read, one row per frame."""


class ViewReader(Protocol):
    """Reads something from every decoded frame as a whole (not only the face crop), on the
    decoding thread while the frame is at hand: e.g. the shoulders' motion below the face."""

    def update(self, view: FrameView, face: Box | None) -> None:
        """One decoded frame and the face box of the last detection (frame pixels; ``None``
        before the first face and after a detection that missed)."""

    def result(self) -> np.ndarray:
        """(T, ...) what was read, one row per frame."""


#: Stored Big frames read at a time by :func:`read_stored_frames` (memory-mapped pages are
#: released after each chunk).
READ_CHUNK_FRAMES: int = 256


def read_stored_frames(
    big_uint8: np.ndarray, boxes: np.ndarray | None, readers: Mapping[str, FrameReader]
) -> dict[str, np.ndarray]:
    """Show stored Big frames to ``readers`` (as :func:`build_bigsmall_inputs` shows them as
    they are made); returns each reader's result by name.

    big_uint8: (T, h, w, 3) uint8 (may be a memmap); boxes: (T, 4) crop boxes or None.
    """
    total = int(big_uint8.shape[0])
    no_box = (0.0, 0.0, 0.0, 0.0)
    for start in range(0, total, READ_CHUNK_FRAMES):
        chunk = np.asarray(big_uint8[start : start + READ_CHUNK_FRAMES])
        for offset, frame in enumerate(chunk):
            box = no_box if boxes is None else tuple(boxes[start + offset])
            for reader in readers.values():
                reader.update(frame, box)
        release_pages(big_uint8)
    return {name: reader.result() for name, reader in readers.items()}


#: One prepared frame: (RGB crop, box (x, y, w, h), face found, timestamp in s, aligned face
#: or None when the frame is aligned, else :data:`_NOT_ALIGNED`).
_Prepared = tuple[np.ndarray, tuple[float, float, float, float], bool, float, Any]
_NOT_ALIGNED = object()


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
    glide_box: bool = DEFAULT_GLIDE_BOX,
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
    align: Aligner | BigCutter | None = None,
    align_side: int | None = None,
    align_stride: int = 1,
    readers: Mapping[str, FrameReader] | None = None,
    view_readers: Mapping[str, ViewReader] | None = None,
) -> BigSmallInputs:
    """Decode once and build BigSmall's Big/Small inputs, boxes and the face RGB trace.

    source: a video path, a frame folder (needs ``fps``), a reader from
        :func:`bigsmall.video.io.open_video`, or any iterable of :class:`FrameBatch`
        (then ``fps`` is required).
    crop: one of :data:`CROP_MODES`. ``face`` detects every ``every_k_frames`` frames (every
        frame until the first face), keeps the largest face, enlarges it by ``enlarge_coef``;
        with ``glide_box`` the box moves to each new detection over the frames until the next
        (no steps in the crop's path; :class:`bigsmall.video.boxes.FaceTracker`), else it is
        held between detections (the reference's box);
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
    readers: :class:`FrameReader` objects shown every Big frame as it is made; their results
        are :attr:`BigSmallInputs.readings` under the same names.
    view_readers: :class:`ViewReader` objects shown every decoded frame whole (with the face
        box of the last detection, where the crop mode detects one); their results join
        :attr:`BigSmallInputs.readings` (names distinct from ``readers``').
    """
    if crop not in CROP_MODES:
        raise ValueError(f"unknown crop mode {crop!r}; choose from {CROP_MODES}")
    shared = set(readers or {}) & set(view_readers or {})
    if shared:
        raise ValueError(f"readers and view_readers share the names {sorted(shared)}")
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
        views = views_from_reader(source)
    else:
        views = views_from_batches(source)
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
        new_sink: type[BigFrameSink] = FileBigSink if use_file else MemoryBigSink
        sink: BigFrameSink = new_sink()
    else:
        sink = big_sink
        new_sink = FileBigSink if isinstance(sink, FileBigSink) else MemoryBigSink

    policy = crop_policy(
        crop,
        detector or create_detector(DEFAULT_DETECTOR),
        every_k_frames,
        enlarge_coef,
        square,
        glide_box,
    )
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

    cut = cut_crop(crop)
    aligned_builder = None
    if align is not None:
        if not align_side:
            raise ValueError("align_side is required with align")
        # the aligned frames go where the Big frames go (a file for long clips)
        aligned_builder = AlignedBigBuilder(align_side, align_stride, sink=new_sink())

    def aligned_face(view: FrameView, box: Box, face: bool, crop_rgb: np.ndarray) -> Any:
        if not face:
            return None
        if isinstance(align, BigCutter):  # scaled from the crop box before clipping
            unclipped = policy.unclipped_box if isinstance(policy, FacePolicy) else None
            return align.cut(view, crop_rgb, box, unclipped or box)
        region, hint = align_region(box, face_hint=crop == "face")
        return align(padded_crop(view, region), hint)

    whole_readers = list((view_readers or {}).values())
    tracks_face = isinstance(policy, FacePolicy | FramingPolicy)  # bp4d, full: no face tracked

    def frames_in() -> Iterator[_Prepared]:
        """Decode, detect and crop (and align): one :data:`_Prepared` per frame."""
        count = 0
        for view, t_sec in views:
            if max_frames is not None and count >= max_frames:
                break
            box, face = policy(view)
            if whole_readers:
                last_face = policy.last_face if tracks_face else None
                for whole_reader in whole_readers:
                    whole_reader.update(view, last_face)
            full = Box(0.0, 0.0, float(view.width), float(view.height))
            b = box or full
            crop_rgb = cut(view, box)
            aligned = _NOT_ALIGNED
            if align is not None and count % align_stride == 0:
                aligned = aligned_face(view, b, face, crop_rgb)
            yield crop_rgb, (b.x, b.y, b.w, b.h), face, t_sec, aligned
            count += 1

    # Threaded: this thread resizes and accumulates while a background thread decodes,
    # detects and crops (roughly half the work each).
    prepared = in_background(frames_in(), batch_size) if threaded else frames_in()
    frame_readers = list((readers or {}).values())
    for crop_rgb, box_xywh, face, t_sec, aligned in prepared:
        big_rgb = acc.slot()
        resize_big(crop_rgb, big_rgb)
        for reader in frame_readers:
            reader.update(big_rgb, box_xywh)
        if aligned_builder is not None and aligned is not _NOT_ALIGNED:
            aligned_builder.add(aligned, crop_rgb)
        acc.commit()
        boxes.extend(box_xywh)
        found.append(face)
        times.append(t_sec)
        n_frames += 1
    acc.flush()
    big = sink.finish()
    if crop in DETECTING_MODES and require_face and not any(found):
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
        readings={
            name: reader.result()
            for name, reader in {**(readers or {}), **(view_readers or {})}.items()
        },
    )
