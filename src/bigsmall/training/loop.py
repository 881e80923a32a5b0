"""One generic trainer for every registered model (no per-model copies).

Batches are dicts of tensors over B windows of N frames (see :mod:`bigsmall.data.dataset`):
``big`` (B, Nb, C, H, W) with Nb = 1 (the frame Big uses) or N, ``small`` (B, N, C, h, w),
``au`` (B, N, K) in {-1, 0, 1}, ``bvp`` / ``resp`` (B, N), ``bvp_mask`` / ``resp_mask`` (B,) and
optionally ``landmarks`` (B, Nb, L, 2) of the Big frames (fractions of the Big side, NaN unknown).
:class:`WindowModel` routes them to the model's inputs so that DistributedDataParallel wraps one
``forward``. Every epoch reseeds the data order and dropout from ``(seed, epoch)``, so a run
resumed from an epoch checkpoint ends with the same weights as an uninterrupted one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler
from tqdm.auto import tqdm

from bigsmall.output_dir import write_text_atomic
from bigsmall.training.augment import augment_batch
from bigsmall.training.checkpoint import load_checkpoint, save_checkpoint
from bigsmall.training.distributed import (
    DistInfo,
    all_reduce_mean,
    barrier,
    dist_info_from_env,
    init_distributed,
    resolve_device,
)
from bigsmall.training.gradients import pcgrad_backward, shared_parameters
from bigsmall.training.losses import DISTILL_TASK, LANDMARK_TASK, MultiTaskLoss
from bigsmall.training.settings import TrainSettings, warmup_problem
from bigsmall.version import __version__

#: Sample-order seed of epoch e: distinct per (seed, epoch), independent of what ran before.
_EPOCH_SEED_STRIDE = 1_000_003


class WindowModel(nn.Module):
    """Adapter: (big (B, Nb, C, H, W), small (B, N, C, h, w)) → per-frame model outputs.

    A model that declares ``big_downsample`` and ``forward_windows`` (BigSmall) gets only the
    frame its Big branch uses; any other model gets every frame flattened to (B·N, ...).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, big: torch.Tensor | None, small: torch.Tensor | None) -> Any:
        m = self.model
        small_frames = None if small is None else small.flatten(0, 1)
        if getattr(m, "use_big", False) and getattr(m, "big_downsample", False):
            return m.forward_windows(big[:, 0], small_frames if m.use_small else None)
        big_frames = None if big is None else big.flatten(0, 1)
        return m(big_frames, small_frames)


