"""Agreement of a model's action-unit outputs with the released Big_AU's, and crop stability.

Narayanswamy et al., BigSmall, WACV 2024 (arXiv:2303.11573). The authors' Big_AU weights are
the only AU model trained on real (BP4D+) labels available here. A model trained on synthetic
faces cannot be scored for AUs against ground truth on real faces, but it can be compared with
Big_AU's own predictions on real face frames: per AU, the fraction of frames where both agree
on occurrence (probability ≥ threshold), the Pearson correlation of the probabilities and
their mean absolute difference. :func:`au_crop_stability` measures how much Big_AU's
probabilities move when the face crop is perturbed (framing sensitivity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bigsmall.constants import AU_NAMES
from bigsmall.video.boxes import Box
from bigsmall.video.framing import Framing, crop_framed_frames
from bigsmall.video.normalize import standardize_frames, uint8_to_unit_float

#: Probability at or above which an AU counts as present.
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class AUAgreement:
    """Per-AU agreement of ``probs`` with reference probabilities, each (n_au,).

    ``agreement``: fraction of frames with the same binary decision; ``pearson``: correlation
    of probabilities over frames (NaN when either is constant); ``mean_abs_diff``: mean
    absolute probability difference; ``rate`` / ``reference_rate``: fraction of frames
    called present by the model / by the reference.
    """

    au_names: tuple[str, ...]
    agreement: np.ndarray
    pearson: np.ndarray
    mean_abs_diff: np.ndarray
    rate: np.ndarray
    reference_rate: np.ndarray

    @property
    def mean_agreement(self) -> float:
        return float(np.mean(self.agreement))

    @property
    def mean_pearson(self) -> float:
        """Mean over AUs with a defined correlation (NaN if none)."""
        valid = self.pearson[np.isfinite(self.pearson)]
        return float(valid.mean()) if valid.size else float("nan")

    def as_rows(self) -> list[dict[str, float | str]]:
        return [
            {
                "au": name,
                "agreement": float(self.agreement[i]),
                "pearson": float(self.pearson[i]),
                "mean_abs_diff": float(self.mean_abs_diff[i]),
                "rate": float(self.rate[i]),
                "reference_rate": float(self.reference_rate[i]),
            }
            for i, name in enumerate(self.au_names)
        ]


def _pearson_columns(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    denom = np.sqrt((a * a).sum(axis=0) * (b * b).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (a * b).sum(axis=0) / denom
    return np.where(denom > 0, r, np.nan)


def au_agreement(
    probs: np.ndarray,
    reference_probs: np.ndarray,
    threshold: float = DEFAULT_THRESHOLD,
    au_names: Sequence[str] = AU_NAMES,
) -> AUAgreement:
    """Per-AU agreement of (T, n_au) ``probs`` with (T, n_au) ``reference_probs``."""
    p = np.asarray(probs, dtype=np.float64)
    q = np.asarray(reference_probs, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 2:
        raise ValueError(f"probs {p.shape} and reference {q.shape} must both be (T, n_au)")
    on_p, on_q = p >= threshold, q >= threshold
    return AUAgreement(
        au_names=tuple(au_names)[: p.shape[1]],
        agreement=(on_p == on_q).mean(axis=0),
        pearson=_pearson_columns(p, q),
        mean_abs_diff=np.abs(p - q).mean(axis=0),
        rate=on_p.mean(axis=0),
        reference_rate=on_q.mean(axis=0),
    )


@torch.no_grad()
def au_probabilities(
    model: torch.nn.Module, big: np.ndarray | torch.Tensor, small: np.ndarray | torch.Tensor | None
) -> np.ndarray:
    """Sigmoid AU outputs of ``model`` (a BigSmall-like module returning ``.au``).

    Args:
        model: called as ``model(big, small)``; put in eval mode here.
        big: (T, 3, S, S) standardized frames, T a multiple of ``model.n_segment``.
        small: (T, 3, s, s) difference frames, or ``None`` for a model without Small branch.

    Returns:
        (T, n_au) probabilities.
    """
    model.eval()
    big_t = torch.as_tensor(np.asarray(big, dtype=np.float32))
    small_t = None if small is None else torch.as_tensor(np.asarray(small, dtype=np.float32))
    return torch.sigmoid(model(big_t, small_t).au).numpy().astype(np.float64)


def big_au_agreement(
    model: torch.nn.Module,
    big_au: torch.nn.Module,
    big: np.ndarray | torch.Tensor,
    small: np.ndarray | torch.Tensor | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> AUAgreement:
    """Agreement of ``model``'s AU probabilities with ``big_au``'s on the same frames.

    ``big`` (T, 3, 144, 144) standardized real face frames (T a multiple of both models'
    ``n_segment``), ``small`` (T, 3, 9, 9) their difference frames when ``model`` has a Small
    branch. Big_AU runs on every frame; a temporally downsampled model repeats its window AU.
    """
    probs = au_probabilities(model, big, small if getattr(model, "use_small", True) else None)
    return au_agreement(probs, au_probabilities(big_au, big, None), threshold)


def au_crop_stability(
    big_au: torch.nn.Module,
    frames_rgb: np.ndarray,
    faces: Sequence[Box],
    framings: Sequence[Framing],
) -> tuple[np.ndarray, np.ndarray]:
    """Big_AU probabilities of the same frames under several framings.

    Each framing's crops are standardized over the clip (as the reference does) and run through
    ``big_au`` (built with ``n_segment`` dividing T, e.g. 1).

    Args:
        frames_rgb: (T, H, W, 3) uint8 RGB frames.
        faces: one face box per frame.
        framings: the crops to compare (e.g. :func:`~bigsmall.video.framing.nearby_framings`),
            resized to ``big_au.big_size``.

    Returns:
        ``(probs, std)``: (n_framings, T, n_au) probabilities and (n_au,) their standard
        deviation across framings, averaged over frames.
    """
    unit = uint8_to_unit_float(frames_rgb)  # float before resizing, as the reference
    size_hw = (big_au.big_size, big_au.big_size)
    out = []
    for framing in framings:
        crops = crop_framed_frames(unit, faces, framing, size_hw)
        big = standardize_frames(crops).transpose(0, 3, 1, 2)
        out.append(au_probabilities(big_au, big, None))
    probs = np.stack(out)
    return probs, probs.std(axis=0).mean(axis=0)
