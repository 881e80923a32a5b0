"""Orchestrators: the only code that turns an :class:`ExperimentConfig` into objects.

``run_experiment`` does, for each requested fold: (synthesize the data if configured) →
preprocess into the cache → subject-disjoint split → train the configured model with the generic
trainer → evaluate it and the classic baselines (POS, CHROM) with the same evaluator → write a
run folder: resolved config, code version, per-recording CSV, paper-style tables (markdown, CSV,
JSON) and Bland–Altman plots. ``run_gradients`` is the paper's Fig. 6D analysis.
"""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from bigsmall.config import DataConfig, ExperimentConfig
from bigsmall.constants import BP4D_AU_POS_WEIGHT, TASKS
from bigsmall.data.cache import preprocess_dataset, write_fold_split
from bigsmall.data.dataset import WindowDataset, fold_recording_ids
from bigsmall.errors import ConfigError
from bigsmall.evaluation.evaluate import (
    MethodResult,
    classic_outputs,
    evaluate_outputs,
    trivial_au_results,
)
from bigsmall.evaluation.inference import predict_dataset
from bigsmall.evaluation.report import (
    bland_altman_plot,
    csv_text,
    json_text,
    markdown_table,
)
from bigsmall.models import create_model
from bigsmall.output_dir import write_text_atomic
from bigsmall.training.distributed import (
    barrier,
    dist_info_from_env,
    init_distributed,
    resolve_device,
)
from bigsmall.training.gradients import (
    flat_task_gradients,
    shared_parameters,
    task_gradient_angles,
)
from bigsmall.training.loop import WindowModel, fit, frame_targets
from bigsmall.training.losses import MultiTaskLoss, pos_weight_from_labels
from bigsmall.training.settings import warmup_problem
from bigsmall.version import __version__

#: Classic methods evaluated beside every trained model (the paper's unsupervised baselines).
CLASSIC_BASELINES: tuple[str, ...] = ("pos", "chrom")

#: ``model.name`` that runs only the classic baselines (no training).
CLASSIC_ONLY = "none"
#: Prefix of ``model.init`` / ``model.teacher`` values naming the authors' released weights.
TRIO_PREFIX = "trio:"

Log = Callable[[str], object]


def git_revision() -> str:
    """The code version: git commit (with ``-dirty``) or the package version."""
    try:
        sha = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


# ----------------------------------------------------------------------------- data
def ensure_dataset(cfg: ExperimentConfig, data: DataConfig, log: Log = print) -> Path:
    """The dataset root; generated first when missing and ``data.synthesize`` is set."""
    root = cfg.resolve(data.root)
    if not data.synthesize:
        if root.exists():
            return root
        raise ConfigError(f"dataset folder {root} does not exist; check data.root in the config")
    from bigsmall.data.synthetic.generate import SynthConfig, generate_dataset

    args = dict(data.synthesize)  # keys and values validated when the config was loaded
    workers = int(args.pop("workers", 2))
    if args.get("faces_dir"):
        args["faces_dir"] = str(cfg.resolve(str(args["faces_dir"])))
    synth = SynthConfig(**args)
    if root.exists():
        _check_synthetic_arguments(root, synth)
        return root
    log(f"generating synthetic dataset at {root} ({synth.subjects} subjects × {synth.seconds} s)")
    from tqdm.auto import tqdm

    total = synth.subjects * synth.trials_per_subject
    with tqdm(total=total, unit="video", desc="synth") as bar:
        generate_dataset(root, synth, workers=workers, progress=bar.update)
    return root


def _check_synthetic_arguments(root: Path, synth: Any) -> None:
    """One-line error when the synthetic dataset at ``root`` was generated with other
    arguments than ``data.synthesize`` asks for (a stale dataset would be used silently)."""
    from dataclasses import asdict, fields

    from bigsmall.data.synthetic.generate import SynthConfig

    manifest = root / "dataset.json"
    if not manifest.is_file():
        return  # a dataset of the user's own, not generated here
    try:
        stored = json.loads(manifest.read_text()).get("arguments", {})
        known = {f.name for f in fields(SynthConfig)}
        existing = asdict(SynthConfig(**{k: v for k, v in stored.items() if k in known}))
    except (ValueError, TypeError, AttributeError):
        return
    wanted = json.loads(json.dumps(asdict(synth)))
    existing = json.loads(json.dumps(existing))
    changed = sorted(k for k in wanted if wanted[k] != existing.get(k))
    if changed:
        raise ConfigError(
            f"{root} was generated with other synthesize arguments ({', '.join(changed)}); "
            "delete it to regenerate, or point data.root elsewhere"
        )


