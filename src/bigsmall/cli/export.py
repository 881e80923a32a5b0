"""``bigsmall export``: write a model as ONNX (dynamic number of windows)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a model to ONNX",
        description=(
            "Export a model to ONNX with a dynamic number of windows and check it against "
            "PyTorch under ONNX Runtime. Without --checkpoint the shipped default weights are "
            "exported (as predict uses them); --random exports untrained weights."
        ),
    )
    parser.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="registered model name (default: the one the weights name, else bigsmall)",
    )
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.onnx", help="output file")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        metavar="PATH",
        help="weights: .safetensors of this project or a toolbox .pth state dict "
        "(default: the shipped weights)",
    )
    parser.add_argument(
        "--random",
        action="store_true",
        help="export untrained (randomly initialised) weights, e.g. to time a model",
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
    from bigsmall.models.export import example_inputs, export_onnx

    if args.out.suffix != ".onnx":
        raise ConfigError(f"{args.out}: the output file must end in .onnx")
    model, weights, record = _choose_model(args)
    if args.windows_path and model.use_big and not model.big_downsample:
        raise ConfigError(f"model {args.model!r} runs Big on every frame; use --frames-path for it")
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        metadata = None if record is None else record.to_metadata()
        path = export_onnx(model, args.out, windows_path=args.windows_path, metadata=metadata)
    print(f"wrote {path} ({weights}{_inputs_note(record)})")
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


def _inputs_note(record: object) -> str:
    """What inputs the exported graph needs, from the weights' record."""
    if record is None:
        return ""
    crop = record.crop or "face"
    aligned = ", landmark-aligned Big frames" if record.align is not None else ""
    return f"; inputs: crop {crop}{aligned}, recorded in the graph's metadata"


def _choose_model(args: argparse.Namespace) -> tuple[object, str, object]:
    """The network to export, a few words naming its weights, and their record (or None)."""
    from bigsmall.errors import ConfigError
    from bigsmall.models import create_model
    from bigsmall.models.weights_record import read_weights_record
    from bigsmall.predict.runner import load_model

    if args.random:
        if args.checkpoint is not None:
            raise ConfigError("--random exports untrained weights; drop --checkpoint or --random")
        name = args.model or "bigsmall"
        return create_model(name).eval(), f"{name}, untrained random weights", None
    if args.model is not None and args.checkpoint is not None:
        model = create_model(args.model, checkpoint_path=args.checkpoint).eval()
        return model, str(args.checkpoint), read_weights_record(args.checkpoint, args.model)
    if args.model not in (None, "bigsmall") and args.checkpoint is None:
        raise ConfigError(
            f"no weights ship for model {args.model!r}; pass --checkpoint FILE, or --random "
            "for untrained weights"
        )
    loaded = load_model(args.checkpoint)
    if not loaded.exportable:
        raise ConfigError(
            f"{loaded.weights}: these weights are three separate networks and cannot be "
            "exported as one graph; pass a .safetensors checkpoint"
        )
    record = None if loaded.weights_path is None else read_weights_record(loaded.weights_path)
    return loaded.module, f"weights {loaded.weights}", record
