"""BigSmall++: BigSmall whose Big branch is JÂA-Net's backbone.

Narayanswamy, Liu, Yang, Ma, Liu, McDuff, Patel. "BigSmall: Efficient Multi-Task Learning for
Disparate Spatial and Temporal Physiological Measurements." WACV 2024 (arXiv:2303.11573),
Table 2: BigSmall++ "leverages the JÂA [Shao et al., IJCV 2021] Big backbone" on landmark-
aligned faces and costs about a third of JÂA-Net at N = 3 (Big runs on one frame in N).

Network (window of N frames; Big sees frame 0 only):

- Big: :class:`~.jaa_blocks.JAABackbone` (HMR region learning, face alignment, adaptive attention
  from the predicted landmarks, local and global feature stacks; JÂA-Net's attention training,
  i.e. no attention constraint) on the 176×176 aligned face. Its alignment, global and local
  feature maps before their last max-pool, (3·160, 11, 11), are concatenated, average-pooled
  with a k×k window, stride 1 (k = 11 − 9 + 1 = 3) to 9×9 and projected by a 1×1 conv + ReLU to
  64 channels → (64, 9, 9), the shape of the Small output. **This projection is our choice**: the
  paper does not say how JÂA's features meet the Small branch; pooling before a 1×1 conv keeps
  the adapter cheap (≈ 2.5 M MACs per Big frame) and exportable (fixed pooling, no adaptive op).
- Small (WTSM, 9×9), sum fusion, flatten in (C, H, W) order and the three heads (5184 → 128 → k,
  k = 12 AU logits, 1 PPG, 1 respiration) exactly as :class:`~.bigsmall.BigSmall`.
- ``landmarks``: JÂA's face-alignment output of each window's Big frame, repeated for its N
  frames, (B·N, 49, 2) fractions of the Big side.

Cost (``bigsmall profile``, thop convention, MACs per video frame): BigSmall++ = Big/3 + Small +
heads = 2,927 M vs 8,770 M for ``jaa_net_v2`` (and ``jaa_net``): ratio 0.334, the paper's "about
a third" (the projection adds 2.5 M per Big frame, Small + heads ≈ 4 M per frame). Parameters:
18.07 M (JÂA-Net: 22.16 M; BigSmall++ drops JÂA's 12000 → 512 → K AU head, keeps its landmark
regressor and adds the Small branch, the projection and three 5184-wide heads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from bigsmall.constants import TASKS
from bigsmall.models.bigsmall import BigSmall, BigSmallOutput
from bigsmall.models.jaa_blocks import JAABackbone, JAAFeatures, resolve_au_names
from bigsmall.models.jaa_net import JAA_V2_ATTENTION
from bigsmall.models.registry import register_model


class BigSmallPP(BigSmall):
    """BigSmall with JÂA-Net's backbone as the Big branch.

    Args:
        in_channels: colour channels of both inputs.
        big_size: side of the aligned Big input (176).
        small_size: side of the Small input (9).
        small_channels: Small convolution channels; the last is the fused channel count.
        hidden: width of each task head's hidden layer.
        au_names: AUs of the attention maps and of the AU head (default BP4D+'s 12).
        n_au: number of AUs when ``au_names`` is not given (12 → BP4D+'s, 8 → DISFA's).
        n_segment: frames per window N (3).
        shift: temporal shift of the Small branch ("wtsm").
        tasks: heads to build.
        **backbone: architecture arguments of :class:`~.jaa_blocks.JAABackbone`.
    """

    def __init__(
        self,
        in_channels: int = 3,
        big_size: int = 176,
        small_size: int = 9,
        small_channels: Sequence[int] = (32, 32, 32, 64),
        hidden: int = 128,
        au_names: Sequence[str] | None = None,
        n_au: int | None = None,
        n_segment: int = 3,
        shift: str = "wtsm",
        tasks: Sequence[str] = TASKS,
        **backbone: Any,
    ) -> None:
        au_names = resolve_au_names(au_names, n_au)
        super().__init__(
            in_channels=in_channels,
            big_size=big_size,
            small_size=small_size,
            small_channels=small_channels,
            hidden=hidden,
            n_au=len(au_names),
            n_segment=n_segment,
            shift=shift,
            big_downsample=True,
            use_big=False,  # the Big branch is built below, not BigSmall's conv stack
            use_small=True,
            tasks=tasks,
        )
        self.use_big = True
        self.au_names = tuple(au_names)
        self.backbone = JAABackbone(
            in_channels, big_size, self.au_names, **{**JAA_V2_ATTENTION, **backbone}
        )
        side = self.backbone.feature_side
        kernel = side - small_size + 1
        if kernel < 1:
            raise ValueError(
                f"JÂA features are {side}×{side}, smaller than small_size {small_size}: "
                "raise big_size or lower small_size"
            )
        channels = small_channels[-1]
        self.big_pool = nn.AvgPool2d(kernel, stride=1)
        self.big_proj = nn.Conv2d(3 * self.backbone.feature_channels, channels, 1)
        self.big_out_shape = (channels, small_size, small_size)

    def _big(self, big: torch.Tensor) -> tuple[torch.Tensor, JAAFeatures]:
        f = self.backbone(big)
        x = self.big_pool(torch.cat([f.align, f.global_, f.local], dim=1))
        return self.relu(self.big_proj(x)), f

    def big_branch(self, big: torch.Tensor) -> torch.Tensor:
        """(M, C, big_size, big_size) → (M, *big_out_shape) fused-space Big features."""
        return self._big(big)[0]

    def forward_windows(
        self, big_first: torch.Tensor | None, small: torch.Tensor | None
    ) -> BigSmallOutput:
        """big_first (B, C, S, S), small (B·N, C, s, s) → per-frame outputs (B·N, k) and
        ``landmarks`` (B·N, 49, 2) (each window's Big-frame landmarks repeated N times)."""
        if big_first is None or small is None:
            raise ValueError("BigSmall++ needs the Big and the Small inputs")
        b, f = self._big(big_first)
        out = self._fused_heads(self.per_frame(b), self.small_branch(small))
        landmarks = f.landmarks.repeat_interleave(self.n_segment, dim=0)
        return out._replace(landmarks=landmarks)


@register_model
def bigsmall_pp(**kwargs: Any) -> BigSmallPP:
    """BigSmall++ (WACV 2024 Table 2): JÂA-Net's backbone as Big (176×176 aligned), Small + WTSM,
    N = 3, heads au (12) / bvp / resp, plus 49 landmarks."""
    return BigSmallPP(**kwargs)
