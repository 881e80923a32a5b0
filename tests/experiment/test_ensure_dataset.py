"""A generated synthetic dataset is reused only when it was made with the config's arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigsmall.config import load_config
from bigsmall.errors import ConfigError
from bigsmall.experiment import ensure_dataset

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "synthetic.yaml"
TINY = ["data.synthesize.subjects=1", "data.synthesize.seconds=1", "data.synthesize.width=96",
        "data.synthesize.height=72", "data.synthesize.workers=1"]  # fmt: skip


def test_generated_once_then_reused_or_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIGSMALL_DATA", str(tmp_path))
    cfg = load_config(CONFIG, TINY)
    root = ensure_dataset(cfg, cfg.data, log=lambda _: None)
    video = root / "S001" / "S001_T1.mp4"
    stamp = video.stat().st_mtime_ns
    assert ensure_dataset(cfg, cfg.data, log=lambda _: None) == root  # same arguments: reused
    assert video.stat().st_mtime_ns == stamp
    stale = load_config(CONFIG, [*TINY, "data.synthesize.au_strength=1.5"])
    with pytest.raises(ConfigError, match=r"other synthesize arguments \(au_strength\)"):
        ensure_dataset(stale, stale.data, log=lambda _: None)
    (root / "dataset.json").unlink()  # not generated here: the user's own data, used as is
    assert ensure_dataset(stale, stale.data, log=lambda _: None) == root


@pytest.mark.parametrize(("override", "message"), [
    ("data.synthesize.au_strenth=2", "unknown key 'au_strenth'"),
    ("data.synthesize.au_event_sec=[3,1]", "0 < LOW <= HIGH"),
    ("data.synthesize.subjects=0", "at least 1"),
])  # fmt: skip
def test_synthesize_arguments_validated_on_load(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(CONFIG, [override])
