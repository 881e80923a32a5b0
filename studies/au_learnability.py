"""How many independent expressions does a CNN need to learn the generator's AUs on new faces?

A controlled version of the question :mod:`au_generalisation` raises on whole runs: procedural
faces from the synthetic generator (:mod:`bigsmall.data.synthetic`) are rendered as *stills*,
each with its own random expression (one of the generator's expression templates at a random
intensity, or none), without video, motion, lighting changes or compression, cropped around the
face box with a small random shift and scale (``--jitter``, a share of the box) and resized to
``--size`` px. A small CNN (four 3×3 convolutions, average pooling, two fully connected layers:
the Big branch's pattern at half the resolution) is trained with the paper's weighted BCE
(pos_weight = negatives / positives per AU, Adam 1e-3, batch 32) on
``--identities × --per-identity`` stills and scored after each epoch by ROC AUC per AU
(:func:`bigsmall.evaluation.metrics.roc_auc`) on stills of 100 other faces.

The variable that matters is the number of independent expressions (identities × stills), not
the number of identities; and the training loss first sits on the constant predictor's value for
hundreds of steps. Usage::

    python studies/au_learnability.py --strength 2 --identities 18 --per-identity 15 --epochs 45
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np
import torch
from torch import nn

from bigsmall.constants import AU_NAMES
from bigsmall.data.synthetic.actions import EXPRESSIONS, LABEL_THRESHOLD, build_action_fields
from bigsmall.data.synthetic.renderer import render_procedural, sample_look
from bigsmall.evaluation.metrics import roc_auc

FRAME_HEIGHT, FRAME_WIDTH = 240, 320
TEST_IDENTITIES = range(10_000, 10_100)
#: Share of stills that show an expression (the rest are neutral).
EXPRESSIVE_SHARE = 0.6
#: Face box side × this = the crop side.
CROP_MARGIN = 1.2
NOISE_STD = 0.01


def render_stills(
    identities: range, per_identity: int, strength: float, jitter: float, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(n, 3, size, size) standardized stills and (n, 12) 0/1 AU labels."""
    weights = np.array([e[0] for e in EXPRESSIONS])
    images, labels = [], []
    for identity in identities:
        rng = np.random.default_rng([5, identity])
        asset = render_procedural(sample_look(rng), FRAME_HEIGHT, FRAME_WIDTH, rng)
        fields = build_action_fields(asset, strength)
        x, y, w, h = asset.face_box
        for _ in range(per_identity):
            intensity = np.zeros(len(AU_NAMES) + 1, np.float32)  # 12 AUs + talking
            label = np.zeros(len(AU_NAMES), np.float32)
            if rng.uniform() < EXPRESSIVE_SHARE:
                _, always, sometimes = EXPRESSIONS[
                    rng.choice(len(EXPRESSIONS), p=weights / weights.sum())
                ]
                units = list(always) + [u for u, p in sometimes if rng.uniform() < p]
                for unit in units:
                    k = AU_NAMES.index(unit)
                    intensity[k] = rng.uniform(0.4, 1.0)
                    label[k] = intensity[k] >= LABEL_THRESHOLD
            layer = asset.person.astype(np.float32).copy()
            fields.apply(layer, intensity)
            if asset.background is not None:
                alpha = asset.alpha[..., None]
                layer = layer * alpha + asset.background * (1 - alpha)
            cx = x + w / 2 + rng.uniform(-1, 1) * jitter * w
            cy = y + h / 2 + rng.uniform(-1, 1) * jitter * h
            side = max(w, h) * CROP_MARGIN * (1 + rng.uniform(-1, 1) * jitter)
            scale = size / side
            matrix = np.array(
                [[scale, 0, size / 2 - cx * scale], [0, scale, size / 2 - cy * scale]]
            )
            image = cv2.warpAffine(layer, matrix, (size, size), flags=cv2.INTER_AREA)
            image = image + rng.normal(0, NOISE_STD, image.shape)
            images.append(((image - image.mean()) / (image.std() + 1e-6)).transpose(2, 0, 1))
            labels.append(label)
    return torch.tensor(np.array(images), dtype=torch.float32), torch.tensor(np.array(labels))


def small_cnn(size: int, n_out: int) -> nn.Sequential:
    pooled = size // 2 // 4
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.AvgPool2d(4),
        nn.Flatten(), nn.Linear(64 * pooled * pooled, 128), nn.ReLU(), nn.Linear(128, n_out),
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strength", type=float, default=2.0, help="AU strength (synth default 1)")
    parser.add_argument("--identities", type=int, default=18, help="training faces")
    parser.add_argument(
        "--per-identity", type=int, default=15, help="stills (expressions) per face"
    )
    parser.add_argument("--jitter", type=float, default=0.03, help="crop shift/scale, box share")
    parser.add_argument("--epochs", type=int, default=45)
    parser.add_argument("--size", type=int, default=72, help="still side in px (multiple of 8)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(2)
    start = time.perf_counter()
    x_train, y_train = render_stills(
        range(args.identities), args.per_identity, args.strength, args.jitter, args.size
    )
    x_test, y_test = render_stills(TEST_IDENTITIES, 10, args.strength, args.jitter, args.size)
    print(f"{len(x_train)} training stills ({args.identities} faces × {args.per_identity}), "
          f"{len(x_test)} test stills of {len(TEST_IDENTITIES)} other faces; AU strength "
          f"{args.strength:g}; rendered in {time.perf_counter() - start:.0f} s")  # fmt: skip
    net = small_cnn(args.size, len(AU_NAMES))
    rate = y_train.mean(0).clamp(1e-3)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=(1 - rate) / rate)
    optimizer = torch.optim.Adam(net.parameters(), 1e-3)
    print("epoch | training loss | held-out AUC (mean over AUs) | per AU")
    for epoch in range(1, args.epochs + 1):
        net.train()
        order = torch.randperm(len(x_train))
        total = 0.0
        for s in range(0, len(order), 32):
            idx = order[s : s + 32]
            loss = loss_fn(net(x_train[idx]), y_train[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(idx)
        net.eval()
        with torch.no_grad():
            scores = net(x_test).numpy()
        aucs = [roc_auc(scores[:, k], y_test[:, k].numpy()) for k in range(len(AU_NAMES))]
        print(f"{epoch} | {total / len(x_train):.3f} | {np.nanmean(aucs):.3f} | "
              f"{' '.join(f'{a:.2f}' for a in aucs)}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
