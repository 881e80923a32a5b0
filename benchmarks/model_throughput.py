"""Video frames per second of the ``bigsmall`` model on CPU, per backend, in one run.

Usage: ``python benchmarks/model_throughput.py [--threads 2] [--windows 1 8 32] [--repeats 9]``

Backends (all with N = 3 frames per window; the Big branch sees one frame per window):

- ``eager forward``: ``model(big, small)`` with all B·N Big frames (NCHW);
- ``eager windows``: ``model.forward_windows(big_first, small)``;
- ``channels-last``: the model and Big input in NHWC, ``forward_windows``;
- ``channels-last chunked``: the same, 8 windows per call (Big activations stay in cache);
- ``torch frozen``: :class:`TorchWindowsModel` (channels-last, TorchScript-frozen, 4 windows
  per call), the fastest pure-PyTorch path;
- ``ORT fp32`` / ``ORT int8``: the exported windows graph under ONNX Runtime, 8 windows per
  session run; ``ORT fp32, plain export``: the same network exported the simplest way
  (``torch.onnx.export`` of ``forward_windows``, TorchScript exporter, no metadata, no
  packaging), run with the same session settings — the package's graph should be as fast; int8
  is static QDQ quantisation calibrated on random inputs, with the Pearson
  correlation of its PPG output to fp32 on held-out random inputs.

Each backend runs ``--repeats`` timed calls split over ``--rounds`` interleaved rounds, so that
background load affects all backends alike. Two tables: the median call and the fastest call
(closer to an idle machine when other processes share the cores; the load average is printed).
Ratios are relative to ``eager forward``.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from bigsmall.models import create_model
from bigsmall.models.bigsmall import forward_windows_chunked
from bigsmall.models.export import export_onnx
from bigsmall.models.onnx_runtime import DEFAULT_CHUNK_WINDOWS, OnnxModel, quantize_int8
from bigsmall.models.torch_runtime import TorchWindowsModel

MODEL = "bigsmall"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _median_seconds(fn: Callable[[], object], repeats: int) -> list[float]:
    for _ in range(2):  # warm-up (also lets the other backend's threads go idle)
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _make_backends(
    model: torch.nn.Module,
    model_cl: torch.nn.Module,
    frozen: TorchWindowsModel,
    ort_fp32: OnnxModel,
    ort_int8: OnnxModel | None,
    windows: int,
    ort_plain: OnnxModel | None = None,
) -> dict[str, Callable[[], object]]:
    """Zero-argument callables, one per backend, on random inputs of ``windows`` windows."""
    n = model.n_segment
    g = torch.Generator().manual_seed(windows)
    big = torch.randn(windows * n, 3, model.big_size, model.big_size, generator=g)
    small = torch.randn(windows * n, 3, model.small_size, model.small_size, generator=g)
    big_first = big[::n].contiguous()
    big_np, small_np = big_first.numpy(), small.numpy()
    backends: dict[str, Callable[[], object]] = {
        "eager forward": lambda: model(big, small),
        "eager windows": lambda: model.forward_windows(big_first, small),
        "channels-last": lambda: model_cl.forward_windows(
            big_first.contiguous(memory_format=torch.channels_last), small
        ),
        "channels-last chunked": lambda: forward_windows_chunked(
            model_cl, big_first, small, DEFAULT_CHUNK_WINDOWS, channels_last=True
        ),
        "torch frozen": lambda: frozen(big_first, small),
        "ORT fp32": lambda: ort_fp32(big_np, small_np),
    }
    if ort_plain is not None:
        backends["ORT fp32, plain export"] = lambda: ort_plain(big_np, small_np)
    if ort_int8 is not None:
        backends["ORT int8"] = lambda: ort_int8(big_np, small_np)
    return backends


class _Windows(torch.nn.Module):
    """``forward_windows`` as a plain module returning the three heads."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, big_first: torch.Tensor, small: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model.forward_windows(big_first, small)
        return out.au, out.bvp, out.resp


