"""Loading a BigSmall network and running it on prepared windows, with PyTorch or ONNX Runtime.

Narayanswamy et al., "BigSmall: Efficient Multi-Task Learning for Disparate Spatial and
Temporal Physiological Measurements", WACV 2024. The deployed call is
``forward_windows(big_first (W, 3, S, S), small (W·N, 3, s, s))``: the Big branch sees the
first frame of each window of N frames, the Small branch every frame.

Weights: the default model loads ``bigsmall/weights/bigsmall.safetensors`` shipped in the
package; ``checkpoint`` may be a ``.safetensors`` of this project, a toolbox ``.pth`` state dict,
or a folder with the authors' nine released files (Big_AU + Small_Heart + Small_Resp, three
folds), which then runs as the task-optimised trio of ``fold``.

Backends: ``torch`` (:class:`~bigsmall.models.torch_runtime.TorchWindowsModel`: channels-last,
frozen TorchScript) or ``onnx`` (ONNX Runtime on a graph exported once per weights file and
cached, see :func:`onnx_cache_path`); ``auto`` picks ONNX Runtime whenever it is installed
and the model can be exported (a single BigSmall on the CPU): it runs this network 2-6× faster
than PyTorch on 2 cores and degrades far less when other processes share the cores. The
export (≈ 7-12 s) happens once per weights file; ship the graph beside the weights with
:func:`write_onnx_beside` to skip it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bigsmall.constants import BACKENDS, TASKS
from bigsmall.errors import CheckpointError, ConfigError
from bigsmall.version import __version__

if TYPE_CHECKING:
    from bigsmall.models.weights_record import WeightsRecord

#: Name of the default model and its shipped weights file.
DEFAULT_MODEL: str = "bigsmall"
#: Windows per model call (bounded memory: 64 windows of Big frames are ≈ 16 MB).
CHUNK_WINDOWS: int = 64
#: Windows per network call on the plain torch path (the trio, or a GPU).
PLAIN_CHUNK_WINDOWS: int = 8
#: Environment variable overriding the cache folder of exported ONNX graphs.
CACHE_ENV: str = "BIGSMALL_CACHE_DIR"
_HASH_BLOCK_BYTES: int = 1 << 20


def shipped_weights_path(name: str = DEFAULT_MODEL) -> Path:
    """Where the package's shipped weights of ``name`` (default: the default model) live; the
    file may not exist. See :func:`bigsmall.models.shipped.shipped_weights_path`."""
    from bigsmall.models.shipped import shipped_weights_path as path_of_shipped

    return path_of_shipped(name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


def onnx_cache_path(weights: Path, n_segment: int) -> Path:
    """File of the ONNX graph exported from ``weights``, named after the weights' SHA-256.

    A graph of that name beside the weights (e.g. shipped in ``bigsmall/weights``) is used
    first; otherwise it lives in ``$BIGSMALL_CACHE_DIR`` or ``~/.cache/bigsmall``. The hash in
    the name means a graph of older weights is never picked up by mistake.
    """
    name = f"{weights.stem}-{_sha256(weights)[:16]}-n{n_segment}.onnx"
    beside = weights.parent / name
    if beside.is_file():
        return beside
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "bigsmall")
    return root / "onnx" / name


@dataclass(frozen=True)
class NetworkShape:
    """What the inputs of a network must be: frames per window, Big and Small sides, and
    whether Big sees only the first frame of each window (what the ONNX graph is built for)."""

    n_segment: int
    big_size: int
    small_size: int
    big_downsample: bool

    @classmethod
    def of(cls, module: object) -> NetworkShape:
        return cls(
            int(module.n_segment),  # type: ignore[attr-defined]
            int(module.big_size),  # type: ignore[attr-defined]
            int(module.small_size),  # type: ignore[attr-defined]
            bool(getattr(module, "big_downsample", False)),
        )


@dataclass
class LoadedModel:
    """A network and where its weights came from.

    ``module`` (the PyTorch network in eval mode: BigSmall or BigSmallTrio) is built on first
    use when the weights were opened for ONNX Runtime through a graph already exported from
    them: ``predict`` then never imports PyTorch (≈ 1.2 s of start-up).
    """

    name: str
    weights: str
    weights_path: Path | None
    exportable: bool
    shape: NetworkShape
    #: crop mode the weights were trained with (safetensors metadata ``crop``), if recorded
    crop: str | None = None
    #: what the weights' makers say about their AUs' reliability (metadata ``au_note``)
    au_note: str | None = None
    #: landmark alignment the Big input was trained with (metadata ``align``, a JSON object of
    #: :class:`bigsmall.video.align.AlignSpec` fields), or ``None``
    align: dict[str, object] | None = None
    #: the Big frames' side in face-box widths when the Big branch learned another framing than
    #: the crop's (metadata ``big_scale``; :mod:`bigsmall.video.reframe`), or ``None``
    big_scale: float | None = None
    build: Callable[[], object] | None = None
    _module: object | None = None

    @property
    def module(self) -> object:
        if self._module is None:
            if self.build is None:
                raise RuntimeError("LoadedModel has neither a module nor a way to build it")
            self._module = self.build()
        return self._module


def _record(path: Path) -> WeightsRecord:
    """The weights' self-description; an unreadable file fails with a clear error on load."""
    from bigsmall.models.weights_record import WeightsRecord, read_weights_record

    try:
        return read_weights_record(path, DEFAULT_MODEL)
    except CheckpointError:
        raise
    except Exception:
        return WeightsRecord(model=DEFAULT_MODEL)


