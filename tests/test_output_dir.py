"""Output folders: whole or absent, and --overwrite replaces only what bigsmall wrote."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bigsmall.errors import ConfigError
from bigsmall.output_dir import (
    MARKER,
    atomic_dir,
    check_out_dir,
    is_own_output,
    write_json_atomic,
)


def _write(out: Path, text: str, overwrite: bool = False, inputs: tuple = ()) -> None:
    with atomic_dir(out, overwrite, inputs) as tmp:
        (tmp / "summary.json").write_text(text)


def test_new_folder_is_marked_and_own_folder_is_replaced(tmp_path: Path) -> None:
    out = tmp_path / "run"
    _write(out, "first")
    assert is_own_output(out) and (out / "summary.json").read_text() == "first"
    with pytest.raises(ConfigError, match="pass --overwrite"):
        _write(out, "second")
    _write(out, "second", overwrite=True)
    assert (out / "summary.json").read_text() == "second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporaries left


def test_overwrite_never_removes_what_bigsmall_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "thesis.tex").write_text("years of work")
    with pytest.raises(ConfigError, match=f"no {MARKER} inside"):
        _write(docs, "x", overwrite=True)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00video")
    with pytest.raises(ConfigError, match="is a file"):
        _write(video, "x", overwrite=True)
    own = tmp_path / "own"
    _write(own, "first")
    (own / "clip.mp4").write_bytes(b"\x00input")
    with pytest.raises(ConfigError, match="holds the input"):
        _write(own, "x", overwrite=True, inputs=(own / "clip.mp4",))
    monkeypatch.chdir(own)
    with pytest.raises(ConfigError, match="current folder"):
        _write(Path("."), "x", overwrite=True)
    with pytest.raises(ConfigError, match="current folder"):
        _write(tmp_path, "x", overwrite=True)
    assert (docs / "thesis.tex").read_text() == "years of work"
    assert video.read_bytes() == b"\x00video" and (own / "clip.mp4").is_file()


def test_two_runs_into_one_new_folder(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="another run wrote this folder"):
        with atomic_dir(out) as tmp:
            (tmp / "summary.json").write_text("slow run")
            _write(out, "fast run")  # finishes first
    assert (out / "summary.json").read_text() == "fast run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="writing failed: No space left"):
        with atomic_dir(out) as tmp:
            (tmp / "signals.csv").write_text("partial")
            raise OSError(28, "No space left on device")
    assert not any(tmp_path.iterdir())


def test_stale_temporary_of_a_killed_run_is_removed(tmp_path: Path) -> None:
    dead = tmp_path / ".run.tmp-999999999-ab12"  # no such process
    dead.mkdir()
    (dead / "signals.csv").write_text("half")
    mine = tmp_path / f".run.tmp-{os.getppid()}-cd34"  # a live process: kept
    mine.mkdir()
    _write(tmp_path / "run", "ok")
    assert not dead.exists() and mine.exists()


def test_unwritable_place_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(ConfigError, match="cannot write there"):
        check_out_dir(tmp_path / "new" / "run")


def test_write_json_atomic_strict_or_stringified(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_json_atomic(target, {"b": 1, "a": tmp_path})
    assert target.read_text() == f'{{\n  "a": "{tmp_path}",\n  "b": 1\n}}\n'
    with pytest.raises(TypeError):
        write_json_atomic(target, {"a": tmp_path}, default=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]  # no temporary left
