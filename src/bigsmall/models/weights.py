"""Loading and saving model weights.

- :func:`load_toolbox_checkpoint` reads a ``.pth`` state dict written by the authors' toolbox
  trainer with ``torch.load(weights_only=True)`` (never unpickling code), strips the
  ``module.`` prefix of DataParallel and optionally renames keys.
- :func:`save_safetensors` / :func:`load_safetensors` store this project's own weights
  (bit-identical round trip, atomic write).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from bigsmall.errors import CheckpointError
from bigsmall.output_dir import atomic_temp

#: DataParallel / DistributedDataParallel key prefix.
DATA_PARALLEL_PREFIX = "module."


def _rename(key: str, rename: Mapping[str, str]) -> str:
    """Replace the first matching key prefix (e.g. ``out_fc1`` → ``bvp_fc1``)."""
    for old, new in rename.items():
        if key == old or key.startswith(old + "."):
            return new + key[len(old) :]
    return key


def read_toolbox_state_dict(
    path: str | Path, rename: Mapping[str, str] | None = None
) -> dict[str, torch.Tensor]:
    """A toolbox ``.pth`` state dict, ``module.`` stripped and keys renamed by prefix."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found; check the path")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # torch's own message advises weights_only=False, i.e. running the file's code: not here
        raise CheckpointError(
            f"{path}: holds more than tensors (pickled objects or code), or is not a PyTorch "
            "file; it is not loaded. Re-save its tensors with torch.save(model.state_dict(), "
            "path) where you trust it, or convert it to .safetensors"
        ) from None
    except Exception as exc:  # torch's unpickler fails on junk in many ways (KeyError, ...)
        said = isinstance(exc, (RuntimeError, OSError, ValueError, EOFError)) and str(exc).strip()
        first = str(exc).strip().splitlines()[0] if said else "not a PyTorch file"
        raise CheckpointError(
            f"{path}: not a readable weights-only PyTorch state dict ({first[:200]}); "
            "re-save it with torch.save(model.state_dict(), path)"
        ) from None
    if isinstance(obj, Mapping) and "state_dict" in obj and isinstance(obj["state_dict"], Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{path}: expected a state dict of tensors, got {type(obj).__name__}")
    out: dict[str, torch.Tensor] = {}
    for key, value in obj.items():
        if key.startswith(DATA_PARALLEL_PREFIX):
            key = key[len(DATA_PARALLEL_PREFIX) :]
        out[_rename(key, rename or {})] = value
    return out


def load_state_dict_strict(
    model: nn.Module, state: Mapping[str, torch.Tensor], source: str | Path
) -> nn.Module:
    """``model.load_state_dict(state)`` with a one-line :class:`CheckpointError` on mismatch."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(
            f"{source}: keys do not fit {type(model).__name__}: missing {missing[:6]}"
            f"{'...' if len(missing) > 6 else ''}, unexpected {unexpected[:6]}"
            f"{'...' if len(unexpected) > 6 else ''}; choose the matching model or a rename map"
        )
    bad = [
        f"{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}"
        for k, v in state.items()
        if tuple(v.shape) != tuple(expected[k].shape)
    ]
    if bad:
        raise CheckpointError(
            f"{source}: tensor shapes do not fit the model: {'; '.join(bad[:3])}; "
            "check the model arguments (channels, sizes, number of AUs)"
        )
    model.load_state_dict(state, strict=True)
    return model


def load_toolbox_checkpoint(
    model: nn.Module, path: str | Path, rename: Mapping[str, str] | None = None
) -> nn.Module:
    """Load a toolbox ``.pth`` state dict into ``model`` (weights-only, ``module.`` stripped).

    ``rename`` maps key prefixes, e.g. ``{"out_fc1": "bvp_fc1", "out_fc2": "bvp_fc2"}`` for the
    released single-task checkpoints.
    """
    return load_state_dict_strict(model, read_toolbox_state_dict(path, rename), path)


def save_safetensors(
    model: nn.Module | Mapping[str, torch.Tensor],
    path: str | Path,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Write the model's state dict to ``path`` as safetensors (temp file + ``os.replace``)."""
    path = Path(path)
    state = model.state_dict() if isinstance(model, nn.Module) else dict(model)
    tensors = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    fd, tmp = atomic_temp(path)
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={str(k): str(v) for k, v in (metadata or {}).items()})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors stored in a safetensors file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: weights file not found; check the path")
    try:
        return load_file(path, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a readable safetensors file ({exc})") from exc


def load_safetensors(
    model_or_path: nn.Module | str | Path, path: str | Path | None = None
) -> nn.Module | dict[str, torch.Tensor]:
    """``load_safetensors(model, path)`` loads into ``model``; ``load_safetensors(path)``
    returns the state dict."""
    if isinstance(model_or_path, nn.Module):
        if path is None:
            raise ValueError("load_safetensors(model, path): path is required")
        return load_state_dict_strict(model_or_path, read_safetensors(path), path)
    return read_safetensors(model_or_path)


def load_checkpoint_into(model: nn.Module, path: str | Path) -> nn.Module:
    """Load ``.safetensors`` or a toolbox ``.pth``/``.pt`` file into ``model`` by suffix."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return load_state_dict_strict(model, read_safetensors(path), path)
    return load_toolbox_checkpoint(model, path)
