"""Write a synthetic dataset in the ``folder`` layout (``bigsmall synth``).

Layout::

    OUT/dataset.json                         generator version, seed, arguments, per-video summary
    OUT/S001/S001_T1.mp4                     H.264 video
    OUT/S001/S001_T1.csv                     one row per frame: time_s, ppg, resp, AU01..AU24 (0/1)
    OUT/S001/S001_T1.json                    the trial's parameters and ground-truth rates

``ppg`` is the injected blood-volume waveform (up = more blood = darker skin), ``resp`` the
injected breathing waveform (up = inhalation = head and shoulders up); both zero-mean unit-std.
Talking (mouth opening at syllable rate) is labelled as no AU (it is AU25/26, not among the 12).
Each subject keeps its identity (face, skin tone) across trials. Same seed, same bytes
(videos encoded in one thread); the output folder appears only when complete (written to a
temporary sibling, then renamed).
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from bigsmall.constants import AU_NAMES
from bigsmall.data.synthetic.actions import LABEL_THRESHOLD
from bigsmall.data.synthetic.asset import FaceAsset
from bigsmall.data.synthetic.compositor import render_frames, trial_signals
from bigsmall.data.synthetic.renderer import render_procedural, sample_look
from bigsmall.data.synthetic.scene import sample_trial
from bigsmall.errors import DatasetError
from bigsmall.output_dir import atomic_dir, check_out_dir, write_text_atomic
from bigsmall.video.writer import VideoWriter

GENERATOR_VERSION: str = "1.0"
CSV_COLUMNS: tuple[str, ...] = ("time_s", "ppg", "resp", *AU_NAMES)
#: x264 presets from "veryfast" up (mb-tree lookahead) were seen to give different bytes for the
#: same frames in different processes; "superfast" was byte-stable.
ENCODER_PRESET: str = "superfast"
_SUBJECT_DIGITS: int = 3
#: Seed-sequence tags separating the subject identity and trial streams.
_SUBJECT_STREAM: int = 0
_TRIAL_STREAM: int = 1


@dataclass(frozen=True)
class SynthConfig:
    """Arguments of a synthetic dataset (stored in ``dataset.json``)."""

    subjects: int
    seconds: float
    seed: int
    trials_per_subject: int = 1
    fps: float = 30.0
    width: int = 320
    height: int = 240
    faces_dir: str | None = None
    face_share: float = 1.0
    #: False renders no pulse at all: null videos for calibrating a rate's quality gate (what
    #: SNR a model reads off a face without a pulse); the CSV then has no ``ppg`` column and the
    #: JSON's ``heart_rate_bpm`` is null.
    pulse: bool = True
    #: Range of each trial's expression-event rate (events per minute).
    au_events_per_min: tuple[float, float] = (4.0, 18.0)
    #: Range of one expression event's duration (s).
    au_event_sec: tuple[float, float] = (0.8, 6.0)
    #: Multiplier of every AU's displacement and shading (1 = the default, FACS-B-like look).
    au_strength: float = 1.0

    def __post_init__(self) -> None:
        for name in ("au_events_per_min", "au_event_sec"):
            value = getattr(self, name)
            try:
                low, high = (float(v) for v in value)
            except (TypeError, ValueError):
                raise DatasetError(f"synth: {name} must be two numbers LOW,HIGH") from None
            object.__setattr__(self, name, (low, high))

    def validate(self) -> None:
        if not 0.0 <= self.face_share <= 1.0:
            raise DatasetError("synth: --face-share must be between 0 and 1")
        if self.subjects < 1 or self.trials_per_subject < 1:
            raise DatasetError("synth: --subjects and --trials-per-subject must be at least 1")
        if self.seconds <= 0 or self.fps <= 0:
            raise DatasetError("synth: --seconds and --fps must be positive")
        if self.width % 2 or self.height % 2 or min(self.width, self.height) < 64:
            raise DatasetError(f"synth: --size {self.width}x{self.height} must be even, >= 64 px")
        low, high = self.au_events_per_min
        if not 0.0 <= low <= high:
            raise DatasetError("synth: --au-events-per-min needs 0 <= LOW <= HIGH")
        low, high = self.au_event_sec
        if not 0.0 < low <= high:
            raise DatasetError("synth: --au-event-sec needs 0 < LOW <= HIGH")
        if not 0.0 <= self.au_strength <= 4.0:
            raise DatasetError("synth: --au-strength must be between 0 and 4")


def subject_id(index: int) -> str:
    return f"S{index + 1:0{_SUBJECT_DIGITS}d}"


def trial_id(index: int) -> str:
    return f"T{index + 1}"


def _subject_asset(
    config: SynthConfig, subject: int, trial_rng: np.random.Generator, face_files: list[Path]
) -> FaceAsset:
    """The subject's face for one trial (identity fixed by subject, placement by trial).

    With ``faces_dir`` the first ``round(face_share * subjects)`` subjects are photos (taking
    the files in turn, from a seed-dependent start) and the rest procedural faces."""
    identity = np.random.default_rng([config.seed, _SUBJECT_STREAM, subject])
    if face_files and subject < round(config.face_share * config.subjects):
        from bigsmall.data.synthetic.faces import load_face_asset, read_face_labels

        start = int(np.random.default_rng([config.seed, _SUBJECT_STREAM]).integers(len(face_files)))
        path = face_files[(subject + start) % len(face_files)]
        base = read_face_labels(path.parent).get(path.name, ())
        return load_face_asset(path, config.height, config.width, trial_rng, base_aus=base)
    look = sample_look(identity)
    return render_procedural(look, config.height, config.width, trial_rng)


def write_csv(
    path: Path,
    signals_ppg: np.ndarray | None,
    signals_resp: np.ndarray,
    au: np.ndarray,
    fps: float,
) -> None:
    """Label CSV (one row per frame; no ``ppg`` column when ``signals_ppg`` is None), written
    to a temp name then renamed."""
    columns = [c for c in CSV_COLUMNS if c != "ppg" or signals_ppg is not None]
    lines = [",".join(columns)]
    for i in range(signals_resp.shape[0]):
        labels = ",".join(str(int(v)) for v in au[i])
        ppg = "" if signals_ppg is None else f"{signals_ppg[i]:.6f},"
        lines.append(f"{i / fps:.6f},{ppg}{signals_resp[i]:.6f},{labels}")
    write_text_atomic(path, "\n".join(lines) + "\n")


def generate_video(config: SynthConfig, subject: int, trial: int, root: Path) -> dict[str, object]:
    """Render, encode and label one trial under ``root``; returns its summary."""
    import cv2

    cv2.setNumThreads(1)
    face_files = []
    if config.faces_dir:
        from bigsmall.data.synthetic.faces import list_face_files

        face_files = list_face_files(config.faces_dir)
    rng = np.random.default_rng([config.seed, _TRIAL_STREAM, subject, trial])
    asset = _subject_asset(config, subject, rng, face_files)
    params = sample_trial(
        rng, asset.skin_tone, config.au_events_per_min, config.au_event_sec, config.au_strength
    )
    if not config.pulse:  # same draws as the pulsed video of this seed, without the pulse
        params = replace(params, pulse_amplitude=0.0)
    n_frames = max(round(config.seconds * config.fps), 1)
    signals = trial_signals(params, n_frames, config.fps, config.height, rng)
    for name in asset.base_aus:  # the still's own expression is present on every frame
        signals.au[:, AU_NAMES.index(name)] = 1
    name = f"{subject_id(subject)}_{trial_id(trial)}"
    folder = root / subject_id(subject)
    folder.mkdir(parents=True, exist_ok=True)
    with VideoWriter(
        folder / f"{name}.mp4",
        config.fps,
        config.width,
        config.height,
        crf=params.crf,
        preset=ENCODER_PRESET,
    ) as writer:
        for batch in render_frames(asset, params, signals, rng):
            writer.write(batch)
    ppg = signals.ppg if config.pulse else None
    write_csv(folder / f"{name}.csv", ppg, signals.resp, signals.au, config.fps)
    au_rate = {
        k: round(float(v), 4) for k, v in zip(AU_NAMES, signals.au.mean(axis=0), strict=True)
    }
    meta = {
        "subject": subject_id(subject),
        "trial": trial_id(trial),
        "video": f"{subject_id(subject)}/{name}.mp4",
        "labels": f"{subject_id(subject)}/{name}.csv",
        "frames": n_frames,
        "fps": config.fps,
        "seed": config.seed,
        "heart_rate_bpm": round(params.heart_rate_bpm, 3) if config.pulse else None,
        "pulse": config.pulse,
        "breathing_rate_bpm": round(params.breathing_rate_bpm, 3),
        "skin_tone": None if asset.skin_tone is None else round(asset.skin_tone, 4),
        "skin_rgb": [round(v, 4) for v in asset.skin_rgb],
        "face_source": asset.source,
        "face_base_aus": list(asset.base_aus),
        "pulse_source": signals.pulse_source,
        "lighting": {
            "gain": round(params.light_gain, 4),
            "color_temperature_k": round(params.color_temperature_k, 1),
            "drift": round(params.light_drift, 4),
            "flicker": params.flicker,
        },
        "motion": params.motion,
        "crf": params.crf,
        "noise_std": round(params.noise_std, 4),
        "talking_fraction_frames": round(float((signals.talk > 0.05).mean()), 4),
        "au_rate": au_rate,
        "params": {
            k: (round(v, 6) if isinstance(v, float) else v) for k, v in params.to_dict().items()
        },
        "label_notes": "ppg: injected blood volume (up = more blood, skin darker); resp: injected "
        f"breathing (up = inhale, head up); AUs 0/1 at intensity >= {LABEL_THRESHOLD:g}; "
        "talking sets no AU.",
    }
    write_text_atomic(folder / f"{name}.json", json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return meta


def _run_job(job: tuple[SynthConfig, int, int, str]) -> dict[str, object]:
    config, subject, trial, root = job
    return generate_video(config, subject, trial, Path(root))


def check_arguments(out_dir: str | Path, config: SynthConfig, overwrite: bool) -> None:
    """Raise a one-line :class:`DatasetError` for bad arguments or a non-empty ``out_dir``."""
    config.validate()
    inputs = [config.faces_dir] if config.faces_dir else []
    check_out_dir(out_dir, overwrite, inputs, error=DatasetError)
    if config.faces_dir:
        from bigsmall.data.synthetic.faces import list_face_files, read_face_labels

        list_face_files(config.faces_dir)
        read_face_labels(config.faces_dir)


def generate_dataset(
    out_dir: str | Path,
    config: SynthConfig,
    workers: int = 1,
    overwrite: bool = False,
    progress: Callable[[int], object] | None = None,
) -> dict[str, object]:
    """Write the whole dataset to ``out_dir`` atomically; returns the ``dataset.json`` dict.

    ``progress``: called with 1 after each finished video (e.g. ``tqdm.update``).
    """
    check_arguments(out_dir, config, overwrite)
    inputs = [config.faces_dir] if config.faces_dir else []
    with atomic_dir(out_dir, overwrite, inputs, "bigsmall synth", DatasetError) as tmp:
        return _generate_into(tmp, config, workers, progress)


def _generate_into(
    tmp: Path, config: SynthConfig, workers: int, progress: Callable[[int], object] | None
) -> dict[str, object]:
    jobs = [
        (config, s, t, str(tmp))
        for s in range(config.subjects)
        for t in range(config.trials_per_subject)
    ]
    if workers > 1:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            videos = []
            for meta in pool.imap(_run_job, jobs):
                videos.append(meta)
                if progress:
                    progress(1)
    else:
        videos = []
        for job in jobs:
            videos.append(_run_job(job))
            if progress:
                progress(1)
    manifest = {
        "generator": "bigsmall.data.synthetic",
        "version": GENERATOR_VERSION,
        "seed": config.seed,
        "arguments": asdict(config),
        "csv_columns": list(CSV_COLUMNS),
        "videos": [
            {
                k: meta[k]
                for k in (
                    "subject",
                    "trial",
                    "video",
                    "labels",
                    "frames",
                    "fps",
                    "heart_rate_bpm",
                    "breathing_rate_bpm",
                    "face_source",
                    "pulse_source",
                    "au_rate",
                )
            }
            for meta in videos
        ],
    }
    write_text_atomic(tmp / "dataset.json", json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest
