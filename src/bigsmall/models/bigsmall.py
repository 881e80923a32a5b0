"""The BigSmall multi-task network and its ablations.

Narayanswamy, Liu, Yang, Ma, Liu, McDuff, Patel. "BigSmall: Efficient Multi-Task Learning for
Disparate Spatial and Temporal Physiological Measurements." WACV 2024 (arXiv:2303.11573).

Two branches: *Big* sees high-resolution standardized frames (spatial detail for facial action
units) and runs only on the first frame of each window of ``n_segment`` frames (temporal
downsampling); *Small* sees tiny normalized difference frames with a wrapping temporal shift
(WTSM) before each convolution (fast temporal signals: pulse and breathing). The Big output of
a window is added to the Small output of each of its frames, flattened in (C, H, W) order and
fed to one two-layer head per task. State-dict names follow the authors' release
(``big_conv1..6``, ``small_conv1..4``, ``au_fc1/2``, ``bvp_fc1/2``, ``resp_fc1/2``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from bigsmall.constants import AU_NAMES, TASKS
from bigsmall.models.layers import conv3x3, make_shift, task_head
from bigsmall.models.outputs import BigSmallOutput
from bigsmall.models.registry import register_model

#: Heads of the Big-only model (the AU task needs spatial detail).
_BIG_TASKS = ("au",)
#: Heads of the Small-only model (the fast physiological signals).
_SMALL_TASKS = ("bvp", "resp")


class BigSmall(nn.Module):
    """BigSmall with explicit architecture arguments (defaults: the paper's network).

    Args:
        in_channels: colour channels of both inputs.
        big_size: side of the square Big input (144).
        small_size: side of the square Small input (9).
        big_channels: output channels of the Big convolutions, ``convs_per_stage`` per pooling
            stage (6 convs over 3 stages in the paper).
        small_channels: output channels of the Small convolutions (each preceded by a shift).
        pool_sizes: average-pool size at the end of each Big stage (2, 2, 4).
        dropouts: dropout rate after each Big pooling.
        hidden: width of each task head's hidden layer.
        n_au: number of AU logits.
        n_segment: frames per window N (>= 2 for a meaningful shift / downsampling).
        shift: temporal shift before each Small conv: "wtsm", "tsm" (zeros) or "none".
        big_downsample: run Big on frame 0 of each window only (True) or on every frame.
        use_big, use_small: which branches exist.
        tasks: heads to build, a subset of ("au", "bvp", "resp").
    """

    def __init__(
        self,
        in_channels: int = 3,
        big_size: int = 144,
        small_size: int = 9,
        big_channels: Sequence[int] = (32, 32, 32, 64, 64, 64),
        small_channels: Sequence[int] = (32, 32, 32, 64),
        pool_sizes: Sequence[int] = (2, 2, 4),
        dropouts: Sequence[float] = (0.25, 0.5, 0.5),
        hidden: int = 128,
        n_au: int = len(AU_NAMES),
        n_segment: int = 3,
        shift: str = "wtsm",
        big_downsample: bool = True,
        use_big: bool = True,
        use_small: bool = True,
        tasks: Sequence[str] = TASKS,
    ) -> None:
        super().__init__()
        if n_segment < 1:
            raise ValueError(f"n_segment must be >= 1, got {n_segment}")
        if not (use_big or use_small):
            raise ValueError("at least one of use_big / use_small must be True")
        unknown = set(tasks) - set(TASKS)
        if unknown or not tasks:
            raise ValueError(f"tasks must be a non-empty subset of {TASKS}, got {tuple(tasks)}")
        if len(pool_sizes) != len(dropouts):
            raise ValueError("pool_sizes and dropouts must have the same length")
        if len(big_channels) % len(pool_sizes):
            raise ValueError("len(big_channels) must be a multiple of len(pool_sizes)")
        self.in_channels = in_channels
        self.big_size = big_size
        self.small_size = small_size
        self.n_segment = n_segment
        self.shift_kind = shift
        self.big_downsample = big_downsample
        self.use_big = use_big
        self.use_small = use_small
        self.tasks = tuple(t for t in TASKS if t in tasks)
        #: Training aid (beyond the paper; outputs unchanged): each head's loss updates only its
        #: own branch — AU the Big branch, PPG and respiration the Small branch.
        self.route_gradients = False

        features: list[int] = []
        if use_big:
            self._build_big(in_channels, big_channels, pool_sizes, dropouts)
            big_out = big_size // math.prod(pool_sizes)
            if big_out < 1:
                raise ValueError(f"big_size {big_size} is too small for pools {tuple(pool_sizes)}")
            features.append(big_channels[-1] * big_out * big_out)
            self.big_out_shape = (big_channels[-1], big_out, big_out)
        if use_small:
            self._build_small(in_channels, small_channels)
            features.append(small_channels[-1] * small_size * small_size)
            self.small_out_shape = (small_channels[-1], small_size, small_size)
        if use_big and use_small and self.big_out_shape != self.small_out_shape:
            raise ValueError(
                f"Big output {self.big_out_shape} and Small output {self.small_out_shape} must "
                "match for sum fusion: adjust big_size, small_size, pool_sizes or channels"
            )
        self.flat_features = features[0]

        out_features = {"au": n_au, "bvp": 1, "resp": 1}
        for task in self.tasks:
            fc1, fc2 = task_head(self.flat_features, hidden, out_features[task])
            setattr(self, f"{task}_fc1", fc1)
            setattr(self, f"{task}_fc2", fc2)
        self.relu = nn.ReLU()

    # -- construction -------------------------------------------------------------------------
    def _build_big(
        self,
        in_channels: int,
        channels: Sequence[int],
        pool_sizes: Sequence[int],
        dropouts: Sequence[float],
    ) -> None:
        per_stage = len(channels) // len(pool_sizes)
        layers: list[nn.Module] = []
        prev = in_channels
        for i, ch in enumerate(channels):
            conv = conv3x3(prev, ch)
            setattr(self, f"big_conv{i + 1}", conv)  # registered under the reference name
            layers += [conv, nn.ReLU()]
            if (i + 1) % per_stage == 0:
                stage = i // per_stage
                layers += [nn.AvgPool2d(pool_sizes[stage]), nn.Dropout(dropouts[stage])]
            prev = ch
        # A plain list (not a ModuleList) keeps state-dict names exactly big_convK.*
        self._big_layers = layers
        for j, layer in enumerate(layers):
            if not isinstance(layer, nn.Conv2d):
                self.add_module(f"big_op{j}", layer)

    def _build_small(self, in_channels: int, channels: Sequence[int]) -> None:
        layers: list[nn.Module] = []
        prev = in_channels
        for i, ch in enumerate(channels):
            shift = make_shift(self.shift_kind, self.n_segment)
            conv = conv3x3(prev, ch)
            self.add_module(f"small_shift{i + 1}", shift)
            setattr(self, f"small_conv{i + 1}", conv)
            layers += [shift, conv, nn.ReLU()]
            prev = ch
        self._small_layers = layers

    # -- branches -----------------------------------------------------------------------------
    def big_branch(self, big: torch.Tensor) -> torch.Tensor:
        """(M, C, big_size, big_size) → (M, *big_out_shape)."""
        x = big
        for layer in self._big_layers:
            x = layer(x)
        return x

    def small_branch(self, small: torch.Tensor) -> torch.Tensor:
        """(B·N, C, small_size, small_size) → (B·N, *small_out_shape)."""
        x = small
        for layer in self._small_layers:
            x = layer(x)
        return x

    def heads(self, features: torch.Tensor) -> BigSmallOutput:
        """(M, C, H, W) fused features → per-row task outputs."""
        flat = features.flatten(1)  # (C, H, W) order
        out: dict[str, torch.Tensor | None] = dict.fromkeys(TASKS)
        for task in self.tasks:
            fc1: nn.Linear = getattr(self, f"{task}_fc1")
            fc2: nn.Linear = getattr(self, f"{task}_fc2")
            out[task] = fc2(self.relu(fc1(flat)))
        return BigSmallOutput(**out)

    # -- entry points -------------------------------------------------------------------------
    def _check_frames(self, frames: int, what: str) -> None:
        if frames % self.n_segment:
            raise ValueError(
                f"{what} batch of {frames} frames is not divisible by n_segment="
                f"{self.n_segment}: pass whole windows of {self.n_segment} frames"
            )

    def forward(
        self, big: torch.Tensor | None, small: torch.Tensor | None = None
    ) -> BigSmallOutput:
        """Per-frame outputs for B windows.

        Args:
            big: (B·N, C, big_size, big_size) standardized frames (``None`` without Big).
            small: (B·N, C, small_size, small_size) difference frames (``None`` without Small).

        Returns:
            :class:`BigSmallOutput` with (B·N, 12), (B·N, 1), (B·N, 1) (``None`` for absent heads).
        """
        if self.use_big:
            if big is None:
                raise ValueError("this model needs the Big input")
            self._check_frames(big.shape[0], "Big")
        if self.use_small:
            if small is None:
                raise ValueError("this model needs the Small input")
            self._check_frames(small.shape[0], "Small")
        if self.use_big and self.use_small and big.shape[0] != small.shape[0]:
            raise ValueError(f"Big has {big.shape[0]} frames but Small has {small.shape[0]}")
        if self.use_big and self.big_downsample:
            return self.forward_windows(big[:: self.n_segment], small)
        if not self.use_small:
            return self.heads(self.big_branch(big))
        s = self.small_branch(small)
        if self.use_big:
            return self._fused_heads(self.big_branch(big), s)
        return self.heads(s)

    def forward_windows(
        self, big_first: torch.Tensor | None, small: torch.Tensor | None
    ) -> BigSmallOutput:
        """Deployed path: the Big branch gets only the frames it uses.

        Args:
            big_first: (B, C, big_size, big_size), frame 0 of each window.
            small: (B·N, C, small_size, small_size).

        Returns:
            Per-frame outputs as :meth:`forward` (Big's window output is repeated for N frames).
        """
        if self.use_big and not self.big_downsample:
            raise ValueError("forward_windows needs a model with big_downsample=True")
        if not self.use_small:  # Big-only with downsampling: one row per window, repeated
            b = self.big_branch(big_first)
            b = b.repeat_interleave(self.n_segment, dim=0)
            return self.heads(b)
        if small is None:
            raise ValueError("this model needs the Small input")
        s = self.small_branch(small)
        if self.use_big:
            if big_first is None:
                raise ValueError("this model needs the Big input")
            return self._fused_heads(self.per_frame(self.big_branch(big_first)), s)
        return self.heads(s)

    def per_frame(self, b: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) window features → (B·N, C, H, W), each window's repeated N times."""
        n = self.n_segment
        return b.unsqueeze(1).expand(-1, n, *b.shape[1:]).reshape(-1, *b.shape[1:])

    def _fused_heads(self, b: torch.Tensor, s: torch.Tensor) -> BigSmallOutput:
        """Heads on the sum of per-frame Big ``b`` and Small ``s`` features (both (B·N, C, H, W));
        with :attr:`route_gradients` each head sees the same sum but back-propagates into its
        own branch only."""
        if not self.route_gradients:
            return self.heads(s + b)
        big_tasks = self.heads(b + s.detach())
        small_tasks = self.heads(b.detach() + s)
        return BigSmallOutput(
            **{t: getattr(big_tasks if t in _BIG_TASKS else small_tasks, t) for t in TASKS}
        )


# -- registered models --------------------------------------------------------------------------
@register_model
def bigsmall(**kwargs: object) -> BigSmall:
    """BigSmall: Big (temporally downsampled by N) + Small with WTSM, three heads."""
    return BigSmall(**kwargs)


@register_model
def bigsmall_no_downsample(**kwargs: object) -> BigSmall:
    """Ablation: the Big branch sees every frame."""
    return BigSmall(**{"big_downsample": False, **kwargs})


@register_model
def bigsmall_tsm(**kwargs: object) -> BigSmall:
    """Ablation: zero-padded TSM instead of WTSM."""
    return BigSmall(**{"shift": "tsm", **kwargs})


@register_model
def bigsmall_noshift(**kwargs: object) -> BigSmall:
    """Ablation: no temporal shift in the Small branch."""
    return BigSmall(**{"shift": "none", **kwargs})


@register_model
def big_only(**kwargs: object) -> BigSmall:
    """Big branch only with the AU head, on every frame (Table 1 row; released Big_AU weights)."""
    defaults = {"use_small": False, "tasks": _BIG_TASKS, "big_downsample": False}
    return BigSmall(**{**defaults, **kwargs})


@register_model
def small_only(**kwargs: object) -> BigSmall:
    """Small branch only with PPG and respiration heads (no shift, like the released baselines)."""
    defaults = {"use_big": False, "tasks": _SMALL_TASKS, "shift": "none"}
    return BigSmall(**{**defaults, **kwargs})


@register_model
def small_only_bvp(**kwargs: object) -> BigSmall:
    """Small branch only, PPG head only: Table 1's "Small branch" row (released Small_Heart)."""
    return small_only(**{"tasks": ("bvp",), **kwargs})


@register_model
def small_only_resp(**kwargs: object) -> BigSmall:
    """Small branch only, respiration head only (released Small_Resp)."""
    return small_only(**{"tasks": ("resp",), **kwargs})


def forward_windows_chunked(
    model: BigSmall,
    big_first: torch.Tensor | None,
    small: torch.Tensor | None,
    chunk_windows: int = 8,
    channels_last: bool = False,
) -> BigSmallOutput:
    """:meth:`BigSmall.forward_windows` over ``chunk_windows`` windows at a time.

    Windows are independent (the shift never crosses windows), so the result equals one big
    call; small chunks keep the Big activations in cache (faster on CPU for many windows).
    ``channels_last`` converts each Big chunk to NHWC (use with a model moved to
    ``torch.channels_last``).
    """
    n = model.n_segment
    total = (big_first if big_first is not None else small).shape[0]
    windows = total if big_first is not None else total // n
    parts: list[BigSmallOutput] = []
    for start in range(0, windows, chunk_windows):
        stop = min(start + chunk_windows, windows)
        big = None if big_first is None else big_first[start:stop]
        if big is not None and channels_last:
            big = big.contiguous(memory_format=torch.channels_last)
        sm = None if small is None else small[start * n : stop * n]
        parts.append(model.forward_windows(big, sm))
    return BigSmallOutput(
        *(
            None if parts[0][i] is None else torch.cat([p[i] for p in parts])
            for i in range(len(BigSmallOutput._fields))
        )
    )
