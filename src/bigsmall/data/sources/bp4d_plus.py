"""BP4D+ (Zhang et al., CVPR 2016, "Multimodal spontaneous emotion corpus for human behavior
analysis") in the layout it is distributed in, as used by BigSmall (Narayanswamy et al., WACV
2024).

Layout (names matched case-insensitively)::

    <root>/2D+3D/F001.zip                 members F001/T1/<n>.jpg ... (one zip per subject)
       or  2D+3D/F001_T1.zip              one zip per trial
       or  2D+3D/F001/T1/<n>.jpg          extracted frames
    <root>/Physiology/F001/T1/BP_mmHg.txt             blood-pressure wave, one value a line
                              Resp_Volts.txt           respiration wave
                              Pulse Rate_BPM.txt       heart rate (optional)
                              Respiration Rate_BPM.txt breathing rate (optional)
    <root>/AUCoding/AU_OCC/F001_T1.csv    header row; column 0 = frame number (1-based), then
                                          one 0/1 column per AU (other values = not coded)

Recordings are the trials found under ``Physiology``. Default scope ``"au_subset"``: tasks T1,
T6, T7, T8 cut to their AU-coded frames (``VideoRef.frame_range``), as BigSmall trains and
tests. Scope ``"all"``: every task, whole trials (the "entire dataset" scope for pulse and
breathing), AU labels attached where coded. Physiology (1000 Hz) spans the whole trial and is
resampled linearly onto its 25 fps frames; frames are counted from the archive's directory (no
decoding). ``bvp`` is the blood-pressure wave (``bvp_kind="blood_pressure"``): the POS
pseudo-PPG label is computed later from the video (:mod:`bigsmall.data.pseudo_labels`) with
``Labels.heart_rate_bpm`` (mean of ``Pulse Rate_BPM.txt`` over the segment; without that file,
the FFT rate of the blood-pressure wave). Crop ``"bp4d"``.

AU_OCC values other than 0/1 (e.g. 9) are "not coded" (-1). The header normally names the AUs
(its numbers are read); a header that only counts columns (it contains 3 or 8, which FACS does
not define) is read by position with the distribution's 34-AU column order. Option
``au_intensity=True`` adds ``AUCoding/AU_INT/AUxx/<id>_AUxx.csv`` to ``meta["au_intensity"]``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bigsmall.constants import AU_NAMES, BP4D_FS, HR_BAND_TOOLBOX_HZ
from bigsmall.data.schema import (
    AU_NOT_CODED,
    DataIssue,
    DataReport,
    Labels,
    Recording,
    RecordingRef,
    VideoRef,
)
from bigsmall.data.sources._common import (
    LENGTH_TOLERANCE_SEC,
    MAX_NAN_GAP_SEC,
    bridge_nan_gaps,
    check_duration,
    child_ci,
    fail,
    path_ci,
    read_number_column,
    stretch_to_frames,
)
from bigsmall.data.sources.base import report_issue, require_root
from bigsmall.errors import ConfigError, VideoError
from bigsmall.signal.rate import heart_rate
from bigsmall.signal.validation import SignalError
from bigsmall.video.frame_archive import list_frame_files, list_zip_frames

NAME = "bp4d_plus"
#: Tasks with AU coding (BigSmall's AU subset).
AU_TASKS: tuple[str, ...] = ("T1", "T6", "T7", "T8")
#: Physiology sampling rate (Hz).
PHYSIO_FS: float = 1000.0
#: AUs of the AU_OCC CSV columns in order, used when the header does not name them.
AU_OCC_COLUMNS: tuple[int, ...] = (
    1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    22, 23, 24, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39,
)  # fmt: skip
#: Highest FACS intensity level (A-E coded 1-5); other values mean "not coded".
MAX_AU_INTENSITY: int = 5
#: AU numbers FACS does not define: a header containing them counts columns, not AUs.
NOT_FACS_AUS: frozenset[int | None] = frozenset({3, 8})
SCOPES: tuple[str, ...] = ("au_subset", "all")
#: Physiology channels: role -> candidate file names (the first found is used).
PHYSIO_FILES: dict[str, tuple[str, ...]] = {
    "bp": ("BP_mmHg.txt",),
    "resp": ("Resp_Volts.txt", "Respiration_Volts.txt", "Resp_mV.txt"),
    "hr": ("Pulse Rate_BPM.txt", "Pulse_Rate_BPM.txt"),
    "rr": ("Respiration Rate_BPM.txt", "Respiration_Rate_BPM.txt"),
}
REQUIRED_PHYSIO: tuple[str, ...] = ("bp", "resp")

_SUBJECT = re.compile(r"^[FM]\d{3}$", re.IGNORECASE)
_TASK = re.compile(r"^T\d+$", re.IGNORECASE)


def _find_video(root: Path, subject: str, task: str) -> VideoRef | None:
    """The trial's frames: extracted folder, per-trial zip or per-subject zip."""
    base = child_ci(root, "2D+3D")
    if base is None:
        return None
    frame_dir = path_ci(base, subject, task) or child_ci(base, f"{subject}_{task}")
    if frame_dir is not None and frame_dir.is_dir():
        return VideoRef("frame_dir", frame_dir, fps=BP4D_FS)
    trial_zip = child_ci(base, f"{subject}_{task}.zip")
    if trial_zip is not None:
        return VideoRef("frame_zip", trial_zip, fps=BP4D_FS)
    subject_zip = child_ci(base, f"{subject}.zip")
    if subject_zip is not None:
        return VideoRef("frame_zip", subject_zip, fps=BP4D_FS, member_prefix=f"{subject}/{task}/")
    return None