def preprocess(
    cfg: ExperimentConfig, workers: int = 2, log: Log = print, data: DataConfig | None = None
) -> Path:
    """Preprocess ``data`` (default: the config's training data) into the cache folder."""
    data = data or cfg.data
    root = ensure_dataset(cfg, data, log)
    summary = preprocess_dataset(
        data.source,
        root,
        cfg.resolve(cfg.paths.cache),
        cfg.preprocess,
        workers=workers,
        source_options=data.options,
        on_issue=log,
    )
    for line in summary.lines():
        log(line)
    if summary.manifest is None:
        raise ConfigError(f"{summary.cache_dir}: preprocessing is not finished (other shards?)")
    return summary.cache_dir


def split_ids(cfg: ExperimentConfig, cache_dir: Path, fold: int) -> tuple[list[str], list[str]]:
    """(train ids, test ids) of ``fold`` (1-based)."""
    if cfg.data.split == "none":
        ids = WindowDataset(cache_dir).recording_ids
        return ids, ids
    source = "bp4d_plus" if cfg.data.split == "bp4d_folds" else cfg.data.source
    if cfg.data.split == "bp4d_folds" and cfg.data.source != "bp4d_plus":
        raise ConfigError("data.split 'bp4d_folds' needs data.source 'bp4d_plus'")
    write_fold_split(cache_dir, fold, source, n_folds=cfg.data.folds, seed=cfg.data.split_seed)
    return fold_recording_ids(cache_dir, fold, "train"), fold_recording_ids(cache_dir, fold, "test")


def folds_of(cfg: ExperimentConfig, only: int | None = None) -> list[int]:
    n = 3 if cfg.data.split == "bp4d_folds" else cfg.data.folds
    if cfg.data.split == "none" or cfg.test_data is not None:
        n = 1
    folds = [only] if only is not None else list(cfg.folds_to_run or range(1, n + 1))
    bad = [k for k in folds if not 1 <= k <= n]
    if bad:
        raise ConfigError(f"fold {bad[0]} does not exist; this config has folds 1..{n}")
    return folds


# ----------------------------------------------------------------------------- model
def build_model(cfg: ExperimentConfig) -> torch.nn.Module:
    """The configured model, initialised as ``model.init`` says."""
    model = create_model(cfg.model.name, **cfg.model.kwargs)
    problem = warmup_problem(cfg.train, model, cfg.model.name)
    if problem:
        raise ConfigError(problem)
    init = cfg.expand(cfg.model.init) if cfg.model.init else ""
    if init:
        trio = trio_spec(cfg, init, "model.init")
        if trio is not None:
            from bigsmall.models.official import bigsmall_from_trio

            trio_model = bigsmall_from_trio(*trio, **cfg.model.kwargs)
            model.load_state_dict(trio_model.state_dict())
        else:
            load_matching(model, cfg.resolve(init))
    return model


def trio_spec(cfg: ExperimentConfig, spec: str, key: str) -> tuple[Path, int] | None:
    """(folder, fold) of a ``trio:<folder of the authors' weights>[@<fold>]`` value (fold 1 by
    default), or ``None`` when ``spec`` names something else."""
    if not spec.startswith(TRIO_PREFIX):
        return None
    folder, _, fold = spec[len(TRIO_PREFIX) :].partition("@")
    if fold and not fold.isdigit():
        raise ConfigError(f"{key} {spec!r}: the fold after '@' must be a number, e.g. @1")
    return cfg.resolve(folder), int(fold or 1)


def build_teacher(cfg: ExperimentConfig) -> torch.nn.Module | None:
    """The AU distillation teacher named by ``model.teacher`` (``None`` when distillation is
    off): ``trio:<folder>@<fold>`` is the authors' Big_AU of that fold."""
    spec = cfg.expand(cfg.model.teacher) if cfg.model.teacher else ""
    if not spec or cfg.train.au_distill_weight <= 0:
        return None
    trio = trio_spec(cfg, spec, "model.teacher")
    if trio is None:
        raise ConfigError(f"model.teacher {spec!r}: write trio:<folder of the authors' weights>@1")
    from bigsmall.models.official import load_official

    return load_official("big_au", *trio)


