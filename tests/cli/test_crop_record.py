"""A checkpoint of `bigsmall run` carries its crop; predict, live and export honour it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bigsmall.cli import main
from tiny_runs import run_config


@pytest.fixture(scope="module")
def full_crop_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(weights trained on whole frames — a non-default crop —, one of the training videos)."""
    root = tmp_path_factory.mktemp("crop")
    overrides = [
        "data.synthesize.subjects=2",
        "data.synthesize.seconds=6",
        "data.synthesize.width=160",
        "data.synthesize.height=120",
        "data.folds=2",
        "train.epochs=1",
        "train.warmup_epochs=0",
        "train.batch_size=8",
        "model.name=bigsmall_tiny_test",
        "preprocess.big_size=[32,32]",
        "preprocess.small_size=[4,4]",
        "preprocess.crop=full",
    ]
    runs = run_config("synthetic.yaml", root, overrides)
    weights = runs / "synthetic" / "fold1" / "checkpoints" / "last.safetensors"
    video = next((root / "data" / "synthetic").glob("*/*.mp4"))
    return weights, video


def test_predict_runs_the_recorded_crop(full_crop_checkpoint: tuple[Path, Path]) -> None:
    from bigsmall import Predictor

    weights, video = full_crop_checkpoint
    result = Predictor(checkpoint=weights, backend="torch").predict(video)
    assert result.model["crop"] == "full"
    frames = result.frames
    assert np.allclose(frames["box_w"], 160) and np.allclose(frames["box_h"], 120)


def test_live_and_export_say_the_crop(
    full_crop_checkpoint: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import onnx

    weights, video = full_crop_checkpoint
    live = ["live", "--video", str(video), "--checkpoint", str(weights), "--seconds", "2"]
    assert main([*live, "--backend", "torch"]) == 0
    assert "crop full" in capsys.readouterr().err
    out = tmp_path / "m.onnx"
    assert main(["export", "--checkpoint", str(weights), "--out", str(out), "--no-verify"]) == 0
    assert "crop full" in capsys.readouterr().out
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert meta["crop"] == "full" and meta["model"] == "bigsmall_tiny_test"
    assert meta["n_segment"] == "3"
