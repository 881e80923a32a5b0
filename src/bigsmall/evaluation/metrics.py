"""Metrics of the BigSmall paper's protocol (Narayanswamy et al., WACV 2024, Sec. 5).

Rate metrics are computed over recordings (one estimated and one reference rate per test video):
MAE, RMSE, MAPE (%) and Pearson ρ, each with its standard error. Action-unit metrics are computed
over all test frames: per-AU F1 of the positive class and accuracy, and their mean over AUs.
Frames whose AU label is negative (``-1``: not coded) are ignored for that AU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from bigsmall.signal.quality import pearson


@dataclass(frozen=True)
class RateMetrics:
    """Agreement of estimated and reference rates over ``n`` recordings (units of the rates)."""

    n: int
    mae: float
    mae_se: float
    rmse: float
    rmse_se: float
    mape: float
    mape_se: float
    pearson: float
    pearson_se: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def rate_metrics(estimated: Sequence[float], reference: Sequence[float]) -> RateMetrics:
    """MAE, RMSE, MAPE (%) and Pearson ρ of per-recording rates, with standard errors.

    Standard errors: MAE and MAPE use ``std(ddof=1) / sqrt(n)`` of the per-recording absolute
    (percentage) errors; RMSE uses the delta method on the mean squared error,
    ``SE(MSE) / (2 RMSE)``; Pearson uses ``sqrt((1 - ρ²) / (n - 2))``. Values that cannot be
    computed (too few recordings, constant inputs) are NaN.

    Args:
        estimated: (n,) estimated rates.
        reference: (n,) reference rates (must be non-zero for MAPE).
    """
    est = np.asarray(estimated, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if est.shape != ref.shape or est.ndim != 1:
        raise ValueError(
            f"expected two 1-D arrays of equal length, got {est.shape} and {ref.shape}"
        )
    n = est.size
    if n == 0:
        nan = float("nan")
        return RateMetrics(0, nan, nan, nan, nan, nan, nan, nan, nan)
    err = est - ref
    abs_err = np.abs(err)
    sq_err = err**2
    pct_err = abs_err / np.abs(ref) * 100.0

    def se(x: np.ndarray) -> float:
        return float(np.std(x, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    mse = float(np.mean(sq_err))
    rmse = float(np.sqrt(mse))
    rmse_se = se(sq_err) / (2.0 * rmse) if rmse > 0 else float("nan")
    r = pearson_r(est, ref)
    r_se = float(np.sqrt((1.0 - r**2) / (n - 2))) if n > 2 and np.isfinite(r) else float("nan")
    return RateMetrics(
        n=n,
        mae=float(np.mean(abs_err)),
        mae_se=se(abs_err),
        rmse=rmse,
        rmse_se=rmse_se,
        mape=float(np.mean(pct_err)),
        mape_se=se(pct_err),
        pearson=r,
        pearson_se=r_se,
    )


def pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson ρ of two (n,) arrays; NaN (not 0) when either is constant or n < 2."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return pearson(x, y)


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve of (n,) ``scores`` for (n,) 0/1 ``labels`` (negative = ignored).

    The Mann-Whitney form: the probability that a random positive frame scores above a random
    negative one, ties counting one half (average ranks). NaN without both classes. Threshold-
    free, so it tells whether a model separates an AU at all, apart from where its 0.5 falls.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    keep = labels >= 0
    scores, positive = scores[keep], labels[keep] > 0
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(scores.size, dtype=np.float64)
    ranks[order] = np.arange(1, scores.size + 1)
    sorted_scores = scores[order]  # average the ranks of tied scores
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for start, count in zip(first[counts > 1], counts[counts > 1], strict=True):
        ranks[order[start : start + count]] = start + (count + 1) / 2.0
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


@dataclass(frozen=True)
class AUMetrics:
    """Per-AU F1 (positive class, %) and accuracy (%), with their means over AUs."""

    names: tuple[str, ...]
    f1: tuple[float, ...]
    accuracy: tuple[float, ...]
    support: tuple[int, ...]

    @property
    def mean_f1(self) -> float:
        return float(np.nanmean(self.f1)) if self.f1 else float("nan")

    @property
    def mean_accuracy(self) -> float:
        return float(np.nanmean(self.accuracy)) if self.accuracy else float("nan")

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"mean_f1": self.mean_f1, "mean_accuracy": self.mean_accuracy}
        for name, f1, acc, sup in zip(
            self.names, self.f1, self.accuracy, self.support, strict=True
        ):
            d[name] = {"f1": f1, "accuracy": acc, "support": sup}
        return d


def au_metrics(
    logits_or_probs: np.ndarray,
    labels: np.ndarray,
    names: Sequence[str],
    *,
    from_logits: bool = True,
    threshold: float = 0.5,
) -> AUMetrics:
    """F1 and accuracy per AU over all frames, as in the paper (sigmoid ≥ 0.5 → present).

    Args:
        logits_or_probs: (T, K) AU logits (``from_logits=True``) or probabilities.
        labels: (T, K) occurrence labels in {0, 1}; negative values mark frames not coded.
        names: K AU names.
    Returns:
        F1 and accuracy in percent; NaN for an AU without coded frames. F1 is 0 when an AU is
        never predicted and never present (no positive class to find).
    """
    scores = np.asarray(logits_or_probs, dtype=np.float64)
    y = np.asarray(labels)
    if scores.shape != y.shape or scores.ndim != 2 or scores.shape[1] != len(names):
        raise ValueError(
            f"expected (T, {len(names)}) predictions and labels, got {scores.shape} and {y.shape}"
        )
    probs = 1.0 / (1.0 + np.exp(-scores)) if from_logits else scores
    pred = probs >= threshold
    f1s: list[float] = []
    accs: list[float] = []
    support: list[int] = []
    for k in range(y.shape[1]):
        valid = y[:, k] >= 0
        yk = y[valid, k] > 0
        pk = pred[valid, k]
        support.append(int(yk.sum()))
        if yk.size == 0:
            f1s.append(float("nan"))
            accs.append(float("nan"))
            continue
        tp = float(np.sum(pk & yk))
        fp = float(np.sum(pk & ~yk))
        fn = float(np.sum(~pk & yk))
        denom = 2 * tp + fp + fn
        f1s.append(100.0 * 2 * tp / denom if denom > 0 else 0.0)
        accs.append(100.0 * float(np.mean(pk == yk)))
    return AUMetrics(tuple(names), tuple(f1s), tuple(accs), tuple(support))


def trivial_au_baselines(labels: np.ndarray, names: Sequence[str]) -> dict[str, AUMetrics]:
    """AU metrics of the all-positive and all-negative predictors on the same labels."""
    y = np.asarray(labels)
    return {
        "all_positive": au_metrics(np.ones(y.shape), y, names, from_logits=False),
        "all_negative": au_metrics(np.zeros(y.shape), y, names, from_logits=False),
    }
