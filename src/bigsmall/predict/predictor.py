"""``Predictor``: facial action units, pulse and breathing from one face video (or frames).

BigSmall (Narayanswamy et al., "BigSmall: Efficient Multi-Task Learning for Disparate Spatial
and Temporal Physiological Measurements", WACV 2024) measures all three from one pass: the
video is decoded once into the Big (standardized 144×144 face crops, kept in a temporary file
for long videos) and Small (diff-normalized 9×9) inputs plus the face's mean colour and box
(:func:`bigsmall.video.build_bigsmall_inputs`), then the network runs on windows of N frames in
chunks, so memory stays flat in the video's length. Classic rPPG methods (POS, CHROM, ...) run
on the face's mean colour instead; they give no AUs and no breathing, so breathing then comes
from the body's vertical motion: the face's (:mod:`bigsmall.predict.motion`), else the
shoulders' (:mod:`bigsmall.predict.shoulders`). BigSmall's default ``breathing="fused"`` reads
each motion alone where it is clear (on real faces the paper's respiration head is weak and,
read together with a clear motion, would drag it below the pair's gate) and the head together
with the face's motion elsewhere; ``"motion"`` and ``"model"`` read the motion or the head
alone (measured in ``docs/real-faces.md``). Rates, their
quality and the thresholds below which a rate is withheld are in
:mod:`bigsmall.predict.analysis`.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bigsmall.constants import AU_NAMES, BREATHING_SOURCES, PULSE_SOURCES
from bigsmall.errors import (
    ConfigError,
    VideoNotFoundError,
    VideoTooShortError,
    VideoTruncatedError,
    VideoTruncatedWarning,
    VideoUnreadableError,
)
from bigsmall.predict import analysis
from bigsmall.predict.motion import RISE, HeadPoseTrace
from bigsmall.predict.result import (
    AU_PRESENT_PROBABILITY,
    FRAME_COLUMNS,
    RATE_COLUMNS,
    PredictionResult,
)
from bigsmall.predict.runner import (
    BACKENDS,
    CHUNK_WINDOWS,
    LoadedModel,
    model_info,
)
from bigsmall.predict.session import ModelSession
from bigsmall.predict.shoulders import ShouldersTrace
from bigsmall.signal.hrv import (
    MAX_JITTER_SHARE,
    MIN_BEAT_CONSISTENCY,
    beat_consistency,
    beat_times,
    hrv_from_beats,
    hrv_from_two,
    pair_wave,
    timing_band_hz,
)
from bigsmall.signal.rppg import METHODS as RPPG_METHODS
from bigsmall.signal.rppg import extract_pulse
from bigsmall.video.crop import BIG_SIZE_HW
from bigsmall.video.inputs import (
    SMALL_SIZE_HW,
    BigSmallInputs,
    FrameReader,
    build_bigsmall_inputs,
    read_stored_frames,
)
from bigsmall.video.io import (
    DEFAULT_BATCH_SIZE,
    IMAGE_SUFFIXES,
    FrameBatch,
    StillImageReader,
    VideoReader,
)
from bigsmall.video.normalize import apply_table, standardize_table
from bigsmall.video.sinks import release_pages
from bigsmall.video.skin import SkinColourTrace, skin_region

#: The network, then the classic rPPG methods.
MODEL_METHOD: str = "bigsmall"
METHODS: tuple[str, ...] = (MODEL_METHOD, *sorted(RPPG_METHODS))
#: Labels of the :data:`~bigsmall.constants.PULSE_SOURCES`, how the network's heart rate is read:
#: its PPG output alone, or fused with POS on the face's skin colour (both periodograms
#: averaged, see :func:`bigsmall.predict.analysis.estimate`).
_PULSE_LABELS: dict[str, str] = {
    "fused": "fused (BigSmall PPG head + POS on the face's skin colour)",
    "model": "model (BigSmall PPG head)",
}
#: Labels of the :data:`~bigsmall.constants.BREATHING_SOURCES`, where the breathing rate comes
#: from: the network's respiration head, the body's motion, or both (as the fused pulse).
_BREATHING_LABELS: dict[str, str] = {
    "model": "model (BigSmall respiration head)",
    "motion": "motion (vertical movement of the face, else of the shoulders; not a network output)",
    "fused": "fused (vertical movement of the face, else of the shoulders; where neither is "
    "clear alone, the face's read with the BigSmall respiration head)",
}
#: Default analysis window (s) of the rates over time; shorter videos use their own length.
DEFAULT_WINDOW_SEC: float = 10.0
#: Videos shorter than this (s) are refused: too short for any rate.
MIN_VIDEO_SEC: float = 2.0
#: Shortest stretch (s) with a face that heart-rate variability is measured from.
HRV_MIN_SEC: float = 30.0
_NO_BEATS = np.zeros(0, np.int64)
#: Frame rate a still image's static clip is given.
STILL_FPS: float = 30.0
#: A still image is measured as a static clip of this many windows (its AUs only).
STILL_WINDOWS: int = 2
#: Quality label of a rate asked of a still image.
STILL_IMAGE: str = "still image"
STILL_NOTE: str = (
    "A still image: its AUs only; a heart or breathing rate needs a video (at least 5 s and 20 s)."
)
#: Videos at least this many frames long get a progress bar (when progress is on).
PROGRESS_MIN_FRAMES: int = 1800
#: Sign that turns each classic method's output into a PPG-like wave (more blood = up): CHROM
#: keeps the PPG's phase, the others are inverted (see :mod:`bigsmall.signal.rppg`).
PULSE_SIGN: dict[str, float] = {name: -1.0 for name in RPPG_METHODS} | {"chrom": 1.0}


class _ProgressReader(VideoReader):
    """A :class:`VideoReader` that advances a tqdm bar every ``every`` decoded frames."""

    def __init__(
        self, path: Path, bar: object, fps: float | None, every: int = DEFAULT_BATCH_SIZE
    ) -> None:
        super().__init__(path, DEFAULT_BATCH_SIZE, None, thread_count=1, fps=fps)
        self._bar = bar
        self._every = every

    def iter_frames(self) -> Iterator:
        count = 0
        for item in super().iter_frames():
            count += 1
            if count == self._every:
                self._bar.update(count)
                count = 0
            yield item
        self._bar.update(count)


@dataclass
class _Waves:
    """Per-frame outputs before analysis: raw pulse/breathing (T,), AU probabilities (T, 12),
    the head's pose (T, 3) (:data:`bigsmall.predict.motion.POSE_COLUMNS`);
    ``pulse_support`` / ``breathing_support``: further raw estimates (wave, diff-normalized)
    read together with ``pulse`` / ``breathing`` for their rates; ``breathing_order``: how
    :meth:`breathing_estimates` are read (:class:`analysis.ReadingOrder`)."""

    pulse: np.ndarray
    pulse_diff_normalized: bool
    breathing: np.ndarray
    breathing_diff_normalized: bool
    au: np.ndarray | None
    pose: np.ndarray
    #: the crop box's median height (px) the head's motion is measured against
    crop_height_px: float
    #: what each of :meth:`breathing_estimates` is ("face motion", "shoulders motion", ...)
    breathing_labels: tuple[str, ...]
    pulse_support: list[tuple[np.ndarray, bool]] = field(default_factory=list)
    breathing_support: list[tuple[np.ndarray, bool]] = field(default_factory=list)
    breathing_order: analysis.ReadingOrder = analysis.ALL_TOGETHER

    def pulse_estimates(self) -> list[tuple[np.ndarray, bool]]:
        return [(self.pulse, self.pulse_diff_normalized), *self.pulse_support]

    def breathing_estimates(self) -> list[tuple[np.ndarray, bool]]:
        return [(self.breathing, self.breathing_diff_normalized), *self.breathing_support]


def _rate_views(
    prepared: list[np.ndarray], estimates: list[tuple[np.ndarray, bool]]
) -> list[np.ndarray]:
    """The :func:`analysis.rate_view` of each prepared wave of ``estimates`` (raw wave,
    diff-normalized), in order."""
    return [analysis.rate_view(w, dn) for w, (_, dn) in zip(prepared, estimates, strict=True)]


def _batches(frames: np.ndarray, fps: float) -> Iterator[FrameBatch]:
    for start in range(0, frames.shape[0], DEFAULT_BATCH_SIZE):
        part = frames[start : start + DEFAULT_BATCH_SIZE]
        times = np.arange(start, start + part.shape[0], dtype=np.float64) / fps
        yield FrameBatch(np.ascontiguousarray(part), times, start)


def _crop_height(inputs: BigSmallInputs) -> float:
    """The crop box's median height (px) over the frames with a face (0 without one): how far
    the head's motion is measured against."""
    valid = np.asarray(inputs.face_found, bool)
    return float(np.median(inputs.boxes[valid, 3])) if valid.any() else 0.0


