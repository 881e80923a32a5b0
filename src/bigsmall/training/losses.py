"""The BigSmall multi-task loss (Narayanswamy et al., WACV 2024, Sec. 4).

``BCEWithLogits(AU, pos_weight) + MSE(PPG) + MSE(resp)`` with per-task weights (equal in the
paper). Frames without a label for a task are masked out: AU labels < 0 ("not coded") and
recordings without a PPG or respiration wave (``bvp_mask`` / ``resp_mask``). A model without a
head for a task (output ``None``) skips that loss. Optional uncertainty weighting (Kendall, Gal
and Cipolla, "Multi-Task Learning Using Uncertainty to Weigh Losses", CVPR 2018) learns one
log-variance per task: ``L = Σ exp(-s_t) L_t + s_t``.

Optional AU distillation (Hinton, Vinyals and Dean, "Distilling the Knowledge in a Neural
Network", 2015): BCE between the student's AU logits and a teacher's AU probabilities
(``batch["au_teacher"]``), weighted by ``au_distill_weight`` — used to fine-tune from the
authors' BP4D+ weights without erasing what Big_AU learned on real faces.

Face alignment (JAA-Net, Shao et al., ECCV 2018, Eq. 1; JÂA-Net, IJCV 2021): for models that
output ``landmarks`` and batches that carry them, :func:`landmark_loss`
``E_align = 1 / (2·d_o²) · Σ_j ‖p_j − g_j‖²`` per frame, d_o the ground-truth inter-ocular
distance (between the two eye centres), averaged over frames, weighted by ``landmark_weight``
(the papers' λ = 0.5). It is invariant to translating and to scaling prediction and target
together (units cancel: fractions of the frame or pixels give the same value). The papers'
other terms are not here: their Dice loss (AU imbalance; the weighted BCE covers it), JAA-Net's
attention constraint (applied inside the model, see ``bigsmall.models.jaa_net``) and JÂA-Net's
local AU losses (not implemented).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from bigsmall.constants import EYES_49, TASKS

#: Name of the AU distillation term among the task losses.
DISTILL_TASK: str = "au_distill"
#: Name of the face-alignment (landmark) term among the task losses; it trains with the AU task.
LANDMARK_TASK: str = "landmarks"


def _masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over frames where ``mask`` is true; 0 (with grad) when none are."""
    pred = pred.reshape(-1)
    target = target.reshape(-1).to(pred.dtype)
    mask = mask.reshape(-1)
    if not bool(mask.any()):
        return pred.sum() * 0.0
    return F.mse_loss(pred[mask], target[mask])


def landmark_loss(
    pred: torch.Tensor,
    target: torch.Tensor,
    eyes: tuple[Sequence[int], Sequence[int]] = EYES_49,
) -> torch.Tensor | None:
    """JAA-Net's face-alignment loss, mean over frames with a known inter-ocular distance.

    Args:
        pred: (F, L, 2) predicted landmarks.
        target: (F, L, 2) ground truth in the same units, NaN where unknown.
        eyes: landmark indices of the two eyes; a frame counts only when all are known.

    Returns:
        ``mean_f (L / n_f) · Σ_known ‖p − g‖² / (2·d_o²)`` (n_f known points of frame f; the
        factor keeps partly known frames on the scale of the papers' sum over all L points), or
        ``None`` when no frame qualifies.
    """
    target = target.reshape(pred.shape).to(pred.dtype)
    known = ~torch.isnan(target).any(dim=-1)  # (F, L)
    left, right = list(eyes[0]), list(eyes[1])
    eyes_known = known[:, left].all(dim=1) & known[:, right].all(dim=1)
    safe = torch.nan_to_num(target)
    d_o = (safe[:, left].mean(dim=1) - safe[:, right].mean(dim=1)).norm(dim=-1)  # (F,)
    frames = eyes_known & (d_o > 0)
    if not bool(frames.any()):
        return None
    sq = ((pred - safe) ** 2).sum(dim=-1) * known  # (F, L)
    n_known = known.sum(dim=1).clamp(min=1)
    per_frame = sq.sum(dim=1) * (pred.shape[1] / n_known) / (2 * d_o.clamp(min=1e-12) ** 2)
    return per_frame[frames].mean()


