"""BP4D+ paper folds from package data and seeded subject-disjoint k-fold splits."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bigsmall.data.splits import (
    bp4d_plus_folds,
    fold_split,
    kfold_subject_split,
    split_by_test_subjects,
)
from bigsmall.errors import ConfigError


@dataclass
class _Rec:
    id: str
    subject: str


def test_bp4d_plus_folds_sizes_disjoint_and_known_members() -> None:
    folds = bp4d_plus_folds()
    assert [len(f) for f in folds] == [46, 46, 47]
    assert not (folds[0] & folds[1]) and not (folds[0] & folds[2]) and not (folds[1] & folds[2])
    assert len(folds[0] | folds[1] | folds[2]) == 139
    assert {"F003", "F004", "F005"} <= folds[0]
    assert {"F001", "F002", "F008"} <= folds[1]
    assert {"F007", "F010", "F011"} <= folds[2]


def test_fold_split_tests_on_fold_k_and_trains_on_the_rest() -> None:
    folds = bp4d_plus_folds()
    subjects = sorted(folds[0] | folds[1] | folds[2])
    recordings = [_Rec(f"{s}_T{t}", s) for s in subjects for t in (1, 6, 7, 8)]
    for k in (1, 2, 3):
        train, test = fold_split(recordings, k)
        assert {r.subject for r in test} == folds[k - 1]
        assert {r.subject for r in train} == set(subjects) - folds[k - 1]
        assert len(train) + len(test) == len(recordings)
    with pytest.raises(ConfigError, match="1, 2 or 3"):
        fold_split(recordings, 4)


def test_kfold_subject_split_disjoint_balanced_deterministic() -> None:
    subjects = [f"S{i:02d}" for i in range(11)] * 3  # repeated: one subject, many recordings
    folds = kfold_subject_split(subjects, k=3, seed=7)
    assert sorted(len(f) for f in folds) == [3, 4, 4]
    assert set().union(*folds) == set(subjects)
    assert sum(len(f) for f in folds) == 11
    assert folds == kfold_subject_split(list(reversed(subjects)), k=3, seed=7)
    assert folds != kfold_subject_split(subjects, k=3, seed=8)
    recordings = [_Rec(f"{s}_{i}", s) for i, s in enumerate(subjects)]
    train, test = split_by_test_subjects(recordings, folds[0])
    assert not ({r.subject for r in train} & {r.subject for r in test})
    assert len(test) == 3 * len(folds[0])
    with pytest.raises(ConfigError, match="k-fold"):
        kfold_subject_split(subjects, k=12)
