import sys
from pathlib import Path

import pytest
import torch

from bigsmall.models import create_model
from bigsmall.models.weights import read_safetensors
from bigsmall.training.augment import augment_batch, hflip, translate
from bigsmall.training.loop import fit
from bigsmall.training.losses import MultiTaskLoss
from bigsmall.training.settings import TrainSettings

sys.path.insert(0, str(Path(__file__).parent))
from helpers import ToyWindows


def _batch(b: int = 64) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {
        "big": torch.randn(b, 1, 3, 20, 30, generator=g),
        "small": torch.randn(b, 3, 3, 9, 9, generator=g),
        "au": torch.randint(0, 2, (b, 3, 12), generator=g),
        "bvp": torch.randn(b, 3, generator=g),
    }


def test_hflip_mirrors_whole_windows_and_keeps_labels() -> None:
    batch = _batch()
    out = hflip(batch, torch.Generator().manual_seed(0), 0.0)
    flipped = [bool(torch.equal(out["big"][i], batch["big"][i].flip(-1))) for i in range(64)]
    kept = [bool(torch.equal(out["big"][i], batch["big"][i])) for i in range(64)]
    assert all(f != k for f, k in zip(flipped, kept, strict=True))  # each window: one or other
    assert 20 <= sum(flipped) <= 44  # about half
    for i in range(64):  # the Small frames of a window follow its Big frame
        want = batch["small"][i].flip(-1) if flipped[i] else batch["small"][i]
        assert torch.equal(out["small"][i], want)
    assert out["au"] is batch["au"] and out["bvp"] is batch["bvp"]


def test_translate_shifts_big_by_whole_pixels_within_the_limit() -> None:
    h, w = 20, 30
    ramp = (torch.arange(h)[:, None] * 100 + torch.arange(w)[None, :]).float()
    batch = {"big": ramp.expand(16, 1, 3, h, w).clone(), "small": torch.randn(16, 3, 3, 9, 9)}
    out = translate(batch, torch.Generator().manual_seed(0), 0.1)  # up to 2 px down, 3 across
    assert out["big"].shape == batch["big"].shape
    assert out["small"] is batch["small"]
    shifts = set()
    for i in range(16):
        frame = out["big"][i, 0, 0]
        sy = round(float(frame[10, 15] // 100)) - 10  # row read at row 10
        sx = round(float(frame[10, 15] % 100)) - 15
        assert abs(sy) <= 2 and abs(sx) <= 3
        assert torch.equal(frame[5:15, 5:25], ramp[5 + sy : 15 + sy, 5 + sx : 25 + sx])
        shifts.add((sy, sx))
    assert len(shifts) > 4
    # Edges are replicated, never wrapped around.
    assert float(out["big"].min()) >= 0 and float(out["big"].max()) <= float(ramp.max())


def test_augment_batch_is_reproducible_from_the_generator() -> None:
    a = augment_batch(_batch(), ("hflip", "translate"), torch.Generator().manual_seed(5))
    b = augment_batch(_batch(), ("hflip", "translate"), torch.Generator().manual_seed(5))
    c = augment_batch(_batch(), ("hflip", "translate"), torch.Generator().manual_seed(6))
    assert torch.equal(a["big"], b["big"]) and torch.equal(a["small"], b["small"])
    assert not torch.equal(a["big"], c["big"])


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"augment": ("mixup",)}, r"augment: \['mixup'\] not among"),
        ({"augment_max_shift": 0.5}, "augment_max_shift must be"),
    ],
)
def test_augment_settings_are_validated(kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainSettings(**kw)


def test_resume_with_augmentation_is_exact(tmp_path: Path) -> None:
    s = TrainSettings(
        epochs=3, batch_size=8, lr=3e-3, seed=2, device="cpu", augment=("hflip", "translate")
    )
    loss = lambda: MultiTaskLoss({"au": 1.0, "bvp": 1.0, "resp": 1.0})  # noqa: E731
    torch.manual_seed(0)
    full = create_model("bigsmall_tiny_test")
    init = {k: v.clone() for k, v in full.state_dict().items()}
    fit(full, ToyWindows(), s, tmp_path / "full", loss_fn=loss(), progress=False)
    part = create_model("bigsmall_tiny_test")
    part.load_state_dict(init)
    run = tmp_path / "part"
    fit(part, ToyWindows(), s, run, loss_fn=loss(), progress=False, stop_after_epochs=1)
    fit(
        create_model("bigsmall_tiny_test"),
        ToyWindows(),
        s,
        run,
        loss_fn=loss(),
        progress=False,
        resume=True,
    )
    a = read_safetensors(tmp_path / "full" / "checkpoints" / "last.safetensors")
    b = read_safetensors(run / "checkpoints" / "last.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    # ... and augmentation changed the training (same seed, no augmentation: other weights).
    plain = create_model("bigsmall_tiny_test")
    plain.load_state_dict(init)
    s0 = TrainSettings(epochs=3, batch_size=8, lr=3e-3, seed=2, device="cpu")
    fit(plain, ToyWindows(), s0, tmp_path / "plain", loss_fn=loss(), progress=False)
    c = read_safetensors(tmp_path / "plain" / "checkpoints" / "last.safetensors")
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_hflip_mirrors_landmarks_with_their_windows() -> None:
    from bigsmall.constants import MIRROR_49

    batch = _batch(16)
    marks = torch.rand(16, 1, 49, 2, generator=torch.Generator().manual_seed(2))
    marks[0, 0, 5] = float("nan")
    out = hflip({**batch, "landmarks": marks}, torch.Generator().manual_seed(0), 0.0)
    flipped = (out["big"] != batch["big"]).flatten(1).any(1)
    assert flipped.any() and (~flipped).any()
    perm = list(MIRROR_49)
    for i in range(16):
        if flipped[i]:
            exp = marks[i, :, perm].clone()
            exp[..., 0] = 1 - exp[..., 0]
        else:
            exp = marks[i]
        assert torch.allclose(out["landmarks"][i], exp, equal_nan=True)
    # left eye outer corner (19) of a mirrored window = mirrored right eye outer corner (28)
    i = int(flipped.nonzero()[0])
    assert out["landmarks"][i, 0, 19, 0] == pytest.approx(1 - float(marks[i, 0, 28, 0]))


def test_translate_moves_landmarks_with_the_big_frame() -> None:
    big = torch.zeros(2, 1, 1, 40, 40)
    big[:, :, :, 10, 30] = 1.0  # a bright pixel at (x, y) = (30, 10)
    marks = torch.tensor([[30.5 / 40, 10.5 / 40]]).expand(2, 1, 49, 2).clone()
    out = translate({"big": big, "landmarks": marks}, torch.Generator().manual_seed(0), 0.1)
    for i in range(2):
        y, x = divmod(int(out["big"][i, 0, 0].flatten().argmax()), 40)
        assert out["landmarks"][i, 0, 0].tolist() == pytest.approx([(x + 0.5) / 40, (y + 0.5) / 40])
