"""The default weights that ship inside the package: present, self-describing, and working."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bigsmall.models.weights_record import read_safetensors_metadata
from bigsmall.predict import Predictor
from bigsmall.predict.runner import load_model, onnx_cache_path, shipped_weights_path


def test_shipped_weights_are_complete() -> None:
    path = shipped_weights_path()
    assert path.is_file(), "src/bigsmall/weights/bigsmall.safetensors is missing"
    meta = read_safetensors_metadata(path)
    assert meta["model"] == "bigsmall" and meta["n_segment"] == "3"
    assert meta["crop"] == "face"
    assert "expressions" in meta["training_data"]
    assert 5e6 < path.stat().st_size < 20e6  # a few MB, fp32 2.14 M parameters
    assert onnx_cache_path(path, 3).parent == path.parent  # the graph ships beside them
    assert (path.parent / "MODEL_CARD.md").is_file()
    loaded = load_model(None)
    assert loaded.name == "bigsmall" and loaded.crop == "face"
    assert sum(p.numel() for p in loaded.module.parameters()) == 2_142_478


def test_onnx_path_opens_the_shipped_weights_without_pytorch() -> None:
    # A fresh interpreter: the test process has imported torch already.
    code = (
        "import sys\n"
        "from bigsmall.predict import Predictor\n"
        "p = Predictor(progress=False)\n"
        "_, backend = p.session.runner()\n"
        "print(backend, p.session.n_segment, p.session.big_hw, p.session.small_hw, "
        "'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[-2] == "onnx 3 (144, 144) (9, 9) False"
    # the network itself is still there when asked for (built on first use)
    loaded = load_model(None, for_onnx=True)
    assert loaded.shape.n_segment == 3 and loaded.exportable
    assert sum(p.numel() for p in loaded.module.parameters()) == 2_142_478


def test_default_model_reads_the_demo_rates(demo_video: tuple[Path, object]) -> None:
    path, truth = demo_video
    result = Predictor().predict(path)
    assert result.model["name"] == "bigsmall" and result.model["backend"] == "onnx"
    assert result.heart_rate_bpm == pytest.approx(truth.heart_rate_bpm, abs=3.0)
    assert result.breathing_rate_bpm == pytest.approx(truth.breathing_rate_bpm, abs=3.0)
    assert set(result.au_occurrence) >= {"AU06", "AU12"}


def test_fused_and_model_pulse_on_the_demo(demo_video: tuple[Path, object]) -> None:
    """The default reads the network's PPG with POS on the skin colour; ``pulse="model"``
    reads the PPG alone; both find the demo's rate, each with its own gate."""
    path, truth = demo_video
    fused = Predictor().predict(path)
    alone = Predictor(pulse="model").predict(path)
    assert fused.signal_quality["pulse_source"].startswith("fused")
    assert alone.signal_quality["pulse_source"].startswith("model")
    assert fused.signal_quality["pulse_snr_threshold_db"] == -2.0
    assert alone.signal_quality["pulse_snr_threshold_db"] == 0.0
    for result in (fused, alone):
        assert result.heart_rate_bpm == pytest.approx(truth.heart_rate_bpm, abs=3.0)
    # The per-frame PPG is the network's own either way.
    assert fused.frames["ppg"].equals(alone.frames["ppg"])
    # The demo's head motion is clear: the fused breathing takes it alone (one wave's 3 dB gate)
    assert fused.signal_quality["breathing_source"].startswith("fused")
    assert fused.signal_quality["breathing_snr_threshold_db"] == 3.0
    assert fused.signal_quality["breathing_read_from"] == "face motion"
    assert fused.breathing_rate_bpm == pytest.approx(truth.breathing_rate_bpm, abs=1.0)
    with pytest.raises(Exception, match="unknown pulse source"):
        Predictor(pulse="best")


def test_smile_on_a_held_out_real_face(faces_dir: Path) -> None:
    """The shipped AU head was trained on other people's photos: the man of
    ``single_face.jpg`` (smiling) reads AU12, and in ``single_face.mp4`` he starts neutral
    (frames 0-14), then smiles broadly (frames 24-47, teeth showing): AU12 follows. (With the
    Big frames at the crop's 1.5 face widths instead of the weights' 1.2 the photo read 0.51
    and the video's smile went unnoticed.)"""
    import numpy as np

    from bigsmall.video.io import read_image

    photo = read_image(faces_dir / "single_face.jpg")
    smiling = Predictor().predict(np.repeat(photo[None], 60, axis=0), fps=30.0)
    video = Predictor().predict(faces_dir / "single_face.mp4").frames["AU12"].to_numpy()
    assert smiling.frames["AU12"].mean() > 0.8
    assert video[:15].mean() < 0.3
    assert video[24:48].mean() > 0.6


def test_summary_carries_the_weights_au_note(faces_dir: Path) -> None:
    """What the weights say about their AUs reaches summary.json's model entry."""
    summary = Predictor().predict(faces_dir / "single_face.mp4").summary()
    assert "indicative only" in summary["model"]["au_note"]
