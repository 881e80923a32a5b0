"""Heart and breathing rates on the held-out real-face videos of ``realface_videos.py``.

Runs ``Predictor`` (each ``--method``; ``--checkpoint`` for other weights) on every video in
``truth.csv`` and prints, per method, how many videos got a rate and the MAE where given; null
videos (no pulse) count how many got a heart rate anyway. ``--csv`` adds the per-video rows.
``ungated``: the strongest in-band peak of the network's (or the method's) own pulse wave,
``frames["ppg"]`` (the network's on its own scale, as ``predict`` reads it:
:func:`bigsmall.predict.analysis.rate_view`), read without the quality gate — how often the
right rate is there at all (within 5 bpm), whether or not the product would report it.

Usage: ``python studies/realface_eval.py DIR [DIR ...] --methods bigsmall bigsmall:model pos``
(``bigsmall:PULSE:BREATHING``, e.g. ``bigsmall:model:motion``: ``Predictor(pulse="model",
breathing="motion")``).
"""

from __future__ import annotations

import argparse
import csv
import warnings
from pathlib import Path

import numpy as np

from bigsmall.errors import BigSmallError
from bigsmall.predict import Predictor
from bigsmall.predict.analysis import PRODUCT_SETTINGS, rate_from_spectrum, rate_view
from bigsmall.signal.spectrum import mean_band_normalized_periodogram

UNGATED_TOLERANCE_BPM: float = 5.0


def ungated_rate_bpm(ppg: np.ndarray, fs: float, diff_normalized: bool) -> float:
    """The strongest in-band heart rate of a prepared (T,) pulse wave, no gate (NaN: none);
    ``diff_normalized``: the wave is a network output's integral, read on its own scale."""
    wave = rate_view(np.nan_to_num(np.asarray(ppg, np.float64)), diff_normalized)
    if not np.any(wave):
        return float("nan")
    band = PRODUCT_SETTINGS.band_hz("heart")
    freqs_hz, power = mean_band_normalized_periodogram([wave], fs, band)
    return float(rate_from_spectrum(freqs_hz, power, band))


def read_truth(folder: Path) -> list[dict]:
    with open(folder / "truth.csv") as handle:
        rows = list(csv.reader(handle))
    keys = ("video", "kind", "hr_bpm", "br_bpm", "pulse_pct", "crf")
    return [dict(zip(keys, r, strict=True)) | {"path": folder / f"{r[0]}.mp4"} for r in rows]


def mae(errors: list[float]) -> str:
    return f"{np.mean(errors):.2f}" if errors else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--methods", nargs="+", default=["bigsmall", "pos"])
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--csv", type=Path, default=None)
    args = parser.parse_args()
    videos = [row for folder in args.folders for row in read_truth(folder)]
    out_rows = []
    for method in args.methods:
        name, pulse, breathing = ([*method.split(":"), "", ""])[:3]
        checkpoint = args.checkpoint if name == "bigsmall" else None
        predictor = Predictor(
            method=name, checkpoint=checkpoint, pulse=pulse or "fused", breathing=breathing or None
        )
        hr_err, br_err, hr_given, br_given, null_hr, null_n, pulsed = [], [], 0, 0, 0, 0, 0
        ungated_right = 0
        breathing = 0
        for row in videos:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = predictor.predict(row["path"])
                hr, br = r.heart_rate_bpm, r.breathing_rate_bpm
                q = r.signal_quality
                ungated = ungated_rate_bpm(r.frames["ppg"].to_numpy(), r.fps, name == "bigsmall")
            except BigSmallError as error:  # e.g. no face: no rate, said in one line
                print(f"{row['video']}: {error}", flush=True)
                hr = br = None
                q = {"pulse_snr_db": None, "breathing_snr_db": None}
                ungated = float("nan")
            out_rows.append(
                (
                    method,
                    row["video"],
                    row["hr_bpm"],
                    hr,
                    q["pulse_snr_db"],
                    row["br_bpm"],
                    br,
                    q["breathing_snr_db"],
                    round(ungated, 2),
                )
            )
            print(*out_rows[-1], flush=True)
            if float(row["hr_bpm"]) == 0:  # no pulse: any heart rate is invented
                null_n += 1
                null_hr += hr is not None
            else:
                pulsed += 1
                if hr is not None:
                    hr_given += 1
                    hr_err.append(abs(hr - float(row["hr_bpm"])))
                ungated_right += abs(ungated - float(row["hr_bpm"])) < UNGATED_TOLERANCE_BPM
            if float(row["br_bpm"]) > 0:
                breathing += 1
                if br is not None:
                    br_given += 1
                    br_err.append(abs(br - float(row["br_bpm"])))
        print(
            f"== {method}: HR given {hr_given}/{pulsed} MAE {mae(hr_err)} "
            f"(ungated within {UNGATED_TOLERANCE_BPM:g} bpm {ungated_right}/{pulsed}); "
            f"BR given {br_given}/{breathing} MAE {mae(br_err)}; "
            f"videos without a pulse given a HR {null_hr}/{null_n}",
            flush=True,
        )
    if args.csv:
        with open(args.csv, "w", newline="") as handle:
            writer = csv.writer(handle)
            header = ("method", "video", "hr_true", "hr", "pulse_snr_db", "br_true", "br")
            writer.writerow((*header, "breathing_snr_db", "hr_ungated"))
            writer.writerows(out_rows)


if __name__ == "__main__":
    main()
