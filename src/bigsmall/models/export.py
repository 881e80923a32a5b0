"""ONNX export of the BigSmall family with a dynamic number of windows.

Narayanswamy et al., "BigSmall: ...", WACV 2024 (arXiv:2303.11573). Two graphs can be
exported:

- the *windows* path (default for temporally downsampled models): inputs ``big_first``
  (W, 3, S, S), frame 0 of each window, and ``small`` (W·N, 3, s, s) — what a deployed
  predictor feeds, so the Big branch never sees frames it would discard;
- the *frames* path: ``big`` and ``small`` both (W·N, ...), as :meth:`BigSmall.forward`.

Outputs are named after the model's heads (``au``, ``bvp``, ``resp``), each (W·N, k).
The file is written to a temporary name and renamed.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from bigsmall.models.bigsmall import BigSmall
from bigsmall.output_dir import atomic_temp

#: ONNX opset used for export.
OPSET = 18
#: Example number of windows used while tracing (any value >= 2 works; shapes stay dynamic).
_TRACE_WINDOWS = 2


class _ExportGraph(nn.Module):
    """Named tensors in, a tuple of the model's present head outputs out."""

    def __init__(self, model: BigSmall, windows_path: bool) -> None:
        super().__init__()
        self.model = model
        self.windows_path = windows_path
        self.names = input_names(model, windows_path)

    def run(self, named: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
        m = self.model
        small = named.get("small")
        if self.windows_path:
            out = m.forward_windows(named.get("big_first"), small)
        elif m.use_big and m.big_downsample:
            out = m.forward_windows(named["big"][:: m.n_segment], small)
        else:
            feats = m.small_branch(small) if m.use_small else None
            if m.use_big:
                big = m.big_branch(named["big"])
                feats = big if feats is None else feats + big
            out = m.heads(feats)
        return tuple(getattr(out, t) for t in m.tasks)


class _OneInput(_ExportGraph):
    def forward(self, x1: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.run(dict(zip(self.names, (x1,), strict=True)))


class _TwoInputs(_ExportGraph):
    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return self.run(dict(zip(self.names, (x1, x2), strict=True)))


class _quiet_loggers:
    """Silence the exporter's INFO/WARNING log lines (e.g. "torchvision is not installed")."""

    _names = ("torch.onnx", "torch.export", "torch._dynamo", "torch.fx")

    def __enter__(self) -> None:
        self._levels = {n: logging.getLogger(n).level for n in self._names}
        for n in self._names:
            logging.getLogger(n).setLevel(logging.ERROR)

    def __exit__(self, *exc: object) -> None:
        for n, level in self._levels.items():
            logging.getLogger(n).setLevel(level)


def _add_metadata(path: str, values: dict[str, str]) -> None:
    """Store string metadata (e.g. N) in the ONNX file's ``metadata_props``."""
    import onnx

    proto = onnx.load(path)
    for key, value in values.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, path)


def input_names(model: BigSmall, windows_path: bool) -> list[str]:
    """ONNX input names of ``model`` for the chosen path."""
    names = []
    if model.use_big:
        names.append("big_first" if windows_path else "big")
    if model.use_small:
        names.append("small")
    return names


def example_inputs(
    model: BigSmall, windows_path: bool, n_windows: int = _TRACE_WINDOWS
) -> tuple[torch.Tensor, ...]:
    """Random inputs for ``n_windows`` windows in :func:`input_names` order."""
    frames = n_windows * model.n_segment
    shapes = {
        "big_first": (n_windows, model.in_channels, model.big_size, model.big_size),
        "big": (frames, model.in_channels, model.big_size, model.big_size),
        "small": (frames, model.in_channels, model.small_size, model.small_size),
    }
    return tuple(torch.randn(shapes[n]) for n in input_names(model, windows_path))


def export_onnx(
    model: BigSmall,
    path: str | Path,
    windows_path: bool | None = None,
    opset: int = OPSET,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Export ``model`` (eval mode) to ONNX at ``path`` with a dynamic number of windows.

    ``windows_path=None`` picks the windows path when the model downsamples Big in time.
    ``metadata``: the weights' record (:class:`~bigsmall.models.weights_record.WeightsRecord`
    ``.to_metadata()``: crop, alignment, ...), stored in the graph's metadata beside
    ``n_segment`` and ``tasks`` so that the file still says what inputs it needs.
    """
    path = Path(path)
    if windows_path is None:
        windows_path = model.use_big and model.big_downsample
    if windows_path and model.use_big and not model.big_downsample:
        raise ValueError("the windows path needs a model with big_downsample=True")
    model = model.eval()
    names = input_names(model, windows_path)
    graph = (_TwoInputs if len(names) == 2 else _OneInput)(model, windows_path).eval()
    windows = torch.export.Dim("windows", min=1, max=1 << 20)
    frames = windows * model.n_segment
    dims = {"big_first": {0: windows}, "big": {0: frames}, "small": {0: frames}}
    dynamic_shapes = tuple(dims[n] for n in names)
    fd, tmp = atomic_temp(path, ".tmp.onnx")
    os.close(fd)
    try:
        with torch.no_grad(), warnings.catch_warnings(), _quiet_loggers():
            warnings.simplefilter("ignore")  # exporter chatter (axis renames, deprecations)
            torch.onnx.export(
                graph,
                example_inputs(model, windows_path),
                tmp,
                input_names=names,
                output_names=list(model.tasks),
                opset_version=opset,
                dynamo=True,
                dynamic_shapes=dynamic_shapes,
                external_data=False,
                verbose=False,
            )
        own = {"n_segment": str(model.n_segment), "tasks": ",".join(model.tasks)}
        _add_metadata(tmp, {**dict(metadata or {}), **own})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
