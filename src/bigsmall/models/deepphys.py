"""DeepPhys: a two-branch convolutional attention network for camera physiology.

Chen, McDuff. "DeepPhys: Video-Based Physiological Measurement Using Convolutional Attention
Networks." ECCV 2018.

Two branches of the same depth see the same frame:

- the *motion* branch sees the normalized difference frame (C(t+1) − C(t)) / (C(t+1) + C(t)),
  scaled by its standard deviation (the project's ``small`` input);
- the *appearance* branch sees the standardized raw frame (the project's ``big`` input).

Each stage is conv ("same" padding) → tanh → conv ("valid") → tanh in both branches; the
appearance features of the stage give a soft attention mask — a 1×1 convolution, a sigmoid and
the paper's L1 normalisation q = H·W·σ(·) / (2‖σ(·)‖₁) — that multiplies the motion features,
which are then average-pooled and dropped out (the appearance features too, for the next stage).
The gated motion features are flattened and fed to a dense tanh layer and a linear output per
task (PPG, optionally respiration).

:class:`TwoBranchAttentionNet` holds the whole family: DeepPhys is the member whose "window" is
a single frame and whose motion branch has no temporal shift; TS-CAN (:mod:`.tscan`) adds a
zero-padded temporal shift before every motion convolution and averages the appearance frames of
each window. :class:`AttentionMask`, the stage builder (:func:`build_attention_stages`,
:func:`iter_stages`) and the task-head helpers are shared with EfficientPhys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import torch
from torch import nn

from bigsmall.constants import TASKS
from bigsmall.models.bigsmall import BigSmallOutput
from bigsmall.models.layers import make_shift
from bigsmall.models.registry import register_model

#: Tasks the rPPG baselines can predict (one scalar per frame each).
PHYS_TASKS: tuple[str, ...] = ("bvp", "resp")


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Side of a square convolution / pooling output (floor rounding, as PyTorch)."""
    return (size + 2 * padding - kernel) // stride + 1


def check_tasks(tasks: Sequence[str], allowed: Sequence[str]) -> tuple[str, ...]:
    """``tasks`` in :data:`~bigsmall.constants.TASKS` order; non-empty subset of ``allowed``."""
    unknown = set(tasks) - set(allowed)
    if unknown or not tasks:
        raise ValueError(f"tasks must be a non-empty subset of {tuple(allowed)}, got {tasks}")
    return tuple(t for t in TASKS if t in tasks)


