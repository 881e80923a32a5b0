"""Shared fixtures: seeds and the optional ../shared folder (skipped cleanly when absent)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

import tiny_model  # noqa: F401 (registers the test-only model bigsmall_tiny_test)

#: ``../shared`` beside the project root (present on developer machines and in CI).
SHARED_DIR = Path(
    os.environ.get("BIGSMALL_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)


@pytest.fixture(autouse=True)
def _seed() -> None:
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 (seeds legacy global-state users)


@pytest.fixture
def shared_dir() -> Path:
    """The shared folder; the test is skipped when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"shared folder not found at {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture
def faces_dir(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "faces"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture
def official_weights_dir(shared_dir: Path) -> Path:
    path = shared_dir / "weights" / "official-bigsmall"
    if not path.is_dir():
        pytest.skip(f"{path} not found")
    return path
