"""BigSmall model family (torch only): registry, network, weights, profiling, export.

Narayanswamy et al., "BigSmall: Efficient Multi-Task Learning for Disparate Spatial and Temporal
Physiological Measurements", WACV 2024 (arXiv:2303.11573).

The names below load on first use (PEP 562), so that the torch-free modules of this package
(the weights record, the ONNX Runtime model, the shipped weights' location) import without
PyTorch: ``bigsmall predict`` on ONNX Runtime never loads it.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name → the module that defines it
_EXPORTS: dict[str, str] = {
    "BigSmall": "bigsmall.models.bigsmall",
    "BigSmallOutput": "bigsmall.models.outputs",
    "TemporalShift": "bigsmall.models.layers",
    "WrappingTimeShift": "bigsmall.models.layers",
    "create_model": "bigsmall.models.catalog",
    "list_models": "bigsmall.models.catalog",
    "register_model": "bigsmall.models.registry",
    "load_checkpoint_into": "bigsmall.models.weights",
    "load_safetensors": "bigsmall.models.weights",
    "load_toolbox_checkpoint": "bigsmall.models.weights",
    "read_toolbox_state_dict": "bigsmall.models.weights",
    "save_safetensors": "bigsmall.models.weights",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bigsmall.models' has no attribute {name!r}")
    importlib.import_module("bigsmall.models.catalog")
    return getattr(importlib.import_module(module), name)