class MultiTaskLoss(nn.Module):
    """Weighted sum of the per-task losses.

    Args:
        task_weights: weight per task name; tasks absent from the mapping weigh 0.
        au_pos_weight: (K,) BCE ``pos_weight`` or ``None`` for plain BCE.
        uncertainty: learn per-task log-variances (Kendall et al. 2018) instead of fixed weights.
        au_distill_weight: weight of the AU distillation term (needs ``batch["au_teacher"]``).
        landmark_weight: weight of the face-alignment term (needs a model ``landmarks`` output
            and ``batch["landmarks"]``; JAA-Net's λ = 0.5).
    """

    def __init__(
        self,
        task_weights: Mapping[str, float],
        au_pos_weight: Sequence[float] | torch.Tensor | None = None,
        uncertainty: bool = False,
        au_distill_weight: float = 0.0,
        landmark_weight: float = 0.5,
    ) -> None:
        super().__init__()
        self.task_weights = {t: float(task_weights.get(t, 0.0)) for t in TASKS}
        self.task_weights[DISTILL_TASK] = float(au_distill_weight)
        self.task_weights[LANDMARK_TASK] = float(landmark_weight)
        pos = None if au_pos_weight is None else torch.as_tensor(au_pos_weight, dtype=torch.float32)
        self.register_buffer("au_pos_weight", pos)
        self.log_vars = nn.ParameterDict(
            {t: nn.Parameter(torch.zeros(())) for t in TASKS} if uncertainty else {}
        )

    def task_losses(
        self, outputs: Sequence[torch.Tensor | None], batch: Mapping[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """Unweighted loss per task that the model predicts and the batch labels.

        Args:
            outputs: a :class:`~bigsmall.models.bigsmall.BigSmallOutput` (or a plain sequence)
                (au (F, K), bvp (F, 1), resp (F, 1)[, landmarks (F, L, 2)]), entries ``None``
                when absent; F frames.
            batch: "au" (F, K) in {-1, 0, 1}; "bvp", "resp" (F,); "bvp_mask", "resp_mask" (F,);
                optional "au_teacher" (F, K) teacher probabilities in [0, 1]; optional
                "landmarks" (F, L, 2) fractions of the Big side, NaN where unknown.
        """
        au, bvp, resp = outputs[0], outputs[1], outputs[2]
        landmarks = outputs[3] if len(outputs) > 3 else None
        losses: dict[str, torch.Tensor] = {}
        if au is not None and self.task_weights["au"] > 0 and "au" in batch:
            target = batch["au"].reshape(au.shape)
            valid = target >= 0
            if bool(valid.any()):
                elementwise = F.binary_cross_entropy_with_logits(
                    au,
                    target.clamp(min=0).to(au.dtype),
                    pos_weight=self.au_pos_weight,
                    reduction="none",
                )
                losses["au"] = (elementwise * valid).sum() / valid.sum()
        if au is not None and self.task_weights[DISTILL_TASK] > 0 and "au_teacher" in batch:
            soft = batch["au_teacher"].reshape(au.shape).to(au.dtype)
            losses[DISTILL_TASK] = F.binary_cross_entropy_with_logits(au, soft)
        for name, pred in (("bvp", bvp), ("resp", resp)):
            if pred is not None and self.task_weights[name] > 0 and name in batch:
                mask = batch.get(f"{name}_mask")
                if mask is None:
                    mask = torch.ones_like(batch[name], dtype=torch.bool)
                losses[name] = _masked_mse(pred, batch[name], mask.reshape(-1).bool())
        if (
            landmarks is not None
            and self.task_weights[LANDMARK_TASK] > 0
            and batch.get("landmarks") is not None
        ):
            value = landmark_loss(landmarks, batch["landmarks"])
            if value is not None:
                losses[LANDMARK_TASK] = value
        return losses

    def combine(self, losses: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Total loss from :meth:`task_losses` (fixed weights or learned uncertainties)."""
        if not losses:
            raise ValueError("no task has both a model head and labels in this batch")
        total = 0.0
        for name, value in losses.items():
            if name in self.log_vars:
                s = self.log_vars[name]
                total = total + self.task_weights[name] * (torch.exp(-s) * value + s)
            else:
                total = total + self.task_weights[name] * value
        return total  # type: ignore[return-value]

    def forward(
        self, outputs: Sequence[torch.Tensor | None], batch: Mapping[str, torch.Tensor]
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        losses = self.task_losses(outputs, batch)
        return self.combine(losses), losses


def pos_weight_from_labels(au: torch.Tensor, max_weight: float = 50.0) -> torch.Tensor:
    """(K,) BCE ``pos_weight`` = negatives / positives per AU over coded frames of (F, K) labels,
    clamped to [1/max_weight, max_weight] (an AU never present gets ``max_weight``)."""
    valid = au >= 0
    pos = ((au > 0) & valid).sum(0).float()
    neg = ((au == 0) & valid).sum(0).float()
    weight = neg / pos.clamp(min=1.0)
    weight[pos == 0] = max_weight
    return weight.clamp(1.0 / max_weight, max_weight)
