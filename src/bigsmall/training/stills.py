"""Teach BigSmall's AU head from still photos of many real people (weak labels).

BigSmall (Narayanswamy et al., WACV 2024) reads AUs from its Big branch: one standardized
144×144 frame per window of N. A still photo shown as a static clip is exactly that input, so
the Big branch and AU head can learn from labelled photos of thousands of people where no
AU-coded video exists; the Small branch and the pulse and breathing heads are not trained here.

Each photo is prepared as ``predict`` prepares a frame (the same face detector and crop,
:func:`still_big_frames`); training draws augmented copies (mirror, a jitter of the crop's
scale and position as a different detector box would give, a skin-like tint for greyscale
photos, sensor noise) and standardizes each one over itself, as a static clip's statistics
are its only frame's. Since a video's Small features are added to Big's before the heads, the
Small input is random unit-variance difference frames (what the normalized Small input of a
moving face looks like) or zeros (a static clip), so the AU head learns to read Big through
either. The loss is BCE over the coded AUs only (targets ≥ 0) with a positive weight per AU of
(negatives / positives) among the coded photos, capped at :data:`MAX_POS_WEIGHT`: a rare AU
(AU14 from 9 "contempt" photos against 6,000 neutral ones) would otherwise weigh hundreds of
times more than a smile, and its few photos' gradients drown the rest (uncapped, AU12 reached a
held-out ROC AUC of only 0.65 after two epochs).

The pulse and breathing heads read the same sum of Big and Small features, so a Big branch that
changes would change their outputs too. With a ``teacher`` (the network whose pulse and
breathing are to be kept), the loss adds the mean squared difference between the student's and
the teacher's PPG and respiration outputs on the same inputs (feature-level distillation in the
sense of Hinton, Vinyals & Dean, 2015; here it keeps what those heads read from Big, on real
faces, while the AU head learns), weighted by ``keep_weight``.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from bigsmall.data.expressions import TINT_GAINS, is_greyscale
from bigsmall.models.bigsmall import BigSmall

#: Share of windows whose Small input is zeros (a static clip) rather than random noise.
STATIC_SMALL_SHARE: float = 0.5
#: Largest relative change of the crop's side and of its centre (fraction of the side).
CROP_JITTER: tuple[float, float] = (0.12, 0.06)
#: Largest BCE positive weight of an AU (see module docstring).
MAX_POS_WEIGHT: float = 3.0
#: Std (uint8 levels) of the sensor noise added.
NOISE_LEVELS: float = 2.0


def augment(frames: np.ndarray, grey: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B, H, W, 3) uint8 crops → (B, 3, H, W) float32 augmented, standardized frames."""
    import cv2

    batch, height, width, _ = frames.shape
    out = np.empty((batch, 3, height, width), np.float32)
    scale_jitter, shift_jitter = CROP_JITTER
    for i, frame in enumerate(frames):
        scale = 1.0 + rng.uniform(-scale_jitter, scale_jitter)
        dx, dy = rng.uniform(-shift_jitter, shift_jitter, 2) * width
        matrix = np.array(
            [
                [scale, 0.0, (1 - scale) * width / 2 + dx],
                [0.0, scale, (1 - scale) * height / 2 + dy],
            ]
        )
        img = cv2.warpAffine(
            frame, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ).astype(np.float32)
        if rng.uniform() < 0.5:
            img = img[:, ::-1]
        if grey[i] and rng.uniform() < 0.7:
            img = img * np.array([rng.uniform(lo, hi) for lo, hi in TINT_GAINS], np.float32)
        elif not grey[i] and rng.uniform() < 0.3:
            img = np.repeat(img.mean(2, keepdims=True), 3, axis=2)
        img = img * rng.uniform(0.7, 1.2) + rng.normal(0.0, NOISE_LEVELS, img.shape)
        img = np.clip(img, 0, 255) / 255.0
        out[i] = ((img - img.mean()) / max(float(img.std()), 1e-6)).transpose(2, 0, 1)
    return out


def au_pos_weight(targets: np.ndarray, cap: float = MAX_POS_WEIGHT) -> np.ndarray:
    """(12,) negatives/positives among the coded (≥ 0) targets, at most ``cap``; 1 where an AU
    has no positive."""
    pos = (targets == 1).sum(0)
    neg = (targets == 0).sum(0)
    return np.minimum(np.where(pos > 0, neg / np.maximum(pos, 1), 1.0), cap).astype(np.float32)


