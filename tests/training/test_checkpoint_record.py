"""Checkpoints of the trainer carry the weights record of their experiment."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bigsmall.models import create_model
from bigsmall.models.weights_record import (
    read_safetensors_metadata,
    read_weights_record,
    record_from_experiment,
)
from bigsmall.training.checkpoint import save_checkpoint
from bigsmall.training.losses import MultiTaskLoss


def test_trainer_checkpoints_carry_the_experiment_record(tmp_path: Path) -> None:
    """A checkpoint of `bigsmall run` says which model, N, crop and alignment it needs."""
    config = {
        "name": "bp4d_bigsmall_aligned",
        "data": {"source": "bp4d_plus"},
        "preprocess": {"n_segment": 3, "crop": "face", "align": True},
        "model": {"name": "bigsmall_tiny_test", "kwargs": {"hidden": 16}},
    }
    model = create_model("bigsmall_tiny_test", hidden=16)
    optimizer = torch.optim.Adam(model.parameters())
    stem = save_checkpoint(
        tmp_path / "last", model, optimizer, MultiTaskLoss({"au": 1.0}), {"config": config}
    )
    meta = read_safetensors_metadata(stem.with_suffix(".safetensors"))
    assert meta["model"] == "bigsmall_tiny_test" and meta["n_segment"] == "3"
    assert json.loads(meta["model_kwargs"]) == {"hidden": 16}
    assert meta["crop"] == "face" and json.loads(meta["align"]) == {}
    assert "bp4d_plus" in meta["training_data"]
    assert read_weights_record(stem.with_suffix(".safetensors")) == record_from_experiment(config)
    # "auto" crops follow each dataset's layout: nothing to record
    auto = record_from_experiment({**config, "preprocess": {"crop": "auto", "n_segment": 3}})
    assert auto.crop is None and auto.align is None
