"""Per-task gradients of shared parameters: conflict angles and PCGrad.

- :func:`task_gradient_angles`: the BigSmall paper's Fig. 6D analysis (Narayanswamy et al., WACV
  2024): angles between the per-task gradient vectors of the parameters every task uses.
- :func:`pcgrad_backward`: "Gradient Surgery for Multi-Task Learning" (Yu et al., NeurIPS 2020):
  each task gradient is projected off the normal plane of every other task gradient it conflicts
  with (negative dot product), in random order, and the projected gradients are summed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn


def shared_parameters(model: nn.Module, tasks: Sequence[str]) -> list[nn.Parameter]:
    """Parameters outside every task head (``<task>_fc*``): the ones all tasks share."""
    heads = tuple(f"{t}_fc" for t in tasks)
    return [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(heads)]


def flat_task_gradients(
    losses: Mapping[str, torch.Tensor], params: Sequence[nn.Parameter]
) -> dict[str, torch.Tensor]:
    """Per-task gradient of ``params`` as one flat vector each (graph kept for later use)."""
    grads: dict[str, torch.Tensor] = {}
    for name, loss in losses.items():
        g = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
        grads[name] = torch.cat(
            [
                (gi if gi is not None else torch.zeros_like(p)).reshape(-1)
                for gi, p in zip(g, params, strict=True)
            ]
        )
    return grads


def angle_deg(a: torch.Tensor, b: torch.Tensor) -> float:
    """Angle in degrees between two flat vectors (NaN if either is zero)."""
    denom = float(a.norm() * b.norm())
    if denom == 0:
        return float("nan")
    cos = max(-1.0, min(1.0, float(a @ b) / denom))
    return math.degrees(math.acos(cos))


def task_gradient_angles(grads: Mapping[str, torch.Tensor]) -> dict[tuple[str, str], float]:
    """Angle (degrees) for every pair of tasks, keyed ``(task_a, task_b)``."""
    return {(a, b): angle_deg(grads[a], grads[b]) for a, b in itertools.combinations(grads, 2)}


def pcgrad_backward(
    losses: Mapping[str, torch.Tensor],
    params: Sequence[nn.Parameter],
    generator: torch.Generator | None = None,
) -> None:
    """Write PCGrad-combined gradients of the summed task ``losses`` into ``params``' ``.grad``.

    Non-shared parameters (task heads) receive only their own task's gradient, which equals
    plain backpropagation of the sum; shared ones receive the projected sum.
    """
    names = list(losses)
    grads = flat_task_gradients(losses, params)
    projected = {n: grads[n].clone() for n in names}
    for n in names:
        order = torch.randperm(len(names), generator=generator).tolist()
        for j in order:
            other = grads[names[j]]
            if names[j] == n:
                continue
            dot = projected[n] @ other
            if dot < 0:
                projected[n] -= dot / other.pow(2).sum().clamp(min=1e-20) * other
    combined = torch.stack([projected[n] for n in names]).sum(0)
    offset = 0
    for p in params:
        size = p.numel()
        g = combined[offset : offset + size].view_as(p)
        p.grad = g.clone() if p.grad is None else p.grad + g
        offset += size
