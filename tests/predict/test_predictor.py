from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bigsmall.constants import AU_NAMES
from bigsmall.errors import CheckpointError, ConfigError, NoFaceError, VideoTooShortError
from bigsmall.predict import FRAME_COLUMNS, METHODS, RATE_COLUMNS, SUMMARY_KEYS, Predictor
from bigsmall.predict.outputs import write_outputs
from bigsmall.video import read_all


def test_top_level_import() -> None:
    import bigsmall

    assert bigsmall.Predictor is Predictor
    assert bigsmall.PredictionResult.__name__ == "PredictionResult"


def test_pos_with_motion_breathing_reads_known_rates(demo_video: tuple[Path, object]) -> None:
    path, truth = demo_video
    result = Predictor(method="pos").predict(path)
    assert abs(result.heart_rate_bpm - truth.heart_rate_bpm) < 3.0
    assert abs(result.breathing_rate_bpm - truth.breathing_rate_bpm) < 2.0
    assert result.au_occurrence is None
    assert result.signal_quality["breathing_source"].startswith("motion")
    assert result.signal_quality["breathing_read_from"] == "face motion"
    assert result.face_found_fraction == 1.0
    assert result.frame_count == round(24.0 * truth.fps)
    summary = result.summary()
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["method"] == "pos" and summary["model"]["name"] == "pos"
    assert tuple(result.frames.columns) == FRAME_COLUMNS
    assert len(result.frames) == result.frame_count
    assert tuple(result.rates.columns) == RATE_COLUMNS
    # 24 s, 10 s windows every second → 15 windows centred 5..19 s.
    assert len(result.rates) == 15
    # The per-frame breathing wave follows the injected one.
    assert np.corrcoef(result.frames["resp"], truth.resp)[0, 1] > 0.6


def test_array_input_matches_file(demo_video: tuple[Path, object]) -> None:
    path, truth = demo_video
    clip = read_all(path)
    from_array = Predictor(method="pos").predict(clip.frames, fps=clip.fps)
    from_file = Predictor(method="pos").predict(path)
    assert from_array.source == "array"
    assert from_array.frame_count == from_file.frame_count == clip.frames.shape[0]
    # Detection runs on RGB→gray for arrays and on the luma plane for files: boxes may differ
    # by a pixel or two, the measurements must not.
    assert abs(from_array.heart_rate_bpm - from_file.heart_rate_bpm) < 2.0
    assert abs(from_array.breathing_rate_bpm - truth.breathing_rate_bpm) < 2.0


