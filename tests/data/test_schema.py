"""Recording schema: label validation, the one AU order, issue reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bigsmall.constants import AU_NAMES
from bigsmall.data.schema import DataIssue, DataReport, Labels, RecordingError, VideoRef
from bigsmall.errors import DatasetError


def test_au_matrix_reorders_and_fills_not_coded() -> None:
    au = np.array([[1, 0], [0, 1], [-1, 1]], dtype=np.int8)
    labels = Labels(fs=25.0, n_frames=3, au=au, au_names=("AU12", "AU01"))
    matrix = labels.au_matrix()
    assert matrix.shape == (3, len(AU_NAMES))
    np.testing.assert_array_equal(matrix[:, AU_NAMES.index("AU01")], [0, 1, 1])
    np.testing.assert_array_equal(matrix[:, AU_NAMES.index("AU12")], [1, 0, -1])
    assert (np.delete(matrix, [0, 6], axis=1) == -1).all()
    assert (Labels(fs=25.0, n_frames=3).au_matrix(["AU01"]) == -1).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bvp": np.zeros(4)}, "Labels.bvp has shape"),
        ({"au": np.full((3, 1), 2), "au_names": ("AU01",)}, "1, 0 or -1"),
        ({"au_names": ("AU01",)}, "without Labels.au"),
        ({"bvp_kind": "ecg"}, "bvp_kind"),
    ],
)
def test_labels_reject_inconsistent_arrays(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Labels(fs=25.0, n_frames=3, **kwargs)


def test_video_ref_checks_kind_and_range() -> None:
    ref = VideoRef("frame_zip", "a.zip", fps=25.0, member_prefix="F001/T1/", frame_range=(3, 9))
    assert ref.path == Path("a.zip") and ref.frame_range == (3, 9)
    with pytest.raises(ValueError, match="kind"):
        VideoRef("youtube", "x")
    with pytest.raises(ValueError, match="frame_range"):
        VideoRef("file", "x.mp4", frame_range=(5, 5))


def test_report_counts_and_strict_raises() -> None:
    report = DataReport()
    report.n_ok = 4
    report.add(DataIssue("F001_T1", "/d/BP_mmHg.txt", "NaN run: bp has 900 missing samples"))
    report.add(DataIssue("F002_T1", "/d/BP_mmHg.txt", "NaN run: bp has 700 missing samples"))
    assert len(report) == 2 and bool(DataReport())
    assert report.summary() == "4 recordings used, 2 skipped (2× NaN run)"
    assert report.lines()[0] == "F001_T1: /d/BP_mmHg.txt: NaN run: bp has 900 missing samples"
    with pytest.raises(DatasetError, match=r"F003_T8: x\.csv: missing label file") as info:
        DataReport(strict=True).add(DataIssue("F003_T8", "x.csv", "missing label file"))
    assert isinstance(info.value, RecordingError) and info.value.issue.recording_id == "F003_T8"
