"""BigSmall network: temporal downsampling, fusion, shapes, registry."""

from __future__ import annotations

import pytest
import torch

from bigsmall.errors import ModelNotFoundError
from bigsmall.models import BigSmall, BigSmallOutput, create_model, list_models
from bigsmall.models.bigsmall import forward_windows_chunked
from bigsmall.models.torch_runtime import TorchWindowsModel

N_WINDOWS = 2


def _inputs(model: BigSmall, n_windows: int = N_WINDOWS) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    frames = n_windows * model.n_segment
    big = torch.randn(frames, model.in_channels, model.big_size, model.big_size, generator=g)
    small = torch.randn(frames, model.in_channels, model.small_size, model.small_size, generator=g)
    return big, small


def test_registered_names() -> None:
    names = set(list_models())
    expected = {
        "bigsmall",
        "bigsmall_no_downsample",
        "bigsmall_tsm",
        "bigsmall_noshift",
        "big_only",
        "small_only",
        "bigsmall_tiny_test",
    }
    assert expected <= names
    assert list_models("bigsmall_t*") == ["bigsmall_tiny_test", "bigsmall_trio", "bigsmall_tsm"]


def test_unknown_model_lists_registered_names() -> None:
    with pytest.raises(ModelNotFoundError) as info:
        create_model("bigsmal")
    message = str(info.value)
    assert "bigsmal" in message and "bigsmall_no_downsample" in message and "small_only" in message
    assert "\n" not in message


def test_state_dict_names_match_reference() -> None:
    keys = set(create_model("bigsmall").state_dict())
    expected = {f"big_conv{i}.{p}" for i in range(1, 7) for p in ("weight", "bias")}
    expected |= {f"small_conv{i}.{p}" for i in range(1, 5) for p in ("weight", "bias")}
    expected |= {
        f"{t}_fc{i}.{p}" for t in ("au", "bvp", "resp") for i in (1, 2) for p in ("weight", "bias")
    }
    assert keys == expected
    sd = create_model("bigsmall").state_dict()
    assert tuple(sd["au_fc1.weight"].shape) == (128, 64 * 9 * 9)
    assert tuple(sd["au_fc2.weight"].shape) == (12, 128)
    assert tuple(sd["bvp_fc2.weight"].shape) == (1, 128)


def test_flatten_dim_derives_from_arguments() -> None:
    m = BigSmall(
        big_size=72,
        small_size=4,
        pool_sizes=(2, 3, 3),
        n_au=8,
        big_channels=(8, 8, 8, 16, 16, 16),
        small_channels=(8, 8, 8, 16),
        hidden=10,
    )
    assert m.flat_features == 16 * 4 * 4
    assert m.au_fc2.out_features == 8
    big, small = _inputs(m)
    out = m.eval()(big, small)
    assert out.au.shape == (N_WINDOWS * 3, 8)
    with pytest.raises(ValueError, match="must match for sum fusion"):
        BigSmall(big_size=72, small_size=9)


@pytest.mark.parametrize("n_segment", [2, 3, 4])
def test_shapes_one_row_per_frame(n_segment: int) -> None:
    m = create_model("bigsmall_tiny_test", n_segment=n_segment).eval()
    big, small = _inputs(m)
    out = m(big, small)
    assert isinstance(out, BigSmallOutput)
    frames = N_WINDOWS * n_segment
    assert out.au.shape == (frames, 12)
    assert out.bvp.shape == (frames, 1)
    assert out.resp.shape == (frames, 1)


def test_default_model_shapes() -> None:
    m = create_model("bigsmall").eval()
    big, small = _inputs(m, n_windows=1)
    with torch.no_grad():
        out = m(big, small)
    assert [tuple(o.shape) for o in out[:3]] == [(3, 12), (3, 1), (3, 1)]
    assert out.landmarks is None  # no face-alignment branch


def test_batch_not_divisible_raises() -> None:
    m = create_model("bigsmall_tiny_test").eval()
    big, small = _inputs(m)
    with pytest.raises(ValueError, match="not divisible by n_segment=3"):
        m(big[:-1], small[:-1])


@pytest.mark.parametrize("n_segment", [2, 3, 4])
def test_big_temporal_downsampling(n_segment: int) -> None:
    m = create_model("bigsmall_tiny_test", n_segment=n_segment).eval()
    big, small = _inputs(m)
    ref = m(big, small)
    changed = big.clone()
    for w in range(N_WINDOWS):
        changed[w * n_segment + 1 : (w + 1) * n_segment] += 5.0  # not the first frames
    same = m(changed, small)
    for a, b in zip(ref[:3], same[:3], strict=True):
        assert torch.equal(a, b)
    first = big.clone()
    first[n_segment] += 5.0  # first frame of window 1
    diff = m(first, small)
    rows = slice(n_segment, 2 * n_segment)
    for a, b in zip(ref[:3], diff[:3], strict=True):
        assert torch.equal(a[:n_segment], b[:n_segment])  # window 0 untouched
        assert not torch.allclose(a[rows], b[rows])  # every frame of window 1 changed


