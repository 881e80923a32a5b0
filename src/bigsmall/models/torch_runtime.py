"""A fast CPU inference wrapper for BigSmall in PyTorch (no ONNX needed).

Narayanswamy et al., "BigSmall: ...", WACV 2024 (arXiv:2303.11573). :class:`TorchWindowsModel`
runs :meth:`BigSmall.forward_windows` with three CPU tricks that do not change the result
beyond float rounding: the Big branch in NHWC (``channels_last``, faster oneDNN convolutions),
a graph traced and frozen with TorchScript (convolution + ReLU fused, weights pre-packed) and
a few windows per call so that the Big activations stay in cache.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from bigsmall.constants import TASKS
from bigsmall.models.bigsmall import BigSmall, BigSmallOutput

#: Windows per call (keeps the Big activations of a chunk in the CPU caches).
DEFAULT_CHUNK_WINDOWS = 4


class _Windows(nn.Module):
    """``forward_windows`` returning a plain tuple (what tracing needs)."""

    def __init__(self, model: BigSmall) -> None:
        super().__init__()
        self.model = model

    def forward(self, big_first: torch.Tensor, small: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model.forward_windows(big_first, small)
        return tuple(getattr(out, t) for t in self.model.tasks)


class TorchWindowsModel:
    """Call ``(big_first, small)`` → :class:`BigSmallOutput`, as ``BigSmall.forward_windows``.

    Args:
        model: a BigSmall with both branches and ``big_downsample=True``; it is copied
            (the original is left untouched).
        chunk_windows: windows per call (``None``: all at once).
        channels_last: NHWC Big branch.
        freeze: trace and freeze with TorchScript (falls back to eager if tracing fails).
    """

    def __init__(
        self,
        model: BigSmall,
        chunk_windows: int | None = DEFAULT_CHUNK_WINDOWS,
        channels_last: bool = True,
        freeze: bool = True,
    ) -> None:
        if not (model.use_big and model.use_small and model.big_downsample):
            raise ValueError("TorchWindowsModel needs a BigSmall with both branches, downsampled")
        clone = copy.deepcopy(model).eval()
        if channels_last:
            clone = clone.to(memory_format=torch.channels_last)
        self.model = clone
        self.n_segment = clone.n_segment
        self.chunk_windows = chunk_windows
        self.channels_last = channels_last
        self._fn: nn.Module | torch.jit.ScriptModule = _Windows(clone).eval()
        if freeze:
            self._fn = self._traced(clone)

    def _traced(self, model: BigSmall) -> nn.Module | torch.jit.ScriptModule:
        windows = self.chunk_windows or 2
        big = torch.zeros(windows, model.in_channels, model.big_size, model.big_size)
        small = torch.zeros(
            windows * self.n_segment, model.in_channels, model.small_size, model.small_size
        )
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # TorchScript deprecation notices
            try:
                traced = torch.jit.trace(_Windows(model).eval(), (self._big(big), small))
                return torch.jit.freeze(traced)
            except Exception:
                return _Windows(model).eval()

    def _big(self, big: torch.Tensor) -> torch.Tensor:
        return big.contiguous(memory_format=torch.channels_last) if self.channels_last else big

    def __call__(self, big_first: torch.Tensor, small: torch.Tensor) -> BigSmallOutput:
        """big_first (W, 3, S, S), small (W·N, 3, s, s) → per-frame outputs (W·N, k)."""
        windows = big_first.shape[0]
        if small.shape[0] != windows * self.n_segment:
            raise ValueError(
                f"small has {small.shape[0]} frames; expected {windows} windows × {self.n_segment}"
            )
        step = self.chunk_windows or max(windows, 1)
        parts = []
        with torch.no_grad():
            for start in range(0, windows, step):
                stop = min(start + step, windows)
                parts.append(
                    self._fn(
                        self._big(big_first[start:stop]),
                        small[start * self.n_segment : stop * self.n_segment],
                    )
                )
        outs = {t: torch.cat([p[i] for p in parts]) for i, t in enumerate(self.model.tasks)}
        return BigSmallOutput(**{t: outs.get(t) for t in TASKS})
