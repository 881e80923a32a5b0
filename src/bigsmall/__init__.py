"""bigsmall: facial action units, pulse and breathing from face video.

An implementation of BigSmall (Narayanswamy et al., "BigSmall: Efficient Multi-Task Learning for
Disparate Spatial and Temporal Physiological Measurements", WACV 2024, arXiv:2303.11573).
"""

from __future__ import annotations

from bigsmall.version import __version__

__all__ = ["PredictionResult", "Predictor", "__version__", "create_model", "list_models"]


def __getattr__(name: str):  # lazy: importing bigsmall must not import torch
    if name in ("create_model", "list_models"):
        from bigsmall import models

        return getattr(models, name)
    if name in ("Predictor", "PredictionResult"):
        from bigsmall import predict

        return getattr(predict, name)
    raise AttributeError(f"module 'bigsmall' has no attribute {name!r}")