def test_no_downsample_uses_every_big_frame() -> None:
    m = create_model("bigsmall_tiny_test", big_downsample=False).eval()
    big, small = _inputs(m)
    ref = m(big, small)
    changed = big.clone()
    changed[1] += 5.0
    out = m(changed, small)
    assert not torch.allclose(ref.au[1], out.au[1])
    assert torch.equal(ref.au[0], out.au[0])


def test_forward_windows_equals_forward() -> None:
    m = create_model("bigsmall").eval()
    big, small = _inputs(m)
    with torch.no_grad():
        a = m(big, small)
        b = m.forward_windows(big[:: m.n_segment].clone(), small)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-6)


def test_chunked_windows_equal_one_call() -> None:
    m = create_model("bigsmall_tiny_test").eval()
    big, small = _inputs(m, n_windows=5)
    whole = m.forward_windows(big[:: m.n_segment], small)
    for channels_last in (False, True):
        parts = forward_windows_chunked(
            m, big[:: m.n_segment], small, chunk_windows=2, channels_last=channels_last
        )
        for a, b in zip(whole, parts, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_fusion_is_sum_of_branches() -> None:
    m = create_model("bigsmall_tiny_test").eval()
    big, small = _inputs(m)
    b = m.big_branch(big[:: m.n_segment]).repeat_interleave(m.n_segment, dim=0)
    fused = b + m.small_branch(small)
    expected = m.bvp_fc2(torch.relu(m.bvp_fc1(fused.flatten(1))))
    torch.testing.assert_close(m(big, small).bvp, expected)


def test_single_branch_models() -> None:
    big_m = create_model("big_only", big_size=32, pool_sizes=(2, 2, 2), hidden=8).eval()
    big, _ = _inputs(big_m)
    out = big_m(big, None)
    assert out.au.shape == (N_WINDOWS * 3, 12) and out.bvp is None and out.resp is None
    small_m = create_model("small_only").eval()
    _, small = _inputs(small_m)
    out = small_m(None, small)
    assert out.au is None and out.bvp.shape == (6, 1) and out.resp.shape == (6, 1)
    assert "small_conv1.weight" in small_m.state_dict()
    assert not any(k.startswith("big_") for k in small_m.state_dict())


def test_shift_variants_differ() -> None:
    torch.manual_seed(0)
    outs = {}
    for name in ("bigsmall_tiny_test",):
        for shift in ("wtsm", "tsm", "none"):
            torch.manual_seed(0)
            m = create_model(name, shift=shift).eval()
            big, small = _inputs(m)
            outs[shift] = m(big, small).bvp
    assert not torch.allclose(outs["wtsm"], outs["tsm"])
    assert not torch.allclose(outs["wtsm"], outs["none"])
    assert create_model("bigsmall_tsm").small_shift1.wrap is False
    assert create_model("bigsmall").small_shift1.wrap is True


def test_torch_windows_model_matches_forward() -> None:
    m = create_model("bigsmall_tiny_test").eval()
    big, small = _inputs(m, n_windows=5)
    ref = m(big, small)
    fast = TorchWindowsModel(m, chunk_windows=2)
    assert isinstance(fast._fn, torch.jit.ScriptModule)
    out = fast(big[:: m.n_segment], small)
    for a, b in zip(ref, out, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-5)
    assert next(m.parameters()).is_contiguous()  # the original model is untouched
    with pytest.raises(ValueError, match="expected 5 windows"):
        fast(big[:: m.n_segment], small[:-1])


@pytest.mark.parametrize("windows", [True, False])
def test_route_gradients_keeps_outputs_and_sends_each_loss_to_its_branch(windows: bool) -> None:
    torch.manual_seed(0)
    model = create_model("bigsmall_tiny_test", big_downsample=windows).eval()  # no dropout
    n = model.n_segment
    big = torch.randn(2 * n, 3, model.big_size, model.big_size)
    small = torch.randn(2 * n, 3, model.small_size, model.small_size)
    plain = model(big, small)
    model.route_gradients = True
    routed = model(big, small)
    for a, b in zip(plain[:3], routed[:3], strict=True):
        assert torch.equal(a, b)  # forward values unchanged
    routes = (("au", "big_conv1", "small_conv1"), ("bvp", "small_conv1", "big_conv1"),
              ("resp", "small_conv1", "big_conv1"))  # fmt: skip
    for task, own, other in routes:
        model.zero_grad(set_to_none=True)
        getattr(model(big, small), task).square().mean().backward()
        assert getattr(model, own).weight.grad.abs().sum() > 0, task
        assert getattr(model, other).weight.grad is None, task
