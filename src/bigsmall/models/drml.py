"""DRML: Deep Region and Multi-label Learning for facial action units.

Zhao, Chu, Zhang. "Deep Region and Multi-label Learning for Facial Action Unit Detection."
CVPR 2016.

conv1 (11×11, 32) → *region layer* → max-pool 2 → conv (8×8, 16) → conv (8×8, 16) →
conv (6×6, 16) → conv (5×5, 16) → fc 4096 → fc 2048 → one logit per AU (multi-label sigmoid
cross-entropy), ReLU after every conv and hidden fc. The region layer cuts the conv1 feature map
into a grid of 8×8 patches; each patch has its own BatchNorm → ReLU → 3×3 conv ("same"), whose
output is added to the patch (residual), and the patches are put back in place, so that
different face regions learn different filters.

Departures, all arguments: the input side defaults to 144 (BigSmall's Big input) instead of the
paper's 170, so conv1's 134×134 map is cut into patches of 16 or 17 pixels
(:func:`torch.tensor_split`); the paper's figure gives kernel sizes but not strides: like common
re-implementations the third conv after the region layer uses stride 2 (otherwise the first fc
layer alone would hold > 10⁸ weights); dropout (0.5) follows each hidden fc layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from bigsmall.constants import AU_NAMES
from bigsmall.models._au_frame import FrameAUNet
from bigsmall.models.deepphys import conv_output_size
from bigsmall.models.registry import register_model


class RegionLayer(nn.Module):
    """Patch-wise residual BN → ReLU → conv over a ``grid``×``grid`` split of the feature map.

    (M, C, H, W) → (M, C, H, W). Rows and columns are split into ``grid`` nearly equal parts.
    """

    def __init__(self, channels: int, grid: int = 8, kernel_size: int = 3) -> None:
        super().__init__()
        if grid < 1:
            raise ValueError(f"grid must be >= 1, got {grid}")
        self.grid = grid
        self.patches = nn.ModuleList(
            nn.Sequential(
                nn.BatchNorm2d(channels),
                nn.ReLU(),
                nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2),
            )
            for _ in range(grid * grid)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = []
        for i, band in enumerate(torch.tensor_split(x, self.grid, dim=2)):
            cols = torch.tensor_split(band, self.grid, dim=3)
            rows.append(
                torch.cat(
                    [p + self.patches[i * self.grid + j](p) for j, p in enumerate(cols)], dim=3
                )
            )
        return torch.cat(rows, dim=2)


class DRML(FrameAUNet):
    """DRML on standardized frames: (B·N, C, size, size) → (B·N, n_au) AU logits.

    Args:
        in_channels: colour channels.
        size: side of the square input (144 here; 170 in the paper).
        conv1_channels: channels of the first conv and the region layer (32).
        conv1_kernel: kernel side of the first conv (11).
        region_grid: patches per side of the region layer (8).
        region_kernel: kernel side of the region convs (3).
        pool_size: max-pool after the region layer (2).
        convs: (channels, kernel, stride) of each later conv.
        fc: widths of the hidden fully connected layers (4096, 2048).
        dropout: dropout after each hidden fc layer.
        n_au: number of AU logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        size: int = 144,
        conv1_channels: int = 32,
        conv1_kernel: int = 11,
        region_grid: int = 8,
        region_kernel: int = 3,
        pool_size: int = 2,
        convs: Sequence[tuple[int, int, int]] = ((16, 8, 1), (16, 8, 1), (16, 6, 2), (16, 5, 1)),
        fc: Sequence[int] = (4096, 2048),
        dropout: float = 0.5,
        n_au: int = len(AU_NAMES),
    ) -> None:
        super().__init__(in_channels, size)
        side = conv_output_size(size, conv1_kernel)
        if side < region_grid:
            raise ValueError(f"size {size} is too small for conv1 {conv1_kernel} + region grid")
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, conv1_channels, conv1_kernel),
            RegionLayer(conv1_channels, region_grid, region_kernel),
            nn.ReLU(),
            nn.MaxPool2d(pool_size),
        ]
        side = conv_output_size(side, pool_size, stride=pool_size)
        prev = conv1_channels
        for ch, kernel, stride in convs:
            layers += [nn.Conv2d(prev, ch, kernel, stride=stride), nn.ReLU()]
            side = conv_output_size(side, kernel, stride=stride)
            if side < 1:
                raise ValueError(f"size {size} is too small for the DRML conv stack")
            prev = ch
        self.features = nn.Sequential(*layers)
        self.add_au_head((prev, side, side), fc, dropout, n_au)


@register_model
def drml(**kwargs: object) -> DRML:
    """DRML (Zhao et al., CVPR 2016) on 144×144 frames, 12 AU logits."""
    return DRML(**kwargs)
