"""A tiny in-memory window dataset with learnable structure, for trainer tests."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

N = 3
BIG = 32
SMALL = 4


class ToyWindows(Dataset):
    """Windows whose labels are simple functions of the inputs (so a model can learn them)."""

    def __init__(self, n_windows: int = 48, seed: int = 0, n_au: int = 12) -> None:
        g = torch.Generator().manual_seed(seed)
        # Small: a per-frame level on channel 2 (the one the temporal shift leaves in place).
        level = torch.randn(n_windows, N, generator=g)
        self.small = 0.3 * torch.randn(n_windows, N, 3, SMALL, SMALL, generator=g)
        self.small[:, :, 2] += level[..., None, None]
        self.bvp = level
        self.resp = -0.5 * level
        # Big: a per-window brightness whose sign is every AU.
        brightness = torch.randn(n_windows, generator=g)
        self.big = 0.3 * torch.randn(n_windows, 1, 3, BIG, BIG, generator=g)
        self.big += brightness[:, None, None, None, None]
        self.au = (brightness[:, None, None] > 0).to(torch.int8).expand(-1, N, n_au).clone()

    def __len__(self) -> int:
        return self.big.shape[0]

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {
            "big": self.big[i],
            "small": self.small[i],
            "bvp": self.bvp[i],
            "resp": self.resp[i],
            "au": self.au[i],
            "bvp_mask": torch.tensor(True),
            "resp_mask": torch.tensor(True),
        }
