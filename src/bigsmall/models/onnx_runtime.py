"""Running an exported BigSmall ONNX graph with ONNX Runtime (CPU), and int8 quantisation.

Narayanswamy et al., "BigSmall: ...", WACV 2024 (arXiv:2303.11573). :class:`OnnxModel` has the
call convention of :meth:`bigsmall.models.BigSmall.forward_windows` (or ``forward`` for a
graph exported on the frames path) and returns a :class:`BigSmallOutput` of NumPy arrays.
:func:`quantize_int8` applies ONNX Runtime's static quantisation (QDQ, int8 weights per
channel, uint8 activations) calibrated on given or random inputs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort

from bigsmall.constants import TASKS
from bigsmall.errors import CheckpointError
from bigsmall.models.outputs import BigSmallOutput

#: Windows per ONNX Runtime call in :class:`OnnxModel` (keeps Big activations in cache).
DEFAULT_CHUNK_WINDOWS = 8
#: Graph metadata key holding N (written by :func:`bigsmall.models.export.export_onnx`).
N_SEGMENT_KEY = "n_segment"
#: Input fed one row per window; every other input has N rows per window.
_WINDOW_INPUT = "big_first"


def _as_numpy(x: object) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()  # a torch tensor
    return np.ascontiguousarray(x, dtype=np.float32)


def _session(
    path: Path,
    intra_op_num_threads: int | None,
    allow_spinning: bool = True,
    optimize: bool = True,
) -> ort.InferenceSession:
    """A CPU session over ``path``; ``optimize=False`` only opens the graph (its inputs and
    metadata), skipping the optimization a run needs."""
    if not path.is_file():
        raise CheckpointError(f"{path}: ONNX file not found; export one with `bigsmall export`")
    options = ort.SessionOptions()
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if optimize
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    if intra_op_num_threads is not None:
        options.intra_op_num_threads = intra_op_num_threads
        options.inter_op_num_threads = 1
    if not allow_spinning:  # idle worker threads sleep instead of busy-waiting
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a loadable ONNX model ({first})") from exc


def graph_input_sides(path: Path) -> tuple[int, int]:
    """(Big side, Small side) of a graph written by :func:`bigsmall.models.export.export_onnx`
    (its ``big_first`` and ``small`` inputs are (·, 3, S, S)), read without optimizing it."""
    shapes = {i.name: i.shape for i in _session(path, None, optimize=False).get_inputs()}
    try:
        return int(shapes[_WINDOW_INPUT][-1]), int(shapes["small"][-1])
    except (KeyError, TypeError, ValueError, IndexError):
        raise CheckpointError(
            f"{path}: not a BigSmall graph of this package (inputs {sorted(shapes)})"
        ) from None


class OnnxModel:
    """An ONNX Runtime session over a graph written by :func:`bigsmall.models.export.export_onnx`.

    Args:
        path: the ``.onnx`` file.
        intra_op_num_threads: threads per operator (``None``: ONNX Runtime's default).
        chunk_windows: windows per session run (``None``: all at once). Small chunks keep the
            Big activations in cache, which is faster on CPU for many windows; the result is
            the same because windows are independent.
        allow_spinning: let idle ONNX Runtime threads busy-wait (lowest latency); turn off
            when other CPU work (decoding, PyTorch) shares the cores.
    """

    def __init__(
        self,
        path: str | Path,
        intra_op_num_threads: int | None = None,
        chunk_windows: int | None = DEFAULT_CHUNK_WINDOWS,
        allow_spinning: bool = True,
    ) -> None:
        self.path = Path(path)
        self.session = _session(self.path, intra_op_num_threads, allow_spinning)
        self.chunk_windows = chunk_windows
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]
        meta = self.session.get_modelmeta().custom_metadata_map
        self.n_segment = int(meta.get(N_SEGMENT_KEY, 3))

    def _rows_per_window(self, name: str) -> int:
        return 1 if name == _WINDOW_INPUT else self.n_segment

    def __call__(self, big_first: object | None, small: object | None) -> BigSmallOutput:
        """Inputs as for ``forward_windows`` (tensors or arrays); outputs (W·N, k) arrays."""
        given = {_WINDOW_INPUT: big_first, "big": big_first, "small": small}
        feeds = {n: _as_numpy(given[n]) for n in self.input_names}
        name0 = self.input_names[0]
        windows = feeds[name0].shape[0] // self._rows_per_window(name0)
        step = self.chunk_windows or max(windows, 1)
        chunks = []
        for start in range(0, windows, step):
            stop = min(start + step, windows)
            part = {
                n: a[start * self._rows_per_window(n) : stop * self._rows_per_window(n)]
                for n, a in feeds.items()
            }
            chunks.append(self.session.run(None, part))
        outs = {
            name: np.concatenate([c[i] for c in chunks]) for i, name in enumerate(self.output_names)
        }
        return BigSmallOutput(**{t: outs.get(t) for t in TASKS})


def _array_reader(batches: Sequence[dict[str, np.ndarray]]) -> object:
    """ONNX Runtime's calibration reader over ``batches`` (its quantization module is imported
    here, not with this module: it pulls ``onnx`` and costs about a second at start-up)."""
    from onnxruntime.quantization import CalibrationDataReader

    class _ArrayReader(CalibrationDataReader):
        """Feeds calibration batches (one dict of input name → array per batch)."""

        def __init__(self, batches: Sequence[dict[str, np.ndarray]]) -> None:
            self._batches = list(batches)
            self._iter: Iterator[dict[str, np.ndarray]] = iter(self._batches)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._iter, None)

        def rewind(self) -> None:
            self._iter = iter(self._batches)

    return _ArrayReader(batches)


def random_calibration(
    path: str | Path, n_batches: int = 4, n_windows: int = 8, seed: int = 0
) -> list[dict[str, np.ndarray]]:
    """Standard-normal calibration batches of ``n_windows`` windows for the graph at ``path``.

    Standardized Big frames and diff-normalized Small frames are roughly unit-variance, so
    random normal inputs give usable ranges; real preprocessed windows are better.
    """
    rng = np.random.default_rng(seed)
    model = OnnxModel(path, chunk_windows=None)
    batches = []
    for _ in range(n_batches):
        feeds = {}
        for inp in model.session.get_inputs():
            rows = n_windows * model._rows_per_window(inp.name)
            shape = [rows, *(int(d) for d in inp.shape[1:])]
            feeds[inp.name] = rng.standard_normal(shape).astype(np.float32)
        batches.append(feeds)
    return batches


def quantize_int8(
    fp32_path: str | Path,
    int8_path: str | Path,
    calibration: Sequence[dict[str, np.ndarray]] | None = None,
    per_channel: bool = True,
) -> Path:
    """Static int8 quantisation of an fp32 graph (atomic write of ``int8_path``).

    ``calibration``: batches of named inputs (real preprocessed windows give the best
    ranges); ``None`` uses :func:`random_calibration`.
    """
    int8_path = Path(int8_path)
    batches = calibration if calibration is not None else random_calibration(fp32_path)
    from bigsmall.output_dir import atomic_temp

    fd, tmp = atomic_temp(int8_path, ".tmp.onnx")
    os.close(fd)
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_static logs pre-processing advice on the root logger
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    try:
        quantize_static(
            str(fp32_path),
            tmp,
            _array_reader(batches),
            quant_format=QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
        )
        os.replace(tmp, int8_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        root.setLevel(level)
    return int8_path