def load_matching(model: torch.nn.Module, path: Path, log: Log = print) -> None:
    """Load every tensor of a checkpoint whose name and shape fit ``model`` (fine-tuning with a
    different head, e.g. 12 → 8 AUs); say which were left at their initial values."""
    from bigsmall.models.weights import read_safetensors, read_toolbox_state_dict

    if not path.is_file():
        raise ConfigError(f"model.init: {path} not found")
    state = (
        read_safetensors(path) if path.suffix == ".safetensors" else read_toolbox_state_dict(path)
    )
    own = model.state_dict()
    fitting = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    left = sorted(set(own) - set(fitting))
    if not fitting:
        raise ConfigError(f"model.init: no tensor of {path} fits model {type(model).__name__}")
    model.load_state_dict(fitting, strict=False)
    if left:
        log(f"init from {path}: {len(fitting)} tensors loaded; kept initial values for {left}")


def build_loss(cfg: ExperimentConfig, train_set: WindowDataset, n_au: int) -> MultiTaskLoss:
    mode = cfg.train.au_pos_weight
    pos_weight: Any = None
    if mode == "bp4d":
        pos_weight = BP4D_AU_POS_WEIGHT if n_au == len(BP4D_AU_POS_WEIGHT) else None
    elif mode == "labels":
        labels = np.concatenate([rec.au for rec in train_set.recordings()])
        pos_weight = pos_weight_from_labels(torch.from_numpy(labels.astype(np.int64)))
    return MultiTaskLoss(
        cfg.train.task_weights,
        pos_weight,
        uncertainty=cfg.train.gradient_method == "uncertainty",
        au_distill_weight=cfg.train.au_distill_weight,
        landmark_weight=cfg.train.landmark_weight,
    )


# ----------------------------------------------------------------------------- results
@dataclass
class FoldResult:
    fold: int
    run_dir: Path
    methods: list[MethodResult] = field(default_factory=list)


def _evaluate_fold(
    cfg: ExperimentConfig, model: torch.nn.Module, test_set: WindowDataset, device: torch.device
) -> list[MethodResult]:
    recordings = test_set.recordings()
    outputs = predict_dataset(model, test_set, device=device)
    results = [evaluate_outputs(cfg.model.name, outputs, recordings, cfg.eval)]
    return results + _evaluate_classic(cfg, recordings) + trivial_au_results(recordings)


def _evaluate_classic(cfg: ExperimentConfig, recordings: Sequence[Any]) -> list[MethodResult]:
    return [
        evaluate_outputs(
            method.upper(),
            classic_outputs(recordings, method),
            recordings,
            cfg.eval,
            predictions_diff_normalized=False,
        )
        for method in CLASSIC_BASELINES
    ]


def _write_results(run_dir: Path, title: str, results: Sequence[MethodResult]) -> str:
    rows = [r.row() for r in results]
    table = markdown_table(rows, title)
    write_text_atomic(run_dir / "results.md", table)
    write_text_atomic(run_dir / "results.csv", csv_text(rows))
    write_text_atomic(
        run_dir / "results.json",
        json_text({"rows": rows, "au": {r.method: r.au.as_dict() for r in results if r.au}}),
    )
    per_recording = [row for r in results for row in r.per_recording]
    write_text_atomic(run_dir / "per_recording.csv", csv_text(per_recording))
    for r in results:
        for kind, unit in (("hr", "bpm"), ("br", "/min")):
            pairs = [
                (row[f"{kind}_pred_bpm"], row[f"{kind}_ref_bpm"])
                for row in r.per_recording
                if f"{kind}_pred_bpm" in row
            ]
            if pairs:
                est, ref = zip(*pairs, strict=True)
                name = f"bland_altman_{r.method.lower()}_{kind}.png"
                bland_altman_plot(list(est), list(ref), run_dir / "plots" / name, r.method, unit)
    return table


