"""Building blocks of the BigSmall network.

The temporal shift follows TSM (Lin, Gan, Han, "TSM: Temporal Shift Module for Efficient Video
Understanding", ICCV 2019); the wrapping variant (WTSM) is the one BigSmall introduces
(Narayanswamy et al., WACV 2024, arXiv:2303.11573): the frames shifted out of one end of a
window re-enter at the other end instead of being replaced by zeros.
"""

from __future__ import annotations

import torch
from torch import nn

from bigsmall.constants import SHIFTS


class TemporalShift(nn.Module):
    """Shift a fraction of the channels along time within windows of ``n_segment`` frames.

    Input and output: (B·N, C, H, W), frames of a window consecutive. Viewed as (B, N, C, H, W)
    with ``fold = C // fold_div``:

    - channels ``[0, fold)``: frame t takes frame t+1's values; the last frame takes frame 0's
      (``wrap=True``) or zeros (``wrap=False``);
    - channels ``[fold, 2·fold)``: frame t takes frame t−1's; frame 0 takes frame N−1's (wrap) or
      zeros;
    - channels ``[2·fold, C)``: unchanged.

    Implemented with slicing and concatenation only, so it exports to ONNX as plain
    Slice/Concat nodes.
    """

    def __init__(self, n_segment: int, fold_div: int = 3, wrap: bool = True) -> None:
        super().__init__()
        if n_segment < 1:
            raise ValueError(f"n_segment must be >= 1, got {n_segment}")
        self.n_segment = n_segment
        self.fold_div = fold_div
        self.wrap = wrap

    def extra_repr(self) -> str:
        return f"n_segment={self.n_segment}, fold_div={self.fold_div}, wrap={self.wrap}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.n_segment
        _, c, h, w = x.shape
        fold = c // self.fold_div
        x5 = x.reshape(-1, n, c, h, w)
        future = x5[:, :, :fold]  # frame t takes t+1
        past = x5[:, :, fold : 2 * fold]  # frame t takes t-1
        rest = x5[:, :, 2 * fold :]
        if self.wrap:
            future = torch.cat([future[:, 1:], future[:, :1]], dim=1)
            past = torch.cat([past[:, -1:], past[:, :-1]], dim=1)
        else:
            future = torch.cat([future[:, 1:], torch.zeros_like(future[:, :1])], dim=1)
            past = torch.cat([torch.zeros_like(past[:, :1]), past[:, :-1]], dim=1)
        return torch.cat([future, past, rest], dim=2).reshape(-1, c, h, w)


class WrappingTimeShift(TemporalShift):
    """WTSM: :class:`TemporalShift` with wrap-around (BigSmall's default)."""

    def __init__(self, n_segment: int, fold_div: int = 3) -> None:
        super().__init__(n_segment, fold_div=fold_div, wrap=True)


def make_shift(kind: str, n_segment: int) -> nn.Module:
    """The temporal shift named ``kind`` ("wtsm", "tsm" or "none")."""
    builders = {
        "wtsm": lambda: TemporalShift(n_segment, wrap=True),
        "tsm": lambda: TemporalShift(n_segment, wrap=False),
        "none": nn.Identity,
    }
    if kind not in SHIFTS:
        raise ValueError(f"unknown shift {kind!r}; choose one of {sorted(SHIFTS)}")
    return builders[kind]()


def conv3x3(in_channels: int, out_channels: int) -> nn.Conv2d:
    """3×3 convolution, stride 1, padding 1, with bias (spatial size preserved)."""
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=True)


def task_head(in_features: int, hidden: int, out_features: int) -> tuple[nn.Linear, nn.Linear]:
    """The two linear layers of a task head: ``fc2(relu(fc1(x)))``."""
    return nn.Linear(in_features, hidden), nn.Linear(hidden, out_features)
