"""Training checkpoints: safetensors tensors + a JSON sidecar, never pickles.

A checkpoint ``<stem>`` is three files written atomically (temp name, then rename; the sidecar
last, so a sidecar always describes complete tensor files):

- ``<stem>.safetensors``: the model's state dict (``bigsmall.models.weights.load_safetensors``);
- ``<stem>.state.safetensors``: optimizer moments and the loss module's parameters;
- ``<stem>.json``: epoch, metrics, settings, optimizer hyper-parameters, package version.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bigsmall.errors import CheckpointError
from bigsmall.models.weights import read_safetensors, save_safetensors
from bigsmall.models.weights_record import record_from_experiment
from bigsmall.output_dir import write_json_atomic


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, per_param in state["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{key}"] = value
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def save_checkpoint(
    stem: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    info: Mapping[str, Any],
) -> Path:
    """Save model, optimizer and loss state plus ``info`` (epoch, metrics, settings).

    The weights carry their :class:`~bigsmall.models.weights_record.WeightsRecord` (model,
    arguments, N, crop, alignment, data) made from ``info["config"]`` when it is given, so
    that ``predict`` runs them on the inputs they were trained on.
    """
    stem = Path(stem)
    config = info.get("config")
    metadata = record_from_experiment(config).to_metadata() if config else None
    save_safetensors(model, stem.with_suffix(".safetensors"), metadata=metadata)
    tensors, optim_meta = _optimizer_tensors(optimizer)
    for name, value in loss_fn.state_dict().items():
        tensors[f"loss.{name}"] = value
    save_safetensors(tensors, stem.with_suffix(".state.safetensors"))
    write_json_atomic(stem.with_suffix(".json"), {**info, "optimizer": optim_meta})
    return stem


def load_checkpoint(
    stem: str | Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    loss_fn: nn.Module | None = None,
) -> dict[str, Any]:
    """Restore what :func:`save_checkpoint` wrote; returns the sidecar's contents."""
    stem = Path(stem)
    sidecar = stem.with_suffix(".json")
    if not sidecar.is_file():
        raise CheckpointError(f"{sidecar}: checkpoint sidecar not found; nothing to resume from")
    info = json.loads(sidecar.read_text())
    model.load_state_dict(read_safetensors(stem.with_suffix(".safetensors")))
    state = read_safetensors(stem.with_suffix(".state.safetensors"))
    if optimizer is not None:
        meta = info["optimizer"]
        per_param: dict[int, dict[str, Any]] = {}
        for key, value in state.items():
            if key.startswith("optim."):
                _, idx, name = key.split(".", 2)
                per_param.setdefault(int(idx), {})[name] = value
        for idx, scalars in meta["scalars"].items():
            per_param.setdefault(int(idx), {}).update(scalars)
        optimizer.load_state_dict({"state": per_param, "param_groups": meta["param_groups"]})
    if loss_fn is not None:
        loss_state = {k[len("loss.") :]: v for k, v in state.items() if k.startswith("loss.")}
        loss_fn.load_state_dict(loss_state)
    return info
