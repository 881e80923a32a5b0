"""Rates that ``bigsmall predict`` reports on generated videos, against their known truth.

For every ``*.mp4`` with its ``*.json`` (``bigsmall synth`` output, e.g. the held-out real-face
videos of ``configs/default_weights.yaml``), run :class:`bigsmall.Predictor` as a user would and
compare the reported heart and breathing rates with the injected ones; withheld rates
(``None``: signal too weak) are counted, not guessed. Each line also gives the pulse SNR that
``predict``'s quality gate judged.

Null videos (``bigsmall synth --no-pulse``: the same faces without any pulse) test the gate the
other way: any heart rate reported there is invented, and their SNRs show how high a pulse-less
face scores with this model.

Usage: ``python studies/heldout_videos.py DATASET_DIR [--method bigsmall|pos|...]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bigsmall import Predictor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path, help="folder of synth videos + their .json truth")
    parser.add_argument("--method", default="bigsmall")
    parser.add_argument("--checkpoint", default=None)
    args = parser.parse_args(argv)
    predictor = Predictor(method=args.method, checkpoint=args.checkpoint)
    errors: dict[str, list[float]] = {"heart": [], "breathing": []}
    withheld = {"heart": 0, "breathing": 0}
    invented, null_snrs = 0, []
    truths = sorted(args.dataset.glob("*/*.json"))
    for truth_path in truths:
        truth = json.loads(truth_path.read_text())
        result = predictor.predict(truth_path.with_suffix(".mp4"))
        cells = []
        for kind, measured in (
            ("heart", result.heart_rate_bpm),
            ("breathing", result.breathing_rate_bpm),
        ):
            if truth[f"{kind}_rate_bpm"] is None:  # a null video: nothing to read
                invented += measured is not None
                null_snrs.append(result.signal_quality["pulse_snr_db"])
                cells.append(f"{kind}: none injected → {measured or 'withheld'}")
                continue
            true = float(truth[f"{kind}_rate_bpm"])
            if measured is None:
                withheld[kind] += 1
                cells.append(f"{kind} {true:.1f} → withheld")
            else:
                errors[kind].append(abs(measured - true))
                cells.append(f"{kind} {true:.1f} → {measured:.1f}")
        snr = result.signal_quality["pulse_snr_db"]
        print(f"{truth_path.stem}: " + ", ".join(cells) + f" (pulse SNR {snr} dB)")
    if null_snrs:
        finite = [v for v in null_snrs if v is not None]
        print(f"null videos: {len(null_snrs)}, heart rate invented on {invented}; pulse SNR "
              f"median {np.median(finite):.2f}, max {np.max(finite):.2f} dB")  # fmt: skip
    for kind in ("heart", "breathing"):
        if not errors[kind] and not withheld[kind]:
            continue
        e = errors[kind]
        mae = f"{np.mean(e):.2f}" if e else "–"
        print(f"{args.method} {kind} rate: MAE {mae} on {len(e)} of {len(truths)} reported, "
              f"{withheld[kind]} withheld")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
