"""Classic unsupervised rPPG methods on (T, 3) mean-RGB traces, behind one registry.

Each method maps a mean skin RGB trace (T, 3) sampled at ``fs`` Hz to a pulse wave (T,); see
the module of each method for its paper. Outputs are not band-passed: filter them (e.g. with
:func:`bigsmall.signal.bandpass`) before estimating a rate.

Polarity: each method keeps its published sign. Skin reflects less light when blood volume
rises, so relative to a blood-volume PPG (systolic peaks up) CHROM's output is in phase and
GREEN, ICA (aligned with green), POS, PBV, LGI and OMIT are inverted (tested in
``tests/signal/test_rppg.py``). Negate those for a PPG-like wave; rates are unaffected.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bigsmall.signal.rppg.chrom import chrom
from bigsmall.signal.rppg.green import green
from bigsmall.signal.rppg.ica import fast_ica as fast_ica_sources
from bigsmall.signal.rppg.ica import ica
from bigsmall.signal.rppg.lgi import lgi
from bigsmall.signal.rppg.omit import omit
from bigsmall.signal.rppg.pbv import pbv
from bigsmall.signal.rppg.pos import pos
from bigsmall.signal.validation import SignalError

#: rPPG methods by name: ``fn(rgb (T, 3), fs, **kwargs) -> pulse (T,)``.
METHODS: dict[str, Callable[..., np.ndarray]] = {
    "green": green,
    "ica": ica,
    "chrom": chrom,
    "pos": pos,
    "pbv": pbv,
    "lgi": lgi,
    "omit": omit,
}


def extract_pulse(rgb: np.ndarray, fs: float, method: str = "pos", **kwargs: object) -> np.ndarray:
    """Pulse wave (T,) from the mean-RGB trace ``rgb`` (T, 3) with the rPPG ``method``.

    ``method`` is case-insensitive; ``kwargs`` go to the method (e.g. ``window_sec``).
    Raises :class:`~bigsmall.signal.validation.SignalError` (a ``ValueError``) for an unknown
    method, listing the known ones.
    """
    try:
        fn = METHODS[method.lower()]
    except (KeyError, AttributeError):
        raise SignalError(
            f"unknown rPPG method {method!r}; choose one of {', '.join(sorted(METHODS))}"
        ) from None
    return fn(rgb, fs, **kwargs)


__all__ = [
    "METHODS",
    "chrom",
    "extract_pulse",
    "fast_ica_sources",
    "green",
    "ica",
    "lgi",
    "omit",
    "pbv",
    "pos",
]