def _plain_export(model: torch.nn.Module, path: Path) -> Path:
    """The simplest export of the windows path (TorchScript exporter, dynamic windows)."""
    import warnings

    n = model.n_segment
    big = torch.randn(4, 3, model.big_size, model.big_size)
    small = torch.randn(4 * n, 3, model.small_size, model.small_size)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Windows(model).eval(),
            (big, small),
            str(path),
            input_names=["big_first", "small"],
            output_names=["au", "bvp", "resp"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={"big_first": {0: "windows"}, "small": {0: "frames"}},
        )
    return path


def _print_table(
    results: dict[tuple[str, int], list[float]],
    names: list[str],
    windows_list: list[int],
    n: int,
    stat: Callable[[list[float]], float],
) -> None:
    header = "| backend | " + " | ".join(f"{w} win" for w in windows_list)
    header += " | " + " | ".join(f"ratio @{w}" for w in windows_list) + " |"
    print(header)
    print("|" + "---|" * (1 + 2 * len(windows_list)))
    for name in names:
        seconds = [stat(results[(name, w)]) for w in windows_list]
        base = [stat(results[("eager forward", w)]) for w in windows_list]
        fps = [w * n / t for w, t in zip(windows_list, seconds, strict=True)]
        ratios = [b / t for b, t in zip(base, seconds, strict=True)]
        cells = [f"{v:,.0f}" for v in fps] + [f"{r:.2f}x" for r in ratios]
        print(f"| {name} | " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--windows", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per backend")
    parser.add_argument("--no-int8", dest="int8", action="store_false")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = create_model(MODEL).eval()
    n = model.n_segment
    model_cl = create_model(MODEL).eval()
    model_cl.load_state_dict(model.state_dict())
    model_cl = model_cl.to(memory_format=torch.channels_last)

    frozen = TorchWindowsModel(model)

    tmp = Path(tempfile.mkdtemp(prefix="bigsmall_bench_"))
    fp32_path = export_onnx(model, tmp / "bigsmall.onnx")
    ort_fp32 = OnnxModel(fp32_path, intra_op_num_threads=args.threads, allow_spinning=False)
    plain_path = _plain_export(model, tmp / "plain.onnx")
    ort_plain = OnnxModel(plain_path, intra_op_num_threads=args.threads, allow_spinning=False)
    ort_int8 = None
    corr = float("nan")
    if args.int8:
        int8_path = quantize_int8(fp32_path, tmp / "bigsmall_int8.onnx")
        ort_int8 = OnnxModel(int8_path, intra_op_num_threads=args.threads, allow_spinning=False)
        g = torch.Generator().manual_seed(123)
        held_big = torch.randn(64, 3, model.big_size, model.big_size, generator=g)
        held_small = torch.randn(64 * n, 3, model.small_size, model.small_size, generator=g)
        a = ort_fp32(held_big, held_small).bvp[:, 0]
        b = ort_int8(held_big, held_small).bvp[:, 0]
        corr = float(np.corrcoef(a, b)[0, 1])

    results: dict[tuple[str, int], list[float]] = {}
    for windows in args.windows:
        backends = _make_backends(model, model_cl, frozen, ort_fp32, ort_int8, windows, ort_plain)
        with torch.inference_mode():
            for _ in range(args.rounds):
                for name, fn in backends.items():
                    reps = max(2, args.repeats // args.rounds)
                    results.setdefault((name, windows), []).extend(_median_seconds(fn, reps))

    names = list(dict.fromkeys(name for name, _ in results))
    print(
        f"# {MODEL} model-only throughput, video frames/s, {args.threads} threads, "
        f"N={n}; {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC; {_cpu_name()}; "
        f"torch {torch.__version__}, onnxruntime {__import__('onnxruntime').__version__}; "
        f"load average before/after {load_before:.1f}/{os.getloadavg()[0]:.1f}"
    )
    for label, stat in (("median", statistics.median), ("fastest call", min)):
        print(f"\n## {label} of {len(next(iter(results.values())))} calls")
        _print_table(results, names, args.windows, n, stat)
    if ort_int8 is not None:
        print(f"int8 PPG output Pearson correlation with fp32 (random inputs): {corr:.4f}")
    best = max((w * n / statistics.median(results[(name, w)]), name, w) for name, w in results)
    print(f"best (median): {best[1]} at {best[2]} windows, {best[0]:,.0f} video frames/s")


if __name__ == "__main__":
    main()
