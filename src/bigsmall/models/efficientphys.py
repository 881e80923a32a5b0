"""EfficientPhys (convolutional variant): one-branch, end-to-end camera physiology.

Liu, Hill, Jiang, Patel, McDuff. "EfficientPhys: Enabling Simple, Fast and Accurate Camera-Based
Cardiac Measurement." WACV 2023.

EfficientPhys drops DeepPhys's appearance branch and its preprocessing: a *normalisation module*
(differences of consecutive frames followed by a BatchNorm over the input channels) feeds one
motion branch, built like TS-CAN's (stages of zero-padded temporal shift → conv "same" → tanh →
shift → conv "valid" → tanh), where each stage's soft attention mask is computed from the motion
features themselves (*self*-attention: 1×1 conv → sigmoid → DeepPhys's L1 normalisation) before
average pooling and dropout. A dense tanh layer and a linear output per task follow.

Two input modes (``input_kind``):

- ``"small"`` (default): the data pipeline's diff-normalized frames (the ``small`` input, which
  already holds frame differences across window borders) → BatchNorm.
- ``"raw"``: the paper's end-to-end form on the standardized frames (the ``big`` input): the
  difference x(t+1) − x(t) is taken inside each window of ``n_segment`` frames, the last frame
  of a window getting a zero difference (the paper's loader appends one extra frame instead),
  → BatchNorm.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from bigsmall.models.bigsmall import BigSmallOutput
from bigsmall.models.deepphys import (
    PHYS_TASKS,
    add_task_heads,
    build_attention_stages,
    check_frames,
    check_stage_args,
    check_tasks,
    iter_stages,
    run_task_heads,
)
from bigsmall.models.layers import make_shift
from bigsmall.models.registry import register_model

#: Frames per window in rPPG-Toolbox's EfficientPhys configs (FRAME_DEPTH).
PAPER_FRAME_DEPTH = 10


def window_differences(frames: torch.Tensor, n_segment: int) -> torch.Tensor:
    """(B·N, C, H, W) frames → x(t+1) − x(t) within each window; the last frame's is zero."""
    x = frames.reshape(-1, n_segment, *frames.shape[1:])
    diff = torch.cat([x[:, 1:] - x[:, :-1], torch.zeros_like(x[:, :1])], dim=1)
    return diff.reshape(frames.shape)


def _small_input(big: torch.Tensor | None, small: torch.Tensor | None, n: int) -> torch.Tensor:
    if small is None:
        raise ValueError("EfficientPhys with input_kind='small' needs the small input")
    return small


def _raw_input(big: torch.Tensor | None, small: torch.Tensor | None, n: int) -> torch.Tensor:
    if big is None:
        raise ValueError("EfficientPhys with input_kind='raw' needs the big input")
    check_frames(big.shape[0], n, "big")
    return window_differences(big, n)


#: input_kind → (function (big, small, n_segment) → difference frames, (use_big, use_small)).
_INPUTS: dict[str, tuple[Callable[..., torch.Tensor], tuple[bool, bool]]] = {
    "small": (_small_input, (False, True)),
    "raw": (_raw_input, (True, False)),
}


class EfficientPhys(nn.Module):
    """EfficientPhys, convolutional variant.

    Args:
        in_channels: colour channels of the input.
        size: side of the square input (72, as in the rPPG-Toolbox configs).
        channels: output channels of the two convolutions of each stage (32, 64).
        kernel_size: convolution kernel side (3).
        pool_size: average-pool size at the end of each stage (2).
        dropouts: dropout after each stage's pooling (0.25, 0.25).
        hidden: width of each task's dense layer (128).
        head_dropout: dropout before each task's output (0.5).
        tasks: heads to build, a subset of ("bvp", "resp").
        n_segment: frames per window of the temporal shift (10).
        shift: "tsm" (the paper's zero-padded shift), "wtsm" or "none".
        input_kind: "small" or "raw" (see the module docstring).
    """

    big_downsample = False

    def __init__(
        self,
        in_channels: int = 3,
        size: int = 72,
        channels: Sequence[int] = (32, 64),
        kernel_size: int = 3,
        pool_size: int = 2,
        dropouts: Sequence[float] = (0.25, 0.25),
        hidden: int = 128,
        head_dropout: float = 0.5,
        tasks: Sequence[str] = ("bvp",),
        n_segment: int = PAPER_FRAME_DEPTH,
        shift: str = "tsm",
        input_kind: str = "small",
    ) -> None:
        super().__init__()
        check_stage_args(n_segment, channels, dropouts)
        if input_kind not in _INPUTS:
            raise ValueError(f"unknown input_kind {input_kind!r}; choose from {sorted(_INPUTS)}")
        self.in_channels = in_channels
        self.size = self.big_size = self.small_size = size
        self.n_segment = n_segment
        self.shift_kind = shift
        self.input_kind = input_kind
        self._make_input, (self.use_big, self.use_small) = _INPUTS[input_kind]
        self.tasks = check_tasks(tasks, PHYS_TASKS)

        self.input_norm = nn.BatchNorm2d(in_channels)
        self.shifts = nn.ModuleList()
        self.convs = nn.ModuleList()

        def add_conv(in_ch: int, out_ch: int, padding: int) -> None:
            self.shifts.append(make_shift(shift, n_segment))
            self.convs.append(nn.Conv2d(in_ch, out_ch, kernel_size, padding=padding))

        build_attention_stages(
            self, add_conv, in_channels, size, channels, kernel_size, pool_size, dropouts
        )
        add_task_heads(self, self.tasks, self.flat_features, hidden, head_dropout)

    def forward(
        self, big: torch.Tensor | None, small: torch.Tensor | None = None
    ) -> BigSmallOutput:
        """Per-frame outputs for B windows.

        Args:
            big: (B·N, C, size, size) standardized frames (used when ``input_kind="raw"``).
            small: (B·N, C, size, size) diff-normalized frames (``input_kind="small"``).

        Returns:
            :class:`BigSmallOutput` with (B·N, 1) per built task and ``au`` None.
        """
        x = self._make_input(big, small, self.n_segment)
        check_frames(x.shape[0], self.n_segment, "input")
        x = self.input_norm(x)
        for stage, attention, convs in iter_stages(self.attention, len(self.convs)):
            for j in convs:
                x = torch.tanh(self.convs[j](self.shifts[j](x)))
            x = self.dropouts[stage](self.pool(x * attention(x)))
        return run_task_heads(self, self.tasks, x.flatten(1))


@register_model
def efficientphys(**kwargs: object) -> EfficientPhys:
    """EfficientPhys (Liu et al., WACV 2023), convolutional variant, PPG head."""
    return EfficientPhys(**kwargs)