def masked_bce(logits: torch.Tensor, targets: torch.Tensor, pos_weight: torch.Tensor):
    """BCE with logits over entries whose target is ≥ 0 (others are not coded)."""
    mask = targets >= 0
    loss = F.binary_cross_entropy_with_logits(
        logits, targets.clamp(min=0), pos_weight=pos_weight, reduction="none"
    )
    return (loss * mask).sum() / mask.sum().clamp(min=1)


def _batches(n: int, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    order = rng.permutation(n)
    for start in range(0, n - batch_size + 1, batch_size):
        yield order[start : start + batch_size]


def small_inputs(model: BigSmall, windows: int, rng: np.random.Generator) -> torch.Tensor:
    """(windows·N, 3, s, s) Small inputs: zeros (static) or unit noise, per window."""
    n, side = model.n_segment, model.small_size
    noise = rng.standard_normal((windows, n, 3, side, side)).astype(np.float32)
    noise[rng.uniform(size=windows) < STATIC_SMALL_SHARE] = 0.0
    return torch.from_numpy(noise.reshape(windows * n, 3, side, side))


def big_parameters(model: BigSmall, frozen_convs: int) -> list[torch.nn.Parameter]:
    """Parameters trained: Big convolutions after the first ``frozen_convs`` and the AU head."""
    params: list[torch.nn.Parameter] = []
    index = frozen_convs + 1
    while hasattr(model, f"big_conv{index}"):  # the reference's names: big_conv1..6
        params += list(getattr(model, f"big_conv{index}").parameters())
        index += 1
    return params + list(model.au_fc1.parameters()) + list(model.au_fc2.parameters())


def evaluate_au(model: BigSmall, frames: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """(N, 12) AU probabilities of static clips of the (N, H, W, 3) uint8 crops."""
    model.eval()
    rows = []
    with torch.no_grad():
        for start in range(0, len(frames), batch_size):
            part = frames[start : start + batch_size].astype(np.float32) / 255.0
            mean = part.mean((1, 2, 3), keepdims=True)
            std = np.maximum(part.std((1, 2, 3), keepdims=True), 1e-6)
            big = torch.from_numpy(((part - mean) / std).transpose(0, 3, 1, 2).copy())
            small = torch.zeros(len(part) * model.n_segment, 3, model.small_size, model.small_size)
            out = model.forward_windows(big, small).au[:: model.n_segment]
            rows.append(torch.sigmoid(out).numpy())
    return np.concatenate(rows)


def fit_au_on_stills(
    model: BigSmall,
    frames: np.ndarray,
    targets: np.ndarray,
    epochs: int = 3,
    batch_size: int = 32,
    lr: float = 3e-4,
    frozen_convs: int = 2,
    seed: int = 0,
    teacher: BigSmall | None = None,
    keep_weight: float = 1.0,
    progress: bool = True,
    on_epoch_end: Callable[[int, BigSmall], None] | None = None,
) -> list[float]:
    """Train the Big branch (after ``frozen_convs`` convolutions) and the AU head in place.

    frames: (N, H, W, 3) uint8 Big crops; targets: (N, 12) float32 (1, 0, or −1 not coded).
    teacher: keep the PPG and respiration outputs close to this network's (see module doc).
    on_epoch_end: called with (epoch, model) after each epoch (model in eval mode).
    Returns the mean loss of each epoch. The Small branch and other heads are left unchanged.
    """
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    grey = is_greyscale(frames)
    params = big_parameters(model, frozen_convs)
    for p in model.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=lr)
    steps = epochs * (len(frames) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda k: 0.5 * (1 + math.cos(math.pi * min(k / max(steps, 1), 1.0)))
    )
    pos_weight = torch.from_numpy(au_pos_weight(targets))
    history = []
    if teacher is not None:
        teacher.eval()
    for epoch in range(epochs):
        model.train()
        losses = []
        batches = _batches(len(frames), batch_size, rng)
        bar = tqdm(
            batches,
            total=len(frames) // batch_size,
            desc=f"AU stills epoch {epoch + 1}/{epochs}",
            file=sys.stderr,
            disable=not progress,
        )
        for index in bar:
            big = torch.from_numpy(augment(frames[index], grey[index], rng))
            small = small_inputs(model, len(index), rng)
            out = model.forward_windows(big, small)
            logits = out.au[:: model.n_segment]
            loss = masked_bce(logits, torch.from_numpy(targets[index]), pos_weight)
            if teacher is not None and keep_weight > 0:
                with torch.no_grad():
                    kept = teacher.forward_windows(big, small)
                loss = loss + keep_weight * (
                    F.mse_loss(out.bvp, kept.bvp) + F.mse_loss(out.resp, kept.resp)
                )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
        history.append(float(np.mean(losses)))
        model.eval()
        if on_epoch_end is not None:
            on_epoch_end(epoch, model)
    return history
