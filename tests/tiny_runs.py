"""``bigsmall run`` of a config in miniature, with its data, cache and runs under one folder
(shared by the end-to-end tests; importable from the tests through pyproject's pythonpath)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigsmall.cli import main

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def run_config(config: str, root: Path, overrides: list[str]) -> Path:
    """Run ``configs/<config>`` with ``--set`` ``overrides`` (data, cache and runs in ``root``);
    asserts success and returns the folder of its runs."""
    args = ["run", str(CONFIGS / config), "--workers", "1"]
    for item in overrides:
        args += ["--set", item]
    with pytest.MonkeyPatch.context() as mp:
        for name in ("data", "cache", "runs"):
            mp.setenv(f"BIGSMALL_{name.upper()}", str(root / name))
        assert main(args) == 0
    return root / "runs"
