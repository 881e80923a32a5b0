"""The weights record: written by every saver, read back the same, bad values in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigsmall.errors import CheckpointError
from bigsmall.models import create_model
from bigsmall.models.weights import save_safetensors
from bigsmall.models.weights_record import (
    WeightsRecord,
    read_weights_record,
    weights_record_from_metadata,
)


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    record = WeightsRecord(
        model="bigsmall_tiny_test",
        model_kwargs={"hidden": 16},
        n_segment=3,
        crop="face",
        align={"size": 200, "crop": 176},
        big_scale=1.2,
        training_data="synthetic",
        au_note="indicative",
        extra={"version": "1"},
    )
    path = save_safetensors(
        create_model("bigsmall_tiny_test"), tmp_path / "w.safetensors", record.to_metadata()
    )
    back = read_weights_record(path)
    assert back == record
    assert back.kwargs() == {"hidden": 16, "n_segment": 3}
    # a file without a record (a toolbox .pth) is only the default model
    assert read_weights_record(tmp_path / "x.pth") == WeightsRecord(model="bigsmall")


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"n_segment": "two"}, "n_segment 'two' is not a whole number"),
        ({"model_kwargs": "[1]"}, "model_kwargs must be a JSON object"),
        ({"align": "[200]"}, "align must be a JSON object"),
        ({"big_scale": "abc"}, "big_scale 'abc' is not a number 0.5..4.0"),
        ({"big_scale": "nan"}, "big_scale 'nan' is not a number"),
        ({"big_scale": "0"}, "big_scale '0' is not a number"),
        ({"big_scale": "100"}, "big_scale '100' is not a number"),
    ],
)
def test_bad_values_are_one_line(meta: dict[str, str], message: str) -> None:
    with pytest.raises(CheckpointError, match=message) as info:
        weights_record_from_metadata({"model": "bigsmall", **meta}, "w.safetensors")
    assert "\n" not in str(info.value)


def test_align_flag_forms() -> None:
    def align(value: str) -> object:
        return weights_record_from_metadata({"align": value}).align

    assert align("true") == {}
    assert align("false") is None
    assert align('{"enlarge": 2.5}') == {"enlarge": 2.5}


def test_big_scale_is_optional() -> None:
    assert weights_record_from_metadata({"model": "bigsmall"}).big_scale is None
    assert weights_record_from_metadata({"big_scale": ""}).big_scale is None
    assert weights_record_from_metadata({"big_scale": "1.2"}).big_scale == 1.2
