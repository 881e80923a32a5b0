"""UBFC-rPPG and PURE sources on fixture trees in their distributed layouts."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from bigsmall.data.schema import DataReport
from bigsmall.data.sources import get_source, load_recordings
from bigsmall.errors import DatasetError

sys.path.insert(0, str(Path(__file__).parent))  # tests/data: the shared fixture builders
import fixtures as fx


@pytest.fixture
def ubfc_root(tmp_path: Path) -> Path:
    root = tmp_path / "UBFC"
    fx.build_ubfc_subject(root, "subject1")  # one PPG sample per frame
    fx.build_ubfc_subject(root, "subject3", label_fs=60.0)  # 2 samples per frame
    fx.build_ubfc_subject(root, "subject10", n_lines=2)  # DATASET_1-like: only 2 lines
    fx.build_ubfc_subject(root, "subject11", write_labels=False)
    fx.build_ubfc_subject(root, "subject12", label_sec=4.0)  # 4 s of labels, 2 s of video
    return root


def test_ubfc_three_lines_parsed_and_resampled(ubfc_root: Path) -> None:
    recordings, report = load_recordings(get_source("ubfc_rppg"), ubfc_root)
    assert [r.id for r in recordings] == ["subject1", "subject3"]
    one, three = recordings
    assert one.video.kind == "file" and one.video.path.name == "vid.avi"
    assert one.fs == 30.0 and one.n_frames == 60 and one.crop == "face"
    assert one.labels.bvp_kind == "ppg" and one.labels.heart_rate_bpm == pytest.approx(90.0)
    t = np.arange(60) / 30.0
    np.testing.assert_allclose(one.labels.bvp, fx.ubfc_ppg(t), atol=1e-7)
    # 120 samples at 60 Hz onto 60 frames: frame i takes sample 2 i
    np.testing.assert_allclose(three.labels.bvp, fx.ubfc_ppg(t), atol=1e-7)
    assert one.labels.resp is None and one.labels.au is None
    messages = {i.recording_id: i.message for i in report.issues}
    assert set(messages) == {"subject10", "subject11", "subject12"}
    assert "2 lines, expected 3" in messages["subject10"]
    assert messages["subject11"] == "missing label file"
    assert messages["subject12"].startswith("labels longer than video: 4.00 s")
    with pytest.raises(DatasetError, match="subject1"):
        load_recordings(get_source("ubfc_rppg"), ubfc_root, strict=True)
    with pytest.raises(DatasetError, match="subject1"):
        load_recordings(get_source("ubfc_rppg"), ubfc_root, report=DataReport(strict=True))


def test_ubfc_unreadable_video_is_an_issue(tmp_path: Path) -> None:
    root = tmp_path / "UBFC"
    fx.build_ubfc_subject(root, "subject1")
    (root / "subject1" / "vid.avi").write_bytes(b"not a video at all")
    recordings, report = load_recordings(get_source("ubfc_rppg"), root)
    assert recordings == []
    assert report.issues[0].message.startswith("unreadable video")


def test_pure_waveform_interpolated_at_image_timestamps(tmp_path: Path) -> None:
    root = tmp_path / "PURE"
    frame_sec = fx.build_pure_recording(root, "01-01")
    fx.build_pure_recording(root, "02-03", wave_sec=(0.0, 0.5))  # waveform stops early
    fx.build_pure_recording(root, "03-01", write_json=False)
    recordings, report = load_recordings(get_source("pure"), root)
    assert [r.id for r in recordings] == ["01-01"]
    rec = recordings[0]
    assert rec.subject == "01" and rec.meta["setup"] == "01"
    assert rec.video.kind == "frame_dir" and rec.video.fps == rec.fs == 30.0
    assert rec.n_frames == 45
    # jittered frame times: a linear waveform interpolated at them is exact
    np.testing.assert_allclose(rec.meta["frame_times_sec"], frame_sec, atol=1e-9)
    np.testing.assert_allclose(rec.labels.bvp, fx.pure_wave(frame_sec), atol=1e-6)
    assert not np.allclose(rec.labels.bvp, fx.pure_wave(np.arange(45) / 30.0), atol=1e-3)
    assert rec.labels.heart_rate_bpm == pytest.approx(70.0)
    messages = {i.recording_id: i.message for i in report.issues}
    assert messages["03-01"] == "missing label file"
    assert messages["02-03"].startswith("labels shorter than video")


def test_pure_bad_json_is_an_issue(tmp_path: Path) -> None:
    root = tmp_path / "PURE"
    fx.build_pure_recording(root, "01-02")
    (root / "01-02" / "01-02.json").write_text('{"/FullPackage": [{"Timestamp": 1}]')
    recordings, report = load_recordings(get_source("pure"), root)
    assert recordings == [] and report.issues[0].message.startswith("unreadable label file")
