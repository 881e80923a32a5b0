"""A torch ``Dataset`` of BigSmall windows over a preprocessing cache (memory-mapped).

Item ``i`` is window ``i`` of the cache (recordings in manifest order, windows in time order)
as a dict of tensors, what :mod:`bigsmall.training.loop` consumes after batching:

=============  ===================  ====================================================
key            shape, dtype         content
=============  ===================  ====================================================
``big``        (Nb, 3, H, W) f32    standardized Big frames; Nb = 1 (frame 0 of the
                                    window, ``big_frames="first"``) or N (``"all"``)
``small``      (N, 3, h, w) f32     diff-normalized Small frames
``au``         (N, K) int8          occurrence, -1 = not coded
``bvp``        (N,) f32             diff-normalized PPG label (zeros if absent)
``resp``       (N,) f32             diff-normalized respiration label (zeros if absent)
``bvp_mask``   () bool              the recording has a PPG label
``resp_mask``  () bool              the recording has a respiration label
=============  ===================  ====================================================

Big is stored as uint8 and standardized here through a 256-entry float32 lookup table of
the recording's ``(clip(u / 255, 1/255, 1) − mean) / std``: exactly the values of
:meth:`bigsmall.video.BigSmallInputs.big_standardized` (NaN → 0).

Arrays are opened with ``numpy.load(mmap_mode="r")`` on first use in each process; open
maps are not pickled, so the dataset works with DataLoader workers under any start method.
For evaluation, :meth:`WindowDataset.recording` gives a recording's whole label waveforms and
reference rates and :meth:`WindowDataset.stitch` cuts per-window predictions back into
per-recording sequences in time order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from bigsmall.data.cache import META_FILE, REC_DIR, load_manifest
from bigsmall.errors import ConfigError, DatasetError
from bigsmall.video.normalize import apply_table, standardize_table

_LABEL_FILES = ("small", "au", "bvp", "resp", "bvp_eval", "resp_eval", "rgb", "landmarks")


@dataclass
class CachedRecording:
    """Whole-recording arrays of one cached recording (first ``n_used`` frames).

    au: (T, K) int8; bvp, resp: (T,) float32 diff-normalized labels or None;
    bvp_eval, resp_eval: (T,) float32 recorded waves (e.g. BP4D+'s blood pressure) or None;
    rgb: (T, 3) float32 face mean RGB. ``windows``: its global window indices [start, stop).
    """

    id: str
    subject: str
    fps: float
    n_used: int
    windows: tuple[int, int]
    au: np.ndarray
    bvp: np.ndarray | None
    resp: np.ndarray | None
    bvp_eval: np.ndarray | None
    resp_eval: np.ndarray | None
    rgb: np.ndarray
    heart_rate_bpm: float | None
    breathing_rate_bpm: float | None
    bvp_kind: str | None
    bvp_eval_kind: str | None
    meta: dict[str, Any]


class WindowDataset(Dataset):
    """Windows of a finished preprocessing cache.

    Args:
        cache_dir: ``CACHE/<source>-<key>`` (the folder holding ``manifest.json``).
        recording_ids: only these recordings (e.g. a fold's train list); default all.
        big_frames: ``"first"`` or ``"all"``; default as cached. A cache written with
            ``"all"`` can serve ``"first"``, not the reverse.
    """

    def __init__(
        self,
        cache_dir: str | Path,
        recording_ids: Iterable[str] | None = None,
        big_frames: str | None = None,
    ) -> None:
        self.cache_dir = Path(cache_dir)
        self.manifest = load_manifest(self.cache_dir)
        config = self.manifest["config"]
        self.n_segment: int = int(config["n_segment"])
        stored = config["big_frames"]
        self.big_frames = big_frames or stored
        if self.big_frames not in ("first", "all") or (
            self.big_frames == "all" and stored == "first"
        ):
            raise ConfigError(
                f"{self.cache_dir}: big_frames={self.big_frames!r} is not available from a "
                f"cache preprocessed with big_frames={stored!r}; re-run `bigsmall preprocess "
                "--big-frames all`"
            )
        self._stored_first = stored == "first"
        available = [r["id"] for r in self.manifest["recordings"]]
        if recording_ids is None:
            ids = available
        else:
            wanted = set(recording_ids)
            missing = sorted(wanted - set(available))
            if missing:
                raise DatasetError(
                    f"{self.cache_dir}: recordings {missing[:5]} are not in the cache "
                    "(skipped during preprocessing, or another dataset)"
                )
            ids = [i for i in available if i in wanted]
        self.recording_ids: list[str] = ids
        self.metas: list[dict[str, Any]] = [
            json.loads((self.cache_dir / REC_DIR / i / META_FILE).read_text("utf-8")) for i in ids
        ]
        counts = np.array([m["n_windows"] for m in self.metas], dtype=np.int64)
        #: (R + 1,) first global window index of each recording (and the total at the end).
        self.window_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        #: (n_windows,) recording index of every window.
        self.window_recording = np.repeat(np.arange(len(ids), dtype=np.int64), counts)
        self._luts = [standardize_table(m["big_mean"], m["big_std"]) for m in self.metas]
        self._open: dict[int, dict[str, np.ndarray]] = {}

    # ------------------------------------------------------------------ pickling (workers)
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_open"] = {}
        return state

    def _arrays(self, r: int) -> dict[str, np.ndarray]:
        arrays = self._open.get(r)
        if arrays is None:
            folder = self.cache_dir / REC_DIR / self.recording_ids[r]
            arrays = {
                name: np.load(folder / f"{name}.npy", mmap_mode="r")
                for name in ("big", *_LABEL_FILES)
                if name in self.metas[r]["files"]
            }
            self._open[r] = arrays
        return arrays

    # ------------------------------------------------------------------ Dataset
    def __len__(self) -> int:
        return int(self.window_offsets[-1])

    def locate(self, index: int) -> tuple[int, int]:
        """``(recording index, window index within it)`` of global window ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f"window {index} out of range [0, {len(self)})")
        r = int(self.window_recording[index])
        return r, index - int(self.window_offsets[r])

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        r, w = self.locate(int(index))
        arrays = self._arrays(r)
        n = self.n_segment
        frames = slice(w * n, (w + 1) * n)
        if self._stored_first:
            big_rows: slice = slice(w, w + 1)
        elif self.big_frames == "first":
            big_rows = slice(w * n, w * n + 1)
        else:
            big_rows = frames
        big_u8 = arrays["big"][big_rows]
        item = {
            "big": torch.from_numpy(apply_table(big_u8, self._luts[r])),
            "small": torch.from_numpy(np.asarray(arrays["small"][frames], np.float32)),
            "au": torch.from_numpy(np.array(arrays["au"][frames], np.int8)),
        }
        for name in ("bvp", "resp"):
            present = name in arrays
            values = arrays[name][frames] if present else np.zeros(n, np.float32)
            item[name] = torch.from_numpy(np.array(values, np.float32))
            item[f"{name}_mask"] = torch.tensor(present)
        if "landmarks" in arrays:  # (Nb, L, 2) of the Big frames given, NaN where none found
            item["landmarks"] = torch.from_numpy(np.array(arrays["landmarks"][big_rows]))
        return item

    # ------------------------------------------------------------------ evaluation
    def recording(self, r: int | str) -> CachedRecording:
        """Whole-recording labels, eval waves and reference rates (by index or id)."""
        if isinstance(r, str):
            r = self.recording_ids.index(r)
        meta = self.metas[r]
        arrays = self._arrays(r)

        def get(name: str) -> np.ndarray | None:
            return np.asarray(arrays[name]) if name in arrays else None

        return CachedRecording(
            id=meta["id"],
            subject=meta["subject"],
            fps=float(meta["fps"]),
            n_used=int(meta["n_used"]),
            windows=(int(self.window_offsets[r]), int(self.window_offsets[r + 1])),
            au=np.asarray(arrays["au"]),
            bvp=get("bvp"),
            resp=get("resp"),
            bvp_eval=get("bvp_eval"),
            resp_eval=get("resp_eval"),
            rgb=np.asarray(arrays["rgb"]),
            heart_rate_bpm=meta["heart_rate_bpm"],
            breathing_rate_bpm=meta["breathing_rate_bpm"],
            bvp_kind=meta["bvp_kind"],
            bvp_eval_kind=meta["bvp_eval_kind"],
            meta=meta,
        )

    def recordings(self) -> list[CachedRecording]:
        return [self.recording(r) for r in range(len(self.recording_ids))]

    def stitch(self, per_window: np.ndarray | torch.Tensor) -> dict[str, np.ndarray]:
        """Per-window predictions → per-recording sequences in time order.

        per_window: (n_windows, N, ...) or (n_windows · N, ...) per-frame outputs of every
        window of this dataset in index order. Returns id → (n_windows_r · N, ...).
        """
        values = per_window.detach().cpu().numpy() if torch.is_tensor(per_window) else per_window
        values = np.asarray(values)
        n = self.n_segment
        total = len(self) * n
        if values.ndim >= 2 and values.shape[:2] == (len(self), n):
            frames = values.reshape(total, *values.shape[2:])
        elif values.shape[0] == total:
            frames = values
        else:
            raise ValueError(
                f"expected ({len(self)}, {n}, ...) or ({total}, ...) outputs, got {values.shape}"
            )
        return {
            rid: frames[self.window_offsets[r] * n : self.window_offsets[r + 1] * n]
            for r, rid in enumerate(self.recording_ids)
        }


def fold_recording_ids(cache_dir: str | Path, fold_k: int, part: str) -> list[str]:
    """Recording ids of ``part`` ("train"/"test") of fold ``k`` (``preprocess --fold k``)."""
    path = Path(cache_dir) / f"fold{fold_k}.json"
    if not path.is_file():
        raise DatasetError(f"{path}: no fold split; run `bigsmall preprocess --fold {fold_k}`")
    split: Mapping[str, Sequence[str]] = json.loads(path.read_text("utf-8"))
    if part not in split:
        raise ConfigError(f"fold part must be one of {sorted(split)}, got {part!r}")
    return list(split[part])
