"""``bigsmall profile`` and ``bigsmall export`` run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigsmall.cli import main


def test_profile_prints_table1_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "--model", "bigsmall", "small_only_bvp"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["bigsmall"][1:3] == ["2.142", "155.38"]
    assert rows["small_only_bvp"][1:3] == ["0.702", "3.73"]
    assert rows["bigsmall"][4] == "154.01"


def test_profile_unknown_model_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "--model", "bigsmal"]) == 2
    err = capsys.readouterr().err
    assert "registered models" in err and "bigsmall_tsm" in err


def test_export_writes_verified_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tiny.onnx"
    assert main(["export", "--model", "bigsmall_tiny_test", "--random", "--out", str(out)]) == 0
    assert out.is_file() and out.stat().st_size > 1000
    text = capsys.readouterr().out
    diff = float(text.split("max abs difference")[1].split()[0])
    assert diff < 1e-4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.onnx"]


def test_export_rejects_bad_suffix_and_checkpoint(tmp_path: Path) -> None:
    assert main(["export", "--model", "bigsmall_tiny_test", "--out", str(tmp_path / "x.pt")]) == 2
    missing = tmp_path / "missing.pth"
    code = main(["export", "--model", "bigsmall", "--out", str(tmp_path / "x.onnx"),
                 "--checkpoint", str(missing)])  # fmt: skip
    assert code == 2


def test_export_defaults_to_the_shipped_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --checkpoint exports what predict runs (not random weights), readable."""
    import numpy as np

    from bigsmall.models.onnx_runtime import OnnxModel
    from bigsmall.predict.runner import load_model, onnx_cache_path, shipped_weights_path

    out = tmp_path / "m.onnx"
    assert main(["export", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "shipped:bigsmall.safetensors" in text
    assert out.stat().st_mode & 0o044 == 0o044  # group/others may read it, as any new file
    module = load_model(None).module
    beside = shipped_weights_path().parent / onnx_cache_path(shipped_weights_path(), 3).name
    rng = np.random.default_rng(0)
    big = rng.standard_normal((2, 3, module.big_size, module.big_size)).astype(np.float32)
    small = rng.standard_normal((6, 3, module.small_size, module.small_size)).astype(np.float32)
    mine, predicts = OnnxModel(out)(big, small), OnnxModel(beside)(big, small)
    for task in module.tasks:
        assert np.allclose(getattr(mine, task), getattr(predicts, task), atol=1e-5)
    assert main(["export", "--model", "bigsmall_tsm", "--out", str(tmp_path / "x.onnx")]) == 2
    assert "no weights ship" in capsys.readouterr().err


def test_exported_weights_reproduce_predict_on_a_clip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ONNX Runtime on the file `bigsmall export` writes gives predict's own AU
    probabilities on a face video (the real ``single_face.mp4`` where ``../shared`` is
    present, else a generated face), prepared as predict prepares it."""
    import numpy as np

    from bigsmall.constants import AU_NAMES
    from bigsmall.models.onnx_runtime import OnnxModel
    from bigsmall.predict import Predictor
    from bigsmall.predict.demo_video import make_demo_video
    from bigsmall.video.inputs import build_bigsmall_inputs
    from bigsmall.video.normalize import standardize_table

    video = Path(__file__).resolve().parents[3] / "shared/data/faces/single_face.mp4"  # 72 frames
    if not video.is_file():
        video = tmp_path / "clip.mp4"
        make_demo_video(video, seconds=4.0)  # 120 frames: 40 whole windows
    out = tmp_path / "m.onnx"
    assert main(["export", "--out", str(out)]) == 0
    capsys.readouterr()
    predictor = Predictor(backend="onnx")
    result = predictor.predict(video)
    inputs = build_bigsmall_inputs(video, threaded=False, **predictor._input_kwargs())
    # the shipped weights' Big frames are cut at their own framing (record big_scale): the
    # frames the network reads, one in 3, are the inputs' extra Big stream
    assert predictor.session.big_scale == 1.2 and len(inputs.aligned) == -(-len(inputs) // 3)
    table = standardize_table(inputs.aligned.mean, inputs.aligned.std)
    big_first = table[inputs.aligned.frames[: len(inputs) // 3].transpose(0, 3, 1, 2)]
    small = np.ascontiguousarray(inputs.small.transpose(0, 3, 1, 2))
    logits = OnnxModel(out)(big_first, small).au
    probabilities = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    mine = result.frames[list(AU_NAMES)].to_numpy()
    face = result.frames["face_found"].to_numpy() == 1
    assert face.mean() > 0.9
    np.testing.assert_allclose(probabilities[face], mine[face], atol=1e-4)
