"""Convert toolbox ``.pth`` checkpoints (the authors' releases or one's own) to safetensors.

Narayanswamy et al., BigSmall, WACV 2024 (arXiv:2303.11573): the released weights and any
BigSmall trained with the authors' toolbox are pickled state dicts (``module.`` prefix, head
names ``out_fc*`` for single-task files). This reads them with ``weights_only=True`` (no code
is unpickled), detects or takes the model, loads it strictly (no missing/unexpected keys) and
writes this project's key names to a safetensors file atomically, recording the source in the
file's metadata.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from torch import nn

from bigsmall.errors import CheckpointError
from bigsmall.models import official
from bigsmall.models.catalog import create_model, is_model, list_models
from bigsmall.models.weights import (
    load_state_dict_strict,
    read_safetensors,
    read_toolbox_state_dict,
    save_safetensors,
)
from bigsmall.models.weights_record import (
    WeightsRecord,
    read_safetensors_metadata,
    weights_record_from_metadata,
)

#: Bytes read at a time while hashing the source file.
_HASH_CHUNK_BYTES = 1 << 20


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def convert_checkpoint(
    in_path: str | Path, out_path: str | Path, model: str | None = None
) -> tuple[str, dict[str, Any], Path]:
    """Convert ``in_path`` (toolbox ``.pth``) to ``out_path`` (safetensors).

    Args:
        in_path: the ``.pth`` state dict.
        out_path: the safetensors file to write (temp file + rename).
        model: registered model name; ``None`` detects it from keys, shapes and file name
            (:func:`~bigsmall.models.official.detect_checkpoint_model`).

    Returns:
        ``(model name, builder kwargs, written path)``. The metadata holds ``model``,
        ``model_kwargs`` (JSON), ``source_file``, ``source_sha256`` and ``format``.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    raw = read_toolbox_state_dict(in_path)
    if model is None:
        name, rename, kwargs = official.detect_checkpoint_model(raw, in_path.name)
    else:
        if not is_model(model):
            raise CheckpointError(
                f"{in_path}: unknown model {model!r}; registered: {', '.join(list_models())}"
            )
        name, rename, kwargs = model, official.OFFICIAL_KEY_MAPS.get(model, {}), {}
    state = read_toolbox_state_dict(in_path, rename=rename)
    net = create_model(name, **kwargs)
    load_state_dict_strict(net, state, in_path)
    record = WeightsRecord(
        model=name,
        model_kwargs=dict(kwargs),
        extra={
            "format": "bigsmall-safetensors-v1",
            "source_file": in_path.name,
            "source_sha256": _sha256(in_path),
        },
    )
    return name, kwargs, save_safetensors(net, out_path, metadata=record.to_metadata())


def load_converted(path: str | Path) -> nn.Module:
    """The model recorded in a converted file's metadata (``model``, ``model_kwargs``), loaded
    strictly with its weights, in eval mode."""
    path = Path(path)
    state = read_safetensors(path)
    meta = read_safetensors_metadata(path)
    if "model" not in meta:
        raise CheckpointError(
            f"{path}: no model name in its metadata; use create_model(NAME, checkpoint_path=...)"
        )
    record = weights_record_from_metadata(meta, path)
    model = create_model(record.model, **record.kwargs())
    load_state_dict_strict(model, state, path)
    return model.eval()
