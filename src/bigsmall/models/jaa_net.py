"""JAA-Net and JÂA-Net: joint facial AU detection and face alignment via adaptive attention.

- ``jaa_net``: Shao, Liu, Cai, Ma. "Deep Adaptive Attention for Joint Facial Action Unit
  Detection and Face Alignment." ECCV 2018.
- ``jaa_net_v2``: Shao, Liu, Cai, Ma. "JÂA-Net: Joint Facial Action Unit Detection and Face
  Alignment via Adaptive Attention." IJCV 129, 321–340, 2021 (arXiv:2003.08834).

Both take a 176×176 face aligned by a similarity transform of its 49 landmarks to a template
(200×200, cropped to 176: random crop in training, centre crop in testing; see
``bigsmall.video``) and run, per frame (blocks in :mod:`.jaa_blocks`):

1. hierarchical and multi-scale region learning: two HMR layers (32 and 64 channels, patch grids
   8/4/2), each followed by max-pool 2 → (64, 44, 44);
2. face alignment: a feature stack (96/128/160 channels, 44 → 11, max-pool → 5) and two fc
   layers (4000 → 512 → 98) predicting the 49 landmarks;
3. adaptive attention learning: each AU's predefined attention map from its two centres relative
   to the *predicted* landmarks (:data:`.jaa_blocks.AU_CENTRES`), refined by a per-AU stack of
   four unpadded 3×3 convs (sigmoid); the region features weighted by each AU's refined map go
   through that AU's own feature stack, and the local AU features are assembled by averaging;
4. global feature learning: a feature stack on the region features;
5. AU detection: fc layers on [alignment, global, local] features (3 × 4000 → 512 → K).

Outputs: :class:`~bigsmall.models.bigsmall.BigSmallOutput` with ``au`` (M, K) logits and
``landmarks`` (M, 49, 2) as fractions of the input side, (x, y).

Differences between the two, as the IJCV paper states them for its attention learning: JAA-Net
constrains each refined map to stay close to its predefined map (E_r, a sigmoid cross-entropy
per cell; weight 2·10⁻⁴ on the per-cell mean) and enhances the AU-detection gradient that
reaches the refiners (×2); JÂA-Net drops the constraint, so the attention adapts to each AU's
irregular region through back-propagation alone.

Choices where the papers leave details open or where this package differs:

- AU outputs are one logit per AU trained with the package's weighted BCE (the papers' two-way
  softmax per AU is the same model up to a reparameterisation; their Dice loss term is not used).
- E_r is applied as a gradient term inside the model (no target comes from the batch), so the
  logged loss does not include it. JÂA-Net's local AU detection loss (a classifier per local
  branch, with the local features detached from the final head in the authors' release) needs
  AU labels inside the model; it is **not** implemented: the local branches and refiners of
  ``jaa_net_v2`` learn from the final AU loss instead.
- The predefined maps are computed on the 44×44 feature grid plus 4 cells per border, so that
  the four unpadded refiner convs return maps exactly aligned with the grid; landmarks are
  detached before making them, as in the papers.
- AU centres for AUs the papers do not list (DISFA's AU09/AU25/AU26) follow the authors' release
  (:data:`.jaa_blocks.AU_CENTRES`); ``n_au=8`` without ``au_names`` means DISFA's 8 AUs.
- The scale of the AU centres is the Euclidean inner-eye-corner distance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from bigsmall.models._au_frame import FrameAUNet
from bigsmall.models.bigsmall import BigSmallOutput
from bigsmall.models.jaa_blocks import JAABackbone, resolve_au_names
from bigsmall.models.registry import register_model


class JAANet(FrameAUNet):
    """JAA-Net / JÂA-Net: (M, C, size, size) aligned faces → AU logits (M, K) and landmarks.

    Args:
        in_channels: colour channels.
        size: side of the aligned input (176).
        n_au: number of AUs (12 → BP4D+'s AUs, 8 → DISFA's) when ``au_names`` is not given.
        au_names: the AUs, in output order (their names pick the attention centres).
        au_hidden: hidden width of the AU head (512).
        **backbone: architecture arguments of :class:`~.jaa_blocks.JAABackbone`
            (``region_channels``, ``stack_channels``, ``attention_grad_scale``, ...).
    """

    def __init__(
        self,
        in_channels: int = 3,
        size: int = 176,
        n_au: int | None = None,
        au_names: Sequence[str] | None = None,
        au_hidden: int = 512,
        **backbone: Any,
    ) -> None:
        super().__init__(in_channels, size)
        self.au_names = resolve_au_names(au_names, n_au)
        self.backbone = JAABackbone(in_channels, size, self.au_names, **backbone)
        flat = 3 * self.backbone.pooled_features
        # "au_fc" prefix: the trainer treats these as the AU head's parameters
        self.au_fc = nn.ModuleList(
            [nn.Linear(flat, au_hidden), nn.Linear(au_hidden, len(self.au_names))]
        )

    def forward(self, big: torch.Tensor, small: torch.Tensor | None = None) -> BigSmallOutput:
        """(M, C, size, size) aligned faces → ``au`` (M, K) logits, ``landmarks`` (M, 49, 2)."""
        if big is None:
            raise ValueError(f"{type(self).__name__} needs the big input")
        f = self.backbone(big)
        pool = self.backbone.pool
        x = torch.cat(
            [pool(f.align).flatten(1), pool(f.global_).flatten(1), pool(f.local).flatten(1)], 1
        )
        au = self.au_fc[1](self.au_fc[0](x))
        return BigSmallOutput(au=au, bvp=None, resp=None, landmarks=f.landmarks)


#: JAA-Net's attention training: AU gradient ×2 into the refiners, E_r weight (per-cell mean).
JAA_V1_ATTENTION: dict[str, float] = {"attention_grad_scale": 2.0, "attention_constraint": 2e-4}
#: JÂA-Net: no attention constraint, plain back-propagation.
JAA_V2_ATTENTION: dict[str, float] = {"attention_grad_scale": 1.0, "attention_constraint": 0.0}


@register_model
def jaa_net(**kwargs: Any) -> JAANet:
    """JAA-Net (Shao et al., ECCV 2018) on 176×176 aligned faces; 12 AU logits + 49 landmarks."""
    return JAANet(**{**JAA_V1_ATTENTION, **kwargs})


@register_model
def jaa_net_v2(**kwargs: Any) -> JAANet:
    """JÂA-Net (Shao et al., IJCV 2021) on 176×176 aligned faces; 12 AU logits + 49 landmarks."""
    return JAANet(**{**JAA_V2_ATTENTION, **kwargs})
