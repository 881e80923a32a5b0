"""The synthetic dataset generator: layout, determinism, and that the injected truths show."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from bigsmall.cli import main
from bigsmall.constants import AU_NAMES
from bigsmall.data.synthetic import CSV_COLUMNS, SynthConfig, generate_dataset, generate_video
from bigsmall.data.synthetic.actions import build_action_fields
from bigsmall.data.synthetic.compositor import render_frames, trial_signals
from bigsmall.data.synthetic.renderer import render_procedural, sample_look
from bigsmall.data.synthetic.scene import TrialParams
from bigsmall.video.face import HaarCascadeDetector
from bigsmall.video.writer import VideoWriter

WIDTH, HEIGHT, FPS = 192, 144, 30.0


def _decode(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthConfig]:
    out = tmp_path_factory.mktemp("synth") / "ds"
    config = SynthConfig(subjects=2, seconds=4.0, seed=7, width=WIDTH, height=HEIGHT, fps=FPS)
    generate_dataset(out, config)
    return out, config


def test_layout_and_columns(tiny: tuple[Path, SynthConfig]) -> None:
    out, config = tiny
    manifest = json.loads((out / "dataset.json").read_text())
    assert manifest["seed"] == 7 and len(manifest["videos"]) == 2
    assert sorted(p.name for p in out.iterdir()) == [
        ".bigsmall-output",
        "S001",
        "S002",
        "dataset.json",
    ]
    for subject in ("S001", "S002"):
        names = sorted(p.name for p in (out / subject).iterdir())
        assert names == [f"{subject}_T1.csv", f"{subject}_T1.json", f"{subject}_T1.mp4"]
        with (out / subject / f"{subject}_T1.csv").open() as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == CSV_COLUMNS == ("time_s", "ppg", "resp", *AU_NAMES)
        n = int(config.seconds * FPS)
        assert len(rows) - 1 == n == _decode(out / subject / f"{subject}_T1.mp4").shape[0]
        assert {r[3 + k] for r in rows[1:] for k in range(12)} <= {"0", "1"}
        meta = json.loads((out / subject / f"{subject}_T1.json").read_text())
        assert 45 <= meta["heart_rate_bpm"] <= 150 and 6 <= meta["breathing_rate_bpm"] <= 30
        assert 18 <= meta["crf"] <= 35 and meta["face_source"] == "procedural"


def test_deterministic(tiny: tuple[Path, SynthConfig], tmp_path: Path) -> None:
    out, config = tiny
    generate_video(config, 1, 0, tmp_path / "same")
    for suffix in (".csv", ".mp4"):
        again = (tmp_path / "same" / "S002" / f"S002_T1{suffix}").read_bytes()
        assert again == (out / "S002" / f"S002_T1{suffix}").read_bytes()
    generate_video(dataclasses.replace(config, seed=8), 1, 0, tmp_path / "other")
    other = (tmp_path / "other" / "S002" / "S002_T1.csv").read_bytes()
    assert other != (out / "S002" / "S002_T1.csv").read_bytes()


def test_workers_give_the_same_bytes(tiny: tuple[Path, SynthConfig], tmp_path: Path) -> None:
    out, config = tiny
    generate_dataset(tmp_path / "par", config, workers=2)
    for rel in ("dataset.json", "S001/S001_T1.mp4", "S002/S002_T1.mp4", "S002/S002_T1.csv"):
        assert (tmp_path / "par" / rel).read_bytes() == (out / rel).read_bytes()


def test_haar_finds_procedural_face() -> None:
    """Across 12 random subjects and trials (all skin tones), the Haar cascade finds the face."""
    from bigsmall.data.synthetic.generate import _subject_asset
    from bigsmall.data.synthetic.scene import sample_trial

    detector = HaarCascadeDetector()
    config = SynthConfig(subjects=12, seconds=1.0, seed=0, width=WIDTH, height=HEIGHT)
    found = []
    for subject in range(config.subjects):
        rng = np.random.default_rng([config.seed, 1, subject, 0])
        asset = _subject_asset(config, subject, rng, [])
        params = sample_trial(rng, asset.skin_tone)
        signals = trial_signals(params, 30, FPS, HEIGHT, rng)
        frames = next(iter(render_frames(asset, params, signals, rng)))[::10]
        found += [bool(detector.detect(f)) for f in frames]
    assert np.mean(found) >= 0.8


def _still_params(**changes: object) -> TrialParams:
    base = TrialParams(
        heart_rate_bpm=72.0, hrv_sdnn_ms=20.0, pulse_source="simulated", pulse_amplitude=0.008,
        pulse_spatial_variation=0.3, breathing_rate_bpm=18.0, breathing_variability=0.0,
        breathing_motion_px=3.0, breathing_intensity=0.002, motion="still", motion_bursts=False,
        light_gain=1.0, color_temperature_k=5500.0, light_drift=0.0, flicker=False,
        auto_exposure=0.0, noise_std=1.0, crf=20, au_events_per_min=0.0, talk_fraction=0.0,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def _clip(tmp_path: Path, params: TrialParams, seconds: float, seed: int = 3):
    rng = np.random.default_rng(seed)
    asset = render_procedural(sample_look(np.random.default_rng(seed)), HEIGHT, WIDTH, rng)
    n = int(seconds * FPS)
    signals = trial_signals(params, n, FPS, HEIGHT, rng)
    path = tmp_path / "clip.mp4"
    with VideoWriter(path, FPS, WIDTH, HEIGHT, crf=params.crf) as writer:
        for batch in render_frames(asset, params, signals, rng):
            writer.write(batch)
    return asset, signals, _decode(path)


def test_pulse_recoverable_from_skin_green(tmp_path: Path) -> None:
    asset, signals, frames = _clip(tmp_path, _still_params(breathing_motion_px=0.0), 10.0)
    skin = asset.skin > 0.9
    green = frames[..., 1][:, skin].mean(axis=1)
    green = green - np.convolve(green, np.ones(15) / 15, mode="same")  # remove slow drift
    core = slice(15, -15)
    corr = np.corrcoef(green[core], signals.ppg[core])[0, 1]
    assert corr < -0.6  # more blood -> darker skin
    spectrum = np.abs(np.fft.rfft(green[core] - green[core].mean(), 8192))
    freqs = np.fft.rfftfreq(8192, 1 / FPS)
    band = (freqs > 0.75) & (freqs < 2.5)
    assert abs(freqs[band][np.argmax(spectrum[band])] * 60 - 72.0) < 2.0


def test_breathing_moves_the_head(tmp_path: Path) -> None:
    asset, signals, frames = _clip(tmp_path, _still_params(pulse_amplitude=0.0), 6.0)
    x, y, w, h = (int(v) for v in asset.face_box)
    gray = frames.mean(axis=3).astype(np.float32)
    window = cv2.createHanningWindow((w, h), cv2.CV_32F)
    ref = gray[0, y : y + h, x : x + w]
    dy = np.array([cv2.phaseCorrelate(ref, g[y : y + h, x : x + w], window)[0][1] for g in gray])
    assert np.ptp(dy) > 2.0
    assert np.corrcoef(dy, signals.resp)[0, 1] < -0.8  # inhale (resp up) -> head up (y down)


@pytest.mark.parametrize(("unit", "changed", "unchanged"), [
    ("AU12", "mouth_l", "brow_inner_l"),
    ("AU01", "brow_inner_l", "mouth_l"),
    ("AU15", "mouth_r", "eye_l"),
])  # fmt: skip
def test_au_changes_the_right_region(unit: str, changed: str, unchanged: str) -> None:
    rng = np.random.default_rng(0)
    asset = render_procedural(sample_look(rng), HEIGHT, WIDTH, rng)
    fields = build_action_fields(asset)
    neutral = asset.person.copy()
    active = asset.person.copy()
    weights = np.zeros(len(AU_NAMES) + 1)
    weights[AU_NAMES.index(unit)] = 1.0
    fields.apply(active, weights)
    radius = max(int(asset.interocular_px * 0.2), 2)

    def change(name: str) -> float:
        cx, cy = (int(v) for v in asset.landmarks[name])
        sl = (slice(cy - radius, cy + radius), slice(cx - radius, cx + radius))
        return float(np.abs(active[sl] - neutral[sl]).mean())

    assert change(changed) > 0.01
    assert change(unchanged) < 0.002


def test_faces_photo(faces_dir: Path, tmp_path: Path) -> None:
    photos = tmp_path / "faces"
    photos.mkdir()
    shutil.copy(faces_dir / "single_face.jpg", photos / "single_face.jpg")
    config = SynthConfig(1, 2.0, 5, width=WIDTH, height=HEIGHT, faces_dir=str(photos))
    meta = generate_video(config, 0, 0, tmp_path / "out")
    assert meta["face_source"] == "single_face.jpg" and meta["skin_tone"] is None
    frames = _decode(tmp_path / "out" / "S001" / "S001_T1.mp4")
    assert frames.shape == (60, HEIGHT, WIDTH, 3)
    assert HaarCascadeDetector().detect(frames[0])


def test_cli_refuses_nonempty_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("x")
    code = main(["synth", "--out", str(tmp_path), "--subjects", "1", "--seconds", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--overwrite" in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_faces_labels_and_share(faces_dir: Path, tmp_path: Path) -> None:
    """labels.csv's AUs are present on every frame of that photo's video; face_share mixes
    photo and procedural subjects."""
    photos = tmp_path / "faces"
    photos.mkdir()
    shutil.copy(faces_dir / "single_face.jpg", photos / "smile.jpg")
    (photos / "labels.csv").write_text("file,aus\nsmile.jpg,AU06 AU12\n")
    config = SynthConfig(2, 1.0, 5, width=WIDTH, height=HEIGHT, faces_dir=str(photos),
                         face_share=0.5)  # fmt: skip
    photo = generate_video(config, 0, 0, tmp_path / "out")
    procedural = generate_video(config, 1, 0, tmp_path / "out")
    assert photo["face_source"] == "smile.jpg" and photo["face_base_aus"] == ["AU06", "AU12"]
    assert procedural["face_source"] == "procedural" and procedural["face_base_aus"] == []
    with open(tmp_path / "out" / "S001" / "S001_T1.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30 and all(r["AU12"] == "1" and r["AU06"] == "1" for r in rows)
    assert photo["au_rate"]["AU12"] == 1.0


@pytest.mark.parametrize(
    ("text", "message"),
    [("name,aus\n", "first line"), ("file,aus\na.jpg,AU99\n", "unknown AU 'AU99'")],
)
def test_faces_labels_errors(tmp_path: Path, text: str, message: str) -> None:
    from bigsmall.data.synthetic.faces import read_face_labels
    from bigsmall.errors import DatasetError

    (tmp_path / "labels.csv").write_text(text)
    with pytest.raises(DatasetError, match=message):
        read_face_labels(tmp_path)
    assert read_face_labels(tmp_path / "missing") == {}


def test_face_share_validated() -> None:
    from bigsmall.errors import DatasetError

    with pytest.raises(DatasetError, match="face-share"):
        SynthConfig(1, 1.0, 0, face_share=1.5).validate()


def test_bad_labels_rejected_before_rendering(tmp_path: Path) -> None:
    from bigsmall.data.synthetic.generate import check_arguments
    from bigsmall.errors import DatasetError

    photos = tmp_path / "faces"
    photos.mkdir()
    cv2.imwrite(str(photos / "a.png"), np.zeros((8, 8, 3), np.uint8))
    (photos / "labels.csv").write_text("file,aus\na.png,AU99\n")
    config = SynthConfig(1, 1.0, 0, faces_dir=str(photos))
    with pytest.raises(DatasetError, match="unknown AU 'AU99'"):
        check_arguments(tmp_path / "out", config, overwrite=False)
    assert not (tmp_path / "out").exists()


def test_no_pulse_null_video(tmp_path: Path) -> None:
    """--no-pulse: the same draws as the pulsed video, minus exactly the pulse; no ppg labels."""
    config = SynthConfig(subjects=1, seconds=6.0, seed=5, width=WIDTH, height=HEIGHT, fps=FPS)
    pulsed = generate_video(config, 0, 0, tmp_path / "pulsed")
    null = generate_video(dataclasses.replace(config, pulse=False), 0, 0, tmp_path / "null")
    assert null["heart_rate_bpm"] is None and null["pulse"] is False and pulsed["pulse"] is True
    assert null["breathing_rate_bpm"] == pulsed["breathing_rate_bpm"]
    with (tmp_path / "null" / "S001" / "S001_T1.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert tuple(rows[0]) == ("time_s", "resp", *AU_NAMES)
    assert len(rows) - 1 == int(6.0 * FPS) and all(len(r) == 2 + len(AU_NAMES) for r in rows[1:])
    # every drawn condition is the pulsed video's, except the pulse's amplitude
    assert pulsed["params"]["pulse_amplitude"] > 0 and null["params"]["pulse_amplitude"] == 0
    assert {**null["params"], "pulse_amplitude": None} == {
        **pulsed["params"],
        "pulse_amplitude": None,
    }
    a = _decode(tmp_path / "pulsed" / "S001" / "S001_T1.mp4").astype(np.float64)
    b = _decode(tmp_path / "null" / "S001" / "S001_T1.mp4").astype(np.float64)
    assert 0 < np.abs(a - b).mean() < 5  # the same scene (another seed differs by tens)


def test_cli_no_pulse_flag(tmp_path: Path) -> None:
    code = main(["synth", "--out", str(tmp_path / "null"), "--subjects", "1", "--seconds", "2",
                 "--size", "96x72", "--no-pulse"])  # fmt: skip
    assert code == 0
    manifest = json.loads((tmp_path / "null" / "dataset.json").read_text())
    assert manifest["arguments"]["pulse"] is False
    assert json.loads((tmp_path / "null" / "S001" / "S001_T1.json").read_text())["pulse"] is False


def test_default_expression_options_draw_what_they_always_drew() -> None:
    """The AU options' defaults consume the same random numbers: old seeds, same videos."""
    from bigsmall.data.synthetic.scene import sample_trial

    implicit = sample_trial(np.random.default_rng(3), 0.4)
    explicit = sample_trial(np.random.default_rng(3), 0.4, (4.0, 18.0), (0.8, 6.0), 1.0)
    assert implicit == explicit and 4.0 <= implicit.au_events_per_min <= 18.0


