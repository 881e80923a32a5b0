"""Datasets: raw sources, preprocessing, cache and the torch Dataset.

Importing :mod:`bigsmall.data` is cheap: the torch-backed :class:`WindowDataset` (and the
rest of :mod:`bigsmall.data.dataset`) load on first access, so preprocessing workers never
import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from bigsmall.data.cache import (
    PreprocessSummary,
    cache_dir_for,
    float32_equivalent_bytes,
    load_manifest,
    merge_manifest,
    parse_shard,
    preprocess_dataset,
    shard_from_env,
    write_fold_split,
)
from bigsmall.data.chunking import chunk, first_frames, n_windows, used_frames, window_starts
from bigsmall.data.pipeline import (
    PreprocessConfig,
    PreprocessedRecording,
    decode_inputs,
    preprocess_recording,
)
from bigsmall.data.schema import (
    DataIssue,
    DataReport,
    Labels,
    Recording,
    RecordingError,
    RecordingRef,
    VideoRef,
)
from bigsmall.data.sources import get_source, list_sources, load_recordings
from bigsmall.data.splits import (
    bp4d_plus_folds,
    fold_split,
    kfold_subject_split,
    split_by_test_subjects,
)

_LAZY = {
    "WindowDataset": "bigsmall.data.dataset",
    "CachedRecording": "bigsmall.data.dataset",
    "fold_recording_ids": "bigsmall.data.dataset",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'bigsmall.data' has no attribute {name!r}")


__all__ = [
    "CachedRecording",
    "DataIssue",
    "DataReport",
    "Labels",
    "PreprocessConfig",
    "PreprocessSummary",
    "PreprocessedRecording",
    "Recording",
    "RecordingError",
    "RecordingRef",
    "VideoRef",
    "WindowDataset",
    "bp4d_plus_folds",
    "cache_dir_for",
    "chunk",
    "decode_inputs",
    "first_frames",
    "float32_equivalent_bytes",
    "fold_recording_ids",
    "fold_split",
    "get_source",
    "kfold_subject_split",
    "list_sources",
    "load_manifest",
    "load_recordings",
    "merge_manifest",
    "n_windows",
    "parse_shard",
    "preprocess_dataset",
    "preprocess_recording",
    "shard_from_env",
    "split_by_test_subjects",
    "used_frames",
    "window_starts",
    "write_fold_split",
]
