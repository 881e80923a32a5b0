"""The preprocessing cache: storage size, skip-and-count, resume after SIGKILL, sharding."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bigsmall.cli import main as cli_main
from bigsmall.data.cache import (
    cache_dir_for,
    directory_bytes,
    float32_equivalent_bytes,
    list_dataset,
    load_manifest,
    parse_shard,
    preprocess_dataset,
    shard_from_env,
    write_fold_split,
)
from bigsmall.data.pipeline import PreprocessConfig
from bigsmall.data.schema import RecordingError
from bigsmall.data.synthetic import SynthConfig, generate_dataset
from bigsmall.errors import ConfigError

N_GOOD = 4
BROKEN_ID = "S099__S099_T1"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 synthetic videos (4 s, 128x96) and one unreadable video."""
    root = tmp_path_factory.mktemp("cache") / "synth"
    generate_dataset(root, SynthConfig(subjects=N_GOOD, seconds=4.0, seed=1, width=128, height=96))
    broken = root / "S099" / "S099_T1.mp4"
    broken.parent.mkdir()
    broken.write_bytes(b"\x00garbage" * 64)
    return root


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _cache_dir(dataset: Path, cache_root: Path, cfg: PreprocessConfig) -> Path:
    refs, _ = list_dataset("folder", dataset)
    return cache_dir_for(cache_root, "folder", refs, cfg)


