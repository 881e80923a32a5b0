"""How the heart rate is read from the pulse estimates, replayed on captured real-face videos
(a study; docs/real-faces.md, session 23).

``capture`` runs ``Predictor`` on every video of a ``realface_sets.py`` set and keeps what its
whole-video heart rate is read from (the network's PPG and POS on the skin colour, on their own
scales, the head's motion regressed out: the waves ``analysis.estimate`` receives) with the
truth. ``report`` reads each capture ungated with several spectral rules and counts, over the
videos with a pulse, how many each reads within 5 bpm:

- ``fused``: the product's rule (the two band-normalized periodograms of the whole stretch
  averaged); ``network``, ``pos``: each alone;
- ``welch``: Welch's averaged periodogram (Welch, IEEE Trans. Audio Electroacoust. 1967) of
  10-s windows a second apart; ``median``: their median instead of their mean, which a rhythm
  present in every window survives and a burst of motion in a few does not; ``geometric``:
  their geometric mean;
- ``product``: the geometric mean of the two estimates' whole periodograms (a peak counts only
  where both have power);
- ``vote``: the rate most 10-s windows agree on (within 3 bpm).

    python studies/pulse_spectra.py capture SETS/design CAPTURES/design
    python studies/pulse_spectra.py report CAPTURES/design [CAPTURES/heldout ...]
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bigsmall.predict import analysis, predictor
from bigsmall.signal.rate import rate_from_spectrum
from bigsmall.signal.spectrum import band_mask, mean_band_normalized_periodogram

BAND = analysis.PRODUCT_SETTINGS.band_hz("heart")
WINDOW_SEC, STEP_SEC, VOTE_BPM, RIGHT_BPM = 10.0, 1.0, 3.0, 5.0


def capture(folder: Path, out: Path) -> None:
    """Run ``predict`` on every video of ``folder/truth.csv``; ``out/<video>.npz``: the waves
    the whole-video heart rate was read from, the truth row, the rates reported."""
    out.mkdir(parents=True, exist_ok=True)
    seen: dict[str, list[np.ndarray]] = {}
    estimate, rate = analysis.estimate, predictor.Predictor._rate

    def kept_estimate(waves, fs, kind, order=analysis.ALL_TOGETHER):
        if kind == "heart" and "armed" in seen and "heart" not in seen:
            seen["heart"] = [np.asarray(w) for w in waves]
        return estimate(waves, fs, kind, order)

    def armed_rate(estimates, start, stop, kind, fs, order=analysis.ALL_TOGETHER, head=None):
        seen["armed"] = []
        try:
            return rate(estimates, start, stop, kind, fs, order, head)
        finally:
            seen.pop("armed")

    analysis.estimate = kept_estimate
    predictor.Predictor._rate = staticmethod(armed_rate)
    with open(folder / "truth.csv") as handle:
        rows = list(csv.reader(handle))
    for row in rows:
        seen.clear()
        result = predictor.Predictor().predict(folder / f"{row[0]}.mp4")
        waves = seen.get("heart", [])
        np.savez(
            out / f"{row[0]}.npz",
            heart=np.stack(waves) if waves else np.zeros((0, 0)),
            fs=result.fps,
            truth=np.asarray(row[1:], str),
            hr_bpm=np.nan if result.heart_rate_bpm is None else result.heart_rate_bpm,
        )
        print(row[0], row[2], result.heart_rate_bpm, flush=True)


def _normalized(power: np.ndarray, freqs_hz: np.ndarray) -> np.ndarray:
    return power / max(float(power[band_mask(freqs_hz, BAND)].sum()), 1e-30)


def _windows(wave: np.ndarray, fs: float) -> list[np.ndarray]:
    n, step = int(WINDOW_SEC * fs), int(STEP_SEC * fs)
    return [wave[i : i + n] for i in range(0, wave.size - n + 1, step)]


def _windowed(combine: Callable[[np.ndarray], np.ndarray]):
    def rule(waves: list[np.ndarray], fs: float) -> float:
        if waves[0].size < WINDOW_SEC * fs:
            return _fused(waves, fs)
        spectra = []
        for wave in waves:
            parts = [mean_band_normalized_periodogram([w], fs, BAND) for w in _windows(wave, fs)]
            freqs_hz = parts[0][0]
            spectra.append(_normalized(combine(np.stack([p for _, p in parts])), freqs_hz))
        return rate_from_spectrum(freqs_hz, np.mean(spectra, axis=0), BAND)

    return rule


def _fused(waves: list[np.ndarray], fs: float) -> float:
    return rate_from_spectrum(*mean_band_normalized_periodogram(waves, fs, BAND), BAND)


def _product(waves: list[np.ndarray], fs: float) -> float:
    spectra = [mean_band_normalized_periodogram([w], fs, BAND) for w in waves]
    freqs_hz = spectra[0][0]
    power = np.exp(np.mean([np.log(p + 1e-12) for _, p in spectra], axis=0))
    return rate_from_spectrum(freqs_hz, _normalized(power, freqs_hz), BAND)


def _vote(waves: list[np.ndarray], fs: float) -> float:
    if waves[0].size < WINDOW_SEC * fs:
        return _fused(waves, fs)
    parts = zip(*[_windows(w, fs) for w in waves], strict=True)
    rates = np.array([_fused(list(p), fs) for p in parts])
    agree = [np.sum(np.abs(rates - r) <= VOTE_BPM) for r in rates]
    best = rates[int(np.argmax(agree))]
    return float(np.median(rates[np.abs(rates - best) <= VOTE_BPM]))


RULES: dict[str, Callable[[list[np.ndarray], float], float]] = {
    "fused": _fused,
    "network": lambda waves, fs: _fused(waves[:1], fs),
    "pos": lambda waves, fs: _fused(waves[1:], fs),
    "welch": _windowed(lambda s: s.mean(axis=0)),
    "median": _windowed(lambda s: np.median(s, axis=0)),
    "geometric": _windowed(lambda s: np.exp(np.log(s + 1e-12).mean(axis=0))),
    "product": _product,
    "vote": _vote,
}


def report(folders: list[Path]) -> None:
    right = dict.fromkeys(RULES, 0)
    errors: dict[str, list[float]] = {name: [] for name in RULES}
    for folder in folders:
        for path in sorted(folder.glob("*.npz")):
            z = np.load(path)
            true_bpm, waves, fs = float(z["truth"][1]), list(z["heart"]), float(z["fs"])
            if true_bpm == 0 or len(waves) < 2:  # no pulse injected, or POS not read
                continue
            line = f"{path.stem[:28]:28s} true {true_bpm:5.1f} given {float(z['hr_bpm']):5.1f}"
            for name, rule in RULES.items():
                rate = rule(waves, fs)
                ok = abs(rate - true_bpm) <= RIGHT_BPM
                right[name] += ok
                errors[name].append(abs(rate - true_bpm))
                line += f"  {name} {rate:5.1f}{'*' if ok else ' '}"
            print(line)
    for name in RULES:
        print(
            f"{name:10s} right {right[name]} of {len(errors[name])},"
            f" MAE {np.mean(errors[name]):.1f}"
        )


def capture_report_cli(
    description: str,
    capture_fn: Callable[[Path, Path], None],
    report_fn: Callable[[list[Path]], None],
    argv: list[str] | None = None,
) -> None:
    """The ``capture SET OUT`` / ``report CAPTURES...`` command line of a replay study."""
    parser = argparse.ArgumentParser(description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("capture")
    c.add_argument("folder", type=Path)
    c.add_argument("out", type=Path)
    r = sub.add_parser("report")
    r.add_argument("captures", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.command == "capture":
        capture_fn(args.folder, args.out)
    else:
        report_fn(args.captures)


def main(argv: list[str] | None = None) -> None:
    capture_report_cli(__doc__.splitlines()[0], capture, report, argv)


if __name__ == "__main__":
    sys.exit(main())
