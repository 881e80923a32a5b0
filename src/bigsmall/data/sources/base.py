"""The :class:`Source` protocol every dataset module implements, and the loop that uses it.

A source does two cheap things and no video decoding:

- ``list_recordings(root, report=None, **options)`` finds the recordings of a dataset folder
  and returns :class:`~bigsmall.data.schema.RecordingRef` s (paths only);
- ``load(ref)`` reads the labels of one recording, resamples them to its video frames (frame
  rate and count come from the container header or the frame list) and returns a
  :class:`~bigsmall.data.schema.Recording`. A recording that cannot be used raises
  :class:`~bigsmall.data.schema.RecordingError` carrying a one-line
  :class:`~bigsmall.data.schema.DataIssue`.

:func:`load_recordings` runs both and puts every issue into a
:class:`~bigsmall.data.schema.DataReport` (skip and count; ``strict`` raises instead).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from bigsmall.data.schema import DataIssue, DataReport, Recording, RecordingError, RecordingRef
from bigsmall.errors import DatasetError


@runtime_checkable
class Source(Protocol):
    """A dataset layout: finds recordings under a root folder and loads their labels."""

    name: str

    def list_recordings(
        self, root: str | Path, report: DataReport | None = None, **options: Any
    ) -> list[RecordingRef]:
        """Recordings under ``root``; problems found while listing go to ``report``."""
        ...

    def load(self, ref: RecordingRef) -> Recording:
        """Labels of one recording resampled to its frames; raises ``RecordingError``."""
        ...


def require_root(root: str | Path, source_name: str) -> Path:
    """``root`` as a Path; a clear :class:`DatasetError` when it is not a folder."""
    path = Path(root).expanduser()
    if not path.is_dir():
        raise DatasetError(f"{path}: {source_name} dataset folder not found; check the path")
    return path


def report_issue(report: DataReport | None, issue: DataIssue) -> None:
    """Add ``issue`` to ``report``; with no report the issue is raised (never dropped)."""
    if report is None:
        raise RecordingError(issue)
    report.add(issue)


def load_recordings(
    source: Source,
    root: str | Path,
    report: DataReport | None = None,
    *,
    strict: bool = False,
    **options: Any,
) -> tuple[list[Recording], DataReport]:
    """List and load every recording of ``source`` under ``root``.

    Bad recordings are skipped and described in the returned report; with ``strict=True`` (or
    a ``DataReport(strict=True)``) the first one raises a
    :class:`~bigsmall.data.schema.RecordingError` (a :class:`DatasetError`) instead.
    ``options`` go to ``source.list_recordings``.

    Returns:
        ``(recordings, report)``; recordings in listing order.
    """
    report = report if report is not None else DataReport(strict=strict)
    refs = source.list_recordings(root, report=report, **options)
    recordings: list[Recording] = []
    for ref in refs:
        try:
            recordings.append(source.load(ref))
        except RecordingError as exc:
            report.add(exc.issue)
        else:
            report.n_ok += 1
    ids = [rec.id for rec in recordings]
    if len(set(ids)) != len(ids):
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        raise DatasetError(f"{root}: duplicate recording ids {duplicates[:5]}; rename the files")
    return recordings, report
