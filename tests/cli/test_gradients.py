"""``bigsmall gradients``: Fig. 6D angles on tiny synthetic data, with the config's warm-up."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bigsmall.cli import main

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "synthetic.yaml"
TINY = [
    "data.synthesize.subjects=2",
    "data.synthesize.seconds=6",
    "data.synthesize.width=160",
    "data.synthesize.height=120",
    "data.folds=2",
    "train.batch_size=8",
    "model.name=bigsmall_tiny_test",
    "preprocess.big_size=[32,32]",
    "preprocess.small_size=[4,4]",
]


@pytest.mark.timeout(120)
def test_gradients_writes_three_angles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("DATA", "CACHE", "RUNS"):
        monkeypatch.setenv(f"BIGSMALL_{name}", str(tmp_path / name.lower()))
    args = ["gradients", str(CONFIG), "--epochs", "1", "--batches", "2"]
    for item in TINY:
        args += ["--set", item]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "train.warmup_epochs 8 -> 0 for 1 epoch(s)" in out  # the paper's joint first epoch
    run = tmp_path / "runs" / "synthetic" / "gradients_fold1"
    rows = list(csv.DictReader((run / "gradients.csv").open()))
    assert {(r["task_a"], r["task_b"]) for r in rows} == {
        ("au", "bvp"),
        ("au", "resp"),
        ("bvp", "resp"),
    }
    assert all(0.0 <= float(r["angle_deg"]) <= 180.0 for r in rows)
    assert (run / "gradients.png").stat().st_size > 0


@pytest.mark.parametrize("flag", ["--epochs", "--batches"])
def test_gradients_rejects_non_positive_counts(flag: str, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["gradients", str(CONFIG), flag, "0"])
    assert info.value.code == 2
    assert "expected a whole number >= 1, got '0'" in capsys.readouterr().err
