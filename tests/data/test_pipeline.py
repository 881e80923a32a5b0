"""Preprocessing of one recording: chunking policy, labels, frame ranges and bad recordings."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bigsmall.data.chunking import chunk, first_frames, n_windows, used_frames, window_starts
from bigsmall.data.pipeline import PreprocessConfig, preprocess_recording
from bigsmall.data.schema import Labels, Recording, RecordingError, VideoRef
from bigsmall.data.sources import get_source, load_recordings
from bigsmall.data.synthetic import SynthConfig, generate_dataset
from bigsmall.errors import ConfigError
from bigsmall.signal.filters import diff_normalize
from bigsmall.video import build_bigsmall_inputs

sys.path.insert(0, str(Path(__file__).parent))  # tests/data: the shared fixture builders
import fixtures as fx


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pipeline") / "synth"
    generate_dataset(root, SynthConfig(subjects=1, seconds=2.0, seed=3, width=128, height=96))
    return root


@pytest.fixture(scope="module")
def synth_recording(synth_root: Path) -> Recording:
    recordings, report = load_recordings(get_source("folder"), synth_root)
    assert report.n_ok == 1
    return recordings[0]


# ---------------------------------------------------------------------------- chunking
def test_chunking_drops_the_remainder() -> None:
    assert n_windows(10, 3) == 3
    assert used_frames(10, 3) == 9
    assert n_windows(2, 3) == 0
    np.testing.assert_array_equal(window_starts(10, 3), [0, 3, 6])
    x = np.arange(10)
    np.testing.assert_array_equal(chunk(x, 3), [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
    np.testing.assert_array_equal(first_frames(x, 3), [0, 3, 6])
    with pytest.raises(ValueError):
        n_windows(10, 0)


def test_config_is_validated() -> None:
    with pytest.raises(ConfigError):
        PreprocessConfig(big_frames="some")
    with pytest.raises(ConfigError):
        PreprocessConfig(n_segment=0)
    assert PreprocessConfig(big_size=[72, 72]).big_size == (72, 72)


# ---------------------------------------------------------------------------- labels
def test_labels_are_diff_normalized_and_aligned(synth_recording: Recording) -> None:
    rec = synth_recording
    prep = preprocess_recording(rec, PreprocessConfig())
    assert prep.n_frames == rec.labels.n_frames == 60
    assert prep.fps == 30.0
    assert prep.bvp_kind == "ppg"
    np.testing.assert_allclose(prep.bvp, diff_normalize(rec.labels.bvp), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(prep.resp, diff_normalize(rec.labels.resp), rtol=1e-6, atol=1e-6)
    assert prep.bvp[-1] == 0.0 and abs(float(np.std(prep.bvp[:-1])) - 1.0) < 1e-5
    np.testing.assert_array_equal(prep.au, rec.labels.au_matrix())
    np.testing.assert_allclose(prep.bvp_eval, rec.labels.bvp.astype(np.float32))
    assert prep.inputs.big_uint8.shape == (60, 144, 144, 3)
    assert prep.inputs.small.shape == (60, 9, 9, 3)
    assert prep.meta["face_found_fraction"] == 1.0


def test_file_frame_range_selects_frames(synth_recording: Recording) -> None:
    rec = synth_recording
    full = build_bigsmall_inputs(rec.video.path, crop="full")
    start, stop = 6, 36
    labels = Labels(
        fs=rec.labels.fs, n_frames=stop - start, bvp=rec.labels.bvp[start:stop], bvp_kind="ppg"
    )
    part = Recording(
        "part", rec.subject, rec.source, replace(rec.video, frame_range=(start, stop)), labels
    )
    prep = preprocess_recording(part, PreprocessConfig(crop="full"))
    assert prep.n_frames == stop - start
    np.testing.assert_array_equal(prep.inputs.big_uint8, full.big_uint8[start:stop])
    np.testing.assert_allclose(prep.inputs.timestamps_sec[0], start / rec.labels.fs, atol=1e-3)
    assert prep.resp is None and prep.resp_eval is None


def test_bp4d_frame_zip_uses_pos_pseudo_labels(tmp_path: Path) -> None:
    fx.build_bp4d_trial(tmp_path, "F001", "T1", n_frames=100, au_frames=(11, 90))
    recordings, _ = load_recordings(get_source("bp4d_plus"), tmp_path)
    rec = recordings[0]
    prep = preprocess_recording(rec, PreprocessConfig())
    assert prep.n_frames == 80
    assert prep.meta["crop"] == "bp4d"
    # frame i of the fixture is grey 2*i; the AU-coded segment starts at frame 10
    np.testing.assert_array_equal(prep.inputs.big_uint8[:3, 0, 0, 0], [20, 22, 24])
    assert prep.bvp_kind == "pseudo_pos"
    assert prep.bvp_eval_kind == "blood_pressure"
    np.testing.assert_allclose(prep.bvp_eval, rec.labels.bvp.astype(np.float32))
    np.testing.assert_array_equal(prep.au[:, 0], rec.labels.au_matrix()[:, 0])
    recorded = preprocess_recording(rec, PreprocessConfig(bvp_label="recorded"))
    assert recorded.bvp_kind == "blood_pressure"
    np.testing.assert_allclose(recorded.bvp, diff_normalize(rec.labels.bvp), atol=1e-5)


# ---------------------------------------------------------------------------- bad data
def test_label_length_mismatch_is_a_recording_error(synth_recording: Recording) -> None:
    rec = synth_recording
    labels = Labels(fs=rec.labels.fs, n_frames=120, bvp=np.zeros(120))
    bad = Recording("bad", rec.subject, rec.source, rec.video, labels)
    with pytest.raises(RecordingError, match="labels mismatch: video has 60 frames, labels 120"):
        preprocess_recording(bad, PreprocessConfig())
    # within tolerance (0.5 s = 15 frames): both cut to the shorter
    close_labels = Labels(fs=rec.labels.fs, n_frames=70, bvp=np.arange(70.0))
    close = Recording("close", rec.subject, rec.source, rec.video, close_labels)
    assert preprocess_recording(close, PreprocessConfig()).n_frames == 60


def test_unreadable_and_faceless_videos_are_recording_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 10)
    labels = Labels(fs=30.0, n_frames=30)
    rec = Recording("broken", "s", "folder", VideoRef("file", broken), labels)
    with pytest.raises(RecordingError, match="unreadable video") as info:
        preprocess_recording(rec, PreprocessConfig())
    assert info.value.issue.recording_id == "broken"
    grey = fx.write_video(tmp_path / "grey.mp4", 30, 30.0)
    faceless = Recording("grey", "s", "folder", VideoRef("file", grey), labels)
    with pytest.raises(RecordingError, match="no face"):
        preprocess_recording(faceless, PreprocessConfig())
