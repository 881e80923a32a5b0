"""Has a trained run learnt the action units, or its training subjects? Per-AU ROC AUC on both.

For one fold of ``bigsmall run CONFIG``, the saved weights (``<runs>/<name>/fold<k>/checkpoints/
last.safetensors``) score every frame of the fold's training subjects and of its held-out test
subjects; the table gives each AU's ROC AUC (:func:`bigsmall.evaluation.metrics.roc_auc`) on
both, pooled over frames, and the mean over AUs of the AUC *within* each test recording (which
ignores per-subject offsets). A model that learnt the AUs scores both sets alike; one that
memorised its training subjects scores near 1 on them and near 0.5 on new faces. F1 at 0.5
(the paper's metric) is printed beside for reference.

Usage: ``python studies/au_generalisation.py configs/synthetic.yaml [--fold 1] [--set K=V]``
(the same ``--set`` overrides as the run; the cache and run folders come from the config).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from bigsmall.config import load_config
from bigsmall.data.dataset import WindowDataset
from bigsmall.errors import ConfigError
from bigsmall.evaluation.inference import predict_dataset
from bigsmall.evaluation.metrics import au_metrics, roc_auc
from bigsmall.experiment import build_model, preprocess, split_ids
from bigsmall.models.weights import read_safetensors
from bigsmall.training.allocator import keep_freed_memory
from bigsmall.training.distributed import resolve_device


def _scores(
    model: torch.nn.Module, dataset: WindowDataset, device: torch.device
) -> tuple[list, list]:
    """Per-recording (T, 12) AU logits and (T, 12) labels."""
    outputs = predict_dataset(model, dataset, device=device, progress=False)
    logits, labels = [], []
    for rec in dataset.recordings():
        out = outputs[rec.id].au
        n = min(out.shape[0], rec.au.shape[0])
        logits.append(np.asarray(out[:n], np.float64))
        labels.append(np.asarray(rec.au[:n]))
    return logits, labels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--fold", type=int, default=1)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    args = parser.parse_args(argv)
    keep_freed_memory()
    try:
        device = resolve_device(args.device)
    except ConfigError as exc:
        print(f"au_generalisation: {exc}", file=sys.stderr)
        return 2
    cfg = load_config(args.config, args.set)
    weights = cfg.resolve(cfg.paths.runs) / cfg.name / f"fold{args.fold}" / "checkpoints"
    weights = weights / "last.safetensors"
    if not weights.is_file():
        print(f"{weights}: no trained weights; run `bigsmall run {args.config}` first",
              file=sys.stderr)  # fmt: skip
        return 2
    cache_dir = preprocess(cfg, log=lambda _: None)
    train_ids, test_ids = split_ids(cfg, cache_dir, args.fold)
    model = build_model(cfg)
    model.load_state_dict(read_safetensors(weights))
    model.to(device).eval()
    names = tuple(cfg.preprocess.au_names)
    rows = {}
    for part, ids in (("train", train_ids), ("test", test_ids)):
        logits, labels = _scores(model, WindowDataset(cache_dir, ids, big_frames="first"), device)
        pooled_logits, pooled_labels = np.concatenate(logits), np.concatenate(labels)
        within = [
            np.nanmean([roc_auc(lo[:, k], la[:, k]) for lo, la in zip(logits, labels, strict=True)])
            for k in range(len(names))
        ]
        rows[part] = {
            "auc": [roc_auc(pooled_logits[:, k], pooled_labels[:, k]) for k in range(len(names))],
            "within": within,
            "f1": au_metrics(pooled_logits, pooled_labels, names).f1,
        }
    print(f"{cfg.name}, fold {args.fold}: {len(train_ids)} training / {len(test_ids)} held-out "
          f"recordings ({weights})")  # fmt: skip
    print("| AU | AUC train | AUC held-out | AUC held-out, within recording "
          "| F1 train | F1 held-out |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for k, name in enumerate(names):
        tr, te = rows["train"], rows["test"]
        print(f"| {name} | {tr['auc'][k]:.2f} | {te['auc'][k]:.2f} | {te['within'][k]:.2f} "
              f"| {tr['f1'][k]:.1f} | {te['f1'][k]:.1f} |")  # fmt: skip
    tr, te = rows["train"], rows["test"]
    print(f"| mean | {np.nanmean(tr['auc']):.2f} | {np.nanmean(te['auc']):.2f} "
          f"| {np.nanmean(te['within']):.2f} | {np.nanmean(tr['f1']):.1f} "
          f"| {np.nanmean(te['f1']):.1f} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
