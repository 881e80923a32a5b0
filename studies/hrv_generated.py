"""HRV against the generator's own beats: render calm 60-s face videos, capture what
``predict``'s HRV step sees, and replay that step (docs/hrv.md).

    python studies/hrv_generated.py render OUT --seeds 301-360 [--workers 2] [--sdnn 10,80]
    python studies/hrv_generated.py report OUT [--consistency 0.99] [--share 0.6]

``render`` writes, per seed, ``OUT/hNNN.mp4`` (``make_demo_video``: a procedural face, calm,
at one of four pulse strengths: 0.8 % / crf 20, 1.5 % / crf 14, 2 % / crf 12, 3 % / crf 10,
by seed; the beat-interval SDNN the demo's 20 ms, or drawn from ``--sdnn`` as ``synth`` draws
it from 10-80 ms) and ``OUT/hNNN.npz``: the true systolic times (the simulated pulse's
systolic-wave centres) and the pulse estimates ``Predictor._hrv`` received (prepared waves,
the reads their clarity is judged on, the rate, the face stretch). ``report`` replays
``Predictor._hrv`` on every capture, optionally with other gates, and prints one line per
video and the counts (RMSSD reported / within 25 % on clips with a good pulse).
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

SETTINGS = ((0.008, 20), (0.015, 14), (0.02, 12), (0.03, 10))
SECONDS = 60.0
FPS = 30.0


def _true_rmssd(beats_sec: np.ndarray) -> tuple[float, float, float]:
    """(mean IBI, SDNN, RMSSD) in ms of the true systolic times."""
    ibi = np.diff(beats_sec) * 1000.0
    return float(ibi.mean()), float(ibi.std()), float(np.sqrt(np.mean(np.diff(ibi) ** 2)))


def render_one(out: Path, seed: int, sdnn_ms: tuple[float, float] | None = None) -> str:
    from bigsmall.data.synthetic import waveforms
    from bigsmall.predict import predictor
    from bigsmall.predict.demo_video import make_demo_video
    from bigsmall.signal import simulate

    amplitude, crf = SETTINGS[seed % len(SETTINGS)]
    conditions: dict[str, object] = {
        "pulse_source": "simulated",
        "pulse_amplitude": amplitude,
        "crf": crf,
    }
    if sdnn_ms is not None:  # the beat-interval SDNN drawn as `synth` draws it, not the demo's 20
        conditions["hrv_sdnn_ms"] = float(np.random.default_rng([seed, 1]).uniform(*sdnn_ms))
    recorded: dict[str, np.ndarray] = {}

    def simulate_recording(duration_sec, fs, heart_rate_bpm, hrv_sdnn_ms, dicrotic, seed):
        wave, onsets = simulate.simulate_ppg_beats(
            duration_sec, fs, heart_rate_bpm, hrv_sdnn_ms, dicrotic, seed
        )
        recorded["onsets"] = onsets
        return wave

    waveforms.simulate_ppg = simulate_recording
    video = out / f"h{seed}.mp4"
    truth = make_demo_video(video, SECONDS, FPS, seed=seed, conditions=conditions)
    # systolic centres: each beat's onset plus the systolic wave's fraction of its interval
    onsets = recorded["onsets"]
    centres = onsets[:-1] + simulate._SYSTOLE_CENTRE * np.diff(onsets)
    centres = centres[(centres > 0) & (centres < SECONDS)]

    captured: dict[str, object] = {}
    original = predictor.Predictor._hrv

    def capture(pulses, reads, hr, start, stop, fs):
        captured.update(
            pulses=np.stack(pulses),
            reads=np.stack(reads),
            hr_bpm=hr.rate_bpm,
            snr_db=hr.snr_db,
            quality=hr.quality,
            reliable=hr.reliable,
            start=start,
            stop=stop,
            fs=fs,
        )
        return original(pulses, reads, hr, start, stop, fs)

    predictor.Predictor._hrv = staticmethod(capture)
    result = predictor.Predictor().predict(video)
    np.savez(
        out / f"h{seed}.npz",
        beats=centres,
        true_hr_bpm=truth.heart_rate_bpm,
        amplitude=amplitude,
        crf=crf,
        hrv=json.dumps(result.hrv),
        **{k: np.asarray(v) for k, v in captured.items()},
    )
    return f"h{seed}: {amplitude:.3f}/{crf} snr {captured.get('snr_db')} hrv {result.hrv}"


def _seeds(text: str) -> list[int]:
    lo, _, hi = text.partition("-")
    return list(range(int(lo), int(hi or lo) + 1))


def render(out: Path, seeds: list[int], workers: int, sdnn_ms: tuple[float, float] | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    todo = [s for s in seeds if not (out / f"h{s}.npz").exists()]
    with ProcessPoolExecutor(workers) as pool:
        for line in pool.map(render_one, [out] * len(todo), todo, [sdnn_ms] * len(todo)):
            print(line, flush=True)


def report(out: Path, consistency: float, share: float) -> None:
    from bigsmall.predict import predictor
    from bigsmall.signal import hrv

    predictor.MIN_BEAT_CONSISTENCY = consistency
    hrv.MAX_JITTER_SHARE = share
    good = reported = within = 0
    errors = []
    for path in sorted(out.glob("h*.npz")):
        z = np.load(path, allow_pickle=False)
        if "pulses" not in z.files or not bool(z["reliable"]):
            continue
        fs, start, stop = float(z["fs"]), int(z["start"]), int(z["stop"])
        est = _Estimate(float(z["hr_bpm"]), float(z["snr_db"]), str(z["quality"]))
        values, _, note = predictor.Predictor._hrv(
            list(z["pulses"]), list(z["reads"]), est, start, stop, fs
        )
        beats = z["beats"][(z["beats"] >= start / fs) & (z["beats"] <= stop / fs)]
        mean_ibi, _, rmssd = _true_rmssd(beats)
        good += str(z["quality"]) == "good"
        line = f"{path.stem} {float(z['amplitude']):.3f}/{int(z['crf'])}"
        line += f" snr {float(z['snr_db']):5.1f}"
        if values is None:
            print(line, "no hrv:", note)
            continue
        line += (
            f" ibi {values['mean_ibi_ms'] - mean_ibi:+5.1f} ms  rmssd true {rmssd:5.1f}"
            f" cons {values.get('beat_consistency')} share {values.get('jitter_share')}"
        )
        if values.get("rmssd_ms") is not None:
            err = values["rmssd_ms"] / rmssd - 1.0
            reported += 1
            within += abs(err) <= 0.25
            errors.append(err)
            line += f"  read {values['rmssd_ms']:5.1f} ({err:+.0%})"
        print(line)
    print(
        f"good pulse {good}, RMSSD reported {reported}, within 25 % {within}"
        + (f", errors {min(errors):+.0%} to {max(errors):+.0%}" if errors else "")
    )


class _Estimate:
    """What ``Predictor._hrv`` reads of the heart-rate estimate."""

    def __init__(self, rate_bpm: float, snr_db: float, quality: str) -> None:
        self.rate_bpm, self.snr_db, self.quality = rate_bpm, snr_db, quality
        self.reliable = True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render")
    r.add_argument("out", type=Path)
    r.add_argument("--seeds", default="301-360")
    r.add_argument("--workers", type=int, default=2)
    r.add_argument(
        "--sdnn", help="LOW,HIGH ms: draw each video's beat-interval SDNN (default: the demo's 20)"
    )
    p = sub.add_parser("report")
    p.add_argument("out", type=Path)
    p.add_argument("--consistency", type=float, default=0.99)
    p.add_argument("--share", type=float, default=0.6)
    args = parser.parse_args(argv)
    if args.command == "render":
        sdnn = tuple(float(v) for v in args.sdnn.split(",")) if args.sdnn else None
        render(args.out, _seeds(args.seeds), args.workers, sdnn)
    else:
        report(args.out, args.consistency, args.share)


if __name__ == "__main__":
    sys.exit(main())
