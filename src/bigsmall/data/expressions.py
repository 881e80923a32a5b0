"""Real face photos with expression labels as weak AU labels (the AU data of the default weights).

The folder layout is ``shared/data/expressions``: ``labels.csv`` (``image``, ``person``,
``expression``, ``color``) and ``images/``. An expression implies action units through the
prototypes of the Emotional Facial Action Coding System (EMFACS; Friesen & Ekman, 1983; the
table of Ekman, Friesen & Hager, *FACS Investigator's Guide*, 2002), restricted to the 12
BigSmall AUs. Each expression names the AUs it shows (target 1) and the AUs it rules out
(target 0); every other AU of that photo is "not coded" (target −1, no loss): a smile
(AU06 + AU12) says nothing about AU10 or AU14, but a neutral face shows none of the 12.
The smile is the most reliable link (the photos' crowd labels mark "happiness" as a visible
smile); the other expressions are rarer and their prototypes looser.

People are split, never photos: :func:`person_split` hashes the person's name, so the same
person always lands on the same side, whichever photos a copy of the data holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bigsmall.constants import AU_NAMES
from bigsmall.errors import DatasetError, NoFaceError

LABELS_FILE: str = "labels.csv"
IMAGES_DIR: str = "images"
_COLUMNS: tuple[str, ...] = ("image", "person", "expression", "color")

#: expression → (AUs shown, AUs ruled out); AUs in neither are not coded (EMFACS prototypes).
EXPRESSION_AUS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "neutral": ((), AU_NAMES),
    "happiness": (("AU06", "AU12"), ("AU01", "AU04", "AU15")),
    "surprise": (("AU01", "AU02"), ("AU04", "AU06", "AU07", "AU12", "AU15")),
    "sadness": (("AU01", "AU04", "AU15"), ("AU02", "AU06", "AU12")),
    "anger": (("AU04", "AU07", "AU23"), ("AU01", "AU02", "AU12")),
    "disgust": (("AU10",), ("AU01", "AU02", "AU12")),
    "fear": (("AU01", "AU02", "AU04"), ("AU06", "AU12")),
    "contempt": (("AU14",), ("AU01", "AU02", "AU04")),
}
NOT_CODED: float = -1.0


def au_targets(expression: str) -> np.ndarray:
    """(12,) float32 AU targets of ``expression``: 1 shown, 0 ruled out, −1 not coded."""
    try:
        shown, absent = EXPRESSION_AUS[expression]
    except KeyError:
        raise DatasetError(
            f"unknown expression {expression!r}; known: {', '.join(EXPRESSION_AUS)}"
        ) from None
    out = np.full(len(AU_NAMES), NOT_CODED, np.float32)
    for name in absent:
        out[AU_NAMES.index(name)] = 0.0
    for name in shown:
        out[AU_NAMES.index(name)] = 1.0
    return out


def person_bucket(person: str, buckets: int = 10) -> int:
    """A stable bucket 0..buckets-1 for a person's name (MD5 of the UTF-8 name)."""
    return int(hashlib.md5(person.encode("utf-8")).hexdigest(), 16) % buckets


def person_split(persons: pd.Series, holdout_buckets: tuple[int, ...] = (0,)) -> np.ndarray:
    """(N,) bool: True for photos whose person falls in ``holdout_buckets`` (of 10)."""
    return persons.map(person_bucket).isin(holdout_buckets).to_numpy()


@dataclass(frozen=True)
class ExpressionPhotos:
    """The photos' table (``image``, ``person``, ``expression``, ``color``) and their folder."""

    table: pd.DataFrame
    images_dir: Path

    def paths(self) -> list[Path]:
        return [self.images_dir / name for name in self.table["image"]]

    def targets(self) -> np.ndarray:
        """(N, 12) float32 AU targets (see :func:`au_targets`)."""
        return np.stack([au_targets(e) for e in self.table["expression"]])

    def subset(self, mask: np.ndarray) -> ExpressionPhotos:
        return ExpressionPhotos(self.table[mask].reset_index(drop=True), self.images_dir)


def read_expression_photos(root: str | Path) -> ExpressionPhotos:
    """Read ``root/labels.csv``; one-line :class:`DatasetError` for a missing or bad folder."""
    root = Path(root)
    labels = root / LABELS_FILE
    if not labels.is_file():
        raise DatasetError(f"{root}: no {LABELS_FILE}; pass the expressions folder")
    table = pd.read_csv(labels)
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise DatasetError(f"{labels}: missing column(s) {', '.join(missing)}")
    unknown = sorted(set(table["expression"]) - set(EXPRESSION_AUS))
    if unknown:
        raise DatasetError(f"{labels}: unknown expression(s) {', '.join(unknown)}")
    return ExpressionPhotos(table[list(_COLUMNS)], root / IMAGES_DIR)


