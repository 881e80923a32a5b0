"""Neural baselines: DeepPhys, TS-CAN / MTTS-CAN, EfficientPhys, DRML, AlexNet-style AU model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from bigsmall.models import create_model, list_models
from bigsmall.models.bigsmall import BigSmallOutput
from bigsmall.models.deepphys import AttentionMask
from bigsmall.models.drml import RegionLayer
from bigsmall.models.efficientphys import window_differences
from bigsmall.models.layers import TemporalShift
from bigsmall.training.loop import WindowModel, fit
from bigsmall.training.losses import MultiTaskLoss
from bigsmall.training.settings import TrainSettings

BASELINES = ("deepphys", "tscan", "mtts_can", "efficientphys", "drml", "alexnet_au")

#: Parameter counts at the default (paper / toolbox) input sizes, computed by hand from the
#: layer shapes: DeepPhys/TS-CAN 72×72 → 64·16·16 = 16384 flat features → dense 128.
DEFAULT_PARAMS = {
    "deepphys": 2_228_643,
    "tscan": 2_228_643,
    "mtts_can": 4_326_052,
    "efficientphys": 2_163_081,
    "drml": 35_306_188,
    "alexnet_au": 30_018_956,
}

#: Small variants for fast tests (sizes and widths are constructor arguments).
TINY = {
    "deepphys": {"size": 12, "channels": (4, 8), "hidden": 8},
    "tscan": {"size": 12, "channels": (4, 8), "hidden": 8, "n_segment": 4},
    "mtts_can": {"size": 12, "channels": (4, 8), "hidden": 8, "n_segment": 4},
    "efficientphys": {"size": 12, "channels": (4, 8), "hidden": 8, "n_segment": 4},
    "drml": {
        "size": 24,
        "conv1_channels": 4,
        "conv1_kernel": 5,
        "region_grid": 4,
        "convs": ((4, 3, 1), (4, 3, 2)),
        "fc": (16, 8),
    },
    "alexnet_au": {
        "size": 32,
        "convs": ((8, 5, 2, 2, True, True), (8, 3, 1, 1, False, True)),
        "fc": (16, 16),
    },
}


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread (and do not fight other test processes)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _frames(model: nn.Module, windows: int, n: int | None = None) -> tuple[torch.Tensor, ...]:
    """Random (big, small) for ``windows`` windows of ``n`` (default: the model's) frames."""
    n = n or model.n_segment
    g = torch.Generator().manual_seed(0)
    big = torch.randn(windows * n, 3, model.big_size, model.big_size, generator=g)
    small = torch.randn(windows * n, 3, model.small_size, model.small_size, generator=g)
    return big, small


def test_all_registered() -> None:
    assert set(BASELINES) <= set(list_models())


@pytest.mark.parametrize("name", BASELINES)
def test_default_build_param_count_and_attributes(name: str) -> None:
    model = create_model(name)
    assert _count(model) == DEFAULT_PARAMS[name]
    assert model.big_downsample is False
    assert isinstance(model.tasks, tuple) and model.tasks
    assert model.n_segment >= 1
    expected_size = 144 if name in ("drml", "alexnet_au") else 72
    assert model.big_size == expected_size


def test_paper_scale_param_counts() -> None:
    """At the papers' 36×36 input: DeepPhys = TS-CAN ≈ 0.53 M (64·7·7 = 3136 → 128)."""
    convs = 2 * (3 * 32 * 9 + 32 + 32 * 32 * 9 + 32 + 32 * 64 * 9 + 64 + 64 * 64 * 9 + 64)
    masks = 32 + 1 + 64 + 1
    head = 3136 * 128 + 128 + 128 + 1
    assert _count(create_model("deepphys", size=36)) == convs + masks + head == 532_899
    assert _count(create_model("tscan", size=36)) == 532_899
    assert _count(create_model("mtts_can", size=36)) == convs + masks + 2 * head == 934_564
    # EfficientPhys: one branch + the input BatchNorm (2·3), self-attention masks.
    assert _count(create_model("efficientphys", size=36)) == convs // 2 + masks + 6 + head
    # Paper-size inputs build too: DRML 170 → 16·27·27 flat, AlexNet 224 → 256·6·6.
    assert create_model("drml", size=170).flat_features == 16 * 27 * 27
    assert create_model("alexnet_au", size=224).flat_features == 256 * 6 * 6


@pytest.mark.parametrize("name", ["deepphys", "tscan", "mtts_can", "efficientphys"])
def test_temporal_default_shapes(name: str) -> None:
    model = create_model(name).eval()
    windows = 2
    n = model.n_segment if model.n_segment > 1 else 3
    big, small = _frames(model, windows, n)
    with torch.no_grad():
        out = model(big, small)
    assert isinstance(out, BigSmallOutput)
    assert out.au is None
    assert out.bvp.shape == (windows * n, 1)
    assert (out.resp is None) == ("resp" not in model.tasks)
    if out.resp is not None:
        assert out.resp.shape == (windows * n, 1)


@pytest.mark.parametrize("name", ["drml", "alexnet_au"])
def test_au_default_shapes(name: str) -> None:
    model = create_model(name).eval()
    big, _ = _frames(model, windows=2, n=1)
    with torch.no_grad():
        out = model(big, None)
    assert out.au.shape == (2, 12)
    assert out.bvp is None and out.resp is None
    assert model.use_small is False


def test_attention_mask_l1_normalised() -> None:
    mask = AttentionMask(5)(torch.randn(3, 5, 6, 7))
    assert mask.shape == (3, 1, 6, 7)
    # q = H·W·σ / (2‖σ‖₁): each sample's mask sums to H·W / 2
    torch.testing.assert_close(mask.sum(dim=(1, 2, 3)), torch.full((3,), 6 * 7 / 2))


def test_tscan_reuses_zero_padded_shift() -> None:
    model = create_model("tscan", **TINY["tscan"])
    shifts = list(model.motion_shifts)
    assert len(shifts) == len(model.motion_convs) == 4
    assert all(type(s) is TemporalShift and not s.wrap for s in shifts)
    assert all(s.n_segment == 4 for s in shifts)
    eff = create_model("efficientphys", **TINY["efficientphys"])
    assert all(type(s) is TemporalShift and not s.wrap for s in eff.shifts)
    deep = create_model("deepphys", **TINY["deepphys"])
    assert all(isinstance(s, nn.Identity) for s in deep.motion_shifts)
    with pytest.raises(ValueError, match="frame-wise"):
        create_model("deepphys", shift="tsm")


@pytest.mark.parametrize(("shift", "changes"), [("tsm", False), ("wtsm", True)])
def test_tscan_shift_zero_padding_behaviour(shift: str, changes: bool) -> None:
    """4 shifts reach ±4 frames: in a window of 10, frame 0 sees frame 9 only with wrapping."""
    torch.manual_seed(0)
    model = create_model("tscan", size=12, channels=(6, 6), hidden=8, shift=shift).eval()
    big, small = _frames(model, windows=2)
    moved = small.clone()
    moved[9] += 5.0  # last frame of window 0
    moved[10:] += 5.0  # all of window 1: never visible to window 0
    with torch.no_grad():
        a, b = model(big, small).bvp, model(big, moved).bvp
    assert torch.equal(a[:5], b[:5]) is not changes  # frames 0..4 reach at most frame 8 (TSM)
    assert not torch.equal(a[9], b[9])


def test_tscan_appearance_is_window_mean() -> None:
    model = create_model("tscan", **TINY["tscan"]).eval()
    big, small = _frames(model, windows=3)
    mean = big.reshape(3, 4, *big.shape[1:]).mean(dim=1)
    with torch.no_grad():
        full = model(big, small).bvp
        per_window = model(mean, small).bvp  # one appearance frame per window also accepted
    torch.testing.assert_close(full, per_window)
    with pytest.raises(ValueError, match="appearance input"):
        model(big[:5], small)


def test_efficientphys_raw_mode_differences() -> None:
    x = torch.arange(6.0).reshape(6, 1, 1, 1).expand(6, 3, 2, 2) ** 2
    d = window_differences(x, 3)
    assert d[:, 0, 0, 0].tolist() == [1.0, 3.0, 0.0, 7.0, 9.0, 0.0]
    model = create_model("efficientphys", input_kind="raw", **TINY["efficientphys"]).eval()
    assert (model.use_big, model.use_small) == (True, False)
    big, _ = _frames(model, windows=2)
    assert model(big, None).bvp.shape == (8, 1)


def test_region_layer_patchwise_residual() -> None:
    layer = RegionLayer(2, grid=3).eval()
    x = torch.randn(1, 2, 10, 10)  # 10 = 4 + 3 + 3: uneven patches
    y = layer(x)
    assert y.shape == x.shape
    # zeroing one patch's conv leaves exactly that patch (4×4 top-left) as the identity
    nn.init.zeros_(layer.patches[0][2].weight)
    nn.init.zeros_(layer.patches[0][2].bias)
    y0 = layer(x)
    torch.testing.assert_close(y0[..., :4, :4], x[..., :4, :4])
    torch.testing.assert_close(y0[..., 4:, :], y[..., 4:, :])
    assert not torch.allclose(y[..., :4, :4], x[..., :4, :4])


@pytest.mark.parametrize("name", BASELINES)
def test_gradient_reaches_every_parameter(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, **TINY[name]).train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
    big, small = _frames(model, windows=2, n=model.n_segment if model.n_segment > 1 else 2)
    out = model(big, small)
    sum(o.square().sum() for o in out if o is not None).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        assert p.grad.abs().sum() > 0, pname


def _overfit(
    model: nn.Module, big: torch.Tensor, small: torch.Tensor | None, target: dict, steps: int
) -> list[float]:
    """Adam (lr 1e-2) on one fixed batch; the loss after every step."""
    loss_fn = MultiTaskLoss({t: 1.0 for t in model.tasks})
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        total = loss_fn.combine(loss_fn.task_losses(tuple(model(big, small)), target))
        opt.zero_grad()
        total.backward()
        opt.step()
        losses.append(float(total.detach()))
    return losses


def test_overfit_temporal_mtts_can() -> None:
    torch.manual_seed(0)
    model = create_model("mtts_can", **TINY["mtts_can"], dropouts=(0.0, 0.0), head_dropout=0.0)
    big, small = _frames(model, windows=2)
    g = torch.Generator().manual_seed(1)
    target = {"bvp": torch.randn(8, generator=g), "resp": torch.randn(8, generator=g)}
    losses = _overfit(model, big, small, target, steps=25)
    assert losses[-1] < 0.1 * losses[0]


def test_overfit_au_drml() -> None:
    torch.manual_seed(0)
    model = create_model("drml", **TINY["drml"], dropout=0.0)
    big, _ = _frames(model, windows=6, n=1)
    au = (torch.rand(6, 12, generator=torch.Generator().manual_seed(1)) > 0.5).to(torch.int8)
    losses = _overfit(model, big, None, {"au": au}, steps=40)
    assert losses[-1] < 0.5 * losses[0]


class _Windows(Dataset):
    """Windows of N frames with every input the baselines may need (all frames for Big)."""

    def __init__(self, size: int, n: int, windows: int = 4) -> None:
        g = torch.Generator().manual_seed(0)
        self.big = torch.randn(windows, n, 3, size, size, generator=g)
        self.small = torch.randn(windows, n, 3, size, size, generator=g)
        self.bvp = torch.randn(windows, n, generator=g)
        self.au = (torch.rand(windows, n, 12, generator=g) > 0.5).to(torch.int8)

    def __len__(self) -> int:
        return self.big.shape[0]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "big": self.big[i],
            "small": self.small[i],
            "bvp": self.bvp[i],
            "resp": -self.bvp[i],
            "au": self.au[i],
            "bvp_mask": torch.tensor(True),
            "resp_mask": torch.tensor(True),
        }


