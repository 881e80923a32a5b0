"""JAA-Net / JÂA-Net: shapes, attention that follows the landmarks, blocks, a training step."""

from __future__ import annotations

import pytest
import torch

from bigsmall.constants import AU_NAMES, DISFA_AU_NAMES, MIRROR_49
from bigsmall.models import BigSmallOutput, create_model, list_models
from bigsmall.models.jaa_blocks import (
    INNER_EYE_CORNERS_49,
    HMRegionLayer,
    PatchConv,
    au_centres,
    merge_patches,
    predefined_attention,
    split_patches,
)
from bigsmall.training.losses import MultiTaskLoss

#: A small JAA-Net (64×64 input, narrow layers) for fast CPU tests.
TINY = {
    "size": 64,
    "region_channels": (8, 16),
    "stack_channels": (8, 8, 8),
    "align_hidden": 16,
    "refine_channels": 4,
    "au_hidden": 16,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _face(m: int = 1) -> torch.Tensor:
    """(m, 49, 2) plausible landmark fractions: brows, nose, eyes, mouth of a frontal face."""
    xs = torch.linspace(0.25, 0.75, 10)
    brows = torch.stack([xs, torch.full((10,), 0.30)], 1)
    nose = torch.stack([torch.full((9,), 0.5), torch.linspace(0.40, 0.60, 9)], 1)
    eye_l = torch.stack([torch.linspace(0.30, 0.44, 6), torch.full((6,), 0.40)], 1)
    eye_r = torch.stack([torch.linspace(0.56, 0.70, 6), torch.full((6,), 0.40)], 1)
    mouth = torch.stack([torch.linspace(0.38, 0.62, 18), torch.full((18,), 0.75)], 1)
    face = torch.cat([brows, nose, eye_l, eye_r, mouth])
    return face.expand(m, 49, 2).clone()


def test_registered() -> None:
    assert {"jaa_net", "jaa_net_v2", "bigsmall_pp"} <= set(list_models())


@pytest.mark.parametrize("name", ["jaa_net", "jaa_net_v2"])
def test_forward_shapes_and_attributes(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, **TINY).eval()
    assert (model.big_size, model.n_segment, model.use_small, model.big_downsample) == (
        64,
        1,
        False,
        False,
    )
    assert model.tasks == ("au",) and model.au_names == AU_NAMES
    with torch.no_grad():
        out = model(torch.randn(2, 3, 64, 64))
    assert isinstance(out, BigSmallOutput)
    assert out.au.shape == (2, 12) and out.landmarks.shape == (2, 49, 2)
    assert out.bvp is None and out.resp is None
    assert out.au.dtype == torch.float32


def test_default_size_and_au_choice() -> None:
    model = create_model("jaa_net_v2")
    assert model.big_size == 176 and model.backbone.region_side == 44
    assert model.backbone.feature_side == 11 and model.backbone.pooled_features == 4000
    assert create_model("jaa_net", n_au=8, **TINY).au_names == DISFA_AU_NAMES
    custom = create_model("jaa_net", au_names=["AU12", "AU25"], **TINY)
    assert custom.au_fc[-1].out_features == 2
    with pytest.raises(ValueError, match="AU99"):
        create_model("jaa_net", au_names=["AU99"], **TINY)
    with pytest.raises(ValueError, match="au_names"):
        create_model("jaa_net", n_au=5, **TINY)


def test_patches_round_trip_and_patch_conv_is_local() -> None:
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(merge_patches(split_patches(x, 4), 4), x)
    conv = PatchConv(3, 5, grid=4).eval()
    y0 = conv(x)
    x2 = x.clone()
    x2[:, :, :4, :4] += 10.0  # change only the top-left patch
    changed = (conv(x2) - y0).abs().sum(dim=(0, 1)) > 0
    assert changed[:4, :4].all() and not changed[4:].any() and not changed[:, 4:].any()
    layer = HMRegionLayer(3, 8)
    assert layer(torch.randn(1, 3, 16, 16)).shape == (1, 8, 16, 16)


def test_au_centres_follow_landmarks() -> None:
    face = _face()
    c = au_centres(face, ("AU01", "AU12"))  # (1, 2, 2, 2)
    a, b = INNER_EYE_CORNERS_49
    ruler = float((face[0, a] - face[0, b]).norm())
    assert ruler == pytest.approx(0.56 - 0.384, abs=1e-6)  # inner eye corners 22 and 25
    # AU01: half a ruler above the inner brow ends (points 4 and 5)
    assert torch.allclose(c[0, 0, 0], face[0, 4] - torch.tensor([0.0, ruler / 2]))
    assert torch.allclose(c[0, 1], face[0, [31, 37]])  # AU12: the lip corners
    moved = au_centres(face + torch.tensor([0.1, -0.05]), ("AU01", "AU12"))
    assert torch.allclose(moved, c + torch.tensor([0.1, -0.05]), atol=1e-6)


def _peak(m: torch.Tensor) -> tuple[int, int]:
    idx = int(m.flatten().argmax())
    return idx // m.shape[-1], idx % m.shape[-1]


def test_predefined_attention_values_and_motion() -> None:
    centres = torch.tensor([[[[0.25, 0.5], [0.75, 0.5]]]])  # one AU, two centres
    maps = predefined_attention(centres, side=44)
    assert maps.shape == (1, 1, 44, 44)
    # cell of centre 0.25·44 − 0.5 = 10.5 → the two nearest cells share the peak value
    assert maps[0, 0, 21, 10] == pytest.approx(1 - 0.56 * 1.0 / (0.14 * 44))
    assert maps[0, 0, 21, 33] == pytest.approx(maps[0, 0, 21, 10].item())
    assert maps[0, 0, 21, 21] == 0  # between the two regions
    assert maps[0, 0, 0, 0] == 0 and 0 <= float(maps.min()) and float(maps.max()) <= 1
    shifted = predefined_attention(centres + torch.tensor([0.0, 10 / 44]), side=44)
    assert torch.allclose(shifted[0, 0, 10:], maps[0, 0, :-10])  # moves 10 cells down
    padded = predefined_attention(centres, side=44, pad=4)
    assert padded.shape == (1, 1, 52, 52) and torch.equal(padded[0, 0, 4:-4, 4:-4], maps[0, 0])


def test_model_attention_moves_with_the_landmarks() -> None:
    model = create_model("jaa_net_v2", **TINY).eval()
    face = _face()
    maps = model.backbone.attention_from_landmarks(face)  # (1, 12, 16 + 8, 16 + 8)
    au12 = AU_NAMES.index("AU12")
    moved = model.backbone.attention_from_landmarks(face + torch.tensor([0.0, -0.25]))
    (r0, c0), (r1, c1) = _peak(maps[0, au12]), _peak(moved[0, au12])
    assert (r0 - r1, c1 - c0) == (4, 0)  # 0.25 of a 16-cell grid: 4 cells up
    # the refined attention has the grid's shape and lies in [0, 1]
    with torch.no_grad():
        feats = model.backbone(torch.randn(1, 3, 64, 64))
    assert feats.attention.shape == (1, 12, 16, 16)
    assert 0 <= float(feats.attention.min()) and float(feats.attention.max()) <= 1


def test_flip_permutation_is_a_mirror() -> None:
    assert sorted(MIRROR_49) == list(range(49))
    assert all(MIRROR_49[MIRROR_49[i]] == i for i in range(49))
    pairs = {0: 9, 4: 5, 19: 28, 22: 25, 14: 18, 31: 37, 34: 34, 40: 40, 43: 45, 13: 13}
    assert all(MIRROR_49[a] == b for a, b in pairs.items())  # brow ends, eye corners, mouth


def test_v1_attention_constraint_changes_only_gradients() -> None:
    torch.manual_seed(0)
    v1 = create_model("jaa_net", **TINY)
    v2 = create_model("jaa_net_v2", **TINY)
    v2.load_state_dict(v1.state_dict())
    x = torch.randn(2, 3, 64, 64)
    o1, o2 = v1(x), v2(x)
    assert torch.allclose(o1.au, o2.au) and torch.allclose(o1.landmarks, o2.landmarks)
    o1.au.sum().backward()
    o2.au.sum().backward()
    g1 = v1.backbone.refiner.layers[0].weight.grad
    g2 = v2.backbone.refiner.layers[0].weight.grad
    assert not torch.allclose(g1, g2)  # ×2 enhancement + attention constraint in v1


def test_training_steps_reduce_the_loss() -> None:
    torch.manual_seed(0)
    model = create_model("jaa_net_v2", **{**TINY, "size": 32})
    x = torch.randn(2, 3, 32, 32)
    batch = {
        "au": (torch.rand(2, 12) > 0.5).to(torch.int8),
        "landmarks": _face(2) + 0.01 * torch.randn(2, 49, 2),
    }
    loss_fn = MultiTaskLoss({"au": 1.0})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    values = []
    for _ in range(3):
        total, parts = loss_fn(model(x), batch)
        assert set(parts) == {"au", "landmarks"}
        opt.zero_grad()
        total.backward()
        opt.step()
        values.append(float(total.detach()))
    assert values[-1] < values[0]
