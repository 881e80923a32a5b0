"""Training knobs (owned by the training layer; composed by the experiment config)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bigsmall.constants import TASKS
from bigsmall.training.augment import AUGMENTATIONS

#: Ways to combine the per-task losses into one update.
GRADIENT_METHODS: tuple[str, ...] = ("sum", "pcgrad", "uncertainty")
#: Where the AU ``pos_weight`` comes from: the reference's fixed BP4D+ values, the training
#: labels (negatives / positives per AU), or none (plain BCE).
AU_POS_WEIGHT_MODES: tuple[str, ...] = ("bp4d", "labels", "none")


@dataclass(frozen=True)
class TrainSettings:
    """The paper's defaults: Adam (AdamW, weight decay 0), constant lr 1e-3, 5 epochs,
    batch 180 windows, equal task weights, last epoch's weights kept.

    Attributes:
        epochs: passes over the training windows.
        lr: learning rate.
        batch_size: windows (of N frames) per step, over all processes.
        weight_decay: AdamW weight decay.
        task_weights: weight of each task's loss ("au", "bvp", "resp").
        au_pos_weight: one of :data:`AU_POS_WEIGHT_MODES`.
        gradient_method: one of :data:`GRADIENT_METHODS`: plain weighted sum (the paper),
            PCGrad (Yu et al., NeurIPS 2020) or uncertainty weighting (Kendall et al., CVPR 2018).
        seed: seeds the data order and dropout of every epoch (makes ``--resume`` exact).
        device: "auto", "cpu" or "cuda".
        amp: mixed precision on CUDA (ignored on CPU).
        num_workers: DataLoader worker processes.
        au_distill_weight: weight of the AU distillation loss against a teacher's AU
            probabilities (0: off; the teacher is given to :func:`bigsmall.training.loop.fit`).
        warmup_epochs: the first ``warmup_epochs`` of ``epochs`` train only ``warmup_tasks``
            (beyond the paper: lets a task that the others' gradients drown in the shared
            branch, e.g. the AUs in the Big branch, learn first; 0: off).
        warmup_tasks: the tasks trained during the warm-up epochs.
        warmup_route_branches: during the warm-up, each task's loss updates only its own branch
            of a two-branch model (AU: Big; PPG, respiration: Small; the model's
            ``route_gradients``), so each branch first learns its own tasks.
        augment: label-preserving augmentations of the training windows, names from
            :data:`bigsmall.training.augment.AUGMENTATIONS` ("hflip", "translate"; beyond the
            paper, which trains without).
        augment_max_shift: largest ``translate`` shift, as a fraction of the frame size.
        landmark_weight: weight of the face-alignment loss for models that predict landmarks
            (JAA-Net, JÂA-Net, BigSmall++) on batches with landmarks (the papers' λ = 0.5).
    """

    epochs: int = 5
    lr: float = 1e-3
    batch_size: int = 180
    weight_decay: float = 0.0
    task_weights: dict[str, float] = field(
        default_factory=lambda: {"au": 1.0, "bvp": 1.0, "resp": 1.0}
    )
    au_pos_weight: str = "bp4d"
    gradient_method: str = "sum"
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    num_workers: int = 0
    au_distill_weight: float = 0.0
    warmup_epochs: int = 0
    warmup_tasks: tuple[str, ...] = ("au",)
    warmup_route_branches: bool = False
    augment: tuple[str, ...] = ()
    augment_max_shift: float = 0.05
    landmark_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs ({self.epochs}) and batch_size ({self.batch_size}) must be >= 1"
            )
        for name in (
            "lr",
            "weight_decay",
            "au_distill_weight",
            "augment_max_shift",
            "landmark_weight",
        ):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number, got {getattr(self, name)}")
        bad = {k: v for k, v in self.task_weights.items() if not math.isfinite(float(v)) or v < 0}
        if bad:
            raise ValueError(f"task_weights must be finite and >= 0, got {bad}")
        if self.gradient_method not in GRADIENT_METHODS:
            raise ValueError(
                f"gradient_method {self.gradient_method!r} is not one of {GRADIENT_METHODS}"
            )
        if self.au_pos_weight not in AU_POS_WEIGHT_MODES:
            raise ValueError(
                f"au_pos_weight {self.au_pos_weight!r} is not one of {AU_POS_WEIGHT_MODES}"
            )
        if self.au_distill_weight < 0:
            raise ValueError("au_distill_weight must be >= 0")
        if self.landmark_weight < 0:
            raise ValueError("landmark_weight must be >= 0")
        if not 0 <= self.warmup_epochs < self.epochs:
            raise ValueError(
                f"warmup_epochs ({self.warmup_epochs}) must be >= 0 and below epochs "
                f"({self.epochs}); lower warmup_epochs with epochs"
            )
        unknown = sorted(set(self.warmup_tasks) - set(TASKS))
        if unknown or not self.warmup_tasks:
            raise ValueError(f"warmup_tasks must be a non-empty subset of {TASKS}, got {unknown}")
        unknown = sorted(set(self.augment) - set(AUGMENTATIONS))
        if unknown:
            raise ValueError(f"augment: {unknown} not among {sorted(AUGMENTATIONS)}")
        if not 0.0 <= self.augment_max_shift < 0.5:
            raise ValueError("augment_max_shift must be >= 0 and below 0.5")
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("lr must be > 0 and weight_decay >= 0")


def warmup_problem(settings: TrainSettings, model: object, model_name: str) -> str | None:
    """Why ``settings``' warm-up cannot train ``model`` (one line), or ``None`` when it can."""
    tasks = tuple(getattr(model, "tasks", ()))
    if settings.warmup_epochs and not set(settings.warmup_tasks) & set(tasks):
        return (
            f"train.warmup_tasks {list(settings.warmup_tasks)} name none of "
            f"{model_name}'s tasks {list(tasks)}"
        )
    if settings.warmup_route_branches and not hasattr(model, "route_gradients"):
        return f"train.warmup_route_branches needs a two-branch BigSmall model, not {model_name}"
    return None
