"""AU training on still photos: it learns what the labels say, and keeps pulse and breathing."""

from __future__ import annotations

import copy

import numpy as np
import torch

from bigsmall.constants import AU_NAMES
from bigsmall.data.expressions import is_greyscale
from bigsmall.models import create_model
from bigsmall.training.stills import (
    au_pos_weight,
    augment,
    evaluate_au,
    fit_au_on_stills,
    masked_bce,
)

AU12 = AU_NAMES.index("AU12")


def toy_photos(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(n, 32, 32, 3) greyscale "faces" with a bright bar (the "smile") on half of them, and
    targets: AU12 from the bar, every other AU not coded."""
    frames = rng.integers(60, 120, (n, 32, 32, 3), dtype=np.uint8)
    frames[:] = frames[..., :1]
    smile = rng.uniform(size=n) < 0.5
    frames[smile, 20:24, 8:24] = 230
    targets = np.full((n, len(AU_NAMES)), -1.0, np.float32)
    targets[:, AU12] = smile
    return frames, targets


def test_masked_bce_ignores_not_coded() -> None:
    logits = torch.tensor([[5.0, -5.0], [0.0, 0.0]])
    coded = masked_bce(logits, torch.tensor([[1.0, 0.0], [-1.0, -1.0]]), torch.ones(2))
    assert float(coded) < 0.01  # only the two confident, right entries count


def test_pos_weight_from_coded_labels() -> None:
    t = np.array([[1, 0, -1], [0, 0, -1], [0, 1, -1], [0, 0, -1], [0, 0, -1]], np.float32)
    assert np.allclose(au_pos_weight(t), [3.0, 3.0, 1.0])  # 4/1 capped at 3
    assert np.allclose(au_pos_weight(t[:3]), [2.0, 2.0, 1.0])


def test_augment_standardizes_and_tints_greyscale() -> None:
    rng = np.random.default_rng(0)
    frames, _ = toy_photos(4, rng)
    assert is_greyscale(frames).all()
    out = augment(frames, is_greyscale(frames), rng)
    assert out.shape == (4, 3, 32, 32) and out.dtype == np.float32
    assert np.allclose(out.mean((1, 2, 3)), 0, atol=1e-4)
    assert np.allclose(out.std((1, 2, 3)), 1, atol=1e-3)


def test_learns_the_labelled_au_and_keeps_the_pulse_outputs() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(1)
    frames, targets = toy_photos(256, rng)
    model = create_model("bigsmall_tiny_test").eval()
    teacher = copy.deepcopy(model)
    before = evaluate_au(model, frames[:64])[:, AU12]
    fit_au_on_stills(
        model, frames, targets, epochs=6, batch_size=16, lr=3e-3, frozen_convs=0,
        teacher=teacher, keep_weight=10.0, progress=False,
    )  # fmt: skip
    test_frames, test_targets = toy_photos(64, np.random.default_rng(2))
    after = evaluate_au(model, test_frames)[:, AU12]
    smile = test_targets[:, AU12] == 1
    accuracy = ((after >= 0.5) == smile).mean()
    assert accuracy > 0.9, accuracy
    assert ((before >= 0.5) == (targets[:64, AU12] == 1)).mean() < 0.75
    # Small branch untouched; the PPG output stays close to the teacher's on the same input.
    for name, p in teacher.named_parameters():
        if name.startswith(("small_conv", "bvp_fc", "resp_fc")):
            assert torch.equal(p, dict(model.named_parameters())[name])
    big = torch.randn(8, 3, 32, 32)
    small = torch.randn(8 * model.n_segment, 3, 4, 4)
    with torch.no_grad():
        a, b = model.forward_windows(big, small), teacher.forward_windows(big, small)
    assert float((a.bvp - b.bvp).abs().mean()) < 0.5 * float(b.bvp.abs().mean()) + 0.05
