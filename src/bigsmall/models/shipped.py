"""Where the package ships model weights (no PyTorch needed to ask)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: Package folder that may hold shipped weights as ``<name>.safetensors``.
_WEIGHTS_PACKAGE = "bigsmall"
_WEIGHTS_DIR = "weights"


def shipped_weights_path(name: str) -> Path:
    """Where the package ships the weights of model ``name``, ``<name>.safetensors`` in
    ``bigsmall/weights`` (the file may not exist)."""
    return Path(
        str(resources.files(_WEIGHTS_PACKAGE).joinpath(_WEIGHTS_DIR, f"{name}.safetensors"))
    )