@pytest.fixture(scope="module")
def reference(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run with 2 worker processes."""
    summary = preprocess_dataset(
        "folder", dataset, tmp_path_factory.mktemp("ref"), workers=2, progress=False
    )
    assert summary.n_done == N_GOOD and summary.n_skipped == 1
    return summary.cache_dir


def test_manifest_counts_and_storage(reference: Path) -> None:
    manifest = load_manifest(reference)
    totals = manifest["totals"]
    assert totals["recordings"] == N_GOOD and totals["skipped"] == 1
    assert [r["id"] for r in manifest["recordings"]] == [
        f"S00{i}__S00{i}_T1" for i in range(1, N_GOOD + 1)
    ]
    assert manifest["skipped"][0]["id"] == BROKEN_ID
    assert manifest["skipped"][0]["message"].startswith("unreadable video")
    # 4 s at 30 fps = 120 frames = 40 windows of 3
    assert totals["frames"] == N_GOOD * 120 and totals["windows"] == N_GOOD * 40
    # Everything on disk (arrays, meta, manifest, listing) against float32 storage of the same
    # windows as the toolbox keeps them: Big + Small of every frame and K + 2 labels in float32.
    on_disk = directory_bytes(reference)
    f32 = float32_equivalent_bytes(totals["frames"], PreprocessConfig())
    assert f32 == totals["float32_bytes"] == N_GOOD * 120 * (3 * (144 * 144 + 81) + 14) * 4
    assert on_disk <= f32 / 4
    assert 0.08 < on_disk / f32 < 0.1  # Big is 1 uint8 frame in 3: ~1/12
    big = np.load(reference / "rec" / "S001__S001_T1" / "big.npy", mmap_mode="r")
    small = np.load(reference / "rec" / "S001__S001_T1" / "small.npy", mmap_mode="r")
    assert big.shape == (40, 3, 144, 144) and big.dtype == np.uint8
    assert small.shape == (120, 3, 9, 9) and small.dtype == np.float16


def test_rerun_skips_finished_recordings(dataset: Path, reference: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in reference.rglob("*.npy")}
    summary = preprocess_dataset("folder", dataset, reference.parent, progress=False)
    assert summary.cache_dir == reference
    assert (summary.n_done, summary.n_reused, summary.n_skipped) == (0, N_GOOD, 1)
    assert summary.issues[0]["id"] == BROKEN_ID  # still reported
    with pytest.raises(RecordingError, match="S099"):  # strict retries it, and fails
        preprocess_dataset("folder", dataset, reference.parent, strict=True, progress=False)
    assert {p: p.stat().st_mtime_ns for p in reference.rglob("*.npy")} == before


def test_resume_after_sigkill_is_byte_identical(
    dataset: Path, reference: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache_root = tmp_path / "cache"
    cache_dir = _cache_dir(dataset, cache_root, PreprocessConfig())
    assert cache_dir.name == reference.name  # same config, same files -> same key
    command = [sys.executable, "-m", "bigsmall", "preprocess", "--source", "folder"]
    command += ["--root", str(dataset), "--cache", str(cache_root), "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    rec_root = cache_dir / "rec"
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if rec_root.is_dir() and any(not p.name.startswith(".") for p in rec_root.iterdir()):
                break
            time.sleep(0.005)
        assert proc.poll() is None, "preprocessing finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    finished = sorted(p.name for p in rec_root.iterdir() if not p.name.startswith("."))
    assert 1 <= len(finished) < N_GOOD
    assert not (cache_dir / "manifest.json").exists()
    stamps = {p: p.stat().st_mtime_ns for p in rec_root.glob("*/*.npy")}

    args = ["preprocess", "--source", "folder", "--root", str(dataset)]
    assert cli_main([*args, "--cache", str(cache_root), "--quiet"]) == 0
    out = capsys.readouterr().out
    done = N_GOOD - len(finished)
    assert f"{done} preprocessed, {len(finished)} already cached, 1 skipped" in out
    assert f"skipped {BROKEN_ID}: {dataset}" in out
    assert f"skipped {BROKEN_ID}:" in out
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # not rewritten
    assert _tree(cache_dir) == _tree(reference)


def test_shards_merge_into_the_same_cache(dataset: Path, reference: Path, tmp_path: Path) -> None:
    first = preprocess_dataset("folder", dataset, tmp_path, shard=(0, 2), progress=False)
    assert first.n_owned == 3 and first.manifest is None
    second = preprocess_dataset("folder", dataset, tmp_path, shard=(1, 2), progress=False)
    assert second.n_owned == 2 and second.manifest is not None
    assert _tree(second.cache_dir) == _tree(reference)
    assert parse_shard("1/4") == (1, 4)
    assert shard_from_env({"RANK": "1", "WORLD_SIZE": "2"}) == (1, 2)
    assert shard_from_env({}) == (0, 1)
    for bad in ("4/4", "x", "1/0"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


def test_strict_makes_a_bad_recording_an_error(dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="S099"):
        preprocess_dataset("folder", dataset, tmp_path, strict=True, progress=False)


def test_other_config_other_cache_and_fold_split(
    dataset: Path, reference: Path, tmp_path: Path
) -> None:
    other = _cache_dir(dataset, reference.parent, PreprocessConfig(n_segment=4))
    assert other != reference
    first_two, _ = list_dataset("folder", dataset, limit=2)
    assert [r.id for r in first_two] == ["S001__S001_T1", "S002__S002_T1"]
    assert cache_dir_for(reference.parent, "folder", first_two, PreprocessConfig()) != reference
    copy = shutil.copytree(reference, tmp_path / reference.name)
    split = write_fold_split(copy, 1, "folder")
    assert sorted(split["train"] + split["test"]) == [
        f"S00{i}__S00{i}_T1" for i in range(1, N_GOOD + 1)
    ]
    assert len(split["test"]) in (1, 2) and not set(split["train"]) & set(split["test"])
    assert (copy / "fold1.json").is_file()


def test_aligned_cache_stores_aligned_big_frames_and_landmarks(
    dataset: Path, reference: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``preprocess.align``: the cached Big frames are the aligned ones (one in N, with their
    own statistics), their landmarks ride along (NaN where none were found), Small is as
    without alignment, the cache key differs, and batches carry the landmarks."""
    import bigsmall.video.align as align_module
    from bigsmall.data.dataset import WindowDataset

    class FakeAligner:  # an even call finds no landmarks
        def __init__(self, spec: object, box_enlarge: float = 1.0) -> None:
            self.side, self.calls = spec.out_side, 0

        def __call__(self, rgb: np.ndarray, box: object) -> object:
            self.calls += 1
            if self.calls % 2 == 0:
                return None
            points = np.tile(np.float32([[0.25, 0.75]]) * self.side, (49, 1))
            image = np.full((self.side, self.side, 3), 50, np.uint8)
            return align_module.AlignedFace(image, points, np.eye(2, 3))

    monkeypatch.setattr(align_module, "FaceAligner", FakeAligner)
    cfg = PreprocessConfig(align=True)
    summary = preprocess_dataset("folder", dataset, tmp_path, cfg, progress=False)
    assert summary.n_done == N_GOOD and summary.cache_dir.name != reference.name
    rec = summary.cache_dir / "rec" / "S001__S001_T1"
    big = np.load(rec / "big.npy")
    landmarks = np.load(rec / "landmarks.npy")
    assert big.shape == (40, 3, 144, 144) and landmarks.shape == (40, 49, 2)
    assert (big[0::2] == 50).all() and not (big[1::2] == 50).all()  # aligned / plain crop
    np.testing.assert_array_equal(landmarks[0::2], np.broadcast_to([0.25, 0.75], (20, 49, 2)))
    assert np.isnan(landmarks[1::2]).all()
    small_plain = np.load(reference / "rec" / "S001__S001_T1" / "small.npy")
    np.testing.assert_array_equal(np.load(rec / "small.npy"), small_plain)
    meta = load_manifest(summary.cache_dir)["config"]
    assert meta["align"] is True
    item = WindowDataset(summary.cache_dir)[1]
    assert item["big"].shape == (1, 3, 144, 144) and item["landmarks"].shape == (1, 49, 2)
    assert np.isnan(item["landmarks"].numpy()).all()  # window 1's Big frame had none
