"""Rolling estimates of heart rate, breathing rate and active AUs from a frame stream.

The streaming form of :class:`bigsmall.predict.Predictor` for a camera (or a file played as
one). Per frame: the face is tracked (Haar detection every :data:`DETECT_EVERY_FRAMES`
frames), cropped and area-resized to BigSmall's Big size, and the Small input (the normalized
difference d = (x_t - x_{t-1}) / (x_t + x_{t-1}), area-resized) is computed as in
:mod:`bigsmall.video.inputs` (Narayanswamy et al., WACV 2024). The clip-wide statistics that
an offline run normalizes with are replaced by statistics of the last :data:`BUFFER_SEC`
seconds. Every :data:`UPDATE_SEC` the network runs on the windows completed since the last
update (several windows per call, cheaper than one call per window) and the rates are
re-estimated from the buffer with the same quality rules as ``predict``
(:mod:`bigsmall.predict.analysis`): the heart rate from the last ``window_sec`` (the first
estimate after ≈ ``window_sec``), the breathing rate once :data:`analysis.BREATHING_MIN_WINDOW_SEC`
of video is buffered, and from then on the heart rate away from the breathing's harmonics
(:func:`analysis.breathing_harmonics_hz`); before it, a harmonic of fast breathing can show as
a heart rate. Per-frame processing time is measured and reported.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from bigsmall.constants import AU_NAMES
from bigsmall.errors import ConfigError
from bigsmall.predict import analysis
from bigsmall.predict.motion import POSE_COLUMNS, RISE, HeadPoseTracker
from bigsmall.predict.predictor import MODEL_METHOD, PULSE_SIGN
from bigsmall.predict.result import AU_PRESENT_PROBABILITY
from bigsmall.predict.runner import WindowFn
from bigsmall.predict.shoulders import ShouldersTracker
from bigsmall.signal.rppg import extract_pulse
from bigsmall.video.aligned_big import Aligner, BigCutter, align_region
from bigsmall.video.boxes import DEFAULT_ENLARGE_COEF, Box
from bigsmall.video.crop import BIG_SIZE_HW, bp4d_square_box
from bigsmall.video.face import DEFAULT_DETECTOR, create_detector
from bigsmall.video.frame_views import RgbView
from bigsmall.video.framing import (
    BP4D_FRAMING,
    CROP_MODES,
    FacePolicy,
    crop_square_padded,
    framing_box,
    padded_crop,
)
from bigsmall.video.inputs import DEFAULT_GLIDE_BOX, SMALL_SIZE_HW
from bigsmall.video.normalize import DIFF_EPS, unit_levels
from bigsmall.video.skin import region_slices, skin_mean_rgb, skin_region

#: Seconds of history kept for normalization and the rates.
BUFFER_SEC: float = 30.0
#: Seconds between estimates.
UPDATE_SEC: float = 1.0
#: Face detection every this many frames (tracked in between).
DETECT_EVERY_FRAMES: int = 30
#: An AU is listed as active when its mean probability over the last second reaches this.
ACTIVE_AU_PROBABILITY: float = AU_PRESENT_PROBABILITY
_LATENCY_PERCENTILE: float = 95.0


@dataclass
class LiveStatus:
    """One rolling estimate."""

    time_sec: float
    heart_rate_bpm: float | None
    pulse_quality: str
    breathing_rate_bpm: float | None
    breathing_quality: str
    active_aus: list[str] | None
    face_found: bool
    latency_ms_median: float
    latency_ms_p95: float
    #: Frames processed per second of processing time (capacity, not the stream's rate).
    frames_per_sec: float
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """A one-line status for a terminal."""
        return (
            f"t={self.time_sec:6.1f}s  {self.readings()}"
            f"  face: {'yes' if self.face_found else 'NO'}"
            f"  latency {self.latency_ms_median:.2f} ms/frame (median; p95 "
            f"{self.latency_ms_p95:.2f})"
            f"  {self.frames_per_sec:.0f} frames/s"
        )

    def readings(self) -> str:
        """Heart rate, breathing rate and active AUs, with their quality."""

        def rate(value: float | None, unit: str, quality: str) -> str:
            return f"-- {unit} ({quality})" if value is None else f"{value:5.1f} {unit} ({quality})"

        aus = "n/a" if self.active_aus is None else (" ".join(self.active_aus) or "none")
        return (
            f"HR {rate(self.heart_rate_bpm, 'bpm', self.pulse_quality)}"
            f"  BR {rate(self.breathing_rate_bpm, '/min', self.breathing_quality)}  AUs: {aus}"
        )


class LiveEstimator:
    """Feed RGB frames one at a time with :meth:`process`; get a :class:`LiveStatus` every
    :data:`UPDATE_SEC` of video (``None`` in between).

    Args:
        fps: frame rate of the stream.
        runner: the network (``(big_first, small) -> outputs``, see
            :func:`bigsmall.predict.runner.make_runner`) for method "bigsmall", else ``None``.
        n_segment: frames per network window.
        method: "bigsmall" or a classic rPPG method.
        breathing: "fused" (the face's motion, else the shoulders', where clear alone, else the
            face's read with the respiration head: ``predict``'s default), "motion" (vertical
            movement of the face, else of the shoulders) or "model" (respiration head); without
            a runner always "motion".
        window_sec: heart-rate window (also when the first estimate comes).
        big_hw, small_hw: input sizes of the network.
        crop: the crop the network's weights were trained with (``face``, ``bp4d_framing``,
            ``bp4d`` or ``full``; :attr:`bigsmall.predict.session.ModelSession.crop`), as
            ``predict`` makes it.
        pulse: how the network's heart rate is read, as ``predict``: "fused" (its PPG together
            with POS on the face's skin colour) or "model" (its PPG alone).
        aligner: for weights trained on landmark-aligned faces
            (:class:`bigsmall.video.align.FaceAligner`, as ``predict`` builds it): the Big frame
            of each window is aligned (a frame without landmarks keeps its plain crop); for
            weights with their own Big framing, a :class:`~bigsmall.video.reframe.BoxReframer`
            cuts it.
    """

    def __init__(
        self,
        fps: float,
        runner: WindowFn | None = None,
        n_segment: int = 3,
        method: str = MODEL_METHOD,
        breathing: str = "fused",
        window_sec: float = 10.0,
        big_hw: tuple[int, int] = BIG_SIZE_HW,
        small_hw: tuple[int, int] = SMALL_SIZE_HW,
        crop: str = "face",
        pulse: str = "fused",
        aligner: Aligner | BigCutter | None = None,
    ) -> None:
        if method == MODEL_METHOD and runner is None:
            raise ValueError("method 'bigsmall' needs a runner")
        if not np.isfinite(fps) or fps <= 0:
            raise ConfigError(f"the stream's frame rate must be above 0 (got {fps}); pass --fps")
        self.fps = float(fps)
        self.runner = runner
        self.n = n_segment
        self.method = method
        self.breathing = breathing if runner is not None else "motion"
        self.window_sec = window_sec
        self.big_hw, self.small_hw = big_hw, small_hw
        if crop not in CROP_MODES:
            raise ConfigError(f"unknown crop {crop!r}; choose one of {', '.join(CROP_MODES)}")
        self.crop = crop
        self.pulse = pulse
        self.aligner = aligner
        self.pending_aligned: list[np.ndarray] = []  # aligned unit-float Big frames
        self.aligned_stats: deque[tuple[float, float, int]] = deque(
            maxlen=max(round(BUFFER_SEC * fps / n_segment), 1)
        )
        self.skin_rows, self.skin_cols = region_slices(skin_region(crop), *big_hw)
        size = max(round(BUFFER_SEC * fps), 2)
        self.detector = create_detector(DEFAULT_DETECTOR)
        self.faces: FacePolicy | None = None  # tracks the face as predict does
        self.motion = HeadPoseTracker()
        self.shoulders = ShouldersTracker()
        self.lut = unit_levels()
        self.eps = np.full((*big_hw, 3), DIFF_EPS, np.float32)
        self.prev_x: np.ndarray | None = None
        # Per-frame history.
        self.rgb: deque[tuple[float, float, float]] = deque(maxlen=size)
        self.skin: deque[np.ndarray] = deque(maxlen=size)
        #: Frames read by the network, and per AU those where it was present (whole stream).
        self.au_frames = 0
        self.au_present = np.zeros(len(AU_NAMES), np.int64)
        self.found: deque[bool] = deque(maxlen=size)
        #: the head's fitted pose (3,) and the crop box's height (px; NaN without a face)
        self.pose: deque[np.ndarray] = deque(maxlen=size)
        self.shoulders_pose: deque[np.ndarray] = deque(maxlen=size)
        self.heights: deque[float] = deque(maxlen=size)
        self.x_stats: deque[tuple[float, float]] = deque(maxlen=size)
        self.d_stats: deque[tuple[float, float]] = deque(maxlen=size)
        self.bvp: deque[float] = deque(maxlen=size)
        self.resp: deque[float] = deque(maxlen=size)
        self.au: deque[np.ndarray] = deque(maxlen=max(round(UPDATE_SEC * fps), 1))
        # Frames waiting for the network: (Big unit-float frame, Small raw difference).
        self.pending_big: list[np.ndarray] = []
        self.pending_small: list[np.ndarray] = []
        self.count = 0
        self.next_update = max(round(UPDATE_SEC * fps), 1)
        self.latency_sec: deque[float] = deque(maxlen=size)
        self.busy_sec = 0.0

    # -- per frame -----------------------------------------------------------------------------
    def _box(self, frame: np.ndarray) -> tuple[Box | None, bool]:
        """The crop box of ``frame`` under :attr:`crop` (as ``predict`` builds it) and whether
        a face is tracked."""
        height, width = frame.shape[:2]
        if self.crop == "full":
            return Box(0.0, 0.0, float(width), float(height)), True
        if self.crop == "bp4d":
            return bp4d_square_box(width, height), True
        if self.faces is None:  # "face": the box enlarged 1.5×; a framing: the box itself
            enlarge = DEFAULT_ENLARGE_COEF if self.crop == "face" else 1.0
            self.faces = FacePolicy(
                self.detector, DETECT_EVERY_FRAMES, enlarge, False, DEFAULT_GLIDE_BOX
            )
        box, face = self.faces(RgbView(frame))
        if self.crop == "bp4d_framing" and box is not None:
            box = framing_box(box, BP4D_FRAMING)
        return box, face

    def _crop(self, frame: np.ndarray, box: Box) -> np.ndarray:
        """The (big_h, big_w, 3) Big frame: a framing is padded where it leaves the frame."""
        if self.crop == "bp4d_framing":
            return crop_square_padded(frame, box, self.big_hw)
        height, width = frame.shape[:2]
        x0, y0, x1, y1 = box.clip(width, height).to_int()
        crop = frame[y0:y1, x0:x1] if x1 > x0 and y1 > y0 else frame
        return cv2.resize(crop, self.big_hw[::-1], interpolation=cv2.INTER_AREA)

    def process(self, frame_rgb: np.ndarray) -> LiveStatus | None:
        """Add one (H, W, 3) uint8 RGB frame."""
        start = time.perf_counter()
        box, face = self._box(frame_rgb)
        height, width = frame_rgb.shape[:2]
        box = box or Box(0.0, 0.0, float(width), float(height))
        big = self._crop(frame_rgb, box)
        mean = cv2.mean(big)
        self.rgb.append((mean[0], mean[1], mean[2]))
        if self.runner is not None and self.pulse == "fused":
            self.skin.append(skin_mean_rgb(big[self.skin_rows, self.skin_cols]))
        self.found.append(face)
        self.pose.append(self.motion.update(big, box.as_array()))
        last_face = None if self.faces is None else self.faces.last_face
        self.shoulders_pose.append(self.shoulders.update(RgbView(frame_rgb), last_face))
        self.heights.append(box.h if face else float("nan"))
        if self.runner is not None:
            if self.aligner is not None and self.count % self.n == 0:
                self._aligned_input(frame_rgb, box, face, big)
            self._model_inputs(big)
        self.count += 1
        status = None
        if self.count >= self.next_update:
            self.next_update += max(round(UPDATE_SEC * self.fps), 1)
            status = self._update(face)
        spent = time.perf_counter() - start
        self.latency_sec.append(spent)
        self.busy_sec += spent
        return status

    def _model_inputs(self, big: np.ndarray) -> None:
        x = cv2.LUT(big, self.lut)
        values = x.size
        self.x_stats.append((cv2.sumElems(x)[:3], cv2.norm(x, cv2.NORM_L2SQR), values))
        if self.prev_x is None:
            d = np.zeros_like(x)
        else:
            d = cv2.divide(cv2.subtract(x, self.prev_x), cv2.add(cv2.add(x, self.prev_x), self.eps))
        self.d_stats.append((sum(cv2.sumElems(d)[:3]), cv2.norm(d, cv2.NORM_L2SQR)))
        self.prev_x = x
        small = cv2.resize(d, self.small_hw[::-1], interpolation=cv2.INTER_AREA)
        self.pending_big.append(x)
        self.pending_small.append(small)

    def _aligned_input(self, frame: np.ndarray, box: Box, face: bool, big: np.ndarray) -> None:
        """The aligned Big frame of a window (as ``predict`` aligns it), or its plain crop."""
        aligned = None
        if face and isinstance(self.aligner, BigCutter):
            view = RgbView(frame)
            unclipped = (self.faces.unclipped_box if self.faces else None) or box
            aligned = self.aligner.cut(view, view.crop(box), box, unclipped)
        elif face:
            region, hint = align_region(box, face_hint=self.crop == "face")
            aligned = self.aligner(padded_crop(RgbView(frame), region), hint)
        image = big if aligned is None else np.ascontiguousarray(aligned.image, np.uint8)
        if image.shape[:2] != self.big_hw:
            image = cv2.resize(image, self.big_hw[::-1], interpolation=cv2.INTER_AREA)
        x = cv2.LUT(image, self.lut)
        self.aligned_stats.append((sum(cv2.sumElems(x)[:3]), cv2.norm(x, cv2.NORM_L2SQR), x.size))
        self.pending_aligned.append(x)

    # -- estimates -----------------------------------------------------------------------------
    def _run_model(self) -> None:
        windows = len(self.pending_big) // self.n
        if windows == 0:
            return
        used = windows * self.n
        x_sum = sum(sum(s[0]) for s in self.x_stats)
        x_sq = sum(s[1] for s in self.x_stats)
        count = sum(s[2] for s in self.x_stats)
        x_mean = x_sum / count
        x_std = max(np.sqrt(max(x_sq / count - x_mean * x_mean, 0.0)), 1e-6)
        d_count = max(len(self.d_stats) - 1, 1) * self.x_stats[0][2]
        d_mean = sum(s[0] for s in self.d_stats) / d_count
        d_std = np.sqrt(max(sum(s[1] for s in self.d_stats) / d_count - d_mean * d_mean, 0.0))
        d_std = max(d_std, 1e-6)
        if self.aligner is not None:  # Big reads the aligned frames, with their own statistics
            big = np.stack(self.pending_aligned[:windows])
            del self.pending_aligned[:windows]
            count = sum(s[2] for s in self.aligned_stats)
            x_mean = sum(s[0] for s in self.aligned_stats) / count
            x_sq = sum(s[1] for s in self.aligned_stats) / count
            x_std = max(np.sqrt(max(x_sq - x_mean * x_mean, 0.0)), 1e-6)
        else:
            big = np.stack(self.pending_big[0 : used : self.n])
        big = ((big - np.float32(x_mean)) / np.float32(x_std)).transpose(0, 3, 1, 2)
        small = (np.stack(self.pending_small[:used]) / np.float32(d_std)).transpose(0, 3, 1, 2)
        out = self.runner(np.ascontiguousarray(big), np.ascontiguousarray(small))
        del self.pending_big[:used], self.pending_small[:used]
        if "bvp" in out:
            self.bvp.extend(out["bvp"][:, 0].tolist())
        if "resp" in out:
            self.resp.extend(out["resp"][:, 0].tolist())
        if "au" in out:
            probs = 1.0 / (1.0 + np.exp(-out["au"].astype(np.float64)))
            self.au.extend(list(probs))
            self.au_frames += probs.shape[0]
            self.au_present += (probs >= AU_PRESENT_PROBABILITY).sum(0)

    def _estimate(self, raw: np.ndarray, kind: str, diff_normalized: bool, min_sec: float):
        return self._estimate_many([(raw, diff_normalized)], kind, min_sec)

    def _estimate_many(
        self,
        raws: list[tuple[np.ndarray, bool]],
        kind: str,
        min_sec: float,
        short: str = "waiting",
        order: analysis.ReadingOrder = analysis.ALL_TOGETHER,
        breathing_bpm: float | None = None,
    ):
        """Rate and quality of one or more raw estimates ``(wave, diff-normalized)`` of one
        rhythm, read together as ``predict`` reads them (:func:`analysis.estimate`, ``order``
        too; a pulse with the head's motion regressed out where it moves, and not at the
        harmonics of ``breathing_bpm``); quality ``short`` while they cover less than
        ``min_sec``."""
        if min(raw.shape[0] for raw, _ in raws) < round(min_sec * self.fps):
            return None, short
        waves = [analysis.rate_wave(raw, self.fps, kind, dn) for raw, dn in raws]
        if kind == "heart":
            pose = self._pose_of(min(w.shape[0] for w in waves))
            if pose is not None:
                waves = [w[-pose.shape[0] :] for w in waves]
                waves = analysis.without_head_motion(waves, pose, RISE, self._height(), self.fps)
        not_at_hz = analysis.breathing_harmonics_hz(breathing_bpm)
        est = analysis.estimate(waves, self.fps, kind, order, not_at_hz)
        return (round(est.rate_bpm, 1) if est.reliable else None), est.quality

    def _pose_of(self, frames: int) -> np.ndarray | None:
        """(frames, 3) the head's pose over the last ``frames`` frames the pulse estimates
        cover (the network lags the camera by the frames still waiting for it); ``None`` when
        fewer are kept."""
        lag = len(self.pending_big) if self.runner is not None else 0
        pose = self._poses()[: len(self.pose) - lag]
        return pose[-frames:] if frames > 2 and pose.shape[0] >= frames else None

    def _height(self) -> float:
        """The crop box's median height (px) over the frames kept; 0 without a face."""
        return float(np.nanmedian(self.heights)) if any(self.found) else 0.0

    def _poses(self) -> np.ndarray:
        """(T, 3) the head's pose over the frames kept (:data:`POSE_COLUMNS`)."""
        return np.asarray(self.pose, np.float64).reshape(-1, len(POSE_COLUMNS))

    def _pulses(self, frames: int) -> list[tuple[np.ndarray, bool]]:
        """The raw pulse estimates ``(wave, diff-normalized)`` of the last ``frames`` frames,
        as ``predict`` reads them: the network's PPG (with POS on the skin colour when fused),
        or the classic method on the crop's colour."""
        if self.runner is None:
            rgb = np.asarray(self.rgb, np.float64)[-frames:]
            pulse = extract_pulse(rgb, self.fps, self.method) if rgb.shape[0] > 2 else rgb[:, 0]
            return [(PULSE_SIGN[self.method] * pulse, False)]
        ppg = np.asarray(self.bvp, np.float64)[-frames:]
        reads = [(ppg, True)]
        if self.pulse == "fused" and len(self.skin) > 2:
            # the frames the network has read so far (it lags by up to a window)
            skin = np.asarray(self.skin, np.float64)[: len(self.skin) - len(self.pending_big)]
            skin = skin[-min(frames, ppg.shape[0]) :]
            if skin.shape[0] > 2:
                reads.append((PULSE_SIGN["pos"] * extract_pulse(skin, self.fps, "pos"), False))
        return reads

    def summary(self) -> LiveStatus:
        """The whole stream read at once (the last :data:`BUFFER_SEC` s; a shorter file: all of
        it), as ``predict`` reads a file: rates from every frame kept, and the AUs present on at
        least half of the frames the network read. Call it at the end of a file."""
        if self.runner is not None:
            self._run_model()
        frames = len(self.found)
        breaths, order = self._breaths()
        br, br_quality = self._estimate_many(
            breaths, "breathing", analysis.MIN_SEC["breathing"], analysis.TOO_SHORT, order
        )
        hr, hr_quality = self._estimate_many(
            self._pulses(frames),
            "heart",
            analysis.MIN_SEC["heart"],
            analysis.TOO_SHORT,
            breathing_bpm=br,
        )
        aus = None
        if self.runner is not None and self.au_frames:
            share = self.au_present / self.au_frames
            aus = [name for name, v in zip(AU_NAMES, share, strict=True) if v >= 0.5]
        return self._status(hr, hr_quality, br, br_quality, aus, any(self.found))

    def _breaths(self) -> tuple[list[tuple[np.ndarray, bool]], analysis.ReadingOrder]:
        """The raw breathing estimates (the respiration head and/or the face's and the
        shoulders' motion) and how they are read (:func:`analysis.breathing_reads`), over
        the latest stretch all cover (the head lags)."""
        height = self._height()
        rise = analysis.rise_without_sway(self._poses(), RISE, self.fps, height)
        shoulders = np.asarray(self.shoulders_pose, np.float64).reshape(-1, len(POSE_COLUMNS))
        body = [
            (analysis.body_motion(rise, self.fps, height), False),
            (analysis.body_motion(shoulders[:, RISE], self.fps, height), False),
        ]
        model = (np.asarray(self.resp, np.float64), True) if self.resp else None
        reads, order = analysis.breathing_reads(self.breathing, model, body)
        common = min(wave.size for wave, _ in reads)
        return [(wave[-common:], dn) for wave, dn in reads], order

    def _update(self, face: bool) -> LiveStatus:
        if self.runner is not None:
            self._run_model()
        hr_frames = round(self.window_sec * self.fps)
        breaths, order = self._breaths()
        br, br_quality = self._estimate_many(
            breaths, "breathing", analysis.BREATHING_MIN_WINDOW_SEC, order=order
        )
        hr, hr_quality = self._estimate_many(
            self._pulses(hr_frames), "heart", self.window_sec, breathing_bpm=br
        )
        aus = None
        if self.runner is not None and self.au and face:  # no face now: no AUs shown
            mean = np.mean(np.stack(self.au), axis=0)
            aus = [
                name for name, p in zip(AU_NAMES, mean, strict=True) if p >= ACTIVE_AU_PROBABILITY
            ]
        return self._status(hr, hr_quality, br, br_quality, aus, face)

    def _status(
        self,
        hr: float | None,
        hr_quality: str,
        br: float | None,
        br_quality: str,
        aus: list[str] | None,
        face: bool,
    ) -> LiveStatus:
        latency = np.asarray(self.latency_sec) * 1e3 if self.latency_sec else np.zeros(1)
        return LiveStatus(
            time_sec=self.count / self.fps,
            heart_rate_bpm=hr,
            pulse_quality=hr_quality,
            breathing_rate_bpm=br,
            breathing_quality=br_quality,
            active_aus=aus,
            face_found=face,
            latency_ms_median=float(np.median(latency)),
            latency_ms_p95=float(np.percentile(latency, _LATENCY_PERCENTILE)),
            frames_per_sec=self.count / max(self.busy_sec, 1e-9),
        )
