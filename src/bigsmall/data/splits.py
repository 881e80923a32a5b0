"""Subject-disjoint train/test splits.

BP4D+: the three test-subject folds of BigSmall's 3-fold cross-validation (Narayanswamy et
al., WACV 2024), shipped as package data (``bigsmall/data/folds/fold{k}_test_subjects.txt``,
one subject id a line). Fold ``k`` tests on list ``k`` and trains on the two others.
Other datasets: :func:`kfold_subject_split`, a seeded, deterministic subject-disjoint k-fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Protocol, TypeVar

import numpy as np

from bigsmall.errors import ConfigError

FOLDS_PACKAGE = "bigsmall.data"
FOLD_FILE = "folds/fold{k}_test_subjects.txt"
#: Number of BP4D+ folds in the paper.
N_BP4D_FOLDS: int = 3


class _HasSubject(Protocol):
    subject: str


R = TypeVar("R", bound=_HasSubject)


def bp4d_plus_folds() -> list[frozenset[str]]:
    """The paper's BP4D+ test-subject sets, folds 1..3 in order (46, 46, 47 subjects)."""
    folds = []
    base = resources.files(FOLDS_PACKAGE)
    for k in range(1, N_BP4D_FOLDS + 1):
        text = base.joinpath(FOLD_FILE.format(k=k)).read_text(encoding="utf-8")
        folds.append(frozenset(line.strip().upper() for line in text.splitlines() if line.strip()))
    return folds


def split_by_test_subjects(
    recordings: Iterable[R], test_subjects: Iterable[str]
) -> tuple[list[R], list[R]]:
    """``(train, test)``: recordings whose subject is in ``test_subjects`` go to test."""
    test_set = {s.upper() for s in test_subjects}
    train: list[R] = []
    test: list[R] = []
    for recording in recordings:
        (test if recording.subject.upper() in test_set else train).append(recording)
    return train, test


def fold_split(recordings: Iterable[R], fold_k: int) -> tuple[list[R], list[R]]:
    """BP4D+ fold ``fold_k`` (1, 2 or 3): ``(train, test)`` as in the paper."""
    if fold_k not in range(1, N_BP4D_FOLDS + 1):
        raise ConfigError(f"BP4D+ fold must be 1, 2 or 3 (the paper's splits), got {fold_k!r}")
    return split_by_test_subjects(recordings, bp4d_plus_folds()[fold_k - 1])


def kfold_subject_split(subjects: Sequence[str], k: int, seed: int = 0) -> list[frozenset[str]]:
    """Test-subject sets of a subject-disjoint ``k``-fold split, deterministic for ``seed``.

    Unique subjects are sorted, shuffled with ``numpy.random.default_rng(seed)`` and dealt into
    ``k`` folds whose sizes differ by at most one. Use with :func:`split_by_test_subjects`.
    """
    unique = sorted(set(subjects))
    if not 2 <= k <= len(unique):
        raise ConfigError(
            f"k-fold split needs 2 <= k <= number of subjects ({len(unique)}), got k={k}"
        )
    order = np.random.default_rng(seed).permutation(len(unique))
    return [frozenset(unique[i] for i in part) for part in np.array_split(order, k)]
