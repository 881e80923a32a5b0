"""What the networks return: per-frame outputs of each task head (no PyTorch needed to read
them: ONNX Runtime returns the same tuple of arrays)."""

from __future__ import annotations

from typing import Any, NamedTuple

#: A head's output: a torch.Tensor from PyTorch, a NumPy array from ONNX Runtime.
Values = Any


class BigSmallOutput(NamedTuple):
    """Per-frame outputs, each (B·N, k), or ``None`` for a head the model lacks (tensors from
    PyTorch, arrays from ONNX Runtime).

    ``landmarks``: (B·N, L, 2) predicted landmark positions (x, y) as fractions [0, 1] of the
    Big input side, for models with a face-alignment branch (JAA-Net, BigSmall++); not a task
    head: ONNX export and the task metrics use only ``au``, ``bvp`` and ``resp``.
    """

    au: Values | None
    bvp: Values | None
    resp: Values | None
    landmarks: Values | None = None