@pytest.mark.parametrize(("rate_per_min", "event_sec"), [(10.0, 3.0), (10.0, 1.0), (40.0, 1.5)])
def test_event_rate_and_duration_set_expression_coverage(
    rate_per_min: float, event_sec: float
) -> None:
    """Poisson events of fixed length D at rate R cover 1 - exp(-R D / 60) of the time."""
    from bigsmall.data.synthetic.actions import sample_au_timeline

    fps = 10.0
    n = int(120 * 60 * fps)  # two hours
    rng = np.random.default_rng(0)
    timeline = sample_au_timeline(n, fps, rate_per_min, rng, (event_sec, event_sec))
    covered = float((timeline.max(axis=1) > 0).mean())
    expected = 1.0 - np.exp(-rate_per_min * event_sec / 60.0)
    assert covered == pytest.approx(expected, abs=0.03)


def test_au_strength_scales_au_fields_not_talking() -> None:
    rng = np.random.default_rng(0)
    asset = render_procedural(sample_look(rng), HEIGHT, WIDTH, rng)
    one, two = build_action_fields(asset), build_action_fields(asset, strength=2.0)
    talk = len(AU_NAMES)
    np.testing.assert_allclose(two.offsets[:talk], 2 * one.offsets[:talk], rtol=1e-6)
    np.testing.assert_allclose(two.shades[:talk], 2 * one.shades[:talk], rtol=1e-6)
    np.testing.assert_array_equal(two.offsets[talk], one.offsets[talk])
    np.testing.assert_array_equal(two.teeth, one.teeth)
    assert np.abs(one.offsets[AU_NAMES.index("AU12")]).max() > 1.0  # px at this size


def test_cli_expression_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "dense"
    code = main(["synth", "--out", str(out), "--subjects", "1", "--seconds", "2",
                 "--size", "96x72", "--au-events-per-min", "40,60", "--au-event-sec", "0.5,1",
                 "--au-strength", "2"])  # fmt: skip
    assert code == 0
    arguments = json.loads((out / "dataset.json").read_text())["arguments"]
    assert arguments["au_events_per_min"] == [40.0, 60.0] and arguments["au_strength"] == 2.0
    params = json.loads((out / "S001" / "S001_T1.json").read_text())["params"]
    assert 40 <= params["au_events_per_min"] <= 60 and params["au_event_sec"] == [0.5, 1.0]
    with pytest.raises(SystemExit) as usage:  # not LOW,HIGH: argparse usage error
        main(["synth", "--out", str(tmp_path / "x"), "--au-event-sec", "3"])
    assert usage.value.code == 2 and "LOW,HIGH" in capsys.readouterr().err
    code = main(["synth", "--out", str(tmp_path / "y"), "--au-events-per-min", "9,3"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "LOW <= HIGH" in err[0]
    assert not (tmp_path / "y").exists()