class AttentionMask(nn.Module):
    """Soft attention mask of DeepPhys: 1×1 conv → sigmoid → L1 normalisation.

    (M, C, H, W) features → (M, 1, H, W) mask q = H·W·σ(w·x + b) / (2‖σ(w·x + b)‖₁), the norm
    taken per sample over the H×W positions (so the mask averages 0.5).
    """

    def __init__(self, in_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 1, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mask = torch.sigmoid(self.conv(x))
        h, w = mask.shape[-2:]
        l1 = mask.abs().sum(dim=(2, 3), keepdim=True)
        return h * w * mask / (2 * l1)


def add_task_heads(
    module: nn.Module, tasks: Sequence[str], in_features: int, hidden: int, dropout: float
) -> None:
    """Give ``module`` a dense tanh layer and a linear output per task (``<task>_fc1/2``).

    The ``<task>_fc`` names let the trainer tell head parameters from shared ones (PCGrad).
    """
    for task in tasks:
        setattr(module, f"{task}_fc1", nn.Linear(in_features, hidden))
        setattr(module, f"{task}_fc2", nn.Linear(hidden, 1))
    module.head_dropout = nn.Dropout(dropout)


def run_task_heads(module: nn.Module, tasks: Sequence[str], flat: torch.Tensor) -> BigSmallOutput:
    """(M, F) features → :class:`BigSmallOutput` with (M, 1) per task of ``tasks``."""
    out: dict[str, torch.Tensor | None] = dict.fromkeys(TASKS)
    for task in tasks:
        hidden = torch.tanh(getattr(module, f"{task}_fc1")(flat))
        out[task] = getattr(module, f"{task}_fc2")(module.head_dropout(hidden))
    return BigSmallOutput(**out)


def check_frames(frames: int, n_segment: int, what: str) -> None:
    """Raise unless ``frames`` is a whole number of windows of ``n_segment`` frames."""
    if frames % n_segment:
        raise ValueError(
            f"{what} batch of {frames} frames is not divisible by n_segment={n_segment}: "
            f"pass whole windows of {n_segment} frames"
        )


def check_stage_args(n_segment: int, channels: Sequence[int], dropouts: Sequence[float]) -> None:
    """Raise unless ``n_segment`` >= 1 and there is one dropout per stage (one per channel)."""
    if n_segment < 1:
        raise ValueError(f"n_segment must be >= 1, got {n_segment}")
    if len(channels) != len(dropouts):
        raise ValueError("channels and dropouts must have the same length (one per stage)")


def build_attention_stages(
    net: nn.Module,
    add_conv: Callable[[int, int, int], None],
    in_channels: int,
    size: int,
    channels: Sequence[int],
    kernel_size: int,
    pool_size: int,
    dropouts: Sequence[float],
) -> None:
    """Lay out the stages shared by DeepPhys / TS-CAN and EfficientPhys on ``net``.

    Each stage is two convolutions ("same" then "valid" padding, as in DeepPhys), an
    :class:`AttentionMask`, average pooling and dropout. ``add_conv(in_ch, out_ch, padding)`` is
    called for every convolution, in order, to build the caller's own layers (shift, motion and
    appearance convs). Sets ``net.attention``, ``net.dropouts``, ``net.pool`` and the output
    geometry ``net.out_shape`` (C, S, S) and ``net.flat_features`` C·S·S.
    """
    net.attention = nn.ModuleList()
    net.dropouts = nn.ModuleList(nn.Dropout(p) for p in dropouts)
    net.pool = nn.AvgPool2d(pool_size)
    same = kernel_size // 2
    side, prev = size, in_channels
    for ch in channels:
        for pad in (same, 0):  # "same" then "valid", as in the paper
            add_conv(prev, ch, pad)
            side = conv_output_size(side, kernel_size, padding=pad)
            prev = ch
        net.attention.append(AttentionMask(ch))
        side = conv_output_size(side, pool_size, stride=pool_size)
        if side < 1:
            raise ValueError(f"size {size} is too small for {len(channels)} stages")
    net.out_shape = (prev, side, side)
    net.flat_features = prev * side * side


def iter_stages(attention: nn.ModuleList, n_convs: int) -> Iterator[tuple[int, nn.Module, range]]:
    """``(stage, attention mask, indices of the stage's convolutions)`` for every stage."""
    per_stage = n_convs // len(attention)
    for stage, mask in enumerate(attention):
        yield stage, mask, range(stage * per_stage, (stage + 1) * per_stage)


class TwoBranchAttentionNet(nn.Module):
    """DeepPhys / TS-CAN: motion branch gated by appearance attention masks.

    Args:
        in_channels: colour channels of both inputs.
        size: side of the square inputs; both ``big`` (appearance) and ``small`` (motion) are
            ``size``×``size`` (72 as in the rPPG-Toolbox configs; the papers used 36).
        channels: output channels of the two convolutions of each stage (32, 64).
        kernel_size: convolution kernel side (3).
        pool_size: average-pool size at the end of each stage (2).
        dropouts: dropout after each stage's pooling (0.25, 0.25).
        hidden: width of each task's dense layer (128).
        head_dropout: dropout before each task's output (0.5).
        tasks: heads to build, a subset of ("bvp", "resp").
        n_segment: frames per window; appearance is averaged over each window and its masks
            shared by the window's frames (1 = DeepPhys: every frame on its own).
        shift: temporal shift before each motion conv: "none" (DeepPhys), "tsm" (TS-CAN) or
            "wtsm".
    """

    use_big = True
    use_small = True
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
        n_segment: int = 1,
        shift: str = "none",
    ) -> None:
        super().__init__()
        check_stage_args(n_segment, channels, dropouts)
        self.in_channels = in_channels
        self.size = self.big_size = self.small_size = size
        self.n_segment = n_segment
        self.shift_kind = shift
        self.tasks = check_tasks(tasks, PHYS_TASKS)

        self.motion_shifts = nn.ModuleList()
        self.motion_convs = nn.ModuleList()
        self.appearance_convs = nn.ModuleList()

        def add_conv(in_ch: int, out_ch: int, padding: int) -> None:
            self.motion_shifts.append(make_shift(shift, n_segment))
            self.motion_convs.append(nn.Conv2d(in_ch, out_ch, kernel_size, padding=padding))
            self.appearance_convs.append(nn.Conv2d(in_ch, out_ch, kernel_size, padding=padding))

        build_attention_stages(
            self, add_conv, in_channels, size, channels, kernel_size, pool_size, dropouts
        )
        add_task_heads(self, self.tasks, self.flat_features, hidden, head_dropout)

    def appearance_windows(self, big: torch.Tensor, frames: int) -> torch.Tensor:
        """Appearance input per window: (B·N or B, C, S, S) → (B, C, S, S), the window mean."""
        n = self.n_segment
        if big.shape[0] == frames:
            return big.reshape(-1, n, *big.shape[1:]).mean(dim=1)
        if big.shape[0] * n == frames:  # already one appearance frame per window
            return big
        raise ValueError(
            f"appearance input has {big.shape[0]} frames; expected {frames} (one per motion "
            f"frame) or {frames // n} (one per window of {n})"
        )

    def forward(self, big: torch.Tensor, small: torch.Tensor) -> BigSmallOutput:
        """Per-frame outputs for B windows.

        Args:
            big: (B·N, C, size, size) standardized frames (appearance), or (B, C, size, size)
                one (e.g. averaged) frame per window.
            small: (B·N, C, size, size) normalized difference frames (motion).

        Returns:
            :class:`BigSmallOutput` with ``bvp`` / ``resp`` (B·N, 1) for the built tasks and
            ``au`` None.
        """
        if big is None or small is None:
            raise ValueError(f"{type(self).__name__} needs both big and small inputs")
        frames = small.shape[0]
        check_frames(frames, self.n_segment, "small")
        m = small
        a = self.appearance_windows(big, frames)
        for stage, attention, convs in iter_stages(self.attention, len(self.motion_convs)):
            for j in convs:
                m = torch.tanh(self.motion_convs[j](self.motion_shifts[j](m)))
                a = torch.tanh(self.appearance_convs[j](a))
            mask = attention(a).repeat_interleave(self.n_segment, dim=0)
            m = self.dropouts[stage](self.pool(m * mask))
            if stage + 1 < len(self.attention):  # the last appearance features end here
                a = self.dropouts[stage](self.pool(a))
        return run_task_heads(self, self.tasks, m.flatten(1))


class DeepPhys(TwoBranchAttentionNet):
    """DeepPhys (frame-wise: ``n_segment=1``, no temporal shift); see the module docstring."""

    def __init__(self, **kwargs: object) -> None:
        fixed = {"n_segment": 1, "shift": "none"}
        for key, value in fixed.items():
            if kwargs.get(key, value) != value:
                raise ValueError(f"DeepPhys is frame-wise: {key} must be {value!r} (use tscan)")
        super().__init__(**{**kwargs, **fixed})


@register_model
def deepphys(**kwargs: object) -> DeepPhys:
    """DeepPhys (Chen & McDuff, ECCV 2018): PPG head (``tasks=("bvp", "resp")`` adds resp)."""
    return DeepPhys(**kwargs)
