"""Parameter and per-video-frame MAC counts of the registered models (Table 1 of the paper).

Narayanswamy et al., "BigSmall: ...", WACV 2024 (arXiv:2303.11573), Table 1 reports parameters
and "FLOPs" per video frame counted with thop, which are multiply-accumulates (MACs).

Counting uses :class:`torch.utils.flop_counter.FlopCounterMode` (MACs = FLOPs / 2) on one
window of ``n_segment`` frames, divided by ``n_segment``. Two conventions:

- ``"thop"`` (default; reproduces Table 1): convolutions count ``C_in·k·k`` MACs per output
  element **plus one for the bias**; linear layers ``in_features`` per output (bias not
  counted); average pooling counts ``k·k`` per output element; ReLU, dropout, the temporal
  shift and the fusion sum count nothing. This gives 3.73 M (Small + one head), 451.63 M (Big
  + AU head) and 456.03 M (no downsampling) exactly.
- ``"matmul"``: only the multiply-accumulates of convolutions and linear layers, as PyTorch's
  flop counter reports them (≈0.7 % below the paper).

Grouped convolutions (JAA-Net's per-patch and per-AU branches) count ``C_in/groups·k·k`` per
output element; max-pooling, batch norm and the attention-map construction count nothing.

For ``bigsmall`` (Big on one frame in N) the strict per-frame average is reported:
Big/N + Small + heads = 155.38 M (thop convention); the paper prints 154.01 M (≈ 456.03/3 + 2),
0.9 % lower.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

from bigsmall.models.bigsmall import BigSmall
from bigsmall.models.catalog import create_model, list_models

#: FLOPs per multiply-accumulate.
FLOPS_PER_MAC = 2

#: Table 1 of the paper: model name → (params in M, MACs per video frame in M). The
#: "Small branch only" row is a single-task Small network (one head: 0.70 M parameters), as in
#: the released Small_Heart / Small_Resp checkpoints.
PAPER_TABLE1: dict[str, tuple[float, float]] = {
    "small_only_bvp": (0.70, 3.73),
    "small_only_resp": (0.70, 3.73),
    "big_only": (0.78, 451.63),
    "bigsmall_no_downsample": (2.14, 456.03),
    "bigsmall": (2.14, 154.01),
}


def _conv_with_bias(
    x_shape: Sequence[int],
    w_shape: Sequence[int],
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    transposed: bool,
    *args: Any,
    out_shape: Sequence[int],
    **kwargs: Any,
) -> int:
    flops = conv_flop_count(x_shape, w_shape, out_shape, transposed=transposed)
    if bias is not None:
        flops += FLOPS_PER_MAC * math.prod(out_shape)
    return flops


def _avg_pool(
    x_shape: Sequence[int],
    kernel_size: Sequence[int],
    *args: Any,
    out_shape: Sequence[int],
    **kw: Any,
) -> int:
    kernel = list(kernel_size) * (2 if len(kernel_size) == 1 else 1)
    return FLOPS_PER_MAC * math.prod(out_shape) * math.prod(kernel)


_ATEN = torch.ops.aten

#: Extra formulas per convention (``FlopCounterMode`` already counts conv and matmul MACs); one
#: per :data:`~bigsmall.constants.MAC_CONVENTIONS`.
CONVENTIONS: dict[str, dict[Any, Callable[..., int]]] = {
    "thop": {_ATEN.convolution: _conv_with_bias, _ATEN.avg_pool2d: _avg_pool},
    "matmul": {},
}


@dataclass(frozen=True)
class ModelProfile:
    """Size and cost of one model; ``paper_*`` are ``None`` where Table 1 has no row."""

    name: str
    params: int
    macs_per_frame: float
    paper_params_m: float | None = None
    paper_macs_m: float | None = None

    @property
    def params_m(self) -> float:
        return self.params / 1e6

    @property
    def macs_m(self) -> float:
        return self.macs_per_frame / 1e6


def count_params(model: nn.Module) -> int:
    """Number of parameters."""
    return sum(p.numel() for p in model.parameters())


def example_window(model: BigSmall, n_windows: int = 1) -> tuple[torch.Tensor | None, ...]:
    """Random (big, small) inputs of ``n_windows`` windows for ``model``, each (B·N, C, S, S)."""
    frames = n_windows * model.n_segment
    device = next(model.parameters()).device
    big = torch.randn(frames, model.in_channels, model.big_size, model.big_size, device=device)
    small = torch.randn(
        frames, model.in_channels, model.small_size, model.small_size, device=device
    )
    return (big if model.use_big else None, small if model.use_small else None)


def count_macs_per_frame(model: BigSmall, convention: str = "thop") -> float:
    """MACs per video frame of ``model.forward`` on one window (see module docstring)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {convention!r}; choose from {sorted(CONVENTIONS)}")
    big, small = example_window(model)
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False, custom_mapping=CONVENTIONS[convention])
        with torch.no_grad(), counter:
            model(big, small)
    finally:
        model.train(was_training)
    return counter.get_total_flops() / FLOPS_PER_MAC / model.n_segment


def profile_model(
    name: str, convention: str = "thop", device: str | None = None, **kwargs: Any
) -> ModelProfile:
    """:class:`ModelProfile` of the registered model ``name``.

    ``device="meta"`` counts on shapes only (no arithmetic: fast for large models such as
    ``jaa_net``); the default builds and runs the model on the CPU.
    """
    if device is None:
        model = create_model(name, **kwargs)
    else:
        with torch.device(device):
            model = create_model(name, **kwargs)
    paper = PAPER_TABLE1.get(name, (None, None))
    return ModelProfile(
        name=name,
        params=count_params(model),
        macs_per_frame=count_macs_per_frame(model, convention),
        paper_params_m=paper[0],
        paper_macs_m=paper[1],
    )


def profile_models(
    names: Sequence[str] | None = None, convention: str = "thop"
) -> list[ModelProfile]:
    """Profiles of ``names`` (default: every registered model except test-only ones)."""
    if names is None:
        names = [n for n in list_models() if not n.endswith("_test")]
    return [profile_model(n, convention) for n in names]


def format_profile_table(rows: Sequence[ModelProfile]) -> str:
    """A fixed-width text table: name, params, MACs/frame, paper values and ratios."""

    def opt(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    header = (
        f"{'model':<24} {'params M':>9} {'MACs/frame M':>13} "
        f"{'paper params':>13} {'paper MACs':>11} {'params ratio':>13} {'MACs ratio':>11}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        p_ratio = r.params_m / r.paper_params_m if r.paper_params_m else None
        m_ratio = r.macs_m / r.paper_macs_m if r.paper_macs_m else None
        lines.append(
            f"{r.name:<24} {r.params_m:>9.3f} {r.macs_m:>13.2f} "
            f"{opt(r.paper_params_m, '.2f'):>13} {opt(r.paper_macs_m, '.2f'):>11} "
            f"{opt(p_ratio, '.3f'):>13} {opt(m_ratio, '.3f'):>11}"
        )
    return "\n".join(lines)
