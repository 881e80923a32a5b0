"""Bland–Altman agreement statistics (Bland & Altman, Lancet 1986): bias and limits of agreement.

Statistics only; plotting lives in the report module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: Two-sided 95% normal quantile used for the limits of agreement.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class BlandAltman:
    """Mean difference (estimated − reference) and its 95% limits of agreement."""

    bias: float
    sd: float
    lower: float
    upper: float
    means: np.ndarray  # (n,) mean of the two measurements per recording
    differences: np.ndarray  # (n,) estimated − reference


def bland_altman(estimated: Sequence[float], reference: Sequence[float]) -> BlandAltman:
    """Bias ± 1.96·SD of the differences of two (n,) measurement series (n ≥ 2)."""
    est = np.asarray(estimated, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if est.shape != ref.shape or est.ndim != 1 or est.size < 2:
        raise ValueError("bland_altman needs two 1-D series of equal length >= 2")
    diff = est - ref
    bias = float(diff.mean())
    sd = float(diff.std(ddof=1))
    return BlandAltman(bias, sd, bias - Z_95 * sd, bias + Z_95 * sd, (est + ref) / 2.0, diff)
