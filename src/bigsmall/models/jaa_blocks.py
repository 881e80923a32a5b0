"""Building blocks shared by JAA-Net, JÂA-Net and BigSmall++ (one place per idea).

- Shao, Liu, Cai, Ma. "Deep Adaptive Attention for Joint Facial Action Unit Detection and Face
  Alignment." ECCV 2018 (JAA-Net).
- Shao, Liu, Cai, Ma. "JÂA-Net: Joint Facial Action Unit Detection and Face Alignment via
  Adaptive Attention." IJCV 129, 2021 (arXiv:2003.08834).

Contents:

- the 49-point landmark scheme the papers use (the 68-point iBUG scheme without the 17 jaw points
  and the two inner mouth corners): index groups, the left/right mirror permutation and the
  two eye groups whose centres give the inter-ocular distance;
- :class:`PatchConv`: BN → ReLU → 3×3 conv applied separately to each patch of a g×g grid (its
  own weights per patch), computed as one grouped convolution over the patches stacked on the
  channel axis (identical to g² separate convolutions with zero padding at every patch border);
- :class:`HMRegionLayer`: the *hierarchical and multi-scale region layer*: a 3×3 conv, then
  patch convs on 8×8, 4×4 and 2×2 grids in cascade (C → C/2 → C/4 → C/4 channels), their outputs
  concatenated (C channels), added to the conv output (residual), BN, ReLU;
- :class:`FeatureStack`: the papers' high-level feature extractor (three stages of two 3×3
  conv-BN-ReLU layers with max-pooling between stages), optionally K independent copies run as
  one grouped convolution (the per-AU local branches);
- AU attention: :data:`AU_CENTRES` (each AU's two centres relative to landmarks, in units of
  the inner-eye-corner distance), :func:`au_centres` and :func:`predefined_attention`
  (the papers' maps ``v = max(1 − ξ·d / (r·W), 0)`` inside a square of side ``r·W`` around each
  centre, d the Manhattan distance in map cells, W the map side, r = 0.14, ξ = 0.56);
  :class:`AttentionRefiner` (per-AU 3×3 conv stacks without padding, sigmoid output);
- :class:`JAABackbone`: region learning → face alignment (landmarks) → predefined attention from
  the predicted landmarks → refined attention → local AU features (assembled by averaging over
  AUs), global features and alignment features.

Landmarks are (x, y) fractions of the input side, in [0, 1]. Numbers above that the paper pages
did not show (map ratio 0.14, fill 0.56, channel widths 32/64 and 96/128/160, 512-wide fc
layers, the attention-constraint weight) were read from the authors' public release.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from bigsmall.constants import AU_NAMES, DISFA_AU_NAMES

# -- the 49-point landmark scheme ----------------------------------------------------------------
#: Number of landmarks of the scheme.
N_LANDMARKS_49: int = 49
#: Index groups (0-based) of the 49-point scheme, image-left first.
LANDMARK_GROUPS_49: dict[str, tuple[int, ...]] = {
    "brow_left": (0, 1, 2, 3, 4),  # outer → inner
    "brow_right": (5, 6, 7, 8, 9),  # inner → outer
    "nose_bridge": (10, 11, 12, 13),
    "nose_base": (14, 15, 16, 17, 18),
    "eye_left": (19, 20, 21, 22, 23, 24),  # 19 outer corner, 22 inner corner
    "eye_right": (25, 26, 27, 28, 29, 30),  # 25 inner corner, 28 outer corner
    "mouth_outer": tuple(range(31, 43)),  # 31 left corner, 34 top, 37 right corner, 40 bottom
    "mouth_inner": tuple(range(43, 49)),
}
#: The inner eye corners: their distance is the scale ("ruler") of the AU centres.
INNER_EYE_CORNERS_49: tuple[int, int] = (22, 25)
# -- AU centres ------------------------------------------------------------------------------
#: AU → (two landmark indices of the 49-point scheme, vertical offset in units of the inner-eye-
#: corner distance; negative = up). BP4D's 12 AUs follow JAA-Net's Table (ECCV 2018 Fig. 3):
#: AU01 ½ scale above the inner brow ends, AU02 ⅓ above the outer brow points, AU04 ⅓ below the
#: brow centres, AU06 one scale below the lower eyelids, AU07 the lower eyelids, AU10 the upper
#: lip, AU12/14/15 the lip corners, AU17 ½ below the lower lip, AU23/24 the lip centres. The
#: papers list no centres for DISFA's AU09/AU25/AU26; we take the authors' release's choice:
#: AU09 ½ scale above the nostril sides, AU25 the lip centres, AU26 ½ below the lower lip.
AU_CENTRES: dict[str, tuple[tuple[int, int], float]] = {
    "AU01": ((4, 5), -1 / 2),
    "AU02": ((1, 8), -1 / 3),
    "AU04": ((2, 7), 1 / 3),
    "AU06": ((24, 29), 1.0),
    "AU07": ((21, 26), 0.0),
    "AU09": ((15, 17), -1 / 2),
    "AU10": ((43, 45), 0.0),
    "AU12": ((31, 37), 0.0),
    "AU14": ((31, 37), 0.0),
    "AU15": ((31, 37), 0.0),
    "AU17": ((39, 41), 1 / 2),
    "AU23": ((34, 40), 0.0),
    "AU24": ((34, 40), 0.0),
    "AU25": ((34, 40), 0.0),
    "AU26": ((39, 41), 1 / 2),
}


def resolve_au_names(au_names: Sequence[str] | None, n_au: int | None) -> tuple[str, ...]:
    """The AU names of an attention model: ``au_names`` if given; else ``n_au`` = 12 → BP4D's
    :data:`~bigsmall.constants.AU_NAMES`, ``n_au`` = 8 → DISFA's 8 AUs; default BP4D's 12."""
    if au_names is not None:
        names = tuple(au_names)
        if n_au is not None and n_au != len(names):
            raise ValueError(f"n_au={n_au} does not match {len(names)} au_names")
    elif n_au is None or n_au == len(AU_NAMES):
        names = AU_NAMES
    elif n_au == len(DISFA_AU_NAMES):
        names = DISFA_AU_NAMES
    else:
        raise ValueError(
            f"n_au={n_au}: pass au_names=[...] (the attention needs each AU's centres; "
            f"known AUs: {', '.join(sorted(AU_CENTRES))})"
        )
    unknown = [n for n in names if n not in AU_CENTRES]
    if unknown or not names:
        raise ValueError(
            f"no attention centres for {unknown or 'an empty AU list'}; known AUs: "
            f"{', '.join(sorted(AU_CENTRES))}"
        )
    return names


def au_centres(landmarks: torch.Tensor, au_names: Sequence[str]) -> torch.Tensor:
    """(M, 49, 2) landmarks → (M, K, 2, 2) AU centres (K AUs, two centres, (x, y)), same units.

    The scale is the distance between the inner eye corners (:data:`INNER_EYE_CORNERS_49`).
    """
    a, b = INNER_EYE_CORNERS_49
    ruler = (landmarks[:, a] - landmarks[:, b]).norm(dim=-1)  # (M,)
    idx = torch.tensor([AU_CENTRES[n][0] for n in au_names], device=landmarks.device)  # (K, 2)
    dy = torch.tensor([AU_CENTRES[n][1] for n in au_names], dtype=landmarks.dtype)
    points = landmarks[:, idx]  # (M, K, 2, 2)
    shift = torch.zeros_like(points)
    shift[..., 1] = dy.to(landmarks.device)[None, :, None] * ruler[:, None, None]
    return points + shift


def predefined_attention(
    centres: torch.Tensor,
    side: int,
    pad: int = 0,
    ratio: float = 0.14,
    fill: float = 0.56,
) -> torch.Tensor:
    """Attention maps of (M, K, 2, 2) centres (fractions of the input side) → (M, K, S, S).

    The maps cover a ``side``×``side`` feature grid (cell i centred at (i + ½)/side) plus
    ``pad`` cells on each border (S = side + 2·pad), so that ``pad`` unpadded 3×3 convolutions
    bring them back onto the grid. Around each centre, inside a square of half-side
    ``ratio·(side − 1)/2`` cells: ``max(1 − fill·d / (ratio·side), 0)`` with d the Manhattan
    distance in cells; 0 elsewhere; the two centres of an AU combine by maximum.
    """
    size = side + 2 * pad
    grid = torch.arange(size, device=centres.device, dtype=centres.dtype) - pad
    c = centres * side - 0.5  # cell coordinates of the centres, (M, K, 2, 2)
    dx = (grid - c[..., 0, None]).abs()  # (M, K, 2, S)
    dy = (grid - c[..., 1, None]).abs()
    dx, dy = dx[..., None, :], dy[..., :, None]  # (M, K, 2, 1, S), (M, K, 2, S, 1)
    half = ratio * (side - 1) / 2
    inside = (dx <= half) & (dy <= half)
    value = (1 - fill * (dx + dy) / (ratio * side)).clamp(min=0) * inside
    return value.amax(dim=2)


# -- layers ----------------------------------------------------------------------------------
def split_patches(x: torch.Tensor, grid: int) -> torch.Tensor:
    """(M, C, H, W) → (M, g²·C, H/g, W/g): the g×g patches stacked along channels (row-major)."""
    m, c, h, w = x.shape
    if h % grid or w % grid:
        raise ValueError(f"feature map {h}×{w} is not divisible into a {grid}×{grid} grid")
    x = x.reshape(m, c, grid, h // grid, grid, w // grid).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(m, grid * grid * c, h // grid, w // grid)


def merge_patches(x: torch.Tensor, grid: int) -> torch.Tensor:
    """Inverse of :func:`split_patches`: (M, g²·C, h, w) → (M, C, g·h, g·w)."""
    m, gc, h, w = x.shape
    c = gc // (grid * grid)
    x = x.reshape(m, grid, grid, c, h, w).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(m, c, grid * h, grid * w)


class PatchConv(nn.Module):
    """BN → ReLU → 3×3 conv with separate weights per patch of a ``grid``×``grid`` split.

    (M, C_in, H, W) → (M, C_out, H, W); H and W divisible by ``grid``.
    """

    def __init__(self, in_channels: int, out_channels: int, grid: int) -> None:
        super().__init__()
        self.grid = grid
        g2 = grid * grid
        self.bn = nn.BatchNorm2d(g2 * in_channels)  # one BN per patch
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(g2 * in_channels, g2 * out_channels, 3, padding=1, groups=g2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = split_patches(x, self.grid)
        return merge_patches(self.conv(self.relu(self.bn(p))), self.grid)


class HMRegionLayer(nn.Module):
    """Hierarchical and multi-scale region layer: (M, C_in, H, W) → (M, C, H, W).

    conv3×3 (C_in → C) = y; patch convs in cascade on ``grids`` (default 8, 4, 2) with C/2, C/4,
    C/4 output channels; ``ReLU(BN(y + concat(branches)))``.
    """

    def __init__(self, in_channels: int, channels: int, grids: Sequence[int] = (8, 4, 2)) -> None:
        super().__init__()
        if len(grids) != 3 or channels % 4:
            raise ValueError("an HMR layer has three grids and a channel count divisible by 4")
        widths = (channels // 2, channels // 4, channels // 4)
        self.conv = nn.Conv2d(in_channels, channels, 3, padding=1)
        self.branches = nn.ModuleList()
        prev = channels
        for width, grid in zip(widths, grids, strict=True):
            self.branches.append(PatchConv(prev, width, grid))
            prev = width
        self.bn = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        outs, z = [], y
        for branch in self.branches:
            z = branch(z)
            outs.append(z)
        return self.relu(self.bn(y + torch.cat(outs, dim=1)))


class FeatureStack(nn.Module):
    """Stages of two conv3×3-BN-ReLU layers, max-pool 2 between stages (not after the last).

    ``groups`` = K runs K independent stacks on K channel groups of the input (per-AU branches):
    (M, K·C_in, H, W) → (M, K·C_last, H/2^(s−1), W/2^(s−1)) for s stages.
    """

    def __init__(self, in_channels: int, channels: Sequence[int], groups: int = 1) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_channels
        for i, ch in enumerate(channels):
            if i:
                layers.append(nn.MaxPool2d(2))
            for _ in range(2):
                layers += [
                    nn.Conv2d(groups * prev, groups * ch, 3, padding=1, groups=groups),
                    nn.BatchNorm2d(groups * ch),
                    nn.ReLU(),
                ]
                prev = ch
        self.layers = nn.Sequential(*layers)
        self.out_channels = prev
        self.reduction = 2 ** (len(channels) - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class AttentionRefiner(nn.Module):
    """K per-AU stacks of ``layers`` unpadded 3×3 convs (BN-ReLU between; 1 → C → … → 1),
    computed as grouped convs: (M, K, S, S) maps → (M, K, S − 2·layers, S − 2·layers) logits."""

    def __init__(self, n_au: int, channels: int = 64, layers: int = 4) -> None:
        super().__init__()
        if layers < 2:
            raise ValueError("the attention refiner needs at least two conv layers")
        mods: list[nn.Module] = []
        prev = 1
        for i in range(layers):
            out = 1 if i == layers - 1 else channels
            mods.append(nn.Conv2d(n_au * prev, n_au * out, 3, groups=n_au))
            if out != 1:
                mods += [nn.BatchNorm2d(n_au * out), nn.ReLU()]
            prev = out
        self.layers = nn.Sequential(*mods)
        self.pad = layers

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.layers(maps)


class _ConstrainAttention(torch.autograd.Function):
    """Identity on the refined attention logits z; backward: ``scale·grad + weight·∂E_r/∂z`` with
    E_r = Σ_AU mean-over-cells BCE(σ(z), target) (JAA-Net's attention constraint and its
    back-propagation enhancement, applied as a gradient term)."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, target: torch.Tensor, scale: float, weight: float):  # type: ignore[override]
        ctx.save_for_backward(z, target)
        ctx.scale, ctx.weight = scale, weight
        return z.view_as(z)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor):  # type: ignore[override]
        z, target = ctx.saved_tensors
        cells = z.shape[-1] * z.shape[-2] * z.shape[0]
        extra = ctx.weight * (torch.sigmoid(z) - target) / cells
        return ctx.scale * grad + extra, None, None, None