def run_experiment(
    cfg: ExperimentConfig,
    *,
    fold: int | None = None,
    device: str | None = None,
    workers: int = 2,
    resume: bool = False,
    progress: bool = True,
    log: Log = print,
) -> list[FoldResult]:
    """Preprocess → train → evaluate for each fold; returns the per-fold results."""
    info = dist_info_from_env()
    train_settings = cfg.train
    if device is not None:
        train_settings = dataclasses.replace(train_settings, device=device)
    init_distributed(info, resolve_device(train_settings.device, info))
    if info.is_main:
        cache_dir = preprocess(cfg, workers=workers, log=log)
    barrier(info)
    if not info.is_main:  # rank 0 finished the cache: this only finds it
        cache_dir = preprocess(cfg, workers=1, log=lambda _: None)
    test_cache = cache_dir
    if cfg.test_data is not None:
        test_cache = preprocess(cfg, workers=workers, log=log, data=cfg.test_data)
    runs_root = cfg.resolve(cfg.paths.runs) / cfg.name
    results: list[FoldResult] = []
    if cfg.model.name == CLASSIC_ONLY:
        for k in folds_of(cfg, fold):
            _, test_ids = split_ids(cfg, cache_dir, k)
            test_set = WindowDataset(test_cache, test_ids)
            methods = _evaluate_classic(cfg, test_set.recordings())
            run_dir = runs_root / f"fold{k}"
            log(_write_results(run_dir, f"{cfg.name}, fold {k}", methods))
            results.append(FoldResult(k, run_dir, methods))
        return results
    probe = create_model(cfg.model.name, **cfg.model.kwargs)  # which Big frames it reads
    for k in folds_of(cfg, fold):
        run_dir = runs_root / f"fold{k}"
        train_ids, test_ids = split_ids(cfg, cache_dir, k)
        if cfg.test_data is not None:
            test_ids = WindowDataset(test_cache).recording_ids
        big_frames = "first" if getattr(probe, "big_downsample", False) else "all"
        train_set = WindowDataset(cache_dir, train_ids, big_frames=big_frames)
        test_set = WindowDataset(test_cache, test_ids, big_frames=big_frames)
        log(f"fold {k}: {len(train_ids)} train / {len(test_ids)} test recordings, "
            f"{len(train_set)} / {len(test_set)} windows")  # fmt: skip
        torch.manual_seed(train_settings.seed)
        model = build_model(cfg)
        n_au = len(cfg.preprocess.au_names)
        loss_fn = build_loss(cfg, train_set, n_au)
        if info.is_main:
            resolved = {**cfg.as_dict(), "code_version": git_revision(), "fold": k}
            write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(json_safe(resolved)))
        fit(
            model,
            train_set,
            train_settings,
            run_dir,
            loss_fn=loss_fn,
            resume=resume,
            progress=progress,
            config=json_safe(cfg.as_dict()),
            teacher=build_teacher(cfg),
        )
        if not info.is_main:
            continue
        dev = resolve_device(train_settings.device, info)
        fold_result = FoldResult(k, run_dir, _evaluate_fold(cfg, model, test_set, dev))
        table = _write_results(run_dir, f"{cfg.name}, fold {k} (scope: {cfg.eval.scope})",
                               fold_result.methods)  # fmt: skip
        log(table)
        results.append(fold_result)
    if info.is_main and len(results) > 1:
        _write_results(runs_root / "all_folds", f"{cfg.name}, all folds pooled", pool(results))
    return results


def pool(results: Sequence[FoldResult]) -> list[MethodResult]:
    """Per-method rate results over all folds' recordings, re-aggregated. AU metrics are left
    out of the pooled table (each fold's table has them over its own test frames)."""
    from bigsmall.evaluation.metrics import rate_metrics

    pooled: list[MethodResult] = []
    for i, first in enumerate(results[0].methods):
        rows = [row for fr in results for row in fr.methods[i].per_recording]
        merged = MethodResult(first.method, rows)
        hr = [(r["hr_pred_bpm"], r["hr_ref_bpm"]) for r in rows if "hr_pred_bpm" in r]
        br = [(r["br_pred_bpm"], r["br_ref_bpm"]) for r in rows if "br_pred_bpm" in r]
        if hr:
            merged.heart = rate_metrics(*zip(*hr, strict=True))
            merged.heart_snr_db = float(np.mean([r["hr_snr_db"] for r in rows if "hr_snr_db" in r]))
        if br:
            merged.breathing = rate_metrics(*zip(*br, strict=True))
        pooled.append(merged)
    return pooled


