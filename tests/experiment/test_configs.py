"""Every YAML under configs/ loads, validates and dry-runs on fixture trees in the real layouts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bigsmall.config import load_config
from bigsmall.errors import ConfigError
from bigsmall.experiment import dry_run

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "data"))
import fixtures

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


@pytest.fixture(scope="module")
def dataset_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("datasets")
    for subject in ("F001", "F002", "M001"):
        fixtures.build_bp4d_trial(root / "bp4d", subject, "T1")
    for i in (1, 2):
        fixtures.build_ubfc_subject(root / "ubfc", f"subject{i}")
        fixtures.build_pure_recording(root / "pure", f"0{i}-01")
        fixtures.build_disfa_subject(root / "disfa", f"SN00{i}")
    for name in ("synthetic", "default_weights_train", "default_weights_heldout"):
        fixtures.build_folder_video(root / name, "S001/S001_T1.mp4")
    return {
        "BIGSMALL_BP4D": str(root / "bp4d"),
        "BIGSMALL_UBFC": str(root / "ubfc"),
        "BIGSMALL_PURE": str(root / "pure"),
        "BIGSMALL_DISFA": str(root / "disfa"),
        "BIGSMALL_DATA": str(root),
        "BIGSMALL_CACHE": str(root / "cache"),
        "BIGSMALL_RUNS": str(root / "runs"),
    }


def test_configs_exist() -> None:
    names = {p.stem for p in CONFIGS}
    assert {"synthetic", "bp4d_bigsmall", "bp4d_ablation_tsm", "cross_bp4d_to_ubfc"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_loads_and_dry_runs(
    path: Path, dataset_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in dataset_env.items():
        monkeypatch.setenv(key, value)
    cfg = load_config(path)
    init = cfg.expand(cfg.model.init or "")
    if init.startswith("trio:"):
        weights = cfg.resolve(init[len("trio:") :].partition("@")[0])
        if not weights.is_dir():
            pytest.skip(f"{weights} (the authors' weights) is absent")
    summary = dry_run(cfg)
    assert all(n > 0 for n in summary["recordings"].values())
    if cfg.model.name != "none":
        n_frames = 2 * cfg.preprocess.n_segment
        for task, shape in summary["outputs"].items():
            if shape is not None:
                assert shape[0] == n_frames, (task, shape)


def test_unknown_key_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain: {epochs: 2, lr: 0.001, learning_rate: 3}\n")
    with pytest.raises(ConfigError, match="unknown key 'learning_rate'") as info:
        load_config(bad)
    assert "\n" not in str(info.value)


def test_bad_value_and_missing_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain: {epochs: many}\n")
    with pytest.raises(ConfigError, match=r"train\.epochs: expected int"):
        load_config(bad)
    bad.write_text("name: x\ntrain: {gradient_method: magic}\n")
    with pytest.raises(ConfigError, match="gradient_method"):
        load_config(bad)
    monkeypatch.delenv("BIGSMALL_NOT_SET", raising=False)
    env = tmp_path / "env.yaml"
    env.write_text("name: x\ndata:\n  root: ${BIGSMALL_NOT_SET}/d\n")
    cfg = load_config(env)
    with pytest.raises(ConfigError, match="BIGSMALL_NOT_SET is not set"):
        cfg.resolve(cfg.data.root)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("train: {lr: .nan}", "lr must be a finite number"),
        ("train: {lr: .inf}", "lr must be a finite number"),
        ("train: {epochs: -2}", r"epochs \(-2\) and batch_size \(180\) must be >= 1"),
        ("train: {epochs: 2}\ntrain: {epochs: 3}", "key 'train' is given twice"),
        ("train: {epochs: 2, epochs: 3}", "key 'epochs' is given twice"),
        ("a: &a [1, 1]\nb: [*a, *a]", "aliases"),
    ],
)
def test_config_values_checked_at_load(tmp_path: Path, text: str, message: str) -> None:
    """Caught by load (so by --dry-run), before any preprocessing or training."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"name: x\n{text}\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_config(bad)
    assert "\n" not in str(info.value)


def test_alias_bomb_is_refused_at_once(tmp_path: Path) -> None:
    import time

    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)
    ]
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases"):
        load_config(bomb)
    assert time.perf_counter() - start < 1.0


def test_base_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\ntrain: {epochs: 7, lr: 0.01}\n")
    (tmp_path / "b.yaml").write_text("base: a.yaml\nname: b\ntrain: {epochs: 3}\n")
    cfg = load_config(tmp_path / "b.yaml", ["train.batch_size=12"])
    assert (cfg.name, cfg.train.epochs, cfg.train.lr, cfg.train.batch_size) == ("b", 3, 0.01, 12)


def test_trio_spec_fold_must_be_a_number(tmp_path: Path) -> None:
    from bigsmall.experiment import build_teacher, trio_spec

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: {teacher: 'trio:w@one'}\ntrain: {au_distill_weight: 1.0}\n")
    cfg = load_config(bad)
    assert trio_spec(cfg, "trio:w@2", "k") == (cfg.resolve("w"), 2)
    assert trio_spec(cfg, "trio:w", "k") == (cfg.resolve("w"), 1)
    assert trio_spec(cfg, "w.safetensors", "k") is None
    with pytest.raises(ConfigError, match=r"model\.teacher 'trio:w@one': the fold after '@'"):
        build_teacher(cfg)


def test_warmup_is_validated(tmp_path: Path) -> None:
    from bigsmall.experiment import build_model

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntrain: {epochs: 3, warmup_epochs: 3}\n")
    below = r"train: warmup_epochs \(3\) must be >= 0 and below epochs \(3\); lower"
    with pytest.raises(ConfigError, match=below):
        load_config(bad)
    bad.write_text("name: x\ntrain: {epochs: 3, warmup_epochs: 1, warmup_tasks: [hr]}\n")
    with pytest.raises(ConfigError, match="warmup_tasks must be a non-empty subset"):
        load_config(bad)
    pulse_only = tmp_path / "p.yaml"
    pulse_only.write_text(
        "name: x\nmodel: {name: deepphys}\ntrain: {epochs: 3, warmup_epochs: 1}\n"
    )
    with pytest.raises(ConfigError, match=r"train\.warmup_tasks \['au'\] name none of deepphys"):
        build_model(load_config(pulse_only))
    routed = tmp_path / "r.yaml"
    routed.write_text(
        "name: x\nmodel: {name: deepphys}\ntrain: {epochs: 3, warmup_epochs: 1, "
        "warmup_tasks: [bvp], warmup_route_branches: true}\n"
    )
    with pytest.raises(ConfigError, match="warmup_route_branches needs a two-branch BigSmall"):
        build_model(load_config(routed))
