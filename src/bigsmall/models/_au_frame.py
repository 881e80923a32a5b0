"""Shared base of the frame-wise AU baselines (:mod:`.drml`, :mod:`.alexnet_au`).

Both models run a convolutional ``features`` stack on each standardized frame, flatten it and
feed fully connected layers (ReLU and dropout after each hidden one) ending in one logit per
AU (multi-label, trained with BCE-with-logits). The papers are cited in the model modules.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import torch
from torch import nn

from bigsmall.models.bigsmall import BigSmallOutput


class FrameAUNet(nn.Module):
    """Frame-wise AU detector: ``features`` (set by the subclass) → flatten → fc AU head.

    Subclasses call ``super().__init__(in_channels, size)``, build ``self.features``
    ((M, C, size, size) → (M, *out_shape)) and then call :meth:`add_au_head`.
    """

    tasks = ("au",)
    use_big = True
    use_small = False
    big_downsample = False
    n_segment = 1  # frame-wise: windows of any length

    features: nn.Module

    def __init__(self, in_channels: int, size: int) -> None:
        """Record the input geometry: ``in_channels`` colours, square frames of side ``size``."""
        super().__init__()
        self.in_channels = in_channels
        self.size = self.big_size = self.small_size = size

    def add_au_head(
        self, out_shape: tuple[int, int, int], fc: Sequence[int], dropout: float, n_au: int
    ) -> None:
        """Record the feature geometry and build the hidden fc layers ``fc`` and the AU logits."""
        self.out_shape = out_shape
        channels, height, width = out_shape
        self.flat_features = channels * height * width
        widths = [self.flat_features, *fc, n_au]
        # "au_fc" prefix: the trainer treats these as the AU head's parameters
        self.au_fc = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(dropout)

    def forward(self, big: torch.Tensor, small: torch.Tensor | None = None) -> BigSmallOutput:
        """(B·N, C, size, size) standardized frames → AU logits (B·N, n_au); ``small`` unused."""
        if big is None:
            raise ValueError(f"{type(self).__name__} needs the big input")
        x = self.features(big).flatten(1)
        for fc in self.au_fc[:-1]:
            x = self.dropout(self.relu(fc(x)))
        return BigSmallOutput(au=self.au_fc[-1](x), bvp=None, resp=None)