# -- backbone --------------------------------------------------------------------------------
class JAAFeatures(NamedTuple):
    """What :class:`JAABackbone` computes for M frames.

    align, global_, local: (M, C, s, s) feature maps before the last max-pool (s = size / 16);
    landmarks: (M, L, 2) fractions of the input side; attention: (M, K, size/4, size/4)
    refined AU attention in [0, 1]; predefined: (M, K, ·, ·) the maps it was refined from.
    """

    align: torch.Tensor
    global_: torch.Tensor
    local: torch.Tensor
    landmarks: torch.Tensor
    attention: torch.Tensor
    predefined: torch.Tensor


class JAABackbone(nn.Module):
    """JAA-Net / JÂA-Net trunk: everything but the AU head.

    Args:
        in_channels: colour channels.
        size: side of the square aligned face (176 in the papers).
        au_names: AUs whose attention maps (and local branches) are built.
        region_channels: channels of the two HMR layers (each followed by max-pool 2).
        region_grids: patch grids of the HMR branches.
        stack_channels: channels of the three stages of each feature stack.
        align_hidden: hidden width of the landmark regressor.
        n_landmarks: landmarks predicted (49).
        refine_channels, refine_layers: the per-AU attention refiners.
        attention_ratio, attention_fill: the predefined maps' r and ξ.
        attention_grad_scale: factor on the AU-loss gradient reaching the refiners (JAA-Net's
            back-propagation enhancement, 2; 1 = plain back-propagation).
        attention_constraint: weight of JAA-Net's attention constraint E_r (0 = none).
    """

    def __init__(
        self,
        in_channels: int = 3,
        size: int = 176,
        au_names: Sequence[str] = AU_NAMES,
        region_channels: Sequence[int] = (32, 64),
        region_grids: Sequence[int] = (8, 4, 2),
        stack_channels: Sequence[int] = (96, 128, 160),
        align_hidden: int = 512,
        n_landmarks: int = N_LANDMARKS_49,
        refine_channels: int = 64,
        refine_layers: int = 4,
        attention_ratio: float = 0.14,
        attention_fill: float = 0.56,
        attention_grad_scale: float = 1.0,
        attention_constraint: float = 0.0,
    ) -> None:
        super().__init__()
        if n_landmarks != N_LANDMARKS_49:
            raise ValueError("the AU attention centres are defined on the 49-point scheme")
        self.au_names = tuple(au_names)
        n_au = len(self.au_names)
        self.size = size
        self.n_landmarks = n_landmarks
        layers: list[nn.Module] = []
        prev = in_channels
        for ch in region_channels:
            layers += [HMRegionLayer(prev, ch, region_grids), nn.MaxPool2d(2)]
            prev = ch
        self.region = nn.Sequential(*layers)
        self.region_side = size // 2 ** len(region_channels)
        self.region_channels = prev
        self.align_stack = FeatureStack(prev, stack_channels)
        self.global_stack = FeatureStack(prev, stack_channels)
        self.local_stack = FeatureStack(prev, stack_channels, groups=n_au)
        self.feature_channels = self.align_stack.out_channels
        self.feature_side = self.region_side // self.align_stack.reduction
        self.pooled_side = self.feature_side // 2
        if self.pooled_side < 1 or self.region_side * 2 ** len(region_channels) != size:
            raise ValueError(f"size {size} is too small or not divisible for this backbone")
        self.pool = nn.MaxPool2d(2)
        flat = self.feature_channels * self.pooled_side**2
        self.align_fc = nn.ModuleList(
            [nn.Linear(flat, align_hidden), nn.Linear(align_hidden, 2 * n_landmarks)]
        )
        self.refiner = AttentionRefiner(n_au, refine_channels, refine_layers)
        self.attention_ratio = attention_ratio
        self.attention_fill = attention_fill
        self.attention_grad_scale = attention_grad_scale
        self.attention_constraint = attention_constraint

    @property
    def pooled_features(self) -> int:
        """Flattened size of one pooled feature map (C·s'·s')."""
        return self.feature_channels * self.pooled_side**2

    def predict_landmarks(self, align: torch.Tensor) -> torch.Tensor:
        """(M, C, s, s) alignment features → (M, L, 2) landmark fractions."""
        x = self.pool(align).flatten(1)
        return self.align_fc[1](self.align_fc[0](x)).view(-1, self.n_landmarks, 2)

    def attention_from_landmarks(self, landmarks: torch.Tensor) -> torch.Tensor:
        """(M, 49, 2) landmark fractions → (M, K, S, S) predefined maps (S = region side +
        2·refine layers); landmarks are detached (the maps are targets, as in the papers)."""
        centres = au_centres(landmarks.detach().float(), self.au_names)
        return predefined_attention(
            centres, self.region_side, self.refiner.pad, self.attention_ratio, self.attention_fill
        ).to(landmarks.dtype)

    def forward(self, x: torch.Tensor) -> JAAFeatures:
        """(M, C, size, size) aligned faces → :class:`JAAFeatures`."""
        region = self.region(x)  # (M, R, size/4, size/4)
        align = self.align_stack(region)
        landmarks = self.predict_landmarks(align)
        predefined = self.attention_from_landmarks(landmarks)
        z = self.refiner(predefined)  # (M, K, size/4, size/4) logits
        if torch.is_grad_enabled() and z.requires_grad:
            if self.attention_grad_scale != 1.0 or self.attention_constraint > 0:
                target = predefined[
                    ..., self.refiner.pad : -self.refiner.pad, self.refiner.pad : -self.refiner.pad
                ]
                z = _ConstrainAttention.apply(
                    z, target.detach(), self.attention_grad_scale, self.attention_constraint
                )
        attention = torch.sigmoid(z)
        m, k = attention.shape[:2]
        weighted = region.unsqueeze(1) * attention.unsqueeze(2)  # (M, K, R, h, w)
        local = self.local_stack(weighted.flatten(1, 2))  # (M, K·C, s, s)
        local = local.view(m, k, self.feature_channels, *local.shape[-2:]).mean(dim=1)
        return JAAFeatures(
            align=align,
            global_=self.global_stack(region),
            local=local,
            landmarks=landmarks,
            attention=attention,
            predefined=predefined,
        )
