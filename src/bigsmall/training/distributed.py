"""Process-group helpers for ``torchrun`` (DistributedDataParallel: gloo on CPU, nccl on GPU)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from bigsmall.constants import DEVICES


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def dist_info_from_env() -> DistInfo:
    """Rank and world size that ``torchrun`` exports (a single process otherwise)."""
    return DistInfo(
        rank=int(os.environ.get("RANK", 0)),
        world_size=int(os.environ.get("WORLD_SIZE", 1)),
        local_rank=int(os.environ.get("LOCAL_RANK", 0)),
    )


def init_distributed(info: DistInfo, device: torch.device) -> None:
    """Join the process group once (no-op for a single process)."""
    if info.enabled and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def all_reduce_mean(value: float, info: DistInfo) -> float:
    """Mean of a scalar over processes."""
    if not (info.enabled and dist.is_initialized()):
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / info.world_size


def resolve_device(name: str, info: DistInfo | None = None) -> torch.device:
    """ "auto" → CUDA when available, else CPU; "cuda" without a GPU is a clear error."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            from bigsmall.errors import ConfigError

            raise ConfigError(
                "device 'cuda' requested but no CUDA GPU is available; use --device cpu"
            )
        return torch.device("cuda", info.local_rank if info else 0)
    if name != "cpu":
        from bigsmall.errors import ConfigError

        raise ConfigError(f"unknown device {name!r}; choose {', '.join(DEVICES)}")
    return torch.device("cpu")
