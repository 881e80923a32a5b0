"""DISFA and folder sources on fixture trees; registry errors."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from bigsmall.constants import AU_NAMES, DISFA_AU_NAMES
from bigsmall.data.schema import DataReport
from bigsmall.data.sources import SOURCES, get_source, load_recordings
from bigsmall.errors import ConfigError, DatasetError

sys.path.insert(0, str(Path(__file__).parent))  # tests/data: the shared fixture builders
import fixtures as fx


def test_registry_names_and_unknown_source() -> None:
    assert set(SOURCES) == {"bp4d_plus", "ubfc_rppg", "pure", "disfa", "folder"}
    with pytest.raises(ConfigError, match="bp4d_plus, disfa, folder, pure, ubfc_rppg"):
        get_source("bp4d")


def test_disfa_occurrence_is_intensity_at_least_two(tmp_path: Path) -> None:
    root = tmp_path / "DISFA"
    fx.build_disfa_subject(root, "SN001")
    fx.build_disfa_subject(root, "SN002", n_label_frames=10)
    fx.build_disfa_subject(root, "SN003", drop_aus=(26,))
    recordings, report = load_recordings(get_source("disfa"), root)
    assert [r.id for r in recordings] == ["SN001"]
    rec = recordings[0]
    assert rec.fs == 20.0 and rec.n_frames == 40 and rec.video.path.name.startswith("LeftVideo")
    assert rec.labels.au_names == DISFA_AU_NAMES and rec.labels.bvp is None
    au = rec.labels.au_matrix(DISFA_AU_NAMES)
    frames = np.arange(1, 41)
    for j, number in enumerate(fx.DISFA_AU_NUMBERS):
        expected = (fx.disfa_intensity(number, frames) >= 2).astype(int)
        if number == 2:
            expected[4] = -1  # line of frame 5 left out → not coded
        np.testing.assert_array_equal(au[:, j], expected)
    # in BigSmall's 12-AU order, DISFA's AU09/25/26 drop out and uncoded AUs are -1
    big = rec.labels.au_matrix(AU_NAMES)
    np.testing.assert_array_equal(big[:, AU_NAMES.index("AU12")], au[:, 5])
    assert (big[:, AU_NAMES.index("AU07")] == -1).all()
    messages = {i.recording_id: i.message for i in report.issues}
    assert messages["SN002"].startswith("labels shorter than video: 10 labelled frames")
    assert messages["SN003"] == "missing label file: AU26"
    strict = get_source("disfa").load(get_source("disfa").list_recordings(root, DataReport())[0])
    assert strict.id == "SN001"


def test_disfa_threshold_option(tmp_path: Path) -> None:
    root = tmp_path / "DISFA"
    fx.build_disfa_subject(root, "SN001", skip=None)
    recordings, _ = load_recordings(get_source("disfa"), root, threshold=4)
    frames = np.arange(1, 41)
    expected = (fx.disfa_intensity(1, frames) >= 4).astype(int)
    np.testing.assert_array_equal(recordings[0].labels.au[:, 0], expected)


@pytest.fixture
def folder_root(tmp_path: Path) -> Path:
    root = tmp_path / "mine"
    fx.build_folder_video(root, "clip.mp4", sidecar={"heart_rate_bpm": 75, "room": "lab"})
    fx.build_folder_video(root, "alice/take1.mkv", csv_span_sec=None, codec="mpeg4")
    fx.build_folder_video(root, "bob/take2.webm", codec="libvpx", sidecar={"subject": "robert"})
    return root


def test_folder_csv_resampled_to_frames(folder_root: Path) -> None:
    recordings, report = load_recordings(get_source("folder"), folder_root)
    assert not report.issues
    by_id = {r.id: r for r in recordings}
    assert list(by_id) == ["alice__take1", "bob__take2", "clip"]
    clip = by_id["clip"]
    assert clip.subject == "clip" and clip.fs == 25.0 and clip.n_frames == 50
    assert clip.video.fps is None  # read from the container later
    t = np.arange(50) / 25.0
    # linear interpolation of a 100 Hz sine at the frame times (error ≪ 1e-3)
    np.testing.assert_allclose(clip.labels.bvp, np.sin(2 * np.pi * fx.FOLDER_PPG_HZ * t), atol=2e-3)
    np.testing.assert_allclose(clip.labels.resp, 2.0 * t, atol=1e-6)
    assert clip.labels.au_names == ("AU01", "AU12")
    au = clip.labels.au_matrix(AU_NAMES)
    np.testing.assert_array_equal(au[:, 0], (t >= 1.0).astype(int))
    au12 = au[:, AU_NAMES.index("AU12")]
    expected = np.where((t >= 0.5) & (t < 0.7), -1, (t >= 1.5).astype(int))
    np.testing.assert_array_equal(au12, expected)
    assert (au[:, AU_NAMES.index("AU04")] == -1).all()
    assert clip.labels.heart_rate_bpm == 75.0 and clip.labels.breathing_rate_bpm is None
    assert clip.meta == {"room": "lab", "ignored_columns": ["extra"]}
    alice = by_id["alice__take1"]
    assert alice.subject == "alice" and alice.labels.bvp is None and alice.n_frames == 50
    bob = by_id["bob__take2"]
    assert bob.subject == "robert" and bob.n_frames == 50


def test_folder_sidecar_fps_overrides_container(tmp_path: Path) -> None:
    root = tmp_path / "mine"
    fx.build_folder_video(root, "slow.mp4", csv_span_sec=(0.0, 4.0), sidecar={"fps": 12.5})
    (rec,), _ = load_recordings(get_source("folder"), root)
    assert rec.fs == 12.5 and rec.video.fps == 12.5
    t = np.arange(50) / 12.5
    np.testing.assert_allclose(rec.labels.resp, 2.0 * t, atol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"csv_span_sec": (0.0, 1.0)}, "labels shorter than video"),
        ({"csv_span_sec": (0.0, 4.0)}, "labels longer than video"),
        ({"time_column": "t"}, "no 'time_s' column"),
    ],
)
def test_folder_bad_labels_are_issues(tmp_path: Path, kwargs: dict, message: str) -> None:
    root = tmp_path / "mine"
    fx.build_folder_video(root, "good.mp4")
    fx.build_folder_video(root, "bad.mp4", **kwargs)
    recordings, report = load_recordings(get_source("folder"), root)
    assert [r.id for r in recordings] == ["good"]
    assert report.issues[0].recording_id == "bad" and message in report.issues[0].message
    with pytest.raises(DatasetError, match="bad"):
        load_recordings(get_source("folder"), root, report=DataReport(strict=True))


def test_folder_nan_run_and_bad_sidecar(tmp_path: Path) -> None:
    root = tmp_path / "mine"
    video = fx.build_folder_video(root, "gap.mp4")
    lines = video.with_suffix(".csv").read_text().splitlines()
    header, rows = lines[0], lines[1:]
    cells = [r.split(",") for r in rows]
    for c in cells[50:150]:  # 1 s of missing ppg
        c[1] = ""
    video.with_suffix(".csv").write_text("\n".join([header, *(",".join(c) for c in cells)]))
    fx.build_folder_video(root, "side.mp4", sidecar=None)
    root.joinpath("side.json").write_text("{not json")
    recordings, report = load_recordings(get_source("folder"), root)
    assert recordings == []
    messages = {i.recording_id: i.message for i in report.issues}
    assert messages["gap"].startswith("NaN run: ppg has 100 missing samples")
    assert messages["side"].startswith("unreadable sidecar")
