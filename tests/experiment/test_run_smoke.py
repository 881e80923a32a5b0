"""End to end on the built-in synthetic data: synth → preprocess → train (1 routed warm-up
epoch + 1 joint epoch) → evaluate."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tiny_runs import run_config


@pytest.mark.timeout(120)
def test_run_synthetic_tiny(tmp_path: Path) -> None:
    overrides = [
        "data.synthesize.subjects=2",
        "data.synthesize.seconds=6",
        "data.synthesize.width=160",
        "data.synthesize.height=120",
        "data.folds=2",
        "train.epochs=2",
        "train.warmup_epochs=1",  # the config's routed warm-up, kept in miniature
        "train.batch_size=8",
        "model.name=bigsmall_tiny_test",
        "preprocess.big_size=[32,32]",
        "preprocess.small_size=[4,4]",
    ]
    run = run_config("synthetic.yaml", tmp_path, overrides) / "synthetic" / "fold1"
    rows = list(csv.DictReader((run / "results.csv").open()))
    methods = [r["method"] for r in rows]
    assert methods[:3] == ["bigsmall_tiny_test", "POS", "CHROM"]
    assert set(methods[3:]) <= {"all-positive", "all-negative"}
    for row in rows[:3]:
        assert float(row["hr_mae"]) >= 0  # a real number, not NaN/blank
    per_recording = list(csv.DictReader((run / "per_recording.csv").open()))
    assert len(per_recording) == 3  # one test recording, three methods
    (recording,) = {r["recording"] for r in per_recording}
    subject = recording.split("__")[0]
    truth_path = tmp_path / "data" / "synthetic" / subject / f"{subject}_T1.json"
    truth = json.loads(truth_path.read_text())
    # The reference rate is read from the cached label wave by the evaluator: it must agree
    # with the generator's ground truth (FFT resolution of a 6 s clip is ~3.5 bpm).
    ref = float(per_recording[0]["hr_ref_bpm"])
    assert ref == pytest.approx(truth["heart_rate_bpm"], abs=4.0)
    assert (run / "config.yaml").is_file()
    epochs = list(csv.DictReader((run / "metrics.csv").open()))
    assert [int(e["epoch"]) for e in epochs] == [1, 2]
    au_weight = 2.0  # the config's train.task_weights.au
    # Both epochs train every task (in the warm-up each loss updates only its own branch:
    # tests/training/test_loop.py), combined with the config's task weights.
    for epoch in ({k: float(v) for k, v in e.items()} for e in epochs):
        assert epoch["loss"] == pytest.approx(
            au_weight * epoch["loss_au"] + epoch["loss_bvp"] + epoch["loss_resp"]
        )
    assert "Method" in (run / "results.md").read_text()


@pytest.mark.timeout(240)
def test_run_bigsmall_pp_synthetic_tiny(tmp_path: Path) -> None:
    """BigSmall++ (the real network, 176×176 Big) trains one epoch and is evaluated."""
    overrides = [
        "data.synthesize.subjects=2",
        "data.synthesize.seconds=4",
        "data.synthesize.fps=15",
        "data.synthesize.width=160",
        "data.synthesize.height=120",
        "data.folds=2",
        "train.epochs=1",
        "train.warmup_epochs=0",
        "train.batch_size=4",
    ]
    runs = run_config("synthetic_bigsmall_pp.yaml", tmp_path, overrides)
    run = runs / "synthetic_bigsmall_pp" / "fold1"
    rows = list(csv.DictReader((run / "results.csv").open()))
    assert rows[0]["method"] == "bigsmall_pp"
    assert float(rows[0]["hr_mae"]) >= 0 and float(rows[0]["au_f1"]) >= 0
    (epoch,) = [
        {k: float(v) for k, v in e.items()} for e in csv.DictReader((run / "metrics.csv").open())
    ]
    assert epoch["loss_au"] > 0 and epoch["loss_bvp"] > 0 and epoch["loss_resp"] > 0
    assert epoch["loss"] == pytest.approx(
        2.0 * epoch["loss_au"] + epoch["loss_bvp"] + epoch["loss_resp"]
    )
    from bigsmall.models.weights_record import read_weights_record

    record = read_weights_record(run / "checkpoints" / "last.safetensors")
    assert record.model == "bigsmall_pp" and record.n_segment == 3
