"""Toolbox checkpoints (weights-only) and safetensors round trip."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from bigsmall.errors import CheckpointError
from bigsmall.models import (
    create_model,
    load_safetensors,
    load_toolbox_checkpoint,
    read_toolbox_state_dict,
    save_safetensors,
)
from bigsmall.models.weights_record import read_safetensors_metadata


def _inputs(model, n_windows: int = 2):
    g = torch.Generator().manual_seed(1)
    f = n_windows * model.n_segment
    return (
        torch.randn(f, 3, model.big_size, model.big_size, generator=g),
        torch.randn(f, 3, model.small_size, model.small_size, generator=g),
    )


def test_toolbox_checkpoint_with_module_prefix_reproduces_outputs(tmp_path: Path) -> None:
    torch.manual_seed(3)
    src = create_model("bigsmall_tiny_test").eval()
    path = tmp_path / "toolbox.pth"
    torch.save({f"module.{k}": v for k, v in src.state_dict().items()}, path)
    torch.manual_seed(4)
    dst = create_model("bigsmall_tiny_test").eval()
    big, small = _inputs(src)
    assert not torch.equal(src(big, small).au, dst(big, small).au)
    load_toolbox_checkpoint(dst, path)
    for a, b in zip(src(big, small)[:3], dst(big, small)[:3], strict=True):
        assert torch.equal(a, b)
    # the same through create_model(checkpoint_path=...)
    via_registry = create_model("bigsmall_tiny_test", checkpoint_path=path).eval()
    assert torch.equal(via_registry(big, small).bvp, src(big, small).bvp)


def test_loader_uses_weights_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.pth"
    torch.save({"module.a": torch.ones(2)}, path)
    seen: dict[str, object] = {}
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    assert list(read_toolbox_state_dict(path)) == ["a"]
    assert seen.get("weights_only") is True


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pth"
    torch.save({"big_conv1.weight": torch.zeros(1), "obj": argparse.Namespace(x=1)}, path)
    with pytest.raises(CheckpointError, match=r"evil\.pth") as info:
        read_toolbox_state_dict(path)
    assert "weights_only" not in str(info.value)  # never advise the unsafe load
    assert "\n" not in str(info.value)


def test_rename_map_and_key_mismatch(tmp_path: Path) -> None:
    src = create_model("small_only_bvp", small_size=4, hidden=8).eval()
    state = {f"module.{k.replace('bvp_fc', 'out_fc')}": v for k, v in src.state_dict().items()}
    path = tmp_path / "small.pth"
    torch.save(state, path)
    dst = create_model("small_only_bvp", small_size=4, hidden=8)
    with pytest.raises(CheckpointError, match="unexpected"):
        load_toolbox_checkpoint(dst, path)
    load_toolbox_checkpoint(dst, path, rename={"out_fc1": "bvp_fc1", "out_fc2": "bvp_fc2"})
    assert torch.equal(dst.bvp_fc1.weight, src.bvp_fc1.weight)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    model = create_model("bigsmall_tiny_test")
    with pytest.raises(CheckpointError, match="not found"):
        load_toolbox_checkpoint(model, tmp_path / "nope.pth")
    junk = tmp_path / "junk.pth"
    for data in (b"not a checkpoint", b"hello\n"):  # "hello": a KeyError inside torch
        junk.write_bytes(data)
        with pytest.raises(CheckpointError, match=r"junk\.pth"):
            load_toolbox_checkpoint(model, junk)
    with pytest.raises(CheckpointError, match=r"junk\.safetensors"):
        junk_st = tmp_path / "junk.safetensors"
        junk_st.write_bytes(b"\x00" * 16)
        load_safetensors(model, junk_st)


def test_safetensors_round_trip_bit_identical(tmp_path: Path) -> None:
    torch.manual_seed(5)
    src = create_model("bigsmall_tiny_test")
    path = save_safetensors(
        src, tmp_path / "out" / "w.safetensors", {"model": "bigsmall_tiny_test"}
    )
    assert sorted(p.name for p in path.parent.iterdir()) == ["w.safetensors"]  # no temp left
    dst = create_model("bigsmall_tiny_test")
    load_safetensors(dst, path)
    for (k, a), (k2, b) in zip(src.state_dict().items(), dst.state_dict().items(), strict=True):
        assert k == k2
        assert torch.equal(a.view(torch.int32), b.view(torch.int32))
    assert read_safetensors_metadata(path)["model"] == "bigsmall_tiny_test"
    state = load_safetensors(path)
    assert set(state) == set(src.state_dict())
    again = create_model("bigsmall_tiny_test", checkpoint_path=path)
    assert torch.equal(again.au_fc1.weight, src.au_fc1.weight)


def test_official_checkpoints_load(official_weights_dir: Path) -> None:
    big = create_model("big_only")
    load_toolbox_checkpoint(
        big,
        official_weights_dir / "BP4D_Big_AU_Clip3_Split1_Epoch4.pth",
        rename={"out_fc1": "au_fc1", "out_fc2": "au_fc2"},
    )
    small = create_model("small_only_bvp")
    load_toolbox_checkpoint(
        small,
        official_weights_dir / "BP4D_Small_Heart_Clip3_Split1_Epoch4.pth",
        rename={"out_fc1": "bvp_fc1", "out_fc2": "bvp_fc2"},
    )
    assert float(big.au_fc1.weight.detach().abs().sum()) > 0
    assert float(small.small_conv1.weight.detach().abs().sum()) > 0