def is_image_file(source: object) -> bool:
    """True for a path (not a folder) whose suffix is a still image's (.jpg, .png, ...)."""
    if not isinstance(source, str | Path):
        return False
    path = Path(source)
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.is_dir()


def _check_array(frames: np.ndarray, fps: float | None) -> float:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise VideoUnreadableError(
            f"frames must be a (T, H, W, 3) uint8 RGB array, got {frames.dtype} {frames.shape}"
        )
    if fps is None or not np.isfinite(fps) or fps <= 0:
        raise ConfigError("predicting from an array of frames needs its frame rate: fps=30.0")
    return float(fps)


class Predictor:
    """Measure AUs, pulse and breathing from face videos.

    Args:
        method: "bigsmall" (the network) or a classic rPPG method (:data:`METHODS`).
        checkpoint: BigSmall weights (``.safetensors`` / toolbox ``.pth``) or the folder of
            the authors' released files (run as the trio of ``fold``); ``None``: the weights
            shipped in the package.
        fold: which released fold a weights folder uses (1, 2 or 3).
        backend: "auto" (fastest installed), "torch" or "onnx".
        device: torch device for the torch backend ("cpu", "cuda", ...).
        window_sec: window of the rates over time; ``None``: 10 s, or the whole video when
            shorter. An explicit window longer than the video is an error.
        breathing: "model", "motion" or "fused" (the motion alone where it passes its gate,
            else both read together); ``None``: "fused" for BigSmall, "motion" otherwise.
        pulse: how BigSmall's heart rate is read: "fused" (default; its PPG together with POS
            on the face's skin colour) or "model" (its PPG alone). Classic methods ignore it.
        allow_truncated: analyse the frames before the damage of a truncated video instead
            of refusing it.
        align: landmark-align the Big frames (JAA-Net style, needs the ``align`` extra) even
            if the weights do not record it; weights trained on aligned inputs (metadata
            ``align``) are always aligned.
        progress: show progress bars on stderr for long videos.
        log: called with one-line notes (e.g. a one-off ONNX export); ``None``: silent.

    Example:
        >>> r = Predictor(method="pos").predict("video.mp4")  # doctest: +SKIP
        >>> r.heart_rate_bpm, r.frames["ppg"]  # doctest: +SKIP
    """

    def __init__(
        self,
        method: str = MODEL_METHOD,
        checkpoint: str | Path | None = None,
        fold: int = 1,
        backend: str = "auto",
        device: str = "cpu",
        window_sec: float | None = None,
        breathing: str | None = None,
        pulse: str = "fused",
        allow_truncated: bool = False,
        progress: bool = False,
        log: Callable[[str], None] | None = None,
        align: bool = False,
    ) -> None:
        method = method.lower()
        if method not in METHODS:
            raise ConfigError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
        if backend not in BACKENDS:
            raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if breathing is None:
            breathing = "fused" if method == MODEL_METHOD else "motion"
        if breathing not in BREATHING_SOURCES:
            raise ConfigError(
                f"unknown breathing source {breathing!r}; choose one of "
                f"{', '.join(BREATHING_SOURCES)}"
            )
        if breathing != "motion" and method != MODEL_METHOD:
            raise ConfigError(
                f"method {method!r} has no breathing model; use breathing='motion' "
                "(--breathing motion) or method='bigsmall'"
            )
        if pulse not in PULSE_SOURCES:
            raise ConfigError(
                f"unknown pulse source {pulse!r}; choose one of {', '.join(PULSE_SOURCES)}"
            )
        if window_sec is not None and not window_sec > 0:
            raise ConfigError(f"window_sec must be positive, got {window_sec}")
        self.method = method
        self.checkpoint = checkpoint
        self.fold = fold
        self.backend = backend
        self.device = device
        self.window_sec = window_sec
        self.breathing = breathing
        self.pulse = pulse
        self.allow_truncated = allow_truncated
        self.align = align
        self.progress = progress
        self.log = log or (lambda _message: None)
        self.session = ModelSession(checkpoint, fold, backend, device, align, self.log)

    # -- model ---------------------------------------------------------------------------------
    @property
    def uses_model(self) -> bool:
        return self.method == MODEL_METHOD

    def loaded_model(self) -> LoadedModel:
        """The network (loaded on first use and kept for the next videos)."""
        return self.session.loaded

    def _input_kwargs(self) -> dict[str, object]:
        """Sizes, crop and alignment of the inputs (the weights' record says which)."""
        if not self.uses_model:
            return {"size_hw": BIG_SIZE_HW, "small_hw": SMALL_SIZE_HW, "crop": "face"}
        return self.session.input_kwargs()

    def _build_kwargs(self, fps: float | None) -> dict[str, object]:
        """:func:`build_bigsmall_inputs`' arguments for a video, frame folder or array: the
        weights' sizes and crop, the readings taken from the crops and from the whole frames
        (the shoulders' motion)."""
        return {
            "fps": fps,
            "readers": self._crop_readers(),
            "view_readers": {"shoulders": ShouldersTrace()},
            **self._input_kwargs(),
        }

    def _crop_mode(self) -> str:
        return self.session.crop if self.uses_model else "face"

    # -- inputs --------------------------------------------------------------------------------
    def _inputs(
        self, source: str | Path | np.ndarray, fps: float | None
    ) -> tuple[BigSmallInputs, list[str], str]:
        notes: list[str] = []
        if isinstance(source, np.ndarray):
            fps = _check_array(source, fps)
            kwargs = self._build_kwargs(fps)
            return build_bigsmall_inputs(_batches(source, fps), **kwargs), notes, "array"
        path = Path(source)
        if not path.exists():
            raise VideoNotFoundError(f"{path}: video not found; check the path")
        bar = None
        built_source: object = path
        if path.is_file():
            from tqdm import tqdm

            reader = VideoReader(path, DEFAULT_BATCH_SIZE, None, thread_count=1, fps=fps)
            total = reader.info.frame_count
            if reader.info.timing_note:
                notes.append(reader.info.timing_note)
            if self.progress and total >= PROGRESS_MIN_FRAMES:
                bar = tqdm(total=total, unit="frame", desc="decode", file=sys.stderr, leave=False)
                built_source = _ProgressReader(path, bar, fps)
            else:
                built_source = reader
        # The video opened (or is a frame folder): now load the model, whose sizes it needs.
        kwargs = self._build_kwargs(fps)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", VideoTruncatedWarning)
                inputs = build_bigsmall_inputs(built_source, **kwargs)
        finally:
            if bar is not None:
                bar.close()
        truncated = (
            (isinstance(built_source, VideoReader) and built_source.ended_early)
            or inputs.truncated
            or any(issubclass(w.category, VideoTruncatedWarning) for w in caught)
        )
        if truncated:
            if not self.allow_truncated:
                raise VideoTruncatedError(
                    f"{path}: video is truncated or corrupt after frame {len(inputs)}; re-copy "
                    "or re-export it, or pass --allow-truncated to analyse the frames before "
                    "the damage"
                )
            notes.append(
                f"The video is truncated or corrupt; only its first {len(inputs)} frames "
                "were analysed."
            )
        return inputs, notes, str(path)

    # -- per-frame outputs ---------------------------------------------------------------------
    def _model_outputs(self, inputs: BigSmallInputs) -> tuple[dict[str, np.ndarray], str]:
        total = len(inputs)
        runner, backend = self.session.runner()
        n = self.session.n_segment
        windows = total // n
        starts = list(range(0, windows * n, n))
        if total % n:
            starts.append(total - n)  # an overlapping last window covers the remainder
        outputs: dict[str, np.ndarray] = {}
        aligned = inputs.aligned
        if aligned is None:
            big_frames, lut = inputs.big_uint8, standardize_table(inputs.big_mean, inputs.big_std)
        else:  # the Big frame of a window: the aligned frame at (or just before) its start
            big_frames, lut = aligned.frames, standardize_table(aligned.mean, aligned.std)
        bar = None
        if self.progress and total >= PROGRESS_MIN_FRAMES:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="frame", desc="model", file=sys.stderr, leave=False)
        try:
            for first in range(0, len(starts), CHUNK_WINDOWS):
                chunk = starts[first : first + CHUNK_WINDOWS]
                # uint8 → standardized float32 through a 256-entry table: one pass, and the
                # values equal BigSmallInputs.big_standardized exactly.
                rows = chunk if aligned is None else [aligned.index_of(s) for s in chunk]
                big_u8 = np.ascontiguousarray(big_frames[rows].transpose(0, 3, 1, 2))
                small = np.concatenate([inputs.small[s : s + n] for s in chunk])
                result = runner(
                    apply_table(big_u8, lut), np.ascontiguousarray(small.transpose(0, 3, 1, 2))
                )
                for task, values in result.items():
                    if task not in outputs:
                        outputs[task] = np.zeros((total, values.shape[1]), np.float32)
                    rows = values.reshape(len(chunk), n, -1)
                    for s, row in zip(chunk, rows, strict=True):
                        outputs[task][s : s + n] = row
                release_pages(big_frames)
                if bar is not None:
                    bar.update(len(chunk) * n)
        finally:
            if bar is not None:
                bar.close()
        return outputs, backend

    def _crop_readers(self) -> dict[str, FrameReader]:
        """The readings taken from the face crops themselves, as they are made: the head's
        pose (its rise: breathing; all of it: the motion regressed out of the pulse) and the
        skin colour (POS, read with the network's PPG) where the pulse is fused."""
        readers: dict[str, FrameReader] = {"motion": HeadPoseTrace()}
        if self.uses_model and self.pulse == "fused":
            readers["skin"] = SkinColourTrace(skin_region(self._crop_mode()))
        return readers

    def _crop_traces(self, inputs: BigSmallInputs) -> dict[str, np.ndarray]:
        """The crop readings of ``inputs``: those taken while they were built, the others
        (inputs built without the readers) read now from the stored Big frames."""
        missing = {k: v for k, v in self._crop_readers().items() if k not in inputs.readings}
        return {**inputs.readings, **read_stored_frames(inputs.big_uint8, inputs.boxes, missing)}

    def _waves(self, inputs: BigSmallInputs) -> tuple[_Waves, str | None]:
        fs = inputs.fps
        backend = None
        au = None
        resp_model = None
        traces = self._crop_traces(inputs)
        if self.uses_model:
            outputs, backend = self._model_outputs(inputs)
            if "bvp" not in outputs:
                raise ConfigError("this checkpoint has no pulse head; pass a full BigSmall model")
            pulse, pulse_dn = outputs["bvp"][:, 0].astype(np.float64), True
            logits = outputs.get("au")
            au = None if logits is None else 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
            resp_model = outputs["resp"][:, 0].astype(np.float64) if "resp" in outputs else None
        else:
            pulse = PULSE_SIGN[self.method] * extract_pulse(inputs.rgb, fs, self.method)
            pulse_dn = False
        height = _crop_height(inputs)
        rise = analysis.rise_without_sway(traces["motion"], RISE, fs, height)
        body = [(analysis.body_motion(rise, fs, height), False, "face motion")]
        if "shoulders" in traces:  # then the shoulders' (where read)
            shoulders = analysis.body_motion(traces["shoulders"][:, RISE], fs, height)
            body.append((shoulders, False, "shoulders motion"))
        model = None if resp_model is None else (resp_model, True, "respiration head")
        breaths, breathing_order = analysis.breathing_reads(self.breathing, model, body)
        (breathing, breathing_dn, _), *others = breaths
        breathing_support = [(wave, dn) for wave, dn, _ in others]
        support = []
        if "skin" in traces:
            support.append((PULSE_SIGN["pos"] * extract_pulse(traces["skin"], fs, "pos"), False))
        waves = _Waves(
            pulse=pulse,
            pulse_diff_normalized=pulse_dn,
            breathing=breathing,
            breathing_diff_normalized=breathing_dn,
            au=au,
            pose=traces["motion"],
            crop_height_px=height,
            breathing_labels=tuple(label for _, _, label in breaths),
            pulse_support=support,
            breathing_support=breathing_support,
            breathing_order=breathing_order,
        )
        return waves, backend

    # -- public --------------------------------------------------------------------------------
    def predict(
        self, source: str | Path | np.ndarray, fps: float | None = None
    ) -> PredictionResult:
        """Measure one video file, frame folder (needs ``fps``) or (T, H, W, 3) uint8 RGB array.

        Raises a :class:`~bigsmall.errors.BigSmallError` subclass with a one-line message for
        every input problem (missing/empty/unreadable/truncated file, too short, no face).
        """
        if is_image_file(source):
            return self._predict_still(Path(source))
        inputs, notes, name = self._inputs(source, fps)
        fs = float(inputs.fps)
        if not fs > 0:
            raise VideoUnreadableError(f"{name}: frame rate unknown; pass fps (--fps)")
        total = len(inputs)
        duration = total / fs
        self._check_length(name, total, fs)
        window_sec = self.window_sec or min(DEFAULT_WINDOW_SEC, duration)
        waves, backend = self._waves(inputs)
        return self._analyse(inputs, waves, notes, name, window_sec, backend)

    def _predict_still(self, path: Path) -> PredictionResult:
        """A photo's AUs: the image as a static clip of :data:`STILL_WINDOWS` windows; no
        rates (one warning says why)."""
        if not self.uses_model:
            raise ConfigError(
                f"{path}: a still image has no pulse or breathing, and method {self.method!r} "
                "reads only those; use the bigsmall method for its AUs"
            )
        frames = STILL_WINDOWS * self.session.n_segment
        reader = StillImageReader(path, frames, STILL_FPS)  # one-line errors: missing, unreadable
        inputs = build_bigsmall_inputs(reader, fps=STILL_FPS, **self._input_kwargs())
        waves, backend = self._waves(inputs)
        return self._analyse(inputs, waves, [], str(path), frames / STILL_FPS, backend, True)

    def _check_length(self, name: str, total: int, fs: float) -> None:
        duration = total / fs
        if self.window_sec is not None and total < round(self.window_sec * fs):
            raise VideoTooShortError(
                f"{name}: {total} frames ({duration:.1f} s) is shorter than one "
                f"{self.window_sec:g} s analysis window; use a longer video or a smaller "
                "--window-sec"
            )
        if duration < MIN_VIDEO_SEC:
            raise VideoTooShortError(
                f"{name}: {total} frames ({duration:.1f} s) is shorter than one analysis window "
                f"({MIN_VIDEO_SEC:g} s); use a longer video"
            )

    def _analyse(
        self,
        inputs: BigSmallInputs,
        waves: _Waves,
        notes: list[str],
        name: str,
        window_sec: float,
        backend: str | None,
        still: bool = False,
    ) -> PredictionResult:
        fs = float(inputs.fps)
        total = len(inputs)
        valid = np.asarray(inputs.face_found, bool)
        found = float(valid.mean())
        # the rates read through short misses of the detector (the crop holds the face's box)
        readable = analysis.bridge_gaps(valid, fs)
        start, stop = analysis.longest_run(readable)
        height = waves.crop_height_px
        warn = list(notes)
        if found < 1.0:
            warn.append(
                f"No face was found in {100 * (1 - found):.0f}% of the frames; rates use the "
                f"longest stretch with a face ({start / fs:.1f}-{stop / fs:.1f} s, gaps of up "
                f"to {analysis.MAX_FACE_GAP_SEC:g} s read through) and frames without a face "
                "have empty values."
            )
        aligned = inputs.aligned
        if aligned is not None and not aligned.found.all():
            warn.append(
                f"Landmarks were found on {int(aligned.found.sum())} of {len(aligned)} frames the "
                "network reads; the others were given to it unaligned (a plain face crop)."
            )
        if self.window_sec is None and total / fs < DEFAULT_WINDOW_SEC and not still:
            warn.append(
                f"The video is only {total / fs:.1f} s long; rates over time use one "
                f"{window_sec:.1f} s window and are imprecise."
            )

        if still:
            hr = br = analysis.RateEstimate(float("nan"), float("nan"), STILL_IMAGE)
            warn.append(STILL_NOTE)
        else:
            br, br_note = self._rate(
                waves.breathing_estimates(), start, stop, "breathing", fs, waves.breathing_order
            )
            hr, hr_note = self._rate(
                waves.pulse_estimates(),
                start,
                stop,
                "heart",
                fs,
                head=(waves.pose, height),
                not_at_hz=analysis.breathing_harmonics_hz(br.rate_bpm),
            )
            warn += [n for n in (hr_note, br_note) if n]

        pulses = [analysis.prepare(w, fs, "heart", dn) for w, dn in waves.pulse_estimates()]
        ppg = pulses[0]
        breaths = [
            analysis.prepare(w, fs, "breathing", dn) for w, dn in waves.breathing_estimates()
        ]
        resp = breaths[0]
        # what the rates are read from: a diff-normalized output on its own scale
        pulse_reads = analysis.without_head_motion(
            _rate_views(pulses, waves.pulse_estimates()), waves.pose, RISE, height, fs
        )
        breath_reads = _rate_views(breaths, waves.breathing_estimates())
        rates = (
            {c: np.zeros(0) for c in RATE_COLUMNS}
            if still
            else analysis.rates_over_time(
                pulse_reads,
                breath_reads,
                readable,
                fs,
                window_sec,
                breathing_order=waves.breathing_order,
            )
        )
        hrv, beats, hrv_note = (None, _NO_BEATS, None)
        if not still:
            hrv, beats, hrv_note = self._hrv(pulses, pulse_reads, hr, start, stop, fs)
        if hrv_note:
            warn.append(hrv_note)
        frames = self._frames_table(inputs, ppg, resp, waves.au, valid, beats)
        if still:  # the photo's one row (its static clip's frames read alike); no waves
            frames = frames.iloc[:1].assign(ppg=np.nan, resp=np.nan)
        au_occurrence = None
        if waves.au is not None and valid.any():
            present = waves.au[valid] >= AU_PRESENT_PROBABILITY
            au_occurrence = {
                au: round(float(v), 4) for au, v in zip(AU_NAMES, present.mean(0), strict=True)
            }
        quality = {
            "pulse_snr_db": _round(hr.snr_db),
            "pulse_quality": hr.quality,
            "pulse_snr_threshold_db": analysis.snr_threshold_db("heart", hr.n_waves),
            "breathing_snr_db": _round(br.snr_db),
            "breathing_quality": br.quality,
            "breathing_snr_threshold_db": analysis.snr_threshold_db("breathing", br.n_waves),
            "breathing_source": _BREATHING_LABELS[self.breathing],
            "breathing_read_from": " + ".join(waves.breathing_labels[i] for i in br.read_from)
            if br.reliable
            else None,
        }
        if self.uses_model:
            quality["pulse_source"] = _PULSE_LABELS[self.pulse]
        loaded = self.session.loaded if self.uses_model and self.session.is_loaded else None
        return PredictionResult(
            heart_rate_bpm=_round(hr.rate_bpm),
            breathing_rate_bpm=_round(br.rate_bpm),
            au_occurrence=au_occurrence,
            face_found_fraction=round(found, 4),
            fps=None if still else round(fs, 3),
            duration_sec=None if still else round(total / fs, 3),
            frame_count=1 if still else total,
            signal_quality=quality,
            warnings=warn,
            model=model_info(
                loaded,
                self.method,
                backend,
                aligned,
                self._crop_mode(),
                self.session.big_scale if self.uses_model else None,
            ),
            method=self.method,
            frames=frames,
            rates=pd.DataFrame({c: rates[c] for c in RATE_COLUMNS}),
            source=name,
            hrv=hrv,
        )

    @staticmethod
    def _hrv(
        pulses: list[np.ndarray],
        reads: list[np.ndarray],
        hr: analysis.RateEstimate,
        start: int,
        stop: int,
        fs: float,
    ) -> tuple[dict[str, float] | None, np.ndarray, str | None]:
        """Heart-rate variability of the prepared pulse waves over ``start:stop`` (when the
        heart rate is good and the stretch long enough): the first two waves' beats paired
        (:func:`hrv_from_two`), their precision judged on the pair's mean wave; the beat frames
        of the clearest wave (its clarity from ``reads``, what the rate reads: see
        :func:`analysis.rate_view`); a note."""
        if not hr.reliable:
            return None, _NO_BEATS, None  # no heart rate: the rate's own warning says why
        if hr.quality != "good" or (stop - start) / fs < HRV_MIN_SEC:
            return (
                None,
                _NO_BEATS,
                (
                    f"Heart-rate variability needs a good pulse (SNR at least "
                    f"{analysis.PULSE_SNR_GOOD_DB:g} dB) over at least {HRV_MIN_SEC:g} s with a "
                    "face, so none is reported."
                ),
            )
        band, rate_hz = timing_band_hz(fs), hr.rate_bpm / 60.0
        waves = [w[start:stop] for w in pulses]
        beats_of = [beat_times(w, fs, band, expected_rate_hz=rate_hz) for w in waves]
        best = max(
            range(len(waves)),
            key=lambda i: np.nan_to_num(
                analysis.estimate(reads[i][start:stop], fs, "heart").snr_db, nan=-np.inf
            ),
        )
        clearest, times = waves[best], beats_of[best]
        # two independent estimates: their disagreement is the jitter
        paired = hrv_from_two(*beats_of[:2]) if len(waves) > 1 else None
        result = paired if paired is not None else hrv_from_beats(times)
        if result is None:
            return None, _NO_BEATS, "Too few clear beats for heart-rate variability."
        values: dict[str, float | None] = {
            k: None if not np.isfinite(v) else round(float(v), 3 if k == "jitter_share" else 1)
            for k, v in asdict(result).items()
        }
        # how precise the reported beats are: the pair's mean wave carries the noise its mean
        # beats do (docs/hrv.md, session 22); one wave alone, its own
        timed = clearest, times
        if paired is not None:
            mean_wave = pair_wave(waves[0], waves[1], beats_of[0], beats_of[1], fs)
            timed = mean_wave, beat_times(mean_wave, fs, band, expected_rate_hz=rate_hz)
        consistency = beat_consistency(timed[0], fs, timed[1])
        values["beat_consistency"] = round(consistency, 4)
        note = None
        if not consistency >= MIN_BEAT_CONSISTENCY:
            values["sdnn_ms"] = values["rmssd_ms"] = None
            note = (
                f"Beat times too noisy for SDNN and RMSSD (beat consistency {consistency:.3f}, "
                f"below {MIN_BEAT_CONSISTENCY:g}); only the mean inter-beat interval is given."
            )
        elif paired is None:  # unchecked timing: alone, either estimate read RMSSD up to 97 %
            values["sdnn_ms"] = values["rmssd_ms"] = None  # too high on clear videos (docs/hrv.md)
            note = (
                "The two pulse estimates do not agree on the beats, so their timing cannot be "
                "checked; SDNN and RMSSD are not reported."
                if len(waves) > 1
                else "One pulse estimate cannot show its own beat-timing jitter, so SDNN and "
                "RMSSD are not reported (they need BigSmall's fused pulse, the default)."
            )
        elif result.jitter_share > MAX_JITTER_SHARE:
            values["sdnn_ms"] = values["rmssd_ms"] = None
            note = (
                f"Beat-timing jitter ({result.jitter_ms:.0f} ms) accounts for "
                f"{result.jitter_share:.0%} of the beat-to-beat variation, above "
                f"{MAX_JITTER_SHARE:.0%}; SDNN and RMSSD are not reported."
            )
        return values, start + np.round(times * fs).astype(int), note

    @staticmethod
    def _rate(
        estimates: list[tuple[np.ndarray, bool]],
        start: int,
        stop: int,
        kind: str,
        fs: float,
        order: analysis.ReadingOrder = analysis.ALL_TOGETHER,
        head: tuple[np.ndarray, float] | None = None,
        not_at_hz: tuple[float, ...] = (),
    ) -> tuple[analysis.RateEstimate, str | None]:
        """Whole-video rate of ``kind`` from raw estimates ``(wave (T,), diff-normalized)``
        of one rhythm (``order``, ``not_at_hz``: see :func:`analysis.estimate`), over the
        longest stretch with a face, and a warning. ``head``: the head's pose (T, 3) and the
        crop's height (px), regressed out where the head moves
        (:func:`analysis.without_head_motion`)."""
        fs_note = {"heart": "heart rate", "breathing": "breathing rate"}[kind]
        seconds = (stop - start) / fs
        if seconds < analysis.MIN_SEC[kind]:
            nan = float("nan")
            return analysis.RateEstimate(nan, nan, analysis.TOO_SHORT), (
                f"Only {seconds:.1f} s of video with a face: a {fs_note} needs at least "
                f"{analysis.MIN_SEC[kind]:g} s, so none is reported."
            )
        waves = [analysis.rate_wave(w[start:stop], fs, kind, dn) for w, dn in estimates]
        if head is not None:
            pose, height = head
            waves = analysis.without_head_motion(waves, pose[start:stop], RISE, height, fs)
        est = analysis.estimate(waves, fs, kind, order, not_at_hz)
        if est.reliable:
            return est, None
        signal = "pulse" if kind == "heart" else "breathing"
        # rounded down: never "SNR 3.0 dB, below 3 dB"
        shown = math.floor(est.snr_db * 10.0) / 10.0 if math.isfinite(est.snr_db) else est.snr_db
        weak = f"The {signal} signal is too weak or noisy"
        unit = "bpm" if kind == "heart" else "/min"
        if math.isfinite(est.passed_over_bpm):
            weak = (
                f"The {signal}'s strongest peak ({est.passed_over_bpm:.1f} {unit}) lies at a "
                "harmonic of the breathing rate, the face's breathing motion rather than a pulse, "
                "and the rest is too weak or noisy"
            )
        return est, (
            f"{weak} (SNR {shown:.1f} dB, below "
            f"{analysis.snr_threshold_db(kind, est.n_waves):g} dB), so no {fs_note} is reported."
        )

    def _frames_table(
        self,
        inputs: BigSmallInputs,
        ppg: np.ndarray,
        resp: np.ndarray,
        au: np.ndarray | None,
        valid: np.ndarray,
        beats: np.ndarray,
    ) -> pd.DataFrame:
        total = len(inputs)
        blank = np.where(valid, 1.0, np.nan)
        beat = np.zeros(total, np.int8)
        beat[beats[(beats >= 0) & (beats < total)]] = 1
        cols: dict[str, np.ndarray] = {
            "time_s": np.asarray(inputs.timestamps_sec, np.float64),
            "ppg": ppg * blank,
            "resp": resp * blank,
            "beat": beat,
        }
        for i, name in enumerate(AU_NAMES):
            cols[name] = (au[:, i] * blank) if au is not None else np.full(total, np.nan)
        for i, name in enumerate(("box_x", "box_y", "box_w", "box_h")):
            cols[name] = inputs.boxes[:, i] * blank  # the crop's box; empty without a face
        cols["face_found"] = valid.astype(np.int8)
        return pd.DataFrame({c: cols[c] for c in FRAME_COLUMNS})


def _round(value: float, digits: int = 2) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None