def _physio_files(trial_dir: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for role, names in PHYSIO_FILES.items():
        for name in names:
            path = child_ci(trial_dir, name)
            if path is not None and path.is_file():
                found[role] = path
                break
    return found


class BP4DPlusSource:
    """BP4D+ raw layout → :class:`Recording` s (see the module docstring)."""

    name = NAME

    def list_recordings(
        self,
        root: str | Path,
        report: DataReport | None = None,
        *,
        scope: str = "au_subset",
        tasks: tuple[str, ...] | None = None,
        physio_fs: float = PHYSIO_FS,
        length_tolerance_sec: float = LENGTH_TOLERANCE_SEC,
        max_nan_gap_sec: float = MAX_NAN_GAP_SEC,
        au_intensity: bool = False,
    ) -> list[RecordingRef]:
        """Trials under ``root/Physiology``; ``scope`` ``"au_subset"`` (default) or ``"all"``.

        ``au_intensity=True`` also reads ``AUCoding/AU_INT/AUxx/<id>_AUxx.csv`` (no header;
        columns frame, intensity 0-5) into ``meta["au_intensity"]``: ``{AUxx: (T,) int8}``,
        -1 where not coded. A missing intensity file is simply absent from that dict.
        """
        if scope not in SCOPES:
            raise ConfigError(f"bp4d_plus scope must be one of {SCOPES}, got {scope!r}")
        root = require_root(root, NAME)
        physiology = child_ci(root, "Physiology")
        if physiology is None or not physiology.is_dir():
            raise fail(NAME, root, "missing folder: no Physiology/ under the BP4D+ root")
        wanted = {t.upper() for t in (tasks or (AU_TASKS if scope == "au_subset" else ()))}
        au_dir = path_ci(root, "AUCoding", "AU_OCC")
        options = {
            "scope": scope,
            "physio_fs": physio_fs,
            "length_tolerance_sec": length_tolerance_sec,
            "max_nan_gap_sec": max_nan_gap_sec,
        }
        int_dir = path_ci(root, "AUCoding", "AU_INT") if au_intensity else None
        refs: list[RecordingRef] = []
        subjects = sorted(p for p in physiology.iterdir() if p.is_dir() and _SUBJECT.match(p.name))
        for subject_dir in subjects:
            subject = subject_dir.name.upper()
            trials = sorted(
                (p for p in subject_dir.iterdir() if p.is_dir() and _TASK.match(p.name)),
                key=lambda p: int(p.name[1:]),
            )
            for trial_dir in trials:
                task = trial_dir.name.upper()
                if wanted and task not in wanted:
                    continue
                rec_id = f"{subject}_{task}"
                video = _find_video(root, subject, task)
                if video is None:
                    report_issue(
                        report, DataIssue(rec_id, root / "2D+3D", "missing video: no zip or frames")
                    )
                    continue
                physio = _physio_files(trial_dir)
                missing = [role for role in REQUIRED_PHYSIO if role not in physio]
                if missing:
                    names = ", ".join(PHYSIO_FILES[role][0] for role in missing)
                    report_issue(
                        report, DataIssue(rec_id, trial_dir, f"missing label file: {names}")
                    )
                    continue
                au_csv = child_ci(au_dir, f"{rec_id}.csv") if au_dir is not None else None
                if au_csv is None and scope == "au_subset":
                    path = (au_dir or root / "AUCoding" / "AU_OCC") / f"{rec_id}.csv"
                    report_issue(report, DataIssue(rec_id, path, "missing label file: AU_OCC csv"))
                    continue
                paths: dict[str, Path] = {"video": video.path, **physio}
                if au_csv is not None:
                    paths["au_occ"] = au_csv
                if int_dir is not None:
                    for name in AU_NAMES:
                        found = path_ci(int_dir, name, f"{rec_id}_{name}.csv")
                        if found is not None:
                            paths[f"au_int_{name}"] = found
                refs.append(
                    RecordingRef(
                        rec_id,
                        subject,
                        NAME,
                        paths,
                        {
                            **options,
                            "task": task,
                            "member_prefix": video.member_prefix,
                            "video_kind": video.kind,
                        },
                    )
                )
        return refs

    def load(self, ref: RecordingRef) -> Recording:
        opts: dict[str, Any] = ref.options
        video_path = ref.paths["video"]
        kind = opts["video_kind"]
        try:
            if kind == "frame_dir":
                n_total = len(list_frame_files(video_path))
            else:
                n_total = len(list_zip_frames(video_path, opts["member_prefix"]))
        except VideoError as exc:
            raise fail(ref.id, video_path, f"unreadable video: {exc}") from exc
        if n_total == 0:
            raise fail(ref.id, video_path, "unreadable video: no frames for this trial")

        physio_fs = float(opts["physio_fs"])
        video_sec = n_total / BP4D_FS
        waves: dict[str, np.ndarray] = {}
        for role in ("bp", "resp", "hr", "rr"):
            path = ref.paths.get(role)
            if path is None:
                continue
            raw = read_number_column(path, ref.id)
            if role in REQUIRED_PHYSIO:
                check_duration(
                    ref.id, path, raw.size / physio_fs, video_sec, opts["length_tolerance_sec"]
                )
                raw = bridge_nan_gaps(raw, physio_fs, opts["max_nan_gap_sec"], ref.id, path, role)
            else:  # optional rate channels only give a mean: ignore their missing samples
                finite = np.isfinite(raw)
                if not finite.any():
                    continue
                raw = np.where(finite, raw, raw[finite].mean())
            waves[role] = stretch_to_frames(raw, n_total)

        au_full = None
        frame_range = None
        au_names: tuple[str, ...] = ()
        if "au_occ" in ref.paths:
            au_full, au_names, (first, last) = _read_au_occ(
                ref.paths["au_occ"], ref.id, n_total, opts["length_tolerance_sec"]
            )
            if opts["scope"] == "au_subset":
                frame_range = (first, last + 1)
        start, stop = frame_range or (0, n_total)

        def segment(role: str) -> np.ndarray | None:
            return waves[role][start:stop] if role in waves else None

        hr, rr, bp = segment("hr"), segment("rr"), segment("bp")
        mean_hr_bpm: float | None = None
        if hr is not None:
            mean_hr_bpm, hr_source = float(np.mean(hr)), ref.paths["hr"].name
        else:  # no pulse-rate file: the rate of the blood-pressure wave itself
            assert bp is not None
            hr_source = "blood-pressure wave (FFT)"
            try:
                mean_hr_bpm = heart_rate(bp - bp.mean(), BP4D_FS, band_hz=HR_BAND_TOOLBOX_HZ)
            except SignalError:
                hr_source = "none (segment too short for a rate)"
        labels = Labels(
            fs=BP4D_FS,
            n_frames=stop - start,
            bvp=bp,
            bvp_kind="blood_pressure",
            resp=segment("resp"),
            au=au_full[start:stop] if au_full is not None else None,
            au_names=au_names,
            heart_rate_bpm=mean_hr_bpm,
            breathing_rate_bpm=float(np.mean(rr)) if rr is not None else None,
        )
        video = VideoRef(
            "frame_zip" if kind == "frame_zip" else "frame_dir",
            video_path,
            fps=BP4D_FS,
            member_prefix=opts["member_prefix"],
            frame_range=frame_range,
        )
        intensity = {
            key.removeprefix("au_int_"): _read_au_int(path, ref.id, n_total)[start:stop]
            for key, path in ref.paths.items()
            if key.startswith("au_int_")
        }
        meta: dict[str, Any] = {
            "task": opts["task"],
            "scope": opts["scope"],
            "trial_frames": n_total,
            "heart_rate_source": hr_source,
            "label_files": {k: str(v) for k, v in ref.paths.items() if k != "video"},
        }
        if intensity:
            meta["au_intensity"] = intensity
        return Recording(ref.id, ref.subject, NAME, video, labels, crop="bp4d", meta=meta)


def _au_number(column: str) -> int | None:
    match = re.search(r"(\d+)", str(column))
    return int(match.group(1)) if match else None


def _read_au_occ(
    path: Path, rec_id: str, n_frames: int, tolerance_sec: float
) -> tuple[np.ndarray, tuple[str, ...], tuple[int, int]]:
    """AU_OCC CSV → ``(n_frames, k)`` int8 of the BigSmall AUs present, names, coded range."""
    try:
        table = pd.read_csv(path, header=0)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise fail(rec_id, path, f"unreadable label file: {exc}") from exc
    if table.shape[0] == 0 or table.shape[1] < 2:
        raise fail(rec_id, path, "empty label file: no AU rows or columns")
    numbers = [_au_number(c) for c in table.columns[1:]]
    positional = None in numbers or len(set(numbers)) != len(numbers)
    if positional or NOT_FACS_AUS & set(numbers):  # header holds column indices, not AUs
        if len(numbers) != len(AU_OCC_COLUMNS):
            raise fail(
                rec_id, path, f"unreadable label file: AU columns {list(table.columns)[:5]}..."
            )
        numbers = list(AU_OCC_COLUMNS)
    column_of = {f"AU{n:02d}": i + 1 for i, n in enumerate(numbers)}
    names = tuple(name for name in AU_NAMES if name in column_of)
    frames = pd.to_numeric(table.iloc[:, 0], errors="coerce").to_numpy()
    if not np.isfinite(frames).all():
        raise fail(rec_id, path, "unreadable label file: non-numeric frame numbers")
    index = frames.astype(np.int64) - 1  # 1-based frame numbers
    tolerance_frames = round(tolerance_sec * BP4D_FS)
    if index.min() < 0 or index.max() >= n_frames + tolerance_frames:
        raise fail(
            rec_id,
            path,
            f"labels longer than video: AU frames {index.min() + 1}..{index.max() + 1} but the "
            f"trial has {n_frames} frames",
        )
    keep = index < n_frames
    index = index[keep]
    au = np.full((n_frames, len(names)), AU_NOT_CODED, dtype=np.int8)
    for j, name in enumerate(names):
        values = pd.to_numeric(table.iloc[:, column_of[name]], errors="coerce").to_numpy()[keep]
        coded = np.where(values == 1, 1, np.where(values == 0, 0, AU_NOT_CODED))
        au[index, j] = coded.astype(np.int8)
    return au, names, (int(index.min()), int(index.max()))


def _read_au_int(path: Path, rec_id: str, n_frames: int) -> np.ndarray:
    """AU_INT CSV (frame, intensity; no header) → ``(n_frames,)`` int8, -1 where not coded."""
    try:
        table = pd.read_csv(path, header=None)
        frames = pd.to_numeric(table.iloc[:, 0], errors="coerce").to_numpy()
        values = pd.to_numeric(table.iloc[:, 1], errors="coerce").to_numpy()
    except (OSError, ValueError, IndexError, pd.errors.ParserError) as exc:
        raise fail(rec_id, path, f"unreadable label file: {exc}") from exc
    out = np.full(n_frames, AU_NOT_CODED, dtype=np.int8)
    valid = np.isfinite(frames) & np.isfinite(values)
    index = frames[valid].astype(np.int64) - 1
    level = values[valid]
    keep = (index >= 0) & (index < n_frames) & (level >= 0) & (level <= MAX_AU_INTENSITY)
    out[index[keep]] = level[keep].astype(np.int8)
    return out
