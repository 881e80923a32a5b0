"""BigSmall model family (torch only): registry, network, weights, profiling, export.

Narayanswamy et al., "BigSmall: Efficient Multi-Task Learning for Disparate Spatial and Temporal
Physiological Measurements", WACV 2024 (arXiv:2303.11573).
"""

from __future__ import annotations

from bigsmall.models import alexnet_au as _alexnet_au  # noqa: F401  (registers the model)
from bigsmall.models import bigsmall as _bigsmall  # noqa: F401  (registers the models)
from bigsmall.models import bigsmall_pp as _bigsmall_pp  # noqa: F401  (registers the model)
from bigsmall.models import deepphys as _deepphys  # noqa: F401  (registers the model)
from bigsmall.models import drml as _drml  # noqa: F401  (registers the model)
from bigsmall.models import efficientphys as _efficientphys  # noqa: F401  (registers it)
from bigsmall.models import jaa_net as _jaa_net  # noqa: F401  (jaa_net, jaa_net_v2)
from bigsmall.models import official as _official  # noqa: F401  (big_au, small_*, bigsmall_trio)
from bigsmall.models import tscan as _tscan  # noqa: F401  (registers the models)
from bigsmall.models.bigsmall import BigSmall, BigSmallOutput
from bigsmall.models.layers import TemporalShift, WrappingTimeShift
from bigsmall.models.registry import create_model, list_models, register_model
from bigsmall.models.weights import (
    load_checkpoint_into,
    load_safetensors,
    load_toolbox_checkpoint,
    read_toolbox_state_dict,
    save_safetensors,
)

__all__ = [
    "BigSmall",
    "BigSmallOutput",
    "TemporalShift",
    "WrappingTimeShift",
    "create_model",
    "list_models",
    "load_checkpoint_into",
    "load_safetensors",
    "load_toolbox_checkpoint",
    "read_toolbox_state_dict",
    "register_model",
    "save_safetensors",
]
