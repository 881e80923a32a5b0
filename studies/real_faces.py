"""AUs on real faces: smiles on held-out real stills, and agreement with the authors' Big_AU.

Two checks, each for every model given (``--checkpoint``, repeatable; the authors' folder
runs as the task-optimised trio):

1. **Smile (AU12) on held-out real faces.** Each still of ``FACES/labels.csv`` (made by
   ``scripts/prepare_real_faces.py``) is shown as a static clip (``--seconds`` of the same
   frame) to :class:`bigsmall.Predictor`; the still counts as "smiling" when AU12's
   ``au_occurrence`` is ≥ 0.5. Reported: balanced accuracy against the labels (AU12 in the
   still's AUs), and the mean AU12 probability per still.
2. **Agreement with Big_AU on real video frames** (``--video``, repeatable): per AU, the share
   of frames where the model's AU decision (probability ≥ 0.5) equals Big_AU's, and the
   Pearson correlation of the probabilities.

Usage::

    python studies/real_faces.py --faces data/real_faces/heldout \\
        --official ../shared/weights/official-bigsmall \\
        --checkpoint src/bigsmall/weights/bigsmall.safetensors \\
        --video ../shared/data/faces/single_face.mp4
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bigsmall import Predictor
from bigsmall.constants import AU_NAMES
from bigsmall.data.synthetic.faces import read_face_labels
from bigsmall.video.io import read_image

SMILE_AU = "AU12"


def static_clip(path: Path, seconds: float, fps: float) -> np.ndarray:
    """(T, H, W, 3) uint8: the still repeated for ``seconds``."""
    image = read_image(path)
    return np.repeat(image[None], max(round(seconds * fps), 1), axis=0)


def balanced_accuracy(truth: list[bool], predicted: list[bool]) -> float:
    t, p = np.asarray(truth), np.asarray(predicted)
    rates = [float((p[t == c] == c).mean()) for c in (True, False) if (t == c).any()]
    return float(np.mean(rates))


def smile_check(predictor: Predictor, faces: Path, seconds: float, fps: float) -> dict:
    labels = read_face_labels(faces)
    rows = []
    for name, aus in sorted(labels.items()):
        result = predictor.predict(static_clip(faces / name, seconds, fps), fps=fps)
        prob = result.frames[SMILE_AU].dropna()
        occurrence = (result.au_occurrence or {}).get(SMILE_AU, 0.0)
        rows.append({
            "still": name,
            "smiling": SMILE_AU in aus,
            "au12_occurrence": round(float(occurrence), 3),
            "au12_probability": round(float(prob.mean()) if len(prob) else float("nan"), 3),
        })  # fmt: skip
    truth = [r["smiling"] for r in rows]
    predicted = [r["au12_occurrence"] >= 0.5 for r in rows]
    return {"balanced_accuracy": round(balanced_accuracy(truth, predicted), 3), "stills": rows}


def au_probabilities(predictor: Predictor, video: Path) -> np.ndarray:
    """(T, 12) AU probabilities on the frames with a face."""
    frames = predictor.predict(video).frames
    return frames[list(AU_NAMES)].dropna().to_numpy(dtype=np.float64)


def agreement(model: np.ndarray, reference: np.ndarray) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    n = min(len(model), len(reference))
    for k, name in enumerate(AU_NAMES):
        a, b = model[:n, k], reference[:n, k]
        same = float(((a >= 0.5) == (b >= 0.5)).mean())
        r = float(np.corrcoef(a, b)[0, 1]) if a.std() > 1e-9 and b.std() > 1e-9 else None
        out[name] = {"agreement": round(same, 3), "r": None if r is None else round(r, 3)}
    return out


def _cell(value: dict[str, float | None]) -> str:
    r = "–" if value["r"] is None else f"{value['r']:.2f}"
    return f"{value['agreement']:.2f}/{r}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=Path, required=True, help="held-out stills + labels.csv")
    parser.add_argument("--official", type=Path, required=True, help="the authors' weights")
    parser.add_argument("--checkpoint", action="append", default=[], help="model(s) to check")
    parser.add_argument("--video", action="append", default=[], type=Path, help="real clips")
    parser.add_argument("--seconds", type=float, default=4.0, help="static clip length")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    models = {"authors' trio (Big_AU)": str(args.official), **{c: c for c in args.checkpoint}}
    reference = Predictor(checkpoint=args.official)
    ref_probs = {v: au_probabilities(reference, v) for v in args.video}
    report: dict[str, dict] = {}
    for label, checkpoint in models.items():
        predictor = Predictor(checkpoint=checkpoint)
        entry = {"smile": smile_check(predictor, args.faces, args.seconds, args.fps)}
        if checkpoint != str(args.official):
            entry["agreement_with_big_au"] = {
                v.name: agreement(au_probabilities(predictor, v), ref_probs[v]) for v in args.video
            }
        report[label] = entry
        print(f"\n## {label}")
        print(f"AU12 balanced accuracy on {len(entry['smile']['stills'])} held-out stills: "
              f"{entry['smile']['balanced_accuracy']:.3f}")  # fmt: skip
        for row in entry["smile"]["stills"]:
            occurrence, probability = row["au12_occurrence"], row["au12_probability"]
            print(f"  {row['still']:<22} smiling={row['smiling']!s:<5} "
                  f"AU12 occurrence {occurrence:.2f}  p {probability:.2f}")  # fmt: skip
        for video, per_au in entry.get("agreement_with_big_au", {}).items():
            mean_same = np.mean([v["agreement"] for v in per_au.values()])
            rs = [v["r"] for v in per_au.values() if v["r"] is not None]
            print(f"  agreement with Big_AU on {video}: mean {mean_same:.3f}, "
                  f"median r {np.median(rs) if rs else float('nan'):.2f}")  # fmt: skip
            print("    " + "  ".join(f"{k} {_cell(v)}" for k, v in per_au.items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