@pytest.mark.parametrize("name", BASELINES)
def test_window_model_adapter(name: str) -> None:
    model = create_model(name, **TINY[name]).eval()
    n = model.n_segment if model.n_segment > 1 else 3
    data = _Windows(model.big_size, n, windows=2)
    batch = {k: torch.stack([data[i][k] for i in range(2)]) for k in data[0]}
    with torch.no_grad():
        out = WindowModel(model)(batch["big"], batch["small"])
        direct = model(batch["big"].flatten(0, 1), batch["small"].flatten(0, 1))
    for task, value, ref in zip(("au", "bvp", "resp"), out[:3], direct[:3], strict=True):
        if task in model.tasks:
            assert value.shape[0] == 2 * n
            torch.testing.assert_close(value, ref)
        else:
            assert value is None


@pytest.mark.parametrize("name", ["mtts_can", "alexnet_au"])
def test_generic_trainer_fits_baseline(tmp_path: Path, name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name, **TINY[name])
    n = model.n_segment if model.n_segment > 1 else 3
    settings = TrainSettings(epochs=2, batch_size=2, lr=1e-3, seed=3, device="cpu")
    loss_fn = MultiTaskLoss({"au": 1.0, "bvp": 1.0, "resp": 1.0})
    result = fit(
        model, _Windows(model.big_size, n), settings, tmp_path, loss_fn=loss_fn, progress=False
    )
    assert result["epoch"] == 2
    first = result["history"][0]
    assert {f"loss_{t}" for t in model.tasks} <= set(first)
    assert (tmp_path / "metrics.csv").is_file()
