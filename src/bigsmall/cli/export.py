"""``bigsmall export``: write a model as ONNX (dynamic number of windows)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a model to ONNX",
        description=(
            "Export a registered model to ONNX with a dynamic number of windows, optionally "
            "with weights, and check it against PyTorch under ONNX Runtime."
        ),
    )
    parser.add_argument("--model", default="bigsmall", metavar="NAME", help="model name")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.onnx", help="output file")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        metavar="PATH",
        help="weights: .safetensors of this project or a toolbox .pth state dict",
    )
    path = parser.add_mutually_exclusive_group()
    path.add_argument(
        "--windows-path",
        dest="windows_path",
        action="store_true",
        default=None,
        help="inputs big_first (W,3,S,S) + small (W*N,3,s,s) (default for bigsmall)",
    )
    path.add_argument(
        "--frames-path",
        dest="windows_path",
        action="store_false",
        help="inputs big and small both (W*N, ...), as forward()",
    )
    parser.add_argument(
        "--int8",
        type=Path,
        metavar="FILE.onnx",
        help="also write an int8 statically quantised copy (random calibration inputs)",
    )
    parser.add_argument(
        "--no-verify",
        dest="verify",
        action="store_false",
        help="skip the ONNX Runtime vs PyTorch check",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import logging
    import warnings

    import torch

    from bigsmall.errors import ConfigError
    from bigsmall.models import create_model
    from bigsmall.models.export import example_inputs, export_onnx

    if args.out.suffix != ".onnx":
        raise ConfigError(f"{args.out}: the output file must end in .onnx")
    model = create_model(args.model, checkpoint_path=args.checkpoint).eval()
    if args.windows_path and model.use_big and not model.big_downsample:
        raise ConfigError(f"model {args.model!r} runs Big on every frame; use --frames-path for it")
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        path = export_onnx(model, args.out, windows_path=args.windows_path)
    print(f"wrote {path}")
    if args.verify:
        from bigsmall.models.onnx_runtime import OnnxModel

        windows_path = args.windows_path
        if windows_path is None:
            windows_path = model.use_big and model.big_downsample
        inputs = example_inputs(model, windows_path, n_windows=3)
        session = OnnxModel(path)
        feeds = dict(zip(session.input_names, inputs, strict=True))
        got = session(feeds.get("big_first", feeds.get("big")), feeds.get("small"))
        with torch.no_grad():
            big, small = feeds.get("big_first", feeds.get("big")), feeds.get("small")
            ref = model.forward_windows(big, small) if windows_path else model(big, small)
        diff = max(
            float((torch.from_numpy(getattr(got, t)) - getattr(ref, t)).abs().max())
            for t in model.tasks
        )
        print(f"onnxruntime vs PyTorch: max abs difference {diff:.2e} on random inputs")
    if args.int8 is not None:
        from bigsmall.models.onnx_runtime import quantize_int8

        print(f"wrote {quantize_int8(path, args.int8)}")
    return 0
