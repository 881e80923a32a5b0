"""Stage 1 of the default weights with more people at the same cost (a study).

The shipped stage 1 (``configs/default_weights.yaml``) animates one photo each of 36 people
(and 12 procedural faces) for 30 s. The issue names "thousands of identities for the pulse" as
a lever; this asks whether more people help at all, at an equal number of training frames:
``--people P --seconds S`` animates P photos (the first 36 are the shipped build's: the draw
order is the same) and P/3 procedural faces for S seconds each, everything else as shipped
(epochs, learning rate, the authors' trio as the start, Big_AU distilled).

Usage: ``python studies/stage1_identities.py WORK --people 108 --seconds 10`` writes
``WORK/stage1.safetensors``; then ``studies/realface_eval.py --checkpoint WORK/stage1.safetensors``
on the design set first. The pulse path is what stage 1 makes (stage 2 keeps its PPG and
respiration outputs close to stage 1's), so its heart rates stand beside the shipped weights'.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_default_weights as build  # noqa: E402

SHARED = ROOT.parent / "shared"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--people", type=int, default=108)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--expressions", type=Path, default=SHARED / "data" / "expressions")
    parser.add_argument("--official", type=Path, default=SHARED / "weights" / "official-bigsmall")
    args = parser.parse_args(argv)

    subjects = round(args.people * 4 / 3)
    target = build.stage1(
        args.work.resolve(),
        args.official.resolve(),
        args.expressions,
        people={**build.STAGE1_PEOPLE, "train": args.people},
        overrides=[
            f"data.synthesize.subjects={subjects}",
            f"data.synthesize.seconds={args.seconds}",
            f"data.synthesize.face_share={args.people / subjects}",
        ],
    )
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