def still_big_frame(
    path: str | Path, crop: str, size_hw: tuple[int, int], small_hw: tuple[int, int]
) -> np.ndarray | None:
    """(H, W, 3) uint8 Big frame of one photo shown as a static clip, prepared exactly as
    ``predict`` prepares a video frame (same detector, crop and resize); ``None`` if no face."""
    from bigsmall.video.inputs import build_bigsmall_inputs
    from bigsmall.video.io import FrameBatch, read_image

    image = read_image(path)
    frames = np.repeat(image[None], 3, axis=0)
    batch = FrameBatch(frames, np.arange(3, dtype=np.float64) / 30.0, 0)
    try:
        inputs = build_bigsmall_inputs(
            [batch], crop=crop, size_hw=size_hw, small_hw=small_hw, fps=30.0, threaded=False
        )
    except NoFaceError:
        return None
    return np.asarray(inputs.big_uint8[0])


def still_big_frames(
    paths: list[Path],
    crop: str,
    size_hw: tuple[int, int] = (144, 144),
    small_hw: tuple[int, int] = (9, 9),
    workers: int = 1,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """(N, H, W, 3) uint8 Big frames of ``paths`` (zeros where no face) and (N,) bool found."""
    import sys
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial

    from tqdm import tqdm

    job = partial(still_big_frame, crop=crop, size_hw=size_hw, small_hw=small_hw)
    out = np.zeros((len(paths), *size_hw, 3), np.uint8)
    found = np.zeros(len(paths), bool)
    bar = tqdm(total=len(paths), desc="photos", file=sys.stderr, disable=not progress)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for i, frame in enumerate(pool.map(job, paths, chunksize=64)):
            if frame is not None:
                out[i], found[i] = frame, True
            bar.update(1)
    bar.close()
    return out, found


#: Per-channel gain ranges (R, G, B) of the skin-like tint given to greyscale photos.
TINT_GAINS: tuple[tuple[float, float], ...] = ((1.0, 1.0), (0.78, 0.92), (0.62, 0.82))
#: Side of a photo's canvas in the generator's face folder, in photo sides: the tight crop is
#: set in a blurred surround so the generator's framing (face 25–45 % of the width) finds no
#: mirrored copies of the face around it.
CANVAS_SIDES: float = 3.0


def is_greyscale(frames: np.ndarray) -> np.ndarray:
    """(N,) bool for (N, H, W, 3) uint8 photos whose three channels (almost) agree."""
    f = frames.astype(np.int16)
    return (np.abs(f[..., 0] - f[..., 1]).mean((1, 2)) < 2) & (
        np.abs(f[..., 1] - f[..., 2]).mean((1, 2)) < 2
    )


def tint(image: np.ndarray, gains: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB × (3,) gains → uint8: a greyscale photo given a skin-like colour."""
    return np.clip(image.astype(np.float32) * gains[None, None, :], 0, 255).astype(np.uint8)


def on_canvas(image: np.ndarray, sides: float = CANVAS_SIDES) -> np.ndarray:
    """(H, W, 3) uint8 tight face crop → (S, S, 3) uint8 with S = ``sides`` × max(H, W): the
    photo in the middle, feathered into a heavily blurred, darkened copy of itself."""
    import cv2

    height, width = image.shape[:2]
    side = round(sides * max(height, width))
    surround = cv2.resize(cv2.blur(image, (max(width // 3, 1), max(height // 3, 1))), (side, side))
    surround = cv2.GaussianBlur(surround, (0, 0), side / 20) * np.float32(0.8)
    alpha = np.zeros((side, side), np.float32)
    y0, x0 = (side - height) // 2, (side - width) // 2
    dy, dx = height // 10, width // 10
    alpha[y0 + dy : y0 + height - dy, x0 + dx : x0 + width - dx] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), max(height, width) / 20)[..., None]
    canvas = np.zeros((side, side, 3), np.float32)
    canvas[y0 : y0 + height, x0 : x0 + width] = image
    out = alpha * canvas + (1 - alpha) * surround
    return np.clip(out, 0, 255).astype(np.uint8)


def write_face_folder(
    photos: ExpressionPhotos, out: str | Path, people: int, seed: int = 0
) -> list[Path]:
    """A ``bigsmall synth --faces`` folder of one photo each of ``people`` people of ``photos``
    (drawn at random; the caller chooses whose photos ``photos`` holds), greyscale photos
    tinted skin-like (:data:`TINT_GAINS`), each set on a canvas (:func:`on_canvas`), with a
    ``labels.csv`` naming the AUs the photo's expression shows. Photos whose face the Haar
    detector does not find on the canvas are skipped. Returns the files written."""
    import cv2

    from bigsmall.video.face import detect_largest_face
    from bigsmall.video.io import read_image

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    order = photos.table.sample(frac=1.0, random_state=seed).drop_duplicates("person")
    files: list[Path] = []
    rows = ["file,aus"]
    for record in order.itertuples():
        if len(files) >= people:
            break
        image = read_image(photos.images_dir / record.image)
        if is_greyscale(image[None])[0]:
            image = tint(image, np.array([rng.uniform(lo, hi) for lo, hi in TINT_GAINS]))
        canvas = on_canvas(image)
        if detect_largest_face(canvas) is None:
            continue
        name = f"{Path(record.image).stem}.png"
        cv2.imwrite(str(out / name), cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))
        rows.append(f"{name},{' '.join(EXPRESSION_AUS[record.expression][0])}")
        files.append(out / name)
    (out / LABELS_FILE).write_text("\n".join(rows) + "\n")
    return files
