"""An AlexNet-style facial action unit model.

Krizhevsky, Sutskever, Hinton. "ImageNet Classification with Deep Convolutional Neural
Networks." NeurIPS 2012.

Five convolutions (96 11×11 stride 4, 256 5×5, 384 3×3, 384 3×3, 256 3×3) with ReLU, local
response normalisation (size 5, α = 1e-4, β = 0.75, k = 2) after the first two, overlapping max
pooling (3, stride 2) after the first, second and fifth, then two hidden fully connected layers
of 4096 with ReLU and dropout 0.5, and one logit per AU (multi-label, trained with
BCE-with-logits) instead of the 1000-way softmax.

Adapted to the input size: the default input is 144×144 (BigSmall's Big input) instead of
224×224, with padding 2 on the first convolution, so the last feature map is 3×3 (6×6 in the
paper); the first fc layer's width follows from the input side. Single GPU (the paper's
two-GPU channel split is not reproduced).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from torch import nn

from bigsmall.constants import AU_NAMES
from bigsmall.models._au_frame import FrameAUNet
from bigsmall.models.deepphys import conv_output_size
from bigsmall.models.registry import register_model


class ConvSpec(NamedTuple):
    """One convolution of the feature extractor and what follows its ReLU."""

    channels: int
    kernel: int
    stride: int = 1
    padding: int = 0
    lrn: bool = False
    pool: bool = False


#: AlexNet's convolutions (padding of the first adapted to small inputs).
ALEXNET_CONVS: tuple[ConvSpec, ...] = (
    ConvSpec(96, 11, stride=4, padding=2, lrn=True, pool=True),
    ConvSpec(256, 5, padding=2, lrn=True, pool=True),
    ConvSpec(384, 3, padding=1),
    ConvSpec(384, 3, padding=1),
    ConvSpec(256, 3, padding=1, pool=True),
)


class AlexNetAU(FrameAUNet):
    """AlexNet-style AU detector: (B·N, C, size, size) → (B·N, n_au) logits.

    Args:
        in_channels: colour channels.
        size: side of the square input (144).
        convs: the convolutions, as :class:`ConvSpec` (or plain tuples in its field order).
        pool_kernel, pool_stride: the overlapping max pooling (3, 2).
        lrn_size, lrn_alpha, lrn_beta, lrn_k: local response normalisation (5, 1e-4, 0.75, 2).
        fc: widths of the hidden fully connected layers (4096, 4096).
        dropout: dropout after each hidden fc layer (0.5).
        n_au: number of AU logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        size: int = 144,
        convs: Sequence[Sequence[object]] = ALEXNET_CONVS,
        pool_kernel: int = 3,
        pool_stride: int = 2,
        lrn_size: int = 5,
        lrn_alpha: float = 1e-4,
        lrn_beta: float = 0.75,
        lrn_k: float = 2.0,
        fc: Sequence[int] = (4096, 4096),
        dropout: float = 0.5,
        n_au: int = len(AU_NAMES),
    ) -> None:
        super().__init__(in_channels, size)
        layers: list[nn.Module] = []
        side, prev = size, in_channels
        for raw in convs:
            spec = ConvSpec(*raw)
            layers += [
                nn.Conv2d(prev, spec.channels, spec.kernel, spec.stride, spec.padding),
                nn.ReLU(),
            ]
            side = conv_output_size(side, spec.kernel, spec.stride, spec.padding)
            if spec.lrn:
                layers.append(nn.LocalResponseNorm(lrn_size, lrn_alpha, lrn_beta, lrn_k))
            if spec.pool:
                layers.append(nn.MaxPool2d(pool_kernel, pool_stride))
                side = conv_output_size(side, pool_kernel, pool_stride)
            if side < 1:
                raise ValueError(f"size {size} is too small for the AlexNet conv stack")
            prev = spec.channels
        self.features = nn.Sequential(*layers)
        self.add_au_head((prev, side, side), fc, dropout, n_au)


@register_model
def alexnet_au(**kwargs: object) -> AlexNetAU:
    """AlexNet-style AU model (Krizhevsky et al., NeurIPS 2012) on 144×144 frames."""
    return AlexNetAU(**kwargs)