def test_bigsmall_tiny_weights_torch_and_onnx_agree(
    demo_video: tuple[Path, object],
    tiny_weights: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("BIGSMALL_CACHE_DIR", str(tmp_path / "cache"))
    path, _ = demo_video
    frames = read_all(path).frames[:150]
    torch_result = Predictor(checkpoint=tiny_weights, backend="torch").predict(frames, fps=30.0)
    onnx_result = Predictor(checkpoint=tiny_weights, backend="onnx").predict(frames, fps=30.0)
    assert torch_result.model["backend"] == "torch"
    assert onnx_result.model["backend"] == "onnx"
    assert onnx_result.model["name"] == "bigsmall_tiny_test"
    assert list((tmp_path / "cache" / "onnx").glob("*.onnx"))
    au = torch_result.frames[list(AU_NAMES)].to_numpy()
    assert np.all((au >= 0) & (au <= 1))
    assert set(torch_result.au_occurrence) == set(AU_NAMES)
    np.testing.assert_allclose(
        torch_result.frames["ppg"], onnx_result.frames["ppg"], rtol=1e-3, atol=1e-5
    )
    np.testing.assert_allclose(au, onnx_result.frames[list(AU_NAMES)], atol=1e-4)
    # auto picks ONNX Runtime (the graph is cached now)
    auto = Predictor(checkpoint=tiny_weights, breathing="motion").predict(frames[:90], fps=30.0)
    assert auto.model["backend"] == "onnx"
    assert auto.signal_quality["breathing_source"].startswith("motion")
    assert torch_result.signal_quality["breathing_source"].startswith("fused")  # the default


def test_official_trio_on_real_face(faces_dir: Path, official_weights_dir: Path) -> None:
    result = Predictor(checkpoint=official_weights_dir, fold=2).predict(
        faces_dir / "single_face.mp4"
    )
    assert result.model["name"] == "bigsmall_trio"
    assert "fold 2" in result.model["weights"]
    assert result.frame_count == 72
    assert result.heart_rate_bpm is None  # 2.4 s: too short, said so
    assert any("heart rate needs at least" in w for w in result.warnings)
    assert set(result.au_occurrence) == set(AU_NAMES)


def test_face_lost_part_of_the_video(faces_dir: Path) -> None:
    result = Predictor(method="green").predict(faces_dir / "face_noface.mov")
    assert 0.1 < result.face_found_fraction < 0.95
    assert any("No face was found in" in w for w in result.warnings)
    missing = result.frames["face_found"] == 0
    assert result.frames.loc[missing, "ppg"].isna().all()
    assert result.frames.loc[~missing, "ppg"].notna().all()


def test_a_short_loss_of_the_face_is_read_through(demo_video: tuple[Path, object]) -> None:
    """The face gone for 1.5 s mid-clip (the detector, looking once a second, misses it for 2 s):
    the rates read the whole clip, as ``live`` does, not the longest stretch either side
    (11 s: too short for breathing)."""
    path, truth = demo_video
    clip = read_all(path)
    frames = clip.frames.copy()
    frames[330:375] = np.median(frames[:, :40, :40], axis=(0, 1, 2)).astype(np.uint8)
    result = Predictor(method="pos").predict(frames, fps=clip.fps)
    missing = ~result.frames["face_found"].astype(bool).to_numpy()
    assert 45 <= missing.sum() <= 60
    assert any("(0.0-24.0 s, gaps of up to 2 s read through)" in w for w in result.warnings)
    assert abs(result.heart_rate_bpm - truth.heart_rate_bpm) < 3.0
    assert abs(result.breathing_rate_bpm - truth.breathing_rate_bpm) < 2.0
    assert result.frames.loc[missing, "ppg"].isna().all()  # no values where no face was seen


def test_errors() -> None:
    with pytest.raises(ConfigError, match="unknown method"):
        Predictor(method="nope")
    with pytest.raises(ConfigError, match="no breathing model"):
        Predictor(method="pos", breathing="model")
    with pytest.raises(ConfigError, match="fps"):
        Predictor(method="pos").predict(np.zeros((90, 64, 64, 3), np.uint8))
    with pytest.raises(NoFaceError):
        Predictor(method="pos").predict(np.zeros((90, 64, 64, 3), np.uint8), fps=30.0)
    assert "bigsmall" in METHODS and "pos" in METHODS


def test_too_short_and_window(demo_video: tuple[Path, object]) -> None:
    path, _ = demo_video
    frames = read_all(path).frames
    with pytest.raises(VideoTooShortError, match="shorter than one analysis window"):
        Predictor(method="pos").predict(frames[:45], fps=30.0)
    with pytest.raises(VideoTooShortError, match="30 s analysis window"):
        Predictor(method="pos", window_sec=30.0).predict(frames[:150], fps=30.0)


def test_missing_default_weights_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    from bigsmall.predict import runner

    monkeypatch.setattr(runner, "shipped_weights_path", lambda name="": tmp_path / "none")
    with pytest.raises(CheckpointError) as info:
        runner.load_model(None)
    assert "\n" not in str(info.value) and "--checkpoint" in str(info.value)


def test_write_outputs(demo_video: tuple[Path, object], tmp_path: Path) -> None:
    path, _ = demo_video
    frames = read_all(path).frames[:240]
    result = Predictor(method="pos").predict(frames, fps=30.0)
    out = write_outputs(result, tmp_path / "out")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".bigsmall-output",  # the marker --overwrite looks for
        *("rates.csv", "report.html", "report.png", "signals.csv", "summary.json"),
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert tuple(summary) == SUMMARY_KEYS and summary["frames"] == 240
    signals = pd.read_csv(out / "signals.csv")
    assert tuple(signals.columns) == FRAME_COLUMNS and len(signals) == 240
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "data:image/png;base64," in (out / "report.html").read_text()
    assert not list(tmp_path.glob(".out.tmp*"))
    with pytest.raises(ConfigError, match="not empty"):
        write_outputs(result, out)


def test_weights_choose_their_training_crop(tiny_weights: Path, tmp_path: Path) -> None:
    """A weights file whose metadata records ``crop`` is run with that crop; others with the
    face box."""
    from bigsmall.models.weights import read_safetensors, save_safetensors

    framed = tmp_path / "framed.safetensors"
    meta = {"model": "bigsmall_tiny_test", "crop": "bp4d_framing"}
    save_safetensors(read_safetensors(tiny_weights), framed, meta)
    assert Predictor(checkpoint=framed)._crop_mode() == "bp4d_framing"
    assert Predictor(checkpoint=tiny_weights)._crop_mode() == "face"
    assert Predictor(method="pos")._crop_mode() == "face"


@pytest.mark.parametrize(
    ("meta", "message"),
    [
        ({"n_segment": "abc"}, "n_segment 'abc' is not a whole number"),
        ({"n_segment": "0"}, "n_segment '0'"),
        ({"n_segment": "100000"}, "n_segment '100000'"),
        ({"model_kwargs": "[1, 2]"}, "model_kwargs must be a JSON object"),
        ({"model_kwargs": '{"wings": 2}'}, "model arguments do not fit"),
    ],
)
def test_odd_weights_metadata_is_one_line(
    tiny_weights: Path, tmp_path: Path, meta: dict, message: str
) -> None:
    """Metadata values that cannot be right fail in one line, before any work."""
    from bigsmall.models.weights import read_safetensors, save_safetensors
    from bigsmall.predict.runner import load_model

    odd = tmp_path / "odd.safetensors"
    save_safetensors(read_safetensors(tiny_weights), odd, {"model": "bigsmall_tiny_test", **meta})
    with pytest.raises(CheckpointError, match=message) as info:
        load_model(odd)
    assert "\n" not in str(info.value)


def test_variable_frame_rate_video_reads_the_true_rate(
    demo_video: tuple[Path, object], tmp_path: Path
) -> None:
    """A phone-style VFR file (30 fps, then 10 fps) reads the true heart rate,
    with a note; read at its average rate it would not."""
    from fractions import Fraction

    import av

    path, truth = demo_video
    frames = read_all(path).frames
    half = len(frames) // 2
    keep = [*range(half), *range(half, len(frames), 3)]  # 30 fps, then 10 fps
    vfr = tmp_path / "vfr.mp4"
    container = av.open(str(vfr), "w")
    stream = container.add_stream("libx264", rate=30)
    stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
    stream.options = {"crf": "10", "preset": "ultrafast"}
    stream.codec_context.time_base = stream.time_base = Fraction(1, 30)
    for i in keep:
        frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
        frame.pts, frame.time_base = i, Fraction(1, 30)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    result = Predictor(method="pos").predict(vfr)
    assert any("Variable frame rate" in w for w in result.warnings)
    assert result.fps == pytest.approx(30.0)
    assert result.heart_rate_bpm == pytest.approx(truth.heart_rate_bpm, abs=3.0)
    assert result.duration_sec == pytest.approx(len(frames) / 30.0, abs=0.2)


def test_heart_rate_variability_on_a_generated_video(tmp_path: Path) -> None:
    """The mean inter-beat interval of a 40 s generated face video is within 20 ms
    of its injected pulse's; SDNN/RMSSD are withheld with a warning where the beat times are
    too noisy for them (a camera pulse at this SNR); beats are marked in signals."""
    from bigsmall.predict.demo_video import make_demo_video
    from bigsmall.signal.hrv import beat_times, hrv_from_beats

    path = tmp_path / "hrv.mp4"
    truth = make_demo_video(path, seconds=40.0)
    expected = hrv_from_beats(
        beat_times(truth.ppg, truth.fps, (0.7, 3.0), truth.heart_rate_bpm / 60.0)
    )
    result = Predictor(method="pos").predict(path)
    assert result.hrv is not None and result.signal_quality["pulse_quality"] == "good"
    assert abs(result.hrv["mean_ibi_ms"] - expected.mean_ibi_ms) < 20.0
    assert result.hrv["rmssd_ms"] is None and result.hrv["beat_consistency"] < 0.99
    assert any("too noisy for SDNN and RMSSD" in w for w in result.warnings)
    assert abs(int(result.frames["beat"].sum()) - expected.beats) <= 3
    short = Predictor(method="pos").predict(read_all(path).frames[:600], fps=30.0)  # 20 s
    assert short.hrv is None and any("variability needs" in w for w in short.warnings)


def test_weights_trained_on_aligned_faces_are_aligned(
    demo_video: tuple[Path, object],
    tiny_weights: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Weights whose record says ``align`` get landmark-aligned Big frames by themselves (one
    in N: the frames the network reads); other weights only with ``align=True``."""
    import bigsmall.video.align as align_module
    from bigsmall.models.weights import read_safetensors, save_safetensors

    made: list[object] = []

    class CountingAligner:
        def __init__(self, spec: object, box_enlarge: float = 1.0) -> None:
            self.spec, self.calls = spec, 0
            made.append(self)

        def __call__(self, rgb: np.ndarray, face_box: object) -> object:
            self.calls += 1
            side = self.spec.out_side
            points = np.full((49, 2), side / 2, np.float32)
            return align_module.AlignedFace(
                np.full((side, side, 3), 100, np.uint8), points, np.eye(2, 3)
            )

    monkeypatch.setattr(align_module, "FaceAligner", CountingAligner)
    aligned = tmp_path / "aligned.safetensors"
    meta = {"model": "bigsmall_tiny_test", "align": '{"enlarge": 2.9}'}
    save_safetensors(read_safetensors(tiny_weights), aligned, meta)
    frames = read_all(demo_video[0]).frames[:120]
    result = Predictor(checkpoint=aligned, backend="torch").predict(frames, fps=30.0)
    (aligner,) = made
    assert result.model["aligned_big_frames"] == "40 of 40"
    assert aligner.spec.out_side == 32 and aligner.spec.enlarge == 2.9  # the model's Big size
    assert aligner.calls == -(-len(frames) // 3)
    plain = Predictor(checkpoint=tiny_weights, backend="torch").predict(frames, fps=30.0)
    assert len(made) == 1 and "aligned_big_frames" not in plain.model  # not aligned weights
    Predictor(checkpoint=tiny_weights, backend="torch", align=True).predict(frames, fps=30.0)
    assert len(made) == 2


def test_weights_with_their_own_big_framing_get_big_frames_cut_at_it(
    demo_video: tuple[Path, object],
    tiny_weights: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Weights whose record says ``big_scale`` read Big frames cut from the tracked face box at
    that many face widths (one in N), while the Small frames stay the crop's."""
    import bigsmall.video.reframe as reframe_module
    from bigsmall.models.weights import read_safetensors, save_safetensors

    boxes: list[tuple[float, float]] = []

    class SpyReframer(reframe_module.BoxReframer):
        def cut(self, view: object, crop: np.ndarray, box: object, unclipped: object) -> object:
            boxes.append((self.box(unclipped).w, unclipped.w))
            return super().cut(view, crop, box, unclipped)

    monkeypatch.setattr(reframe_module, "BoxReframer", SpyReframer)
    framed = tmp_path / "framed.safetensors"
    meta = {"model": "bigsmall_tiny_test", "crop": "face", "big_scale": "1.2"}
    save_safetensors(read_safetensors(tiny_weights), framed, meta)
    frames = read_all(demo_video[0]).frames[:120]
    result = Predictor(checkpoint=framed, backend="torch").predict(frames, fps=30.0)
    assert result.model["big_scale"] == 1.2 and "aligned_big_frames" not in result.model
    assert len(boxes) == 40  # frames 0, 3, 6, ...: the ones the network reads
    assert all(big / crop == pytest.approx(1.2 / 1.5) for big, crop in boxes)
    plain = Predictor(checkpoint=tiny_weights, backend="torch").predict(frames, fps=30.0)
    assert "big_scale" not in plain.model and len(boxes) == 40
    assert not np.allclose(result.frames["AU12"], plain.frames["AU12"])
    # under another crop the face box is not known: no reframing
    meta["crop"] = "bp4d"
    save_safetensors(read_safetensors(tiny_weights), framed, meta)
    other = Predictor(checkpoint=framed, backend="torch").predict(frames, fps=30.0)
    assert "big_scale" not in other.model and len(boxes) == 40


def test_bad_align_record_is_one_line(tiny_weights: Path, tmp_path: Path) -> None:
    from bigsmall.models.weights import read_safetensors, save_safetensors

    odd = tmp_path / "odd.safetensors"
    meta = {"model": "bigsmall_tiny_test", "align": '{"size": -5}'}
    save_safetensors(read_safetensors(tiny_weights), odd, meta)
    frames = np.zeros((60, 64, 64, 3), np.uint8)
    with pytest.raises(CheckpointError, match="align record is not valid") as info:
        Predictor(checkpoint=odd).predict(frames, fps=30.0)
    assert "\n" not in str(info.value)


def test_heart_rate_variability_from_two_pulse_estimates(tmp_path: Path) -> None:
    """A clear pulse (3 % skin modulation, crf 10) on a generated 60 s face: the network's
    pulse and the skin colour's time the beats independently; their disagreement is the
    timing jitter, removed from RMSSD, which then reads within 25 % of the injected beats'
    (one wave alone read it +47 % on this video)."""
    from bigsmall.predict import demo_video
    from bigsmall.signal.hrv import MAX_JITTER_SHARE, beat_times, hrv_from_beats

    clear = {"pulse_amplitude": 0.03, "crf": 10, "noise_std": 0.3}
    path = tmp_path / "clear.mp4"
    truth = demo_video.make_demo_video(path, seconds=60.0, seed=4, conditions=clear)
    fine = np.interp(np.arange(0, truth.ppg.size, 0.1), np.arange(truth.ppg.size), truth.ppg)
    expected = hrv_from_beats(beat_times(fine, 300.0, (0.5, 10.0), truth.heart_rate_bpm / 60))
    result = Predictor().predict(path)
    hrv = result.hrv
    assert hrv is not None and hrv["rmssd_ms"] is not None, result.warnings
    assert hrv["jitter_ms"] > 0 and hrv["jitter_share"] <= MAX_JITTER_SHARE
    assert hrv["rmssd_ms"] == pytest.approx(expected.rmssd_ms, rel=0.25)
    assert abs(hrv["mean_ibi_ms"] - expected.mean_ibi_ms) < 20.0


def test_hrv_withheld_when_the_two_pulse_estimates_share_no_beats() -> None:
    """A clean pulse alone passes the beat-consistency gate, but one estimate cannot show its
    own timing jitter, nor can two that find no matching beats: SDNN and RMSSD are withheld,
    the mean interval is still given."""
    from bigsmall.predict import analysis
    from bigsmall.signal.simulate import simulate_ppg_beats

    fs = 30.0
    clean, _ = simulate_ppg_beats(60.0, fs, 72.0, hrv_sdnn_ms=30.0, seed=2)
    wave = analysis.prepare(clean, fs, "heart", False)
    hr = analysis.RateEstimate(72.0, 12.0, "good")
    alone, _, note_alone = Predictor._hrv([wave], [wave], hr, 0, wave.size, fs)
    assert alone is not None and alone["rmssd_ms"] is None and alone["sdnn_ms"] is None
    assert alone["beat_consistency"] >= 0.99 and abs(alone["mean_ibi_ms"] - 60_000 / 72.0) < 20.0
    assert note_alone is not None and "One pulse estimate" in note_alone
    pair = [wave, np.zeros_like(wave)]
    values, beats, note = Predictor._hrv(pair, pair, hr, 0, wave.size, fs)
    assert values is not None and values["rmssd_ms"] is None and values["sdnn_ms"] is None
    assert abs(values["mean_ibi_ms"] - 60_000 / 72.0) < 20.0 and beats.size > 60
    assert note is not None and "do not agree on the beats" in note


def test_a_heart_rate_at_the_breathings_harmonic_is_withheld_and_said_why() -> None:
    """A colour change at three times a 24 /min breathing (72 bpm) and no pulse."""
    from bigsmall.predict import analysis

    fs, rng = 30.0, np.random.default_rng(0)
    t = np.arange(900) / fs
    colour = np.sin(2 * np.pi * 1.2 * t) + rng.standard_normal(t.size)
    est, note = Predictor._rate([(colour, False)], 0, t.size, "heart", fs)
    assert abs(est.rate_bpm - 72.0) < 1.0 and note is None
    harmonics = analysis.breathing_harmonics_hz(24.0)
    est, note = Predictor._rate([(colour, False)], 0, t.size, "heart", fs, not_at_hz=harmonics)
    assert np.isnan(est.rate_bpm)
    assert note.startswith("The pulse's strongest peak (72.1 bpm) lies at a harmonic")
