"""Raw dataset sources (one module per dataset) and their registry.

>>> from bigsmall.data.sources import get_source, load_recordings
>>> recordings, report = load_recordings(get_source("ubfc_rppg"), "/data/UBFC")  # doctest: +SKIP
>>> print(report.summary())  # doctest: +SKIP
"""

from __future__ import annotations

from bigsmall.data.schema import DataIssue, DataReport, Recording, RecordingError, RecordingRef
from bigsmall.data.sources.base import Source, load_recordings
from bigsmall.data.sources.bp4d_plus import BP4DPlusSource
from bigsmall.data.sources.disfa import DISFASource
from bigsmall.data.sources.folder import FolderSource
from bigsmall.data.sources.pure import PURESource
from bigsmall.data.sources.ubfc_rppg import UBFCrPPGSource
from bigsmall.errors import ConfigError

#: Every source by name.
SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        BP4DPlusSource(),
        UBFCrPPGSource(),
        PURESource(),
        DISFASource(),
        FolderSource(),
    )
}


def get_source(name: str) -> Source:
    """The source registered as ``name``; a clear error listing the names otherwise."""
    try:
        return SOURCES[name]
    except KeyError:
        known = ", ".join(sorted(SOURCES))
        raise ConfigError(f"unknown dataset source {name!r}; choose one of: {known}") from None


def list_sources() -> list[str]:
    """Names of the registered sources, sorted."""
    return sorted(SOURCES)


__all__ = [
    "SOURCES",
    "BP4DPlusSource",
    "DISFASource",
    "DataIssue",
    "DataReport",
    "FolderSource",
    "PURESource",
    "Recording",
    "RecordingError",
    "RecordingRef",
    "Source",
    "UBFCrPPGSource",
    "get_source",
    "list_sources",
    "load_recordings",
]
