"""AU12 (smiles) on photos of people held out of training, read by ``Predictor`` as static clips.

Each photo of the held-out people of ``shared/data/expressions`` (person bucket 0 of
:func:`bigsmall.data.expressions.person_split`, never trained on) becomes a 2-s static clip
(or ``--h264``: an H.264 file, as a user's ``bigsmall predict photo.mp4`` sees it) and goes
through the product's whole path: face detection, the weights' own crop, the network. A photo
counts as "smile" when AU12 is present on at least half of its frames. Balanced accuracy is the
mean of the smile and non-smile hit rates; the AU12 probability's ROC AUC is given too.

Usage: ``python studies/smiles_heldout.py [--checkpoint W.safetensors] [--limit 400]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

from bigsmall.data.expressions import person_split, read_expression_photos
from bigsmall.errors import BigSmallError
from bigsmall.evaluation.metrics import roc_auc
from bigsmall.predict import Predictor
from bigsmall.video.io import read_image
from bigsmall.video.writer import VideoWriter

ROOT = Path(__file__).resolve().parents[1]
FPS = 30.0
SECONDS = 2.0


def clip_of(image: np.ndarray, h264: bool, folder: Path) -> np.ndarray | Path:
    frames = np.repeat(image[None], round(FPS * SECONDS), axis=0)
    if not h264:
        return frames
    h, w = image.shape[0] // 2 * 2, image.shape[1] // 2 * 2
    path = folder / "clip.mp4"
    with VideoWriter(path, FPS, w, h, crf=18) as writer:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[:h, :w]))
    return path


def smile_scores(
    predictor: Predictor, paths: list[Path], h264: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(N,) AU12 occurrence (NaN where no face) and (N,) mean AU12 probability."""
    occurrence = np.full(len(paths), np.nan)
    probability = np.full(len(paths), np.nan)
    with tempfile.TemporaryDirectory() as tmp:
        for i, path in enumerate(paths):
            source = clip_of(read_image(path), h264, Path(tmp))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = predictor.predict(source, fps=FPS)
            except BigSmallError:
                continue
            occurrence[i] = result.au_occurrence["AU12"]
            probability[i] = float(np.nanmean(result.frames["AU12"]))
            if (i + 1) % 100 == 0:
                print(f"  {i + 1}/{len(paths)}", file=sys.stderr, flush=True)
    return occurrence, probability


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default=None, help="weights (default: the shipped ones)")
    parser.add_argument(
        "--expressions", type=Path, default=ROOT.parent / "shared" / "data" / "expressions"
    )
    parser.add_argument("--limit", type=int, default=0, help="at most this many photos (0: all)")
    parser.add_argument("--h264", action="store_true", help="encode each clip as an H.264 file")
    args = parser.parse_args(argv)
    photos = read_expression_photos(args.expressions)
    held = photos.subset(person_split(photos.table["person"]))
    if args.limit:
        held = held.subset(np.random.default_rng(0).permutation(len(held.table)) < args.limit)
    smile = (held.table["expression"] == "happiness").to_numpy()
    neutral = (held.table["expression"] == "neutral").to_numpy()
    predictor = Predictor(checkpoint=args.checkpoint)
    occurrence, probability = smile_scores(predictor, held.paths(), args.h264)
    face = np.isfinite(occurrence)
    said = occurrence >= 0.5  # no face: counted as "no smile found"
    lines = [
        f"weights: {args.checkpoint or 'shipped'}; {len(smile)} photos of "
        f"{held.table['person'].nunique()} held-out people ({smile.sum()} smiling); "
        f"face found on {face.mean():.3f}"
    ]
    for name, negatives in (("not smiling", ~smile), ("neutral", neutral)):
        balanced = 0.5 * (said[smile].mean() + (~said[negatives]).mean())
        auc = roc_auc(np.nan_to_num(probability[smile | negatives]), smile[smile | negatives])
        lines.append(
            f"AU12 smile vs {name}: balanced accuracy {balanced:.3f} "
            f"(smiles found {said[smile].mean():.3f}, "
            f"{name} kept {(~said[negatives]).mean():.3f}); "
            f"ROC AUC {auc:.3f}"
        )
    text = "\n".join(lines)
    print(text)
    return text


if __name__ == "__main__":
    main()