def _network(path: Path, record: WeightsRecord) -> object:
    """The PyTorch network of a weights file, in eval mode, checked to be a full BigSmall."""
    from bigsmall.models import create_model

    name, kwargs = record.model, record.kwargs()
    try:
        model = create_model(name, checkpoint_path=path, **kwargs).eval()
    except TypeError as exc:  # a keyword the model does not take
        raise CheckpointError(
            f"{path}: its metadata's model arguments do not fit model {name!r} ({exc})"
        ) from None
    if not (getattr(model, "use_big", False) and getattr(model, "use_small", False)):
        raise CheckpointError(
            f"{path}: a {name!r} checkpoint lacks the Big or Small branch; predict needs a full "
            "BigSmall network (or the folder of the authors' three released models)"
        )
    return model


def _graph_shape(path: Path, record: WeightsRecord) -> NetworkShape | None:
    """The network's shape read from the ONNX graph already exported from ``path`` (shipped
    beside it or cached), or ``None`` when there is none (or ONNX Runtime is absent)."""
    try:
        n_segment = int(record.n_segment or record.kwargs().get("n_segment") or 0)
    except (TypeError, ValueError):  # left to the network's own loading to explain
        return None
    if n_segment < 1 or not onnx_available():
        return None
    graph = onnx_cache_path(path, n_segment)
    if not graph.is_file():
        return None
    from bigsmall.models.onnx_runtime import graph_input_sides

    big_side, small_side = graph_input_sides(graph)
    return NetworkShape(n_segment, big_side, small_side, True)


def load_model(
    checkpoint: str | Path | None = None, fold: int = 1, for_onnx: bool = False
) -> LoadedModel:
    """The network for ``checkpoint`` (``None``: the shipped default weights).

    for_onnx: the caller will run ONNX Runtime if it can; a weights file whose ONNX graph is
    already exported is then opened without building the PyTorch network (built on first use
    of :attr:`LoadedModel.module`).
    """
    if checkpoint is None:
        path = shipped_weights_path()
        if not path.is_file():
            raise CheckpointError(
                f"no default BigSmall weights ship with this install (looked for {path}); "
                "pass --checkpoint FILE.safetensors or the folder of the authors' weights, "
                "or use --method pos"
            )
        label = f"shipped:{path.name}"
    else:
        path = Path(checkpoint)
        label = str(path)
        if not path.exists():
            raise CheckpointError(f"{path}: checkpoint not found; check the path")
    if path.is_dir():
        from bigsmall.models.official import load_official_trio

        trio = load_official_trio(path, fold=fold)
        # the authors' BP4D+ weights read the framing they learned (bigsmall.video.framing)
        return LoadedModel(
            "bigsmall_trio",
            f"{label} (fold {fold})",
            None,
            False,
            NetworkShape.of(trio),
            crop="bp4d_framing",
            _module=trio,
        )
    record = _record(path)
    described = {
        "crop": record.crop,
        "au_note": record.au_note,
        "align": record.align,
        "big_scale": record.big_scale,
    }
    shape = _graph_shape(path, record) if for_onnx else None
    if shape is not None:
        return LoadedModel(
            record.model,
            label,
            path,
            True,
            shape,
            **described,
            build=lambda: _network(path, record),
        )
    model = _network(path, record)
    shape = NetworkShape.of(model)
    return LoadedModel(
        record.model, label, path, shape.big_downsample, shape, **described, _module=model
    )


def onnx_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def resolve_backend(backend: str, loaded: LoadedModel, device: str) -> str:
    """``torch`` or ``onnx`` for ``backend`` (``auto``: see the module docstring)."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    can_onnx = loaded.exportable and loaded.weights_path is not None and device == "cpu"
    if backend == "onnx":
        if not onnx_available():
            raise ConfigError("--backend onnx needs onnxruntime: pip install onnxruntime")
        if not can_onnx:
            raise ConfigError(
                f"--backend onnx runs a single BigSmall weights file on the CPU; {loaded.name} "
                f"on {device} runs with --backend torch"
            )
        return "onnx"
    if backend == "torch" or not can_onnx or not onnx_available():
        return "torch"
    return "onnx"


WindowFn = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


def _task_arrays(out: Any, convert: Callable[[Any], np.ndarray]) -> dict[str, np.ndarray]:
    """The task outputs (au, bvp, resp) of a model's output tuple as arrays; other fields (a
    joint model's landmarks) are training targets, not measurements."""
    return {t: convert(v) for t, v in out._asdict().items() if t in TASKS and v is not None}


