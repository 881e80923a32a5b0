"""ONNX export parity under ONNX Runtime, and int8 quantisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from bigsmall.models import create_model
from bigsmall.models.export import example_inputs, export_onnx
from bigsmall.models.onnx_runtime import OnnxModel, quantize_int8

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[torch.nn.Module, Path]:
    torch.manual_seed(0)
    model = create_model("bigsmall").eval()
    path = export_onnx(model, tmp_path_factory.mktemp("onnx") / "bigsmall.onnx")
    return model, path


@pytest.mark.parametrize("n_windows", [1, 5])
def test_windows_path_parity(exported, n_windows: int) -> None:
    model, path = exported
    big_first, small = example_inputs(model, windows_path=True, n_windows=n_windows)
    got = OnnxModel(path, intra_op_num_threads=2)(big_first, small)
    chunked = OnnxModel(path, chunk_windows=2)(big_first, small)
    with torch.no_grad():
        ref = model.forward_windows(big_first, small)
        ref_frames = model(big_first.repeat_interleave(model.n_segment, dim=0), small)
    for task in ("au", "bvp", "resp"):
        out = getattr(got, task)
        assert out.shape == (n_windows * model.n_segment, getattr(ref, task).shape[1])
        np.testing.assert_allclose(out, getattr(ref, task).numpy(), atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(out, getattr(ref_frames, task).numpy(), atol=TOLERANCE, rtol=0)
        np.testing.assert_allclose(getattr(chunked, task), out, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("name", "windows_path"),
    [("bigsmall_tiny_test", False), ("small_only", None), ("big_only", None)],
)
def test_other_graphs_parity(tmp_path: Path, name: str, windows_path: bool | None) -> None:
    kwargs = {"big_size": 32, "pool_sizes": (2, 2, 2)} if name == "big_only" else {}
    model = create_model(name, n_segment=2, **kwargs).eval()
    path = export_onnx(model, tmp_path / f"{name}.onnx", windows_path=windows_path)
    inputs = example_inputs(model, windows_path=bool(windows_path), n_windows=4)
    session = OnnxModel(path, chunk_windows=3)  # 4 windows: chunks of 3 and 1
    assert session.n_segment == 2
    feeds = dict(zip(session.input_names, inputs, strict=True))
    big, small = feeds.get("big", feeds.get("big_first")), feeds.get("small")
    got = session(big, small)
    with torch.no_grad():
        ref = model(big, small)
    for task in model.tasks:
        np.testing.assert_allclose(getattr(got, task), getattr(ref, task).numpy(), atol=TOLERANCE)
    assert [getattr(got, t) is None for t in ("au", "bvp", "resp")] == [
        getattr(ref, t) is None for t in ("au", "bvp", "resp")
    ]


def test_int8_quantisation_tracks_fp32(exported, tmp_path: Path) -> None:
    model, path = exported
    int8 = quantize_int8(path, tmp_path / "int8.onnx")
    assert int8.stat().st_size < path.stat().st_size / 2
    big_first, small = example_inputs(model, windows_path=True, n_windows=8)
    fp32 = OnnxModel(path)(big_first, small).bvp[:, 0]
    q = OnnxModel(int8)(big_first, small).bvp[:, 0]
    assert np.corrcoef(fp32, q)[0, 1] > 0.9


def test_onnx_runtime_loads_without_the_quantization_toolkit() -> None:
    """Running a graph never pays for ONNX Runtime's quantization module (it imports onnx and
    costs about a second of every `predict`'s start-up); int8 export imports it when asked."""
    import subprocess
    import sys

    code = (
        "import sys, bigsmall.models.onnx_runtime as m; "
        "assert 'onnxruntime.quantization' not in sys.modules, 'eager import'; "
        "assert callable(m.quantize_int8)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
