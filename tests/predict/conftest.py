"""Fixtures of the predict tests: a generated face video with known rates, tiny weights."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Length of the shared demo video: long enough for a breathing rate (≥ 20 s).
DEMO_TEST_SECONDS = 24.0


@pytest.fixture(scope="session")
def demo_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """(path, DemoTruth) of a generated calm face video with a known pulse and breathing."""
    from bigsmall.predict.demo_video import make_demo_video

    path = tmp_path_factory.mktemp("demo") / "demo.mp4"
    truth = make_demo_video(path, seconds=DEMO_TEST_SECONDS)
    return path, truth


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init tiny BigSmall (32×32 Big, 4×4 Small) saved as safetensors."""
    import torch

    from bigsmall.models import create_model
    from bigsmall.models.weights import save_safetensors

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_safetensors(create_model("bigsmall_tiny_test"), path, {"model": "bigsmall_tiny_test"})
    return path
