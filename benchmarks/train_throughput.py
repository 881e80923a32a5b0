"""Training throughput: the real data path versus tensors already in memory, in one run.

Both sides run the same model, loss and optimizer step (``WindowModel`` forward, multi-task loss,
backward, AdamW step) for ``--steps`` steps of ``--batch`` windows:

* data path: cache → :class:`bigsmall.data.WindowDataset` (memory-mapped uint8 Big,
  standardized by lookup table; float16 Small) → ``DataLoader`` (``--workers`` processes) → step;
* in memory: the same number of batches taken once from the dataset and kept as tensors → step.

Prints windows/s of each (median of ``--repeats`` interleaved rounds) and their ratio; the
target is data path ≥ 0.8 × in memory. First, the in-memory rate is also taken with
glibc's default ``malloc`` settings, before :func:`bigsmall.training.allocator.keep_freed_memory`
(which ``bigsmall run`` applies) is switched on for the rest of the run. Uses an existing cache
(``--cache``) or generates a small synthetic dataset and preprocesses it first.

    .venv/bin/python benchmarks/train_throughput.py [--cache CACHE/folder-xxxx] [--model bigsmall]
        [--batch 32] [--steps 10] [--workers 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from bigsmall.data import WindowDataset
from bigsmall.models import create_model
from bigsmall.training.allocator import keep_freed_memory
from bigsmall.training.loop import WindowModel, frame_targets
from bigsmall.training.losses import MultiTaskLoss


def make_cache(root: Path) -> Path:
    from bigsmall.data.cache import preprocess_dataset
    from bigsmall.data.synthetic.generate import SynthConfig, generate_dataset

    data = root / "synthetic"
    generate_dataset(data, SynthConfig(subjects=4, seconds=20, seed=0), workers=2)
    summary = preprocess_dataset("folder", data, root / "cache", workers=2, progress=False)
    return summary.cache_dir


def step(net, loss_fn, opt, batch) -> None:
    out = net(batch["big"], batch["small"])
    losses = loss_fn.task_losses(tuple(out), frame_targets(batch))
    total = loss_fn.combine(losses)
    opt.zero_grad(set_to_none=True)
    total.backward()
    opt.step()


def timed(net, loss_fn, opt, batches) -> float:
    start = time.perf_counter()
    n = 0
    for batch in batches:
        step(net, loss_fn, opt, batch)
        n += batch["small"].shape[0]
    return n / (time.perf_counter() - start)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", type=Path, default=None)
    p.add_argument("--model", default="bigsmall")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    torch.set_num_threads(2)
    tmp = tempfile.TemporaryDirectory()
    cache = args.cache or make_cache(Path(tmp.name))
    dataset = WindowDataset(cache)
    model = create_model(args.model)
    net = WindowModel(model).train()
    loss_fn = MultiTaskLoss({"au": 1.0, "bvp": 1.0, "resp": 1.0})
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    n_windows = args.batch * args.steps
    if len(dataset) < n_windows:
        raise SystemExit(f"the cache has {len(dataset)} windows; need {n_windows}")
    loader = DataLoader(
        torch.utils.data.Subset(dataset, range(n_windows)),
        batch_size=args.batch,
        shuffle=True,
        num_workers=args.workers,
        persistent_workers=args.workers > 0,
    )
    in_memory = [dict(b) for b in DataLoader(torch.utils.data.Subset(dataset, range(n_windows)),
                                             batch_size=args.batch)]  # fmt: skip
    step(net, loss_fn, opt, in_memory[0])  # warm-up
    default_rates = [timed(net, loss_fn, opt, in_memory) for _ in range(args.repeats)]
    applied = keep_freed_memory()
    step(net, loss_fn, opt, in_memory[0])
    data_rates, mem_rates = [], []
    for _ in range(args.repeats):
        data_rates.append(timed(net, loss_fn, opt, loader))
        mem_rates.append(timed(net, loss_fn, opt, in_memory))
    data_rate, mem_rate = statistics.median(data_rates), statistics.median(mem_rates)
    print(f"model {args.model}, batch {args.batch} windows, {args.steps} steps, "
          f"{args.workers} loader workers, median of {args.repeats}")  # fmt: skip
    print(f"{'data path (cache -> DataLoader -> step)':<45} {data_rate:8.1f} windows/s")
    print(f"{'in memory (tensors -> step)':<45} {mem_rate:8.1f} windows/s")
    print(f"{'ratio data / in memory (target >= 0.8)':<45} {data_rate / mem_rate:8.2f}")
    default_rate = statistics.median(default_rates)
    print(f"{'in memory, default malloc (measured first)':<45} {default_rate:8.1f} windows/s")
    if applied:
        print(f"{'keep_freed_memory / default malloc':<45} {mem_rate / default_rate:8.2f}")
    else:
        print("keep_freed_memory does not apply here (not glibc): both rates use the default")


if __name__ == "__main__":
    main()
