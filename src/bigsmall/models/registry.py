"""Model registry: names → builder functions, ``create_model`` and ``list_models``.

Model files register themselves when imported; :mod:`bigsmall.models.catalog` imports them
all, so ask it (or ``bigsmall.models``) for a model by name.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from torch import nn

from bigsmall.errors import CheckpointError, ModelNotFoundError
from bigsmall.models.shipped import shipped_weights_path

ModelBuilder = Callable[..., nn.Module]
_B = TypeVar("_B", bound=ModelBuilder)

#: name → builder; filled by :func:`register_model` when model modules are imported.
_MODELS: dict[str, ModelBuilder] = {}


def register_model(fn: _B) -> _B:
    """Decorator: register ``fn`` under its ``__name__`` (a duplicate name is an error)."""
    name = fn.__name__
    if name in _MODELS:
        raise ValueError(f"model {name!r} is already registered")
    _MODELS[name] = fn
    return fn


def list_models(pattern: str | None = None) -> list[str]:
    """Sorted registered model names, optionally filtered by a shell-style ``pattern``."""
    names = sorted(_MODELS)
    if pattern is None:
        return names
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def is_model(name: str) -> bool:
    return name in _MODELS


def _shipped_weights(name: str) -> Path:
    path = shipped_weights_path(name)
    if not path.is_file():
        raise CheckpointError(
            f"no pretrained weights ship for model {name!r} (looked for {path}); "
            "pass checkpoint_path=... with a .safetensors or toolbox .pth file"
        )
    return path


def create_model(
    name: str,
    pretrained: bool = False,
    checkpoint_path: str | Path | None = None,
    **kwargs: object,
) -> nn.Module:
    """Build the registered model ``name`` with ``kwargs`` passed to its builder.

    ``pretrained=True`` loads weights shipped in the package (``bigsmall/weights``);
    ``checkpoint_path`` loads a ``.safetensors`` file of this project or a toolbox ``.pth``
    state dict (read with ``weights_only=True``). Unknown names raise
    :class:`~bigsmall.errors.ModelNotFoundError` listing the registered names.
    """
    if name not in _MODELS:
        raise ModelNotFoundError(
            f"unknown model {name!r}; registered models: {', '.join(list_models())}"
        )
    model = _MODELS[name](**kwargs)
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    if path is None and pretrained:
        path = _shipped_weights(name)
    if path is not None:
        from bigsmall.models.weights import load_checkpoint_into

        load_checkpoint_into(model, path)
    return model