def frame_targets(batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Window labels (B, N, ...) → frame labels (B·N, ...); window masks repeated per frame.

    ``landmarks`` (B, Nb, L, 2) → (B·N, L, 2): per frame when Nb = N; with Nb = 1 (only the
    window's Big frame) repeated for the N frames of its window, as the model broadcasts them.
    """
    out: dict[str, torch.Tensor] = {}
    n = batch["small"].shape[1] if "small" in batch else batch["big"].shape[1]
    for key in ("au", "bvp", "resp"):
        if key in batch:
            out[key] = batch[key].flatten(0, 1)
    for key in ("bvp_mask", "resp_mask"):
        if key in batch:
            out[key] = batch[key].bool().repeat_interleave(n)
    if "landmarks" in batch:
        marks = batch["landmarks"]
        nb = marks.shape[1]
        if nb not in (1, n):
            raise ValueError(f"landmarks cover {nb} frames per window; expected 1 or {n}")
        out["landmarks"] = marks.repeat_interleave(n // nb, dim=1).flatten(0, 1)
    return out


def _to(batch: Mapping[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def _inputs(batch: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    return batch.get("big"), batch.get("small")


@torch.no_grad()
def teacher_au(teacher: nn.Module, batch: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """(B·N, K) AU probabilities of ``teacher`` (eval mode) for every frame of the batch's
    windows. A Big-only teacher fed one Big frame per window (B, 1, ...) gives one row per
    window, repeated for its N frames (as BigSmall broadcasts Big features)."""
    big, small = _inputs(batch)
    frames = small.shape[0] * small.shape[1] if small is not None else big.shape[0] * big.shape[1]
    if getattr(teacher, "use_small", False):
        logits = WindowModel(teacher)(big, small).au
    else:  # Big-only (e.g. the authors' Big_AU): its branch and head on each Big frame given
        logits = teacher.heads(teacher.big_branch(big.flatten(0, 1))).au
    probs = torch.sigmoid(logits.float())
    return probs.repeat_interleave(frames // probs.shape[0], dim=0)


def train_one_epoch(
    net: nn.Module,
    loader: DataLoader,
    loss_fn: MultiTaskLoss,
    optimizer: torch.optim.Optimizer,
    device: torch.device,
    settings: TrainSettings,
    tasks: tuple[str, ...],
    shared: list[nn.Parameter] | None = None,
    progress: bool = True,
    description: str = "train",
    teacher: nn.Module | None = None,
    active_tasks: tuple[str, ...] | None = None,
    augment_generator: torch.Generator | None = None,
) -> dict[str, float]:
    """One pass over ``loader``; returns the mean total and per-task losses.

    ``teacher``: a model whose AU probabilities become ``au_teacher`` distillation targets.
    ``active_tasks``: train only these tasks' losses (all when ``None``); the others are still
    computed and logged. ``augment_generator`` draws ``settings.augment``'s random choices."""
    net.train()
    if settings.augment and augment_generator is None:
        augment_generator = torch.Generator().manual_seed(settings.seed)
    use_amp = settings.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    sums: dict[str, float] = {}
    steps = 0
    for batch in tqdm(loader, desc=description, disable=not progress, leave=False):
        batch = _to(batch, device)
        if settings.augment:
            batch = augment_batch(
                batch, settings.augment, augment_generator, settings.augment_max_shift
            )
        with torch.autocast(device.type, enabled=use_amp):
            targets = frame_targets(batch)
            if teacher is not None:
                targets["au_teacher"] = teacher_au(teacher, batch)
            outputs = net(*_inputs(batch))
            logged = loss_fn.task_losses(tuple(outputs), targets)
            losses = logged
            if active_tasks is not None:
                losses = {k: v for k, v in logged.items() if _task_of(k) in active_tasks}
                if not losses:  # e.g. a warm-up batch without labels for its tasks
                    continue
            total = loss_fn.combine(losses)
            if len(losses) < len(logged) and isinstance(net, nn.parallel.DistributedDataParallel):
                # DDP waits for a gradient of every parameter used in forward: the idle heads
                # get exact zeros (Adam then moves them by exactly 0 as well).
                total = total + 0.0 * sum(v for k, v in logged.items() if k not in losses)
        optimizer.zero_grad(set_to_none=True)
        if settings.gradient_method == "pcgrad" and shared and len(losses) > 1:
            pcgrad_backward(losses, shared)
            others = [p for p in net.parameters() if p.requires_grad]
            shared_ids = {id(p) for p in shared}
            rest = [p for p in others if id(p) not in shared_ids]
            if rest:
                torch.autograd.backward(total, inputs=rest)
            optimizer.step()
        else:
            scaler.scale(total).backward()
            scaler.step(optimizer)
            scaler.update()
        steps += 1
        sums["loss"] = sums.get("loss", 0.0) + float(total.detach())
        for name, value in logged.items():
            sums[f"loss_{name}"] = sums.get(f"loss_{name}", 0.0) + float(value.detach())
    return {k: v / max(steps, 1) for k, v in sums.items()}


def _task_of(loss_name: str) -> str:
    """The task a loss term trains ("au_distill" and the face-alignment term → "au")."""
    return "au" if loss_name in (DISTILL_TASK, LANDMARK_TASK) else loss_name


@torch.no_grad()
def evaluate_loss(
    net: nn.Module, loader: DataLoader, loss_fn: MultiTaskLoss, device: torch.device
) -> dict[str, float]:
    """Mean total and per-task losses over ``loader`` in eval mode."""
    net.eval()
    sums: dict[str, float] = {}
    steps = 0
    for batch in loader:
        batch = _to(batch, device)
        outputs = net(*_inputs(batch))
        losses = loss_fn.task_losses(tuple(outputs), frame_targets(batch))
        total = loss_fn.combine(losses)
        steps += 1
        sums["val_loss"] = sums.get("val_loss", 0.0) + float(total)
        for name, value in losses.items():
            sums[f"val_loss_{name}"] = sums.get(f"val_loss_{name}", 0.0) + float(value)
    return {k: v / max(steps, 1) for k, v in sums.items()}


def _write_csv_atomic(path: Path, rows: list[dict[str, Any]]) -> None:
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomic(path, buf.getvalue())


def fit(
    model: nn.Module,
    train_set: Dataset,
    settings: TrainSettings,
    run_dir: str | Path,
    *,
    loss_fn: MultiTaskLoss,
    val_set: Dataset | None = None,
    resume: bool = False,
    progress: bool = True,
    stop_after_epochs: int | None = None,
    on_epoch_end: Callable[[int, nn.Module], None] | None = None,
    config: Mapping[str, Any] | None = None,
    teacher: nn.Module | None = None,
) -> dict[str, Any]:
    """Train ``model`` for ``settings.epochs`` and keep the last epoch's weights.

    ``teacher`` (optional, frozen, eval mode): its AU probabilities are distillation targets
    weighted by ``settings.au_distill_weight``.

    Writes ``run_dir/checkpoints/last.*`` after every epoch (rank 0 only) and
    ``run_dir/metrics.csv`` (one row per epoch). ``resume=True`` continues from ``last``.
    ``stop_after_epochs`` ends the run early (used to test interruption). Under ``torchrun`` the
    model is wrapped in DistributedDataParallel and the batch is split over processes.

    Returns:
        {"epoch": last finished epoch (1-based), "history": per-epoch metric dicts}.
    """
    run_dir = Path(run_dir)
    info: DistInfo = dist_info_from_env()
    device = resolve_device(settings.device, info)
    init_distributed(info, device)
    model.to(device)
    loss_fn.to(device)
    if teacher is not None:
        teacher.to(device).eval().requires_grad_(False)
    tasks = tuple(getattr(model, "tasks", ()))
    problem = warmup_problem(settings, model, type(model).__name__)
    if problem:
        raise ValueError(problem)
    params = list(model.parameters()) + list(loss_fn.parameters())
    optimizer = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
    ckpt = run_dir / "checkpoints" / "last"
    history: list[dict[str, Any]] = []
    start_epoch = 0
    if resume and ckpt.with_suffix(".json").is_file():
        state = load_checkpoint(ckpt, model, optimizer, loss_fn)
        start_epoch = int(state["epoch"])
        history = list(state.get("history", []))
    net: nn.Module = WindowModel(model)
    if info.enabled:
        net = nn.parallel.DistributedDataParallel(
            net, device_ids=[device.index] if device.type == "cuda" else None
        )
    shared = shared_parameters(model, tasks) if settings.gradient_method == "pcgrad" else None
    per_rank_batch = max(1, settings.batch_size // info.world_size)
    end_epoch = (
        settings.epochs if stop_after_epochs is None else min(settings.epochs, stop_after_epochs)
    )
    for epoch in range(start_epoch, end_epoch):
        epoch_seed = settings.seed * _EPOCH_SEED_STRIDE + epoch
        torch.manual_seed(epoch_seed)
        if info.enabled:
            sampler = DistributedSampler(train_set, shuffle=True, seed=settings.seed)
            sampler.set_epoch(epoch)
            generator = None
        else:
            generator = torch.Generator().manual_seed(epoch_seed)
            sampler = RandomSampler(train_set, generator=generator)
        loader = DataLoader(
            train_set,
            batch_size=per_rank_batch,
            sampler=sampler,
            num_workers=settings.num_workers,
            generator=generator,
            persistent_workers=False,
        )
        warming_up = epoch < settings.warmup_epochs
        if settings.warmup_route_branches:
            model.route_gradients = warming_up
        metrics = train_one_epoch(
            net,
            loader,
            loss_fn,
            optimizer,
            device,
            settings,
            tasks,
            shared,
            progress=progress and info.is_main,
            description=f"epoch {epoch + 1}/{settings.epochs}"
            + (" (warm-up)" if warming_up else ""),
            teacher=teacher,
            active_tasks=settings.warmup_tasks if warming_up else None,
            augment_generator=torch.Generator().manual_seed(epoch_seed + info.rank),
        )
        if settings.warmup_route_branches:
            model.route_gradients = False
        metrics = {k: all_reduce_mean(v, info) for k, v in metrics.items()}
        if val_set is not None:
            val_loader = DataLoader(val_set, batch_size=per_rank_batch, shuffle=False)
            metrics.update(evaluate_loss(net, val_loader, loss_fn, device))
        row = {"epoch": epoch + 1, **metrics}
        history.append(row)
        if info.is_main:
            save_checkpoint(
                ckpt,
                model,
                optimizer,
                loss_fn,
                {
                    "epoch": epoch + 1,
                    "history": history,
                    "settings": asdict(settings),
                    "config": dict(config or {}),
                    "version": __version__,
                },
            )
            _write_csv_atomic(run_dir / "metrics.csv", history)
        if on_epoch_end is not None:
            on_epoch_end(epoch + 1, model)
        barrier(info)
    return {"epoch": len(history), "history": history}
