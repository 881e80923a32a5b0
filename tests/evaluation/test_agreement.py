"""AU agreement with a reference model and crop stability."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bigsmall.evaluation.agreement import au_agreement, au_crop_stability, big_au_agreement
from bigsmall.models import create_model
from bigsmall.video.boxes import Box
from bigsmall.video.framing import Framing


def test_au_agreement_numbers() -> None:
    ref = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.3], [0.1, 0.4]])
    probs = np.array([[0.7, 0.6], [0.6, 0.7], [0.4, 0.8], [0.3, 0.9]])
    res = au_agreement(probs, ref, au_names=("A", "B"))
    np.testing.assert_allclose(res.agreement, [1.0, 0.0])
    np.testing.assert_allclose(res.pearson, [np.corrcoef(probs[:, 0], ref[:, 0])[0, 1], 1.0])
    np.testing.assert_allclose(res.mean_abs_diff, [0.2, 0.5])
    np.testing.assert_allclose(res.rate, [0.5, 1.0])
    np.testing.assert_allclose(res.reference_rate, [0.5, 0.0])
    assert res.mean_agreement == pytest.approx(0.5)
    assert res.as_rows()[1]["au"] == "B"
    const = au_agreement(np.full((4, 2), 0.5), ref)
    assert np.isnan(const.pearson).all() and np.isnan(const.mean_pearson)


def test_model_agrees_with_itself_and_stability_shape() -> None:
    torch.manual_seed(0)
    kwargs = {"big_size": 32, "pool_sizes": (2, 2, 2), "hidden": 8, "n_segment": 1}
    ref = create_model("big_only", **kwargs)
    big = torch.randn(4, 3, 32, 32)
    same = big_au_agreement(ref, ref, big)
    np.testing.assert_allclose(same.agreement, 1.0)
    np.testing.assert_allclose(same.mean_abs_diff, 0.0)
    frames = np.random.default_rng(0).integers(0, 256, (2, 50, 60, 3), dtype=np.uint8)
    faces = [Box(20.0, 15.0, 16.0, 16.0)] * 2

    probs, std = au_crop_stability(ref, frames, faces, [Framing(2.0), Framing(2.0)])
    assert probs.shape == (2, 2, 12) and std.shape == (12,)
    np.testing.assert_allclose(std, 0.0, atol=1e-7)
    _, moved = au_crop_stability(ref, frames, faces, [Framing(2.0), Framing(1.2, dy=0.5)])
    assert float(moved.max()) > 1e-6  # random weights: small but non-zero
