"""Which part of the face POS reads the pulse from, replayed on captured real-face videos
(a study; docs/real-faces.md, session 26).

The product reads POS (Wang et al., "Algorithmic principles of remote PPG", IEEE TBME 2017) on
the skin-coloured pixels of the face box's upper 72 % (forehead to cheeks: a talking mouth's
colour changes swamp the pulse). Session 19 found the whole box 0.1–8.5 dB better on still
faces and worse on 5 of 7 talking ones. ``capture`` runs ``Predictor`` on every video of a
``realface_sets.py`` set and keeps, besides the product's own reading, the skin colour of the
box's lower part (72–100 %) and of the whole box, with everything ``Predictor._rate`` needs to
read the heart rate again. ``report`` reads each video's heart rate through ``_rate`` (gate,
head-motion regression, breathing harmonics, as the product does) with POS on:

- ``upper``: the product's region;
- ``whole``: the whole box's skin;
- ``weighted``: POS on the upper and on the lower part, combined with weights inverse to each
  one's pulse-band variance (the pulse, in relative units, is alike on all the skin; the noise
  is not: a talking mouth's is large, a still chin's about what its size says);
- ``weighted3``: the same over the upper part, the mouth band (72–86 %) and the chin (86–100 %);
- ``lower``: the lower part alone.

    python studies/skin_regions.py capture SETS/design CAPTURES/design
    python studies/skin_regions.py report CAPTURES/design [CAPTURES/heldout ...]
"""

from __future__ import annotations

import csv
import pickle
import sys
from pathlib import Path

import numpy as np

from bigsmall.predict import analysis, predictor
from bigsmall.predict.analysis import rate_wave
from bigsmall.signal.rppg import extract_pulse
from bigsmall.video.skin import UPPER_FACE, SkinColourTrace, skin_region
from pulse_spectra import capture_report_cli

RIGHT_BPM = 5.0
POS_SIGN = predictor.PULSE_SIGN["pos"]
#: The face box's rows (fractions of its height) read beside the product's upper part.
PARTS: dict[str, tuple[float, float]] = {
    "skin_lower": (UPPER_FACE[3], 1.0),
    "skin_whole": (0.0, 1.0),
    "skin_mid": (UPPER_FACE[3], 0.86),
    "skin_chin": (0.86, 1.0),
}


def capture(folder: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    seen: dict[str, object] = {}
    readers, traces, rate = (
        predictor.Predictor._crop_readers,
        predictor.Predictor._crop_traces,
        predictor.Predictor._rate,
    )

    def more_readers(self):
        found = readers(self)
        if "skin" in found:
            crop = self._crop_mode()
            for key, rows in PARTS.items():
                found[key] = SkinColourTrace(skin_region(crop, rows))
        return found

    def kept_traces(self, inputs):
        found = traces(self, inputs)
        seen["traces"] = found
        return found

    def kept_rate(
        estimates, start, stop, kind, fs, order=analysis.ALL_TOGETHER, head=None, not_at_hz=()
    ):
        if kind == "heart":
            seen["rate"] = dict(
                network=estimates[0], start=start, stop=stop, fs=fs, head=head, not_at_hz=not_at_hz
            )
        return rate(estimates, start, stop, kind, fs, order, head, not_at_hz)

    predictor.Predictor._crop_readers = more_readers
    predictor.Predictor._crop_traces = kept_traces
    predictor.Predictor._rate = staticmethod(kept_rate)
    with open(folder / "truth.csv") as handle:
        rows = list(csv.reader(handle))
    for row in rows:
        seen.clear()
        result = predictor.Predictor().predict(folder / f"{row[0]}.mp4")
        found = seen.get("traces", {})
        record = dict(
            truth=row,
            hr_bpm=result.heart_rate_bpm,
            skin={k: v for k, v in found.items() if k == "skin" or k in PARTS},
            rate=seen.get("rate"),
        )
        with open(out / f"{row[0]}.pkl", "wb") as handle:
            pickle.dump(record, handle)
        print(row[0], row[2], result.heart_rate_bpm, flush=True)


def _pos(rgb: np.ndarray, fs: float) -> np.ndarray:
    return POS_SIGN * extract_pulse(rgb, fs, "pos")


def _weighted(*keys: str):
    """POS on each of ``keys``' skin, combined with inverse pulse-band-variance weights."""

    def variant(skin: dict[str, np.ndarray], fs: float, start: int, stop: int) -> np.ndarray:
        parts = [_pos(skin[k], fs) for k in keys]
        bands = [rate_wave(p[start:stop], fs, "heart", False) for p in parts]
        weights = [1.0 / max(float(np.var(b)), 1e-30) for b in bands]
        return sum(w * p for w, p in zip(weights, parts, strict=True)) / sum(weights)

    return variant


VARIANTS = {
    "upper": lambda skin, fs, a, b: _pos(skin["skin"], fs),
    "whole": lambda skin, fs, a, b: _pos(skin["skin_whole"], fs),
    "weighted": _weighted("skin", "skin_lower"),
    "weighted3": _weighted("skin", "skin_mid", "skin_chin"),
    "lower": lambda skin, fs, a, b: _pos(skin["skin_lower"], fs),
}


def report(folders: list[Path]) -> None:
    given = {k: 0 for k in VARIANTS}
    right = dict(given)
    invented = dict(given)
    errors: dict[str, list[float]] = {k: [] for k in VARIANTS}
    pulsed = nulls = 0
    for folder in folders:
        for path in sorted(folder.glob("*.pkl")):
            with open(path, "rb") as handle:
                record = pickle.load(handle)
            r, skin = record["rate"], record["skin"]
            if r is None or "skin_lower" not in skin:
                continue
            true_bpm = float(record["truth"][2])
            line = f"{path.stem[:28]:28s} true {true_bpm:5.1f} product {record['hr_bpm']}"
            pulsed += true_bpm > 0
            nulls += true_bpm == 0
            for name, variant in VARIANTS.items():
                pos = variant(skin, r["fs"], r["start"], r["stop"])
                est, _ = predictor.Predictor._rate(
                    [r["network"], (pos, False)],
                    r["start"],
                    r["stop"],
                    "heart",
                    r["fs"],
                    head=r["head"],
                    not_at_hz=r["not_at_hz"],
                )
                mark = " "
                if est.reliable:
                    given[name] += 1
                    if true_bpm == 0:
                        invented[name] += 1
                        mark = "!"
                    else:
                        errors[name].append(abs(est.rate_bpm - true_bpm))
                        ok = abs(est.rate_bpm - true_bpm) <= RIGHT_BPM
                        right[name] += ok
                        mark = "*" if ok else "x"
                line += f"  {name} {est.rate_bpm:5.1f}{mark}({est.snr_db:+.1f})"
            print(line)
    for name in VARIANTS:
        mae = np.mean(errors[name]) if errors[name] else float("nan")
        print(
            f"{name:9s} given {given[name] - invented[name]} of {pulsed} pulsed, right "
            f"{right[name]}, MAE {mae:.2f}; invented {invented[name]} of {nulls}"
        )


def main(argv: list[str] | None = None) -> None:
    capture_report_cli(__doc__.splitlines()[0], capture, report, argv)


if __name__ == "__main__":
    sys.exit(main())
