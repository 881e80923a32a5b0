"""The authors' released BP4D+ weights: exact loading, functional parity, trio, conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bigsmall.cli import main
from bigsmall.constants import AU_NAMES
from bigsmall.errors import CheckpointError
from bigsmall.models import create_model
from bigsmall.models.official import (
    OFFICIAL_FILES,
    OFFICIAL_FOLDS,
    BigSmallTrio,
    bigsmall_from_trio,
    load_official,
    load_official_trio,
    read_official_state_dict,
)
from bigsmall.models.profile import count_params, profile_model
from bigsmall.models.weights import read_safetensors
from bigsmall.models.weights_record import read_safetensors_metadata

TOL = 1e-5
BIG_POOLS = (2, 2, 4)


def _big_reference(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Big branch + AU head recomputed with torch.nn.functional (dropout off)."""
    for i in range(1, 7):
        x = F.relu(F.conv2d(x, sd[f"big_conv{i}.weight"], sd[f"big_conv{i}.bias"], padding=1))
        if i % 2 == 0:
            x = F.avg_pool2d(x, BIG_POOLS[i // 2 - 1])
    h = F.relu(F.linear(x.reshape(x.shape[0], -1), sd["out_fc1.weight"], sd["out_fc1.bias"]))
    return F.linear(h, sd["out_fc2.weight"], sd["out_fc2.bias"])


def _small_reference(sd: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Small branch (no shift) + head recomputed with torch.nn.functional."""
    for i in range(1, 5):
        x = F.relu(F.conv2d(x, sd[f"small_conv{i}.weight"], sd[f"small_conv{i}.bias"], padding=1))
    h = F.relu(F.linear(x.reshape(x.shape[0], -1), sd["out_fc1.weight"], sd["out_fc1.bias"]))
    return F.linear(h, sd["out_fc2.weight"], sd["out_fc2.bias"])


def _raw(path: Path) -> dict[str, torch.Tensor]:
    sd = torch.load(path, map_location="cpu", weights_only=True)
    return {k.removeprefix("module."): v for k, v in sd.items()}


@pytest.fixture(scope="module")
def inputs() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(3, 3, 144, 144, generator=g), torch.randn(6, 3, 9, 9, generator=g)


@pytest.mark.parametrize("fold", OFFICIAL_FOLDS)
@pytest.mark.parametrize("name", sorted(OFFICIAL_FILES))
def test_official_file_loads_and_matches_functional(
    official_weights_dir: Path, name: str, fold: int, inputs: tuple[torch.Tensor, torch.Tensor]
) -> None:
    path = official_weights_dir / OFFICIAL_FILES[name].format(fold=fold)
    raw = _raw(path)
    model = load_official(name, path)  # strict: raises on any missing / unexpected key
    assert set(model.state_dict()) == set(read_official_state_dict(path, name))
    assert len(model.state_dict()) == len(raw)
    big, small = inputs
    with torch.no_grad():
        if name == "big_au":
            got = model(big, None).au
            want = _big_reference(raw, big)
            assert got.shape == (3, 12)
        else:
            out = model(None, small)
            got = out.bvp if name == "small_heart" else out.resp
            want = _small_reference(raw, small)
            assert got.shape == (6, 1)
    assert float((got - want).abs().max()) < TOL
    assert float(want.abs().max()) > 1e-3  # non-trivial outputs


@pytest.mark.parametrize("name", sorted(OFFICIAL_FILES))
def test_folds_differ(official_weights_dir: Path, name: str) -> None:
    sds = [_raw(official_weights_dir / OFFICIAL_FILES[name].format(fold=f)) for f in OFFICIAL_FOLDS]
    for a, b in ((0, 1), (0, 2), (1, 2)):
        for key in sds[a]:
            assert not torch.equal(sds[a][key], sds[b][key]), (name, key, a, b)


def test_heart_and_resp_differ(official_weights_dir: Path) -> None:
    heart = load_official("small_heart", official_weights_dir, fold=1)
    resp = load_official("small_resp", official_weights_dir, fold=1)
    assert not torch.equal(heart.small_conv1.weight, resp.small_conv1.weight)


def test_trio_outputs_and_profile(
    official_weights_dir: Path, inputs: tuple[torch.Tensor, torch.Tensor]
) -> None:
    trio = load_official_trio(official_weights_dir, fold=2)
    big3, small = inputs
    big = torch.cat([big3, big3.flip(0)])  # 6 frames
    with torch.no_grad():
        out = trio(big, small)
        au = trio.big_au(big, None).au
        bvp = trio.small_heart(None, small).bvp
        resp = trio.small_resp(None, small).resp
        win = trio.forward_windows(big[::3], small)
    assert torch.equal(out.au, au) and torch.equal(out.bvp, bvp) and torch.equal(out.resp, resp)
    assert torch.allclose(win.au[:3], au[:1].expand(3, -1), atol=TOL) and torch.equal(win.bvp, bvp)
    parts = [count_params(m) for m in trio.members().values()]
    prof = profile_model("bigsmall_trio")
    assert prof.params == sum(parts) == count_params(trio)
    members = sum(profile_model(n).macs_per_frame for n in OFFICIAL_FILES)
    assert prof.macs_per_frame == pytest.approx(members)
    assert prof.macs_m == pytest.approx(451.63 + 2 * 3.73, abs=0.02)


def test_bigsmall_from_trio_copies_tensors(official_weights_dir: Path) -> None:
    trio = load_official_trio(official_weights_dir, fold=3)
    model = bigsmall_from_trio(trio)
    assert model.shift_kind == "wtsm" and model.big_downsample
    assert torch.equal(model.big_conv1.weight, trio.big_au.big_conv1.weight)
    assert torch.equal(model.big_conv6.bias, trio.big_au.big_conv6.bias)
    assert torch.equal(model.au_fc2.weight, trio.big_au.au_fc2.weight)
    assert torch.equal(model.small_conv1.weight, trio.small_heart.small_conv1.weight)
    assert torch.equal(model.small_conv4.bias, trio.small_heart.small_conv4.bias)
    assert torch.equal(model.bvp_fc1.weight, trio.small_heart.bvp_fc1.weight)
    assert torch.equal(model.resp_fc1.weight, trio.small_resp.resp_fc1.weight)
    assert torch.equal(model.resp_fc2.bias, trio.small_resp.resp_fc2.bias)
    assert not torch.equal(model.small_conv1.weight, trio.small_resp.small_conv1.weight)
    alt = bigsmall_from_trio(trio, small_from="resp")
    assert torch.equal(alt.small_conv2.weight, trio.small_resp.small_conv2.weight)
    assert torch.equal(alt.bvp_fc2.weight, trio.small_heart.bvp_fc2.weight)
    model.big_conv1.weight.data.zero_()  # a copy, not shared storage
    assert float(trio.big_au.big_conv1.weight.detach().abs().sum()) > 0


def test_convert_round_trip(
    official_weights_dir: Path, tmp_path: Path, inputs: tuple[torch.Tensor, torch.Tensor]
) -> None:
    src = official_weights_dir / OFFICIAL_FILES["big_au"].format(fold=1)
    out = tmp_path / "big_au.safetensors"
    assert main(["convert-checkpoint", str(src), str(out)]) == 0
    meta = read_safetensors_metadata(out)
    assert meta["model"] == "big_au" and meta["source_file"] == src.name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big_au.safetensors"]
    converted = create_model("big_au", checkpoint_path=out).eval()
    reference = load_official("big_au", src)
    big = inputs[0]
    with torch.no_grad():
        assert torch.equal(converted(big, None).au, reference(big, None).au)
    assert "au_fc1.weight" in read_safetensors(out)


def test_convert_small_needs_name_and_trio_cli(official_weights_dir: Path, tmp_path: Path) -> None:
    heart = official_weights_dir / OFFICIAL_FILES["small_heart"].format(fold=2)
    renamed = tmp_path / "weights.pth"
    renamed.write_bytes(heart.read_bytes())
    with pytest.raises(CheckpointError, match="--model small_heart"):
        from bigsmall.models.convert import convert_checkpoint

        convert_checkpoint(renamed, tmp_path / "x.safetensors")
    out = tmp_path / "h.safetensors"
    assert main(["convert-checkpoint", str(renamed), str(out), "--model", "small_heart"]) == 0
    ref = load_official("small_heart", heart)
    assert torch.equal(read_safetensors(out)["bvp_fc2.weight"], ref.bvp_fc2.weight)
    init = tmp_path / "init.safetensors"
    assert (
        main(["init-from-trio", str(official_weights_dir), "--fold", "2", "--out", str(init)]) == 0
    )
    model = create_model("bigsmall", checkpoint_path=init)
    assert torch.equal(model.small_conv3.weight, ref.small_conv3.weight)
    from bigsmall.models.convert import load_converted

    assert load_converted(init).shift_kind == "wtsm"


def test_toolbox_bigsmall_checkpoint_converts(tmp_path: Path) -> None:
    src = create_model("bigsmall", hidden=16)
    pth = tmp_path / "toolbox.pth"
    torch.save({f"module.{k}": v for k, v in src.state_dict().items()}, pth)
    assert main(["convert-checkpoint", str(pth), str(tmp_path / "o.safetensors")]) == 0
    meta = read_safetensors_metadata(tmp_path / "o.safetensors")
    assert meta["model"] == "bigsmall" and '"hidden": 16' in meta["model_kwargs"]
    again = create_model("bigsmall", hidden=16, checkpoint_path=tmp_path / "o.safetensors")
    assert torch.equal(again.resp_fc1.weight, src.resp_fc1.weight)
    from bigsmall.models.convert import load_converted

    loaded = load_converted(tmp_path / "o.safetensors")
    assert loaded.au_fc1.out_features == 16 and torch.equal(loaded.au_fc2.bias, src.au_fc2.bias)


def test_missing_weights_dir_is_clear(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="released weights not found"):
        load_official_trio(tmp_path, fold=1)
    with pytest.raises(CheckpointError, match="fold 4"):
        load_official("big_au", tmp_path, fold=4)
    assert isinstance(create_model("bigsmall_trio"), BigSmallTrio)


def test_big_au_sees_smile_at_bp4d_framing(official_weights_dir: Path, faces_dir: Path) -> None:
    import cv2

    from bigsmall.video.face import detect_largest_face
    from bigsmall.video.framing import FRAMINGS, crop_framed
    from bigsmall.video.normalize import standardize_frames, uint8_to_unit_float

    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "single_face.jpg")), cv2.COLOR_BGR2RGB)
    face = detect_largest_face(rgb)
    assert face is not None
    unit = uint8_to_unit_float(rgb)
    x = np.stack([standardize_frames(crop_framed(unit, face, FRAMINGS[n])) for n in FRAMINGS])
    big = torch.from_numpy(x.astype(np.float32)).permute(0, 3, 1, 2)
    smile = [AU_NAMES.index("AU06"), AU_NAMES.index("AU12")]
    bp4d, toolbox = [], []
    for fold in OFFICIAL_FOLDS:
        model = load_official("big_au", official_weights_dir, fold=fold, n_segment=1)
        with torch.no_grad():
            p = torch.sigmoid(model(big, None).au)[:, smile]
        bp4d.append(float(p[list(FRAMINGS).index("bp4d_framing")].mean()))
        toolbox.append(float(p[list(FRAMINGS).index("toolbox")].mean()))
    # measured: bp4d 1.00 / 0.79 / 0.65 per fold, toolbox framing 0.19 / 0.01 / 0.01
    assert np.mean(bp4d) > 0.6 and min(bp4d) > 0.5, bp4d
    assert np.mean(toolbox) < 0.3, toolbox


def test_bp4d_framing_held_out_faces(official_weights_dir: Path, faces_dir: Path) -> None:
    """multi_face.jpg was not used to choose the framing: smiles must still read as smiles."""
    import cv2

    from bigsmall.video.face import HaarCascadeDetector
    from bigsmall.video.framing import BP4D_FRAMING, crop_framed
    from bigsmall.video.normalize import standardize_frames, uint8_to_unit_float

    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "multi_face.jpg")), cv2.COLOR_BGR2RGB)
    faces = sorted(
        HaarCascadeDetector(max_side_px=1000, min_size_frac=0.05).detect(rgb), key=lambda b: b.x
    )
    assert len(faces) == 4  # left to right: smile, neutral (boy at the back), smile, smile
    unit = uint8_to_unit_float(rgb)
    x = np.stack([standardize_frames(crop_framed(unit, f, BP4D_FRAMING)) for f in faces])
    big = torch.from_numpy(x.astype(np.float32)).permute(0, 3, 1, 2)
    smile = [AU_NAMES.index("AU06"), AU_NAMES.index("AU12")]
    probs = []
    for fold in OFFICIAL_FOLDS:
        model = load_official("big_au", official_weights_dir, fold=fold, n_segment=1)
        with torch.no_grad():
            probs.append(torch.sigmoid(model(big, None).au)[:, smile].mean(1).numpy())
    per_face = np.mean(probs, axis=0)  # measured 0.65, 0.17, 0.79, 0.74
    assert per_face[[0, 2, 3]].min() > 0.5 and per_face[1] < 0.3, per_face
