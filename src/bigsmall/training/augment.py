"""Label-preserving augmentations of training windows (beyond the paper).

The paper trains BigSmall without augmentation on BP4D+'s 140 subjects. On a small subject
pool (e.g. the 18 training subjects of ``configs/synthetic.yaml``) the Big branch learns the
AUs of its training faces far better than those of new faces; mirrored and shifted faces add
appearance variety at no cost in data. Each augmentation maps a batch of windows to a batch
of the same shapes and the same labels:

- ``hflip``: mirror a random half of the windows left-right (every Big and Small frame of a
  window alike, so the Small branch's frame differences stay consistent). Labels are
  unchanged: the AU labels say whether an action is present, not on which side, and the
  pulse and breathing do not depend on the side. Landmarks in the batch (``landmarks``
  (B, Nb, L, 2), fractions of the Big side) of a mirrored window are mirrored too: x → 1 − x and
  the left/right points swapped (:data:`bigsmall.constants.MIRROR_49` for the 49-point
  scheme; other point counts are an error).
- ``translate``: shift each window's Big frame by a random whole number of pixels, up to
  ``max_shift`` of its size in x and y (edges replicated), as a face detector's box jitters.
  The Small frames (9x9) are left alone: the same shift is below one of their pixels.
  Landmarks in the batch move with the Big frame (shifted by the same fraction of its side).

Batches follow :mod:`bigsmall.training.loop`: ``big`` (B, Nb, C, H, W), ``small``
(B, N, C, h, w). Draws come from an explicit generator, so a seeded epoch augments the same
way when it is resumed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

from bigsmall.constants import MIRROR_49

Batch = dict[str, torch.Tensor]


def _windows(batch: Mapping[str, torch.Tensor]) -> int:
    return int((batch["big"] if "big" in batch else batch["small"]).shape[0])


def hflip(batch: Mapping[str, torch.Tensor], generator: torch.Generator, max_shift: float) -> Batch:
    """Mirror a random half of the windows (all of their frames) left-right."""
    del max_shift
    out = dict(batch)
    flip = torch.rand(_windows(batch), generator=generator) < 0.5
    for key in ("big", "small"):
        if key in batch:
            x = batch[key]
            mask = flip.to(x.device).view(-1, *([1] * (x.dim() - 1)))
            out[key] = torch.where(mask, x.flip(-1), x)
    if batch.get("landmarks") is not None:
        out["landmarks"] = _flip_landmarks(batch["landmarks"], flip)
    return out


def _flip_landmarks(marks: torch.Tensor, flip: torch.Tensor) -> torch.Tensor:
    """(B, Nb, L, 2) landmark fractions; mirror the windows where ``flip`` (B,) is true."""
    if marks.shape[-2] != len(MIRROR_49):
        raise ValueError(
            f"hflip mirrors the 49-point landmark scheme, got {marks.shape[-2]} points"
        )
    perm = torch.tensor(MIRROR_49, device=marks.device)
    mirrored = marks[..., perm, :].clone()
    mirrored[..., 0] = 1.0 - mirrored[..., 0]
    mask = flip.to(marks.device).view(-1, 1, 1, 1)
    return torch.where(mask, mirrored, marks)


def translate(
    batch: Mapping[str, torch.Tensor], generator: torch.Generator, max_shift: float
) -> Batch:
    """Shift each window's Big frames by up to ``max_shift`` of their height and width."""
    if "big" not in batch:
        return dict(batch)
    big = batch["big"]
    b, nb, c, h, w = big.shape
    pad_y, pad_x = round(max_shift * h), round(max_shift * w)
    if pad_x == 0 and pad_y == 0:
        return dict(batch)
    dy = torch.randint(0, 2 * pad_y + 1, (b,), generator=generator).tolist()
    dx = torch.randint(0, 2 * pad_x + 1, (b,), generator=generator).tolist()
    padded = F.pad(big.flatten(0, 1), (pad_x, pad_x, pad_y, pad_y), mode="replicate")
    padded = padded.view(b, nb, c, h + 2 * pad_y, w + 2 * pad_x)
    shifted = torch.stack([padded[i, :, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(b)])
    out = {**batch, "big": shifted}
    if batch.get("landmarks") is not None:
        # the crop starting at (dx, dy) of the padded frame moves content by (pad - d) pixels
        move = torch.tensor(
            [[(pad_x - dx[i]) / w, (pad_y - dy[i]) / h] for i in range(b)],
            dtype=batch["landmarks"].dtype,
            device=batch["landmarks"].device,
        )
        out["landmarks"] = batch["landmarks"] + move.view(b, 1, 1, 2)
    return out


#: Augmentation name → function(batch, generator, max_shift) → batch.
AUGMENTATIONS: dict[str, Callable[[Mapping[str, torch.Tensor], torch.Generator, float], Batch]] = {
    "hflip": hflip,
    "translate": translate,
}


def augment_batch(
    batch: Mapping[str, torch.Tensor],
    names: tuple[str, ...],
    generator: torch.Generator,
    max_shift: float = 0.05,
) -> Batch:
    """Apply the named augmentations (keys of :data:`AUGMENTATIONS`) in order."""
    out = dict(batch)
    for name in names:
        out = AUGMENTATIONS[name](out, generator, max_shift)
    return out
