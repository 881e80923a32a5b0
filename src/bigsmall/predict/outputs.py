"""Writing a prediction to a folder: summary.json, signals.csv, rates.csv, report.png/html.

The folder appears only when everything is written, and ``--overwrite`` replaces only a folder
this program wrote (:mod:`bigsmall.output_dir`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd

from bigsmall.constants import AU_NAMES
from bigsmall.output_dir import atomic_dir
from bigsmall.predict.result import PredictionResult

SUMMARY_FILE = "summary.json"
SIGNALS_FILE = "signals.csv"
RATES_FILE = "rates.csv"
REPORT_PNG = "report.png"
REPORT_HTML = "report.html"
#: Combined per-video table of a many-video run.
COMBINED_FILE = "summary.csv"
_CSV_FLOAT_FORMAT = "%.6g"


def write_result_files(result: PredictionResult, folder: Path, report: bool = True) -> None:
    """Write the files of one video into an existing (temporary) ``folder``."""
    (folder / SUMMARY_FILE).write_text(json.dumps(result.summary(), indent=2) + "\n")
    result.frames.to_csv(folder / SIGNALS_FILE, index=False, float_format=_CSV_FLOAT_FORMAT)
    result.rates.to_csv(folder / RATES_FILE, index=False, float_format=_CSV_FLOAT_FORMAT)
    if report:
        from bigsmall.predict.report import write_reports

        write_reports(result, folder / REPORT_PNG, folder / REPORT_HTML)


def write_outputs(
    result: PredictionResult, out_dir: str | Path, overwrite: bool = False, report: bool = True
) -> Path:
    """Write one prediction to ``out_dir`` atomically; returns ``out_dir``."""
    inputs = [result.source] if result.source else []
    with atomic_dir(out_dir, overwrite, inputs, written_by="bigsmall predict") as tmp:
        write_result_files(result, tmp, report)
    return Path(out_dir)


#: Columns of the combined table, always in this order.
COMBINED_COLUMNS: tuple[str, ...] = (
    "video",
    "status",
    "heart_rate_bpm",
    "breathing_rate_bpm",
    "face_found_fraction",
    "fps",
    "duration_sec",
    "frames",
    "pulse_snr_db",
    "breathing_snr_db",
    *(f"{au}_occurrence" for au in AU_NAMES),
    "warnings",
    "error",
)


def combined_row(name: str, result: PredictionResult | None, error: str | None) -> dict:
    """One row of the combined table (a failed video keeps its error message)."""
    row: dict[str, object] = {"video": name, "status": "ok" if error is None else "error"}
    summary = result.summary() if result is not None else {}
    for key in ("heart_rate_bpm", "breathing_rate_bpm", "face_found_fraction", "fps"):
        row[key] = summary.get(key)
    row["duration_sec"] = summary.get("duration_sec")
    row["frames"] = summary.get("frames")
    quality = summary.get("signal_quality") or {}
    row["pulse_snr_db"] = quality.get("pulse_snr_db")
    row["breathing_snr_db"] = quality.get("breathing_snr_db")
    for au, value in (summary.get("au_occurrence") or {}).items():
        row[f"{au}_occurrence"] = value
    row["warnings"] = " | ".join(summary.get("warnings", []))
    row["error"] = error or ""
    return row


def unique_names(paths: Sequence[Path]) -> list[str]:
    """Sub-folder names for ``paths``: the file stems, made unique with ``_2``, ``_3``..."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        stem = path.stem or path.name
        count = seen.get(stem, 0) + 1
        seen[stem] = count
        names.append(stem if count == 1 else f"{stem}_{count}")
    return names


def write_many(
    videos: Sequence[Path],
    out_dir: str | Path,
    predict: Callable[[Path], PredictionResult],
    on_error: Callable[[Path, str], None],
    overwrite: bool = False,
    report: bool = True,
) -> list[dict]:
    """Predict each video into ``out_dir/<name>/`` and write ``out_dir/summary.csv``.

    A video that fails (a :class:`~bigsmall.errors.BigSmallError`) gets no sub-folder, a row
    with its error, and ``on_error(path, message)``; the others go on. Returns the rows.
    """
    from bigsmall.errors import BigSmallError

    rows = []
    with atomic_dir(out_dir, overwrite, videos, written_by="bigsmall predict") as tmp:
        for path, name in zip(videos, unique_names(videos), strict=True):
            try:
                result = predict(path)
            except BigSmallError as exc:
                on_error(path, str(exc))
                rows.append(combined_row(str(path), None, str(exc)))
                continue
            folder = tmp / name
            folder.mkdir()
            write_result_files(result, folder, report)
            rows.append(combined_row(str(path), result, None))
        table = pd.DataFrame(rows, columns=list(COMBINED_COLUMNS))
        table.to_csv(tmp / COMBINED_FILE, index=False)
    return rows
