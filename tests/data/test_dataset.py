"""WindowDataset: exact Big standardization on load, labels, DataLoader workers, stitching."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from bigsmall.data import WindowDataset, fold_recording_ids
from bigsmall.data.cache import directory_bytes, preprocess_dataset, write_fold_split
from bigsmall.data.pipeline import PreprocessConfig
from bigsmall.data.sources import get_source, load_recordings
from bigsmall.data.synthetic import SynthConfig, generate_dataset
from bigsmall.errors import ConfigError, DatasetError
from bigsmall.signal.filters import diff_normalize
from bigsmall.video import build_bigsmall_inputs
from bigsmall.video.normalize import standardize_table

N = 3
FRAMES = 62  # 62 frames -> 20 windows, 2 frames dropped


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dataset") / "synth"
    generate_dataset(
        out, SynthConfig(subjects=2, seconds=FRAMES / 30.0, seed=7, width=128, height=96)
    )
    return out


@pytest.fixture(scope="module")
def caches(root: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    cache_root = tmp_path_factory.mktemp("caches")
    out = {}
    for mode in ("first", "all"):
        cfg = PreprocessConfig(big_frames=mode)
        out[mode] = preprocess_dataset("folder", root, cache_root, cfg, progress=False).cache_dir
    return out


def test_items_equal_the_spec_inputs(root: Path, caches: dict[str, Path]) -> None:
    ds = WindowDataset(caches["first"])
    assert ds.recording_ids == ["S001__S001_T1", "S002__S002_T1"]
    assert len(ds) == 40
    rec = load_recordings(get_source("folder"), root)[0][1]
    inputs = build_bigsmall_inputs(rec.video.path, glide_box=False)  # the datasets' box
    w = 7  # window 7 of the second recording
    item = ds[20 + w]
    assert item["big"].shape == (1, 3, 144, 144) and item["big"].dtype == torch.float32
    expected_big = inputs.big_standardized(w * N, w * N + 1).transpose(0, 3, 1, 2)
    np.testing.assert_array_equal(item["big"].numpy(), expected_big)  # exact
    small = inputs.small[w * N : (w + 1) * N].transpose(0, 3, 1, 2)
    assert item["small"].shape == (N, 3, 9, 9)
    np.testing.assert_array_equal(item["small"].numpy(), small.astype(np.float16))
    bvp = diff_normalize(rec.labels.bvp).astype(np.float32)[w * N : (w + 1) * N]
    np.testing.assert_allclose(item["bvp"].numpy(), bvp, atol=1e-6)
    np.testing.assert_array_equal(item["au"].numpy(), rec.labels.au_matrix()[w * N : (w + 1) * N])
    assert item["au"].dtype == torch.int8
    assert bool(item["bvp_mask"]) and bool(item["resp_mask"])
    recording = ds.recording("S002__S002_T1")
    assert recording.windows == (20, 40) and recording.n_used == 60 and recording.fps == 30.0
    np.testing.assert_allclose(recording.bvp_eval, rec.labels.bvp[:60].astype(np.float32))
    assert recording.heart_rate_bpm == rec.labels.heart_rate_bpm
    with pytest.raises(IndexError):
        ds[40]


def test_lookup_table_matches_formula() -> None:
    lut = standardize_table(0.4, 0.2)
    u = np.arange(256)
    x = np.clip(u.astype(np.float32) / np.float32(255), np.float32(1 / 255), 1)
    np.testing.assert_array_equal(lut, (x - np.float32(0.4)) / np.float32(0.2))
    assert lut[0] == lut[1]  # 0 is clipped to 1/255
    assert not np.isnan(standardize_table(0.5, 0.0)).any()


def test_big_frames_modes(caches: dict[str, Path]) -> None:
    first, full = WindowDataset(caches["first"]), WindowDataset(caches["all"])
    assert full.big_frames == "all" and full[5]["big"].shape == (N, 3, 144, 144)
    as_first = WindowDataset(caches["all"], big_frames="first")
    np.testing.assert_array_equal(as_first[5]["big"].numpy(), first[5]["big"].numpy())
    np.testing.assert_array_equal(full[5]["big"][0].numpy(), first[5]["big"][0].numpy())
    with pytest.raises(ConfigError, match="big_frames"):
        WindowDataset(caches["first"], big_frames="all")
    # storing every Big frame costs 3x more: over 1/4 of float32, just
    ratio_all = directory_bytes(caches["all"]) / full.manifest["totals"]["float32_bytes"]
    ratio_first = directory_bytes(caches["first"]) / first.manifest["totals"]["float32_bytes"]
    assert 0.25 < ratio_all < 0.27 and ratio_first < 0.1


def test_dataloader_workers_and_stitching(caches: dict[str, Path]) -> None:
    ds = WindowDataset(caches["first"])
    pickle.loads(pickle.dumps(ds))[3]  # picklable with open maps (no array data copied)
    ds[0]
    assert len(pickle.dumps(ds)) < 200_000
    loader = DataLoader(ds, batch_size=8, shuffle=False, num_workers=2)
    batches = list(loader)
    assert batches[0]["big"].shape == (8, 1, 3, 144, 144)
    assert batches[0]["small"].shape == (8, N, 3, 9, 9)
    assert batches[0]["bvp_mask"].shape == (8,)
    bvp = torch.cat([b["bvp"] for b in batches])  # (40, N)
    stitched = ds.stitch(bvp)
    for rid, seq in stitched.items():
        np.testing.assert_array_equal(seq, ds.recording(rid).bvp)
    flat = ds.stitch(bvp.reshape(-1).numpy())
    np.testing.assert_array_equal(flat["S001__S001_T1"], stitched["S001__S001_T1"])
    with pytest.raises(ValueError):
        ds.stitch(np.zeros(7))


def test_recording_subsets_and_folds(caches: dict[str, Path]) -> None:
    one = WindowDataset(caches["first"], recording_ids=["S002__S002_T1"])
    assert len(one) == 20 and one.window_recording.tolist() == [0] * 20
    with pytest.raises(DatasetError, match="not in the cache"):
        WindowDataset(caches["first"], recording_ids=["nope"])
    write_fold_split(caches["first"], 1, "folder", n_folds=2)
    train = fold_recording_ids(caches["first"], 1, "train")
    test = fold_recording_ids(caches["first"], 1, "test")
    assert sorted(train + test) == ["S001__S001_T1", "S002__S002_T1"] and len(test) == 1
