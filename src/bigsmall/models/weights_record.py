"""What a weights file says about itself: the one record every saver writes and every reader
honours (safetensors string metadata).

A network's weights are only usable with the inputs they were trained on: the model and its
arguments, the window length N, the face crop, whether the Big frames were landmark-aligned
(the † inputs of BigSmall's Table 2, Narayanswamy et al., WACV 2024), and what the makers say
about the data. The trainer, the default-weights build and the checkpoint converter write this
record; predict, live, export and evaluation read it through :func:`read_weights_record`, so no
reader special-cases a model by name.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bigsmall.constants import BIG_SCALE_RANGE
from bigsmall.errors import CheckpointError

#: Largest ``n_segment`` (frames per window) a weights file may name.
MAX_N_SEGMENT: int = 64


@dataclass(frozen=True)
class WeightsRecord:
    """The self-description of a weights file.

    Attributes:
        model: registered model name.
        model_kwargs: the builder's keyword arguments (without ``n_segment``).
        n_segment: frames per window N, if the model has one.
        crop: the face crop the inputs were made with (``bigsmall.video.inputs.CROP_MODES``).
        align: the landmark alignment of the Big frames (fields of
            :class:`bigsmall.video.align.AlignSpec`; ``{}`` = the papers' defaults), or
            ``None`` when not aligned.
        big_scale: the Big frames' side in face-box widths when the Big branch was trained on
            another framing than the crop's (:mod:`bigsmall.video.reframe`); ``None``: the
            crop's own.
        training_data: a short description of the training data.
        au_note: what the makers say about the AUs' reliability.
        extra: any other metadata (kept, written back unchanged).
    """

    model: str
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    n_segment: int | None = None
    crop: str | None = None
    align: dict[str, Any] | None = None
    big_scale: float | None = None
    training_data: str | None = None
    au_note: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        """Arguments to build the model with (``n_segment`` included when recorded)."""
        out = dict(self.model_kwargs)
        if self.n_segment is not None:
            out["n_segment"] = self.n_segment
        return out

    def to_metadata(self) -> dict[str, str]:
        """The record as safetensors string metadata."""
        meta = dict(self.extra)
        meta["model"] = self.model
        if self.model_kwargs:
            meta["model_kwargs"] = json.dumps(self.model_kwargs, sort_keys=True)
        optional = {
            "n_segment": None if self.n_segment is None else str(self.n_segment),
            "crop": self.crop,
            "align": None if self.align is None else json.dumps(self.align, sort_keys=True),
            "big_scale": None if self.big_scale is None else repr(float(self.big_scale)),
            "training_data": self.training_data,
            "au_note": self.au_note,
        }
        meta.update({k: v for k, v in optional.items() if v is not None})
        return meta


_KNOWN = (
    "model",
    "model_kwargs",
    "n_segment",
    "crop",
    "align",
    "big_scale",
    "training_data",
    "au_note",
)


def _json_object(path: Path | str, key: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: metadata {key} must be a JSON object")
    return value


def _big_scale(path: Path | str, text: str | None) -> float | None:
    if text in (None, ""):
        return None
    low, high = BIG_SCALE_RANGE
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # NaN fails too
        raise CheckpointError(f"{path}: metadata big_scale {text!r} is not a number {low}..{high}")
    return value


def weights_record_from_metadata(
    meta: Mapping[str, str], path: Path | str = "weights", default_model: str = "bigsmall"
) -> WeightsRecord:
    """Parse and check string metadata (one-line :class:`CheckpointError` on bad values)."""
    kwargs: dict[str, Any] = {}
    if "model_kwargs" in meta:
        kwargs = _json_object(path, "model_kwargs", meta["model_kwargs"])
    n_segment = None
    if "n_segment" in meta:
        value = str(meta["n_segment"])
        if not value.isdigit() or not 1 <= int(value) <= MAX_N_SEGMENT:
            raise CheckpointError(
                f"{path}: metadata n_segment {value!r} is not a whole number 1..{MAX_N_SEGMENT}"
            )
        n_segment = int(value)
    if n_segment is not None:  # the explicit entry wins
        kwargs.pop("n_segment", None)
    align = None
    if "align" in meta and meta["align"] not in ("", "null", "false"):
        align = {} if meta["align"] == "true" else _json_object(path, "align", meta["align"])
    return WeightsRecord(
        model=str(meta.get("model") or default_model),
        model_kwargs=kwargs,
        n_segment=n_segment,
        crop=meta.get("crop") or None,
        align=align,
        big_scale=_big_scale(path, meta.get("big_scale")),
        training_data=meta.get("training_data") or None,
        au_note=meta.get("au_note") or None,
        extra={k: str(v) for k, v in meta.items() if k not in _KNOWN},
    )


def read_safetensors_metadata(path: str | Path) -> dict[str, str]:
    """The string metadata stored in a safetensors file's header (no tensors are read)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as f:
        return dict(f.metadata() or {})


def read_weights_record(path: str | Path, default_model: str = "bigsmall") -> WeightsRecord:
    """The record of a ``.safetensors`` file (a ``.pth`` has none: only ``default_model``)."""
    path = Path(path)
    if path.suffix != ".safetensors":
        return WeightsRecord(model=default_model)
    return weights_record_from_metadata(read_safetensors_metadata(path), path, default_model)


def record_from_experiment(config: Mapping[str, Any]) -> WeightsRecord:
    """The record of weights trained by an experiment (``ExperimentConfig.as_dict()``)."""
    model = config.get("model") or {}
    pre = config.get("preprocess") or {}
    data = config.get("data") or {}
    kwargs = dict(model.get("kwargs") or {})
    n_segment = kwargs.pop("n_segment", None) or pre.get("n_segment")
    source = data.get("source")
    return WeightsRecord(
        model=str(model.get("name", "bigsmall")),
        model_kwargs=kwargs,
        n_segment=None if n_segment is None else int(n_segment),
        crop=None if pre.get("crop") in (None, "auto") else str(pre["crop"]),
        align={} if pre.get("align") else None,
        training_data=None if source is None else f"experiment {config.get('name')}: {source}",
    )
