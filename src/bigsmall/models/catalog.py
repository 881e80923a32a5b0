"""Every model of the package, by name: importing this module registers them all with
:mod:`bigsmall.models.registry` (the model files register themselves when imported); its
``create_model``, ``list_models`` and ``is_model`` then see every model."""

from __future__ import annotations

from bigsmall.models import alexnet_au as _alexnet_au  # noqa: F401
from bigsmall.models import bigsmall as _bigsmall  # noqa: F401
from bigsmall.models import bigsmall_pp as _bigsmall_pp  # noqa: F401
from bigsmall.models import deepphys as _deepphys  # noqa: F401
from bigsmall.models import drml as _drml  # noqa: F401
from bigsmall.models import efficientphys as _efficientphys  # noqa: F401
from bigsmall.models import jaa_net as _jaa_net  # noqa: F401  (jaa_net, jaa_net_v2)
from bigsmall.models import official as _official  # noqa: F401  (big_au, small_*, trio)
from bigsmall.models import tscan as _tscan  # noqa: F401
from bigsmall.models.registry import create_model, is_model, list_models

__all__ = ["create_model", "is_model", "list_models"]