def _torch_runner(loaded: LoadedModel, device: str, threads: int | None) -> WindowFn:
    import torch

    from bigsmall.models.torch_runtime import TorchWindowsModel

    if threads is not None:
        torch.set_num_threads(threads)

    module = loaded.module
    if device == "cpu" and loaded.exportable:
        # Eager channels-last: tracing + freezing costs seconds per model for little gain here.
        fast = TorchWindowsModel(module, freeze=False)

        def run(big_first: np.ndarray, small: np.ndarray) -> dict[str, np.ndarray]:
            out = fast(torch.from_numpy(big_first), torch.from_numpy(small))
            return _task_arrays(out, lambda v: v.numpy())

        return run
    try:
        module = module.to(device)
    except (RuntimeError, AssertionError) as exc:
        raise ConfigError(f"device {device!r} is not usable here ({exc})") from exc

    from bigsmall.models.bigsmall import forward_windows_chunked

    def run_plain(big_first: np.ndarray, small: np.ndarray) -> dict[str, np.ndarray]:
        # A few windows per call keep the Big activations small (memory and CPU caches).
        with torch.inference_mode():
            out = forward_windows_chunked(
                module,
                torch.from_numpy(big_first).to(device),
                torch.from_numpy(small).to(device),
                chunk_windows=PLAIN_CHUNK_WINDOWS,
            )
        return _task_arrays(out, lambda v: v.float().cpu().numpy())

    return run_plain


def _onnx_runner(loaded: LoadedModel, log: Callable[[str], None], threads: int | None) -> WindowFn:
    from bigsmall.models.onnx_runtime import OnnxModel

    path = onnx_cache_path(loaded.weights_path, loaded.shape.n_segment)
    if not path.is_file():
        from bigsmall.models.export import export_onnx

        log(f"exporting the model to ONNX once (cached at {path})")
        export_onnx(loaded.module, path, windows_path=True)
    model = OnnxModel(path, intra_op_num_threads=threads, allow_spinning=threads is None)

    def run(big_first: np.ndarray, small: np.ndarray) -> dict[str, np.ndarray]:
        out = model(big_first, small)
        return _task_arrays(out, np.asarray)

    return run


def write_onnx_beside(weights: str | Path) -> Path:
    """Export the ONNX graph of ``weights`` next to it, under the name ``auto`` looks for.

    For shipping: with ``bigsmall/weights/bigsmall-<sha>-n3.onnx`` beside
    ``bigsmall.safetensors``, ``backend="auto"`` runs ONNX Runtime from the first video on.
    """
    from bigsmall.models.export import export_onnx

    loaded = load_model(weights)
    if not loaded.exportable:
        raise CheckpointError(f"{weights}: this model cannot be exported to ONNX")
    n_segment = loaded.module.n_segment
    target = Path(weights).parent / onnx_cache_path(Path(weights), n_segment).name
    return export_onnx(loaded.module, target, windows_path=True)


def make_runner(
    loaded: LoadedModel,
    backend: str,
    device: str,
    log: Callable[[str], None],
    threads: int | None = None,
) -> WindowFn:
    """A function ``(big_first, small) -> {"au": (W·N, 12), "bvp": (W·N, 1), ...}``.

    ``threads``: CPU threads for the model (``None``: the library's default).
    """
    if backend == "onnx":
        return _onnx_runner(loaded, log, threads)
    return _torch_runner(loaded, device, threads)


def model_info(
    loaded: LoadedModel | None,
    method: str,
    backend: str | None,
    aligned: Any = None,
    crop: str | None = None,
    big_scale: float | None = None,
) -> dict[str, object]:
    """The ``model`` entry of ``summary.json``: which network, and the inputs it was given
    (``crop``; ``aligned``: the clip's :class:`~bigsmall.video.aligned_big.AlignedBig`, if its
    Big frames were aligned; ``big_scale``: the Big frames' side in face widths, if they were
    cut at their own framing instead, :mod:`bigsmall.video.reframe`)."""
    if loaded is None:
        return {"name": method, "weights": None, "version": __version__, "backend": None}
    info: dict[str, object] = {
        "name": loaded.name,
        "weights": loaded.weights,
        "version": __version__,
        "backend": backend,
    }
    if crop is not None:
        info["crop"] = crop
    if loaded.au_note:
        info["au_note"] = loaded.au_note
    if big_scale is not None:
        info["big_scale"] = big_scale
    elif aligned is not None:
        info["aligned_big_frames"] = f"{int(aligned.found.sum())} of {len(aligned)}"
    return info
