"""``bigsmall_tiny_test``: a tiny BigSmall registered for the tests only (not in the package's
public registry). Imported by ``conftest.py``; a subprocess test imports it itself."""

from __future__ import annotations

from bigsmall.models.bigsmall import BigSmall
from bigsmall.models.registry import is_model, register_model

if not is_model("bigsmall_tiny_test"):

    @register_model
    def bigsmall_tiny_test(**kwargs: object) -> BigSmall:
        """A tiny BigSmall (32×32 Big, 4×4 Small, few channels) for fast tests."""
        defaults = {
            "big_size": 32,
            "small_size": 4,
            "big_channels": (4, 4, 4, 8, 8, 8),
            "small_channels": (4, 4, 4, 8),
            "pool_sizes": (2, 2, 2),
            "hidden": 16,
        }
        return BigSmall(**{**defaults, **kwargs})
