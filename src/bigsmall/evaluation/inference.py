"""Run a model over a cached dataset and stitch its per-frame outputs back per recording."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from bigsmall.constants import TASKS
from bigsmall.data.dataset import WindowDataset
from bigsmall.training.loop import WindowModel


@dataclass
class RecordingOutputs:
    """Per-frame model outputs of one recording in time order (T frames kept by windowing).

    au: (T, K) logits or None; bvp, resp: (T,) or None.
    """

    au: np.ndarray | None
    bvp: np.ndarray | None
    resp: np.ndarray | None


@torch.no_grad()
def predict_dataset(
    model: nn.Module,
    dataset: WindowDataset,
    *,
    batch_size: int = 64,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> dict[str, RecordingOutputs]:
    """Per-recording outputs of ``model`` over every window of ``dataset`` (eval mode)."""
    net = WindowModel(model).to(device).eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    parts: list[list[np.ndarray | None]] = [[], [], []]
    for batch in tqdm(loader, desc="predict", disable=not progress, leave=False):
        out = net(batch["big"].to(device), batch["small"].to(device))
        for i, task in enumerate(TASKS):  # task heads only (not e.g. ``landmarks``)
            value = getattr(out, task)
            parts[i].append(None if value is None else value.float().cpu().numpy())
    stitched: list[dict[str, np.ndarray] | None] = []
    for chunks in parts:
        if not chunks or chunks[0] is None:
            stitched.append(None)
        else:
            stitched.append(dataset.stitch(np.concatenate(chunks)))
    au, bvp, resp = stitched
    return {
        rid: RecordingOutputs(
            au=None if au is None else au[rid],
            bvp=None if bvp is None else bvp[rid][:, 0],
            resp=None if resp is None else resp[rid][:, 0],
        )
        for rid in dataset.recording_ids
    }
