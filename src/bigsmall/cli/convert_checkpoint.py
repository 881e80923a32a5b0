"""``bigsmall convert-checkpoint``: toolbox ``.pth`` (released or own) → safetensors."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert-checkpoint",
        help="convert a toolbox .pth checkpoint (the authors' or your own) to safetensors",
        description=(
            "Read a BigSmall toolbox .pth state dict with weights_only=True (no code unpickled), "
            "detect the model from its keys, shapes and file name (or take --model), load it "
            "strictly and write this project's key names to a safetensors file."
        ),
    )
    parser.add_argument("input", type=Path, metavar="IN.pth", help="toolbox state dict")
    parser.add_argument("output", type=Path, metavar="OUT.safetensors", help="file to write")
    parser.add_argument(
        "--model",
        metavar="NAME",
        help="registered model (default: detected; e.g. big_au, small_heart, small_resp, bigsmall)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from bigsmall.models.convert import convert_checkpoint

    name, kwargs, path = convert_checkpoint(args.input, args.output, args.model)
    extra = f" {kwargs}" if kwargs else ""
    print(f"{args.input} -> {path} (model {name}{extra})")
    return 0
