"""Fine-tune the shipped pulse path on real talking faces with an injected pulse (a study).

The talking clips of ``../shared/data/faces_motion`` not used by the held-out real-face videos
(``d0 d11 d12 d18 d19 d20``: other people) carry a known pulse and breathing injected by
``studies/realface_videos.py --labels`` (a ``<name>.csv`` beside each video). The Small branch
and the PPG and respiration heads learn them (MSE on the diff-normalized labels, as the
trainer's); the Big branch and AU head stay as shipped, and since the heads read the sum of Big
and Small features, the AU outputs are kept close to the shipped network's on the same windows
and on static ones (zero Small input, what a still photo gives) by distillation.

Usage: ``python studies/talking_finetune.py VIDEO_DIR [...] --out ft.safetensors [--epochs 2]``;
then ``studies/realface_eval.py --checkpoint ft.safetensors`` on held-out sets.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from bigsmall.models.weights import save_safetensors
from bigsmall.models.weights_record import read_weights_record
from bigsmall.predict.runner import load_model, shipped_weights_path
from bigsmall.signal.filters import diff_normalize
from bigsmall.video.inputs import build_bigsmall_inputs
from bigsmall.video.normalize import apply_table, standardize_table

TRAINED = ("small_conv", "bvp_fc", "resp_fc")


def windows_of(video: Path, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(W, 3, h, w) standardized Big first frames, (W, N, 3, s, s) Small, (W, N) PPG and resp
    labels (diff-normalized) of one labelled video."""
    inputs = build_bigsmall_inputs(video, crop="face")
    total = len(inputs) // n * n
    labels = pd.read_csv(video.with_suffix(".csv"))
    times = np.arange(total) / float(inputs.fps)
    ppg = diff_normalize(np.interp(times, labels["time_s"], labels["ppg"]))
    resp = diff_normalize(np.interp(times, labels["time_s"], labels["resp"]))
    table = standardize_table(inputs.big_mean, inputs.big_std)
    big = apply_table(np.asarray(inputs.big_uint8[0:total:n]), table).transpose(0, 3, 1, 2)
    small = np.asarray(inputs.small[:total]).reshape(total // n, n, *inputs.small.shape[1:])
    return (
        np.ascontiguousarray(big),
        np.ascontiguousarray(small.transpose(0, 1, 4, 2, 3)),
        ppg.reshape(-1, n).astype(np.float32),
        resp.reshape(-1, n).astype(np.float32),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", type=Path, nargs="+", help="folders of labelled videos")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--keep-au", type=float, default=1.0)
    parser.add_argument("--save-each-epoch", action="store_true", help="also OUT_e<k>")
    args = parser.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    shipped = shipped_weights_path()
    record = read_weights_record(shipped)
    teacher = load_model(shipped).module.eval()
    model = copy.deepcopy(teacher)
    n, side = model.n_segment, model.small_size
    videos = sorted(v for folder in args.videos for v in folder.glob("*.mp4"))
    parts = [windows_of(v, n) for v in videos]
    big, small, ppg, resp = (np.concatenate(p) for p in zip(*parts, strict=True))
    print(f"{len(parts)} videos, {len(big)} windows", flush=True)
    kept, kept_still = [], []  # the shipped AU logits to keep, on these windows and static ones
    with torch.no_grad():
        for start in range(0, len(big), 64):
            b = torch.from_numpy(big[start : start + 64])
            s = torch.from_numpy(small[start : start + 64].reshape(-1, 3, side, side))
            kept.append(teacher.forward_windows(b, s).au.numpy())
            kept_still.append(teacher.forward_windows(b, torch.zeros_like(s)).au.numpy())
    au = np.concatenate(kept).reshape(len(big), n, -1)
    au_still = np.concatenate(kept_still).reshape(len(big), n, -1)
    params = [p for name, p in model.named_parameters() if name.startswith(TRAINED)]
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith(TRAINED))
    optimizer = torch.optim.Adam(params, lr=args.lr)
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(big))
        losses = []
        for start in range(0, len(order) - args.batch + 1, args.batch):
            idx = order[start : start + args.batch]
            b = torch.from_numpy(big[idx])
            s = torch.from_numpy(small[idx].reshape(-1, 3, side, side))
            out = model.forward_windows(b, s)
            loss = F.mse_loss(out.bvp[:, 0], torch.from_numpy(ppg[idx].reshape(-1)))
            loss = loss + F.mse_loss(out.resp[:, 0], torch.from_numpy(resp[idx].reshape(-1)))
            still = model.forward_windows(b, torch.zeros_like(s)).au
            keep = F.mse_loss(out.au, torch.from_numpy(au[idx].reshape(-1, au.shape[-1])))
            keep = keep + F.mse_loss(
                still, torch.from_numpy(au_still[idx].reshape(-1, au.shape[-1]))
            )
            loss = loss + args.keep_au * keep
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) % 20 == 0:
                print(f"epoch {epoch + 1} step {len(losses)} loss {np.mean(losses[-20:]):.3f}",
                      file=sys.stderr, flush=True)  # fmt: skip
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}", flush=True)
        if args.save_each_epoch:
            each = args.out.with_name(f"{args.out.stem}_e{epoch + 1}{args.out.suffix}")
            save_safetensors(model.eval(), each, metadata=record.to_metadata())
    model.eval()
    save_safetensors(model, args.out, metadata=record.to_metadata())
    print(f"saved {args.out}")


if __name__ == "__main__":
    main()