def json_safe(obj: Any) -> Any:
    """Tuples → lists and non-finite floats → None, for YAML/JSON dumps."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ----------------------------------------------------------------------------- gradients
def run_gradients(
    cfg: ExperimentConfig,
    *,
    fold: int = 1,
    epochs: int = 1,
    batches: int = 20,
    device: str | None = None,
    log: Log = print,
) -> dict[tuple[str, str], float]:
    """Fig. 6D: angles between per-task gradients of the shared parameters after ``epochs``.

    Trains ``epochs`` epochs, then averages each task's gradient over ``batches`` batches of the
    training set and reports the pairwise angles (degrees); writes ``gradients.csv``/``.png``.
    """
    # The config's warm-up is cut to leave at least one epoch on every task (the paper measures
    # the angles after its first, joint, epoch).
    warmup = min(cfg.train.warmup_epochs, epochs - 1)
    if warmup < cfg.train.warmup_epochs:
        log(f"gradients: train.warmup_epochs {cfg.train.warmup_epochs} -> {warmup} "
            f"for {epochs} epoch(s)")  # fmt: skip
    train_settings = dataclasses.replace(cfg.train, epochs=epochs, warmup_epochs=warmup)
    if device is not None:
        train_settings = dataclasses.replace(train_settings, device=device)
    cache_dir = preprocess(cfg, log=log)
    train_ids, _ = split_ids(cfg, cache_dir, fold)
    train_set = WindowDataset(cache_dir, train_ids)
    torch.manual_seed(train_settings.seed)
    model = build_model(cfg)
    loss_fn = build_loss(cfg, train_set, len(cfg.preprocess.au_names))
    run_dir = cfg.resolve(cfg.paths.runs) / cfg.name / f"gradients_fold{fold}"
    fit(model, train_set, train_settings, run_dir, loss_fn=loss_fn)
    dev = resolve_device(train_settings.device)
    net = WindowModel(model).to(dev).train()
    params = shared_parameters(model, tuple(model.tasks))
    loader = torch.utils.data.DataLoader(
        train_set,
        batch_size=train_settings.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(train_settings.seed),
    )
    sums: dict[str, torch.Tensor] = {}
    for i, batch in enumerate(loader):
        if i >= batches:
            break
        batch = {k: v.to(dev) for k, v in batch.items()}
        outputs = net(batch["big"], batch["small"])
        losses = loss_fn.task_losses(tuple(outputs), frame_targets(batch))
        for name, g in flat_task_gradients(losses, params).items():
            sums[name] = sums.get(name, 0) + g.detach()
    angles = task_gradient_angles(sums)
    rows = [{"task_a": a, "task_b": b, "angle_deg": v} for (a, b), v in angles.items()]
    write_text_atomic(run_dir / "gradients.csv", csv_text(rows))
    for row in rows:
        log(f"{row['task_a']:>5} – {row['task_b']:<5} {row['angle_deg']:6.1f}°")
    _plot_angles(rows, run_dir / "gradients.png")
    return angles


def _plot_angles(rows: Sequence[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), dpi=100)
    labels = [f"{r['task_a']}–{r['task_b']}" for r in rows]
    ax.bar(labels, [r["angle_deg"] for r in rows])
    ax.axhline(90, color="k", linestyle="--", linewidth=1)
    ax.set_ylabel("angle between task gradients (°)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ----------------------------------------------------------------------------- dry run
def dry_run(cfg: ExperimentConfig) -> dict[str, Any]:
    """Check a config without preprocessing or training: the datasets list recordings, the
    model and loss build, and one forward pass on zero inputs of the configured shapes works.

    Returns a summary (recordings found per dataset, model parameters, output shapes).
    """
    from bigsmall.data.cache import list_dataset

    found: dict[str, int] = {}
    for data in (cfg.data, cfg.test_data):
        if data is None:
            continue
        refs, issues = list_dataset(
            data.source, cfg.resolve(data.root), source_options=data.options
        )
        if not refs:
            detail = f" ({issues[0].message})" if issues else ""
            raise ConfigError(f"{data.source}: no recordings under {data.root}{detail}")
        found[data.source] = len(refs)
    summary: dict[str, Any] = {"recordings": found, "folds": folds_of(cfg)}
    if cfg.model.name == CLASSIC_ONLY:
        return summary
    model = build_model(cfg).eval()
    teacher = build_teacher(cfg)
    if teacher is not None:
        summary["teacher"] = type(teacher).__name__
    n = cfg.preprocess.n_segment
    nb = 1 if getattr(model, "big_downsample", False) else n
    big = torch.zeros(2, nb, 3, *cfg.preprocess.big_size)
    small = torch.zeros(2, n, 3, *cfg.preprocess.small_size)
    with torch.no_grad():
        outputs = WindowModel(model)(big, small)
    summary["parameters"] = sum(p.numel() for p in model.parameters())
    summary["outputs"] = {
        task: None if out is None else tuple(out.shape)
        for task, out in outputs._asdict().items()
        if task in TASKS
    }
    if cfg.preprocess.align:
        from bigsmall.video.landmarks import landmarks_available

        summary["align"] = (
            "Big frames landmark-aligned (the align extra is installed)"
            if landmarks_available()
            else "Big frames landmark-aligned: install the extra before preprocessing "
            "(pip install 'bigsmall[align]')"
        )
    return summary
