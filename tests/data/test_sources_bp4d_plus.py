"""BP4D+ source on fixture trees in the distributed layout, with known physiology and AUs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from bigsmall.constants import AU_NAMES
from bigsmall.data.schema import DataReport
from bigsmall.data.sources import get_source, load_recordings
from bigsmall.errors import DatasetError
from bigsmall.video.frame_archive import read_frame_files, read_frame_zip

sys.path.insert(0, str(Path(__file__).parent))  # tests/data: the shared fixture builders
import fixtures as fx


@pytest.fixture
def bp4d_root(tmp_path: Path) -> Path:
    root = tmp_path / "BP4D+"
    fx.build_bp4d_trial(root, "F001", "T1")  # per-subject zip
    fx.build_bp4d_trial(root, "F001", "T2", au_frames=None)  # non-AU task
    fx.build_bp4d_trial(root, "M002", "T6", video="dir")  # extracted frames
    fx.build_bp4d_trial(root, "F003", "T7", video="trial_zip", nan_span_sec=(1.0, 1.2))
    return root


def test_au_subset_recording_values(bp4d_root: Path) -> None:
    recordings, report = load_recordings(get_source("bp4d_plus"), bp4d_root)
    assert not report.issues
    assert [r.id for r in recordings] == ["F001_T1", "F003_T7", "M002_T6"]
    rec = recordings[0]
    assert rec.subject == "F001" and rec.crop == "bp4d" and rec.source == "bp4d_plus"
    assert rec.video.kind == "frame_zip" and rec.video.member_prefix == "F001/T1/"
    assert rec.video.fps == rec.fs == 25.0
    assert rec.video.frame_range == (10, 90)  # AU-coded frames 11..90 (1-based)
    assert rec.n_frames == 80
    labels = rec.labels
    assert labels.bvp_kind == "blood_pressure"
    frames = np.arange(10, 90)
    np.testing.assert_allclose(labels.bvp, fx.bp4d_bp(frames / 25.0), atol=1e-5)
    np.testing.assert_allclose(labels.resp, fx.bp4d_resp(frames / 25.0), atol=1e-5)
    spectrum = np.abs(np.fft.rfft(labels.bvp - labels.bvp.mean(), 4096))
    peak_hz = np.fft.rfftfreq(4096, 1 / 25.0)[spectrum.argmax()]
    assert peak_hz == pytest.approx(fx.BP_HZ, abs=0.02)
    assert labels.heart_rate_bpm == pytest.approx(72.0)
    assert labels.breathing_rate_bpm == pytest.approx(15.0)
    au = labels.au_matrix(AU_NAMES)
    assert au.shape == (80, 12) and au.dtype == np.int8
    au01, au12, au24 = (AU_NAMES.index(n) for n in ("AU01", "AU12", "AU24"))
    np.testing.assert_array_equal(au[:, au01], (frames + 1) % 2)
    np.testing.assert_array_equal(au[:, au12], (frames + 1 >= 50).astype(int))
    assert au[20 - 11, au24] == -1 and (np.delete(au[:, au24], 20 - 11) == 0).all()


def test_extracted_frames_trial_zip_and_short_nan_gap(bp4d_root: Path) -> None:
    recordings, _ = load_recordings(get_source("bp4d_plus"), bp4d_root)
    by_id = {r.id: r for r in recordings}
    extracted = by_id["M002_T6"]
    assert extracted.video.kind == "frame_dir"
    assert extracted.video.path == bp4d_root / "2D+3D" / "M002" / "T6"
    trial_zip = by_id["F003_T7"]
    assert trial_zip.video.kind == "frame_zip" and trial_zip.video.member_prefix is None
    # the 0.2 s NaN gap (frames 25..30) is bridged, so labels stay finite and near the sine
    assert np.isfinite(trial_zip.labels.bvp).all()
    outside = np.r_[0:14, 21:80]
    expected = fx.bp4d_bp((np.arange(10, 90)) / 25.0)
    np.testing.assert_allclose(trial_zip.labels.bvp[outside], expected[outside], atol=1e-5)


def test_scope_all_includes_every_task_whole_trials(bp4d_root: Path) -> None:
    recordings, report = load_recordings(get_source("bp4d_plus"), bp4d_root, scope="all")
    assert not report.issues
    by_id = {r.id: r for r in recordings}
    assert set(by_id) == {"F001_T1", "F001_T2", "F003_T7", "M002_T6"}
    t2 = by_id["F001_T2"]
    assert t2.video.frame_range is None and t2.n_frames == 100 and t2.labels.au is None
    np.testing.assert_allclose(t2.labels.bvp, fx.bp4d_bp(np.arange(100) / 25.0), atol=1e-5)
    t1 = by_id["F001_T1"]  # whole trial, AU labels -1 outside the coded frames
    assert t1.n_frames == 100 and t1.video.frame_range is None
    au = t1.labels.au_matrix()
    assert (au[:10] == -1).all() and (au[90:] == -1).all() and (au[10:90, 0] >= 0).all()


def test_frames_read_in_natural_order_from_the_archive(bp4d_root: Path) -> None:
    rec = next(r for r in load_recordings(get_source("bp4d_plus"), bp4d_root)[0])
    batches = list(
        read_frame_zip(
            rec.video.path,
            rec.video.fps,
            rec.video.member_prefix,
            frame_range=rec.video.frame_range,
            batch_size=32,
        )
    )
    assert [len(b) for b in batches] == [32, 32, 16]
    frames = np.concatenate([b.frames for b in batches])
    assert frames.shape == (80, 8, 6, 3) and frames.dtype == np.uint8
    # frame i of the trial was written with grey level 2 i (JPEG: a few levels of error)
    np.testing.assert_allclose(frames.mean(axis=(1, 2, 3)), 2.0 * np.arange(10, 90), atol=3)
    times = np.concatenate([b.timestamps_sec for b in batches])
    np.testing.assert_allclose(times, np.arange(10, 90) / 25.0)
    dir_frames = list(read_frame_files(bp4d_root / "2D+3D" / "M002" / "T6", 25.0, batch_size=64))
    assert sum(len(b) for b in dir_frames) == 100
    assert abs(dir_frames[0].frames[11].mean() - 22) <= 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drop": ("BP_mmHg.txt",)}, "missing label file: BP_mmHg.txt"),
        ({"physio_sec": 2.0}, "labels shorter than video"),
        ({"physio_sec": 6.0}, "labels longer than video"),
        ({"nan_span_sec": (1.0, 2.5)}, "NaN run"),
        ({"au_frames": None}, "missing label file: AU_OCC csv"),
    ],
)
def test_bad_trials_are_reported_and_skipped(tmp_path: Path, kwargs: dict, message: str) -> None:
    root = tmp_path / "bp4d"
    fx.build_bp4d_trial(root, "F001", "T1")
    fx.build_bp4d_trial(root, "F002", "T1", **kwargs)
    recordings, report = load_recordings(get_source("bp4d_plus"), root)
    assert [r.id for r in recordings] == ["F001_T1"]
    assert len(report.issues) == 1
    issue = report.issues[0]
    assert issue.recording_id == "F002_T1" and message in issue.message
    assert "1 skipped" in report.summary()
    with pytest.raises(DatasetError, match="F002_T1"):
        load_recordings(get_source("bp4d_plus"), root, report=DataReport(strict=True))


def test_missing_video_and_physiology_folder(tmp_path: Path) -> None:
    root = tmp_path / "bp4d"
    fx.build_bp4d_trial(root, "F001", "T1")
    (root / "Physiology" / "F009" / "T1").mkdir(parents=True)
    _, report = load_recordings(get_source("bp4d_plus"), root)
    assert [i.recording_id for i in report.issues] == ["F009_T1"]
    assert "missing video" in report.issues[0].message
    with pytest.raises(DatasetError, match="Physiology"):
        load_recordings(get_source("bp4d_plus"), tmp_path)


def test_index_header_pulse_rate_fallback_and_au_intensity(tmp_path: Path) -> None:
    root = tmp_path / "bp4d"
    fx.build_bp4d_trial(
        root, "F001", "T8", index_header=True, drop=("Pulse Rate_BPM.txt",), au_int=(6, 12)
    )
    (rec,), report = load_recordings(get_source("bp4d_plus"), root, au_intensity=True)
    assert not report.issues
    # columns counted 1..34 → read by position (the AU list of the distribution)
    au = rec.labels.au_matrix()
    frames = np.arange(10, 90) + 1
    np.testing.assert_array_equal(au[:, AU_NAMES.index("AU12")], (frames >= 50).astype(int))
    np.testing.assert_array_equal(au[:, AU_NAMES.index("AU01")], frames % 2)
    # no "Pulse Rate_BPM.txt": the mean rate comes from the 1.2 Hz blood-pressure wave
    assert rec.labels.heart_rate_bpm == pytest.approx(60 * fx.BP_HZ, abs=2.0)
    assert rec.meta["heart_rate_source"].startswith("blood-pressure")
    assert set(rec.meta["au_intensity"]) == {"AU06", "AU12"}
    np.testing.assert_array_equal(rec.meta["au_intensity"]["AU06"], frames % 6)
