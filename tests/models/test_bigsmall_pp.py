"""BigSmall++: forward on N = 3 windows, BigSmall's interfaces, cost against JÂA-Net."""

from __future__ import annotations

import pytest
import torch

from bigsmall.models import BigSmall, BigSmallOutput, create_model
from bigsmall.models.bigsmall import forward_windows_chunked
from bigsmall.models.profile import format_profile_table, profile_model
from bigsmall.training.loop import WindowModel
from bigsmall.training.losses import MultiTaskLoss

#: Narrow BigSmall++ (64×64 Big → 4×4 JÂA features, Small 4×4) for fast CPU tests.
TINY = {
    "big_size": 64,
    "small_size": 4,
    "small_channels": (8, 8, 8, 8),
    "hidden": 16,
    "region_channels": (8, 16),
    "stack_channels": (8, 8, 8),
    "align_hidden": 16,
    "refine_channels": 4,
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _inputs(model: BigSmall, windows: int) -> tuple[torch.Tensor, torch.Tensor]:
    n = model.n_segment
    big = torch.randn(windows * n, model.in_channels, model.big_size, model.big_size)
    small = torch.randn(windows * n, model.in_channels, model.small_size, model.small_size)
    return big, small


def test_default_geometry() -> None:
    with torch.device("meta"):
        model = create_model("bigsmall_pp")
    assert (model.big_size, model.small_size, model.n_segment) == (176, 9, 3)
    assert model.big_downsample and model.use_big and model.use_small
    assert model.tasks == ("au", "bvp", "resp")
    assert model.big_out_shape == model.small_out_shape == (64, 9, 9)
    assert model.flat_features == 5184 and model.au_fc2.out_features == 12


def test_forward_on_three_windows_at_its_own_sizes() -> None:
    torch.manual_seed(0)
    model = create_model("bigsmall_pp", **TINY).eval()
    big, small = _inputs(model, windows=2)  # (6, 3, 64, 64), (6, 3, 4, 4)
    with torch.no_grad():
        out = model(big, small)
        first = model.forward_windows(big[::3], small)
        chunked = forward_windows_chunked(model, big[::3], small, chunk_windows=1)
    assert isinstance(out, BigSmallOutput)
    assert out.au.shape == (6, 12) and out.bvp.shape == (6, 1) and out.resp.shape == (6, 1)
    assert out.landmarks.shape == (6, 49, 2)
    # Big runs on frame 0 of each window: landmarks repeat per window, frames 1, 2 are ignored
    assert torch.equal(out.landmarks[0], out.landmarks[2])
    assert not torch.equal(out.landmarks[0], out.landmarks[3])
    assert torch.allclose(out.au, first.au) and torch.allclose(out.landmarks, first.landmarks)
    assert torch.allclose(chunked.landmarks, out.landmarks, atol=1e-6)
    assert torch.allclose(chunked.bvp, out.bvp, atol=1e-6)
    big2 = big.clone()
    big2[1::3] = 0  # frames Big never sees
    with torch.no_grad():
        assert torch.equal(model(big2, small).au, out.au)


def test_window_model_and_a_training_step() -> None:
    torch.manual_seed(0)
    model = create_model("bigsmall_pp", **TINY)
    big = torch.randn(2, 1, 3, 64, 64)  # Nb = 1: the Big frame of each window
    small = torch.randn(2, 3, 3, 4, 4)
    targets = {
        "au": (torch.rand(6, 12) > 0.5).to(torch.int8),
        "bvp": torch.randn(6),
        "resp": torch.randn(6),
        "landmarks": torch.rand(6, 49, 2),
    }
    net = WindowModel(model)
    loss_fn = MultiTaskLoss({"au": 1, "bvp": 1, "resp": 1})
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    values = []
    for _ in range(3):
        total, parts = loss_fn(net(big, small), targets)
        assert set(parts) == {"au", "bvp", "resp", "landmarks"}
        opt.zero_grad()
        total.backward()
        opt.step()
        values.append(float(total.detach()))
    assert values[-1] < values[0]


def test_route_gradients_keeps_outputs() -> None:
    torch.manual_seed(0)
    model = create_model("bigsmall_pp", **TINY).eval()
    big, small = _inputs(model, windows=1)
    with torch.no_grad():
        plain = model(big, small)
        model.route_gradients = True
        routed = model(big, small)
    assert torch.allclose(plain.au, routed.au) and torch.allclose(plain.bvp, routed.bvp)


def test_too_small_big_input_is_an_error() -> None:
    with pytest.raises(ValueError, match="small_size"):
        create_model("bigsmall_pp", **{**TINY, "small_size": 9})


def test_profile_lists_the_models_and_a_third_of_jaa() -> None:
    rows = {n: profile_model(n, device="meta") for n in ("jaa_net", "jaa_net_v2", "bigsmall_pp")}
    text = format_profile_table(list(rows.values()))
    assert all(name in text for name in rows)
    jaa, pp = rows["jaa_net_v2"], rows["bigsmall_pp"]
    assert jaa.params == rows["jaa_net"].params == 22_156_698
    assert jaa.macs_per_frame == pytest.approx(8_769_923_136)
    assert pp.params == 18_067_548
    assert pp.macs_per_frame == pytest.approx(2_927_266_848)
    # paper: BigSmall++ needs about a third of JÂA-Net's compute at N = 3 (measured: 0.334)
    assert pp.macs_per_frame / jaa.macs_per_frame == pytest.approx(0.334, abs=0.002)


def test_disfa_aus_by_count() -> None:
    """``n_au=8`` (the DISFA configs' argument) means DISFA's 8 AUs, as for JAA-Net."""
    from bigsmall.constants import DISFA_AU_NAMES
    from bigsmall.models import create_model

    model = create_model("bigsmall_pp", n_au=8)
    assert model.au_names == DISFA_AU_NAMES
    assert model.au_fc2.out_features == 8
