"""Real face photos (or one frame of a real video) as synthetic-video assets (``--faces DIR``).

The face is found with :class:`bigsmall.video.face.HaarCascadeDetector`; the frame is cropped
so the face fills a trial-dependent share of the output frame; landmarks come from the box
(:func:`.asset.landmarks_from_box`); the skin mask keeps pixels whose chrominance (YCrCb; Chai &
Ngan, "Face segmentation using skin-color map in videophone applications", IEEE TCSVT 9(4),
1999) is close to the face's own skin colour (median Cr/Cb of cheek and forehead patches, so
it adapts to dark and light skin) inside an ellipse in the face box, minus eyes, brows and lips.

From a video only one frame is used, as a still: the video's own frames carry the filmed
person's real pulse, which would contaminate the injected ground truth.

A photo shows an expression of its own (a smiling photo stays smiling): an optional
``labels.csv`` in the folder (columns ``file,aus``; ``aus`` space-separated, e.g.
``smile.jpg,AU06 AU12``) names the AUs each still shows, and they are labelled present on every
frame rendered from it, so a real smile is never taught as "no AU12".
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from bigsmall.constants import AU_NAMES
from bigsmall.data.synthetic.asset import FaceAsset, landmarks_from_box
from bigsmall.errors import DatasetError
from bigsmall.video.face import HaarCascadeDetector, detect_largest_face
from bigsmall.video.io import IMAGE_SUFFIXES, VideoReader, read_image

VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
#: Optional file in a ``--faces`` folder naming the AUs each still already shows.
LABELS_FILE: str = "labels.csv"
#: Largest chrominance distance (Cr/Cb units) from the face's skin colour kept as skin.
_CHROMA_TOLERANCE: float = 14.0
_GREY: float = 255.0


def list_face_files(directory: str | Path) -> list[Path]:
    """Image and video files in ``directory`` (sorted), or a one-line error."""
    path = Path(directory)
    if not path.is_dir():
        raise DatasetError(f"{path}: --faces folder not found; pass a folder of face photos/videos")
    files = sorted(
        p for p in path.iterdir() if p.suffix.lower() in (*IMAGE_SUFFIXES, *VIDEO_SUFFIXES)
    )
    if not files:
        raise DatasetError(f"{path}: no .jpg/.png photos or videos in this --faces folder")
    return files


def read_face_labels(directory: str | Path) -> dict[str, tuple[str, ...]]:
    """``{file name: AUs the still shows}`` from the folder's ``labels.csv`` (empty if absent)."""
    path = Path(directory) / LABELS_FILE
    if not path.is_file():
        return {}
    labels: dict[str, tuple[str, ...]] = {}
    lines = path.read_text().splitlines()
    if not lines or [c.strip() for c in lines[0].split(",")] != ["file", "aus"]:
        raise DatasetError(f"{path}: the first line must be 'file,aus'")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        name, _, aus = line.partition(",")
        units = tuple(aus.split())
        unknown = [u for u in units if u not in AU_NAMES]
        if unknown:
            raise DatasetError(
                f"{path}:{number}: unknown AU {unknown[0]!r}; use {', '.join(AU_NAMES)}"
            )
        labels[name.strip()] = units
    return labels


def read_face_frame(path: Path) -> np.ndarray:
    """The still used from ``path``: the image, or a video's middle frame (H, W, 3) uint8."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return read_image(path)
    reader = VideoReader(path)
    middle = max(reader.info.frame_count // 2, 0)
    last = None
    for batch in reader:
        for k, frame in enumerate(batch.frames):
            last = frame
            if batch.start_index + k >= middle:
                return frame
    if last is None:
        raise DatasetError(f"{path}: no frames could be decoded from this video")
    return last


def _skin_mask(
    image: np.ndarray,
    box: tuple[float, float, float, float],
    landmarks: dict[str, tuple[float, float]],
) -> np.ndarray:
    """(H, W) float32 soft skin mask of the face."""
    height, width = image.shape[:2]
    ycrcb = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    iod = float(np.hypot(*np.subtract(landmarks["eye_r"], landmarks["eye_l"])))
    samples = []
    for name, dy in (("cheek_l", 0.0), ("cheek_r", 0.0), ("nose_tip", -0.5)):
        x, y = landmarks[name]
        y += dy * iod
        r = max(int(0.1 * iod), 1)
        patch = ycrcb[max(int(y) - r, 0) : int(y) + r, max(int(x) - r, 0) : int(x) + r]
        samples.append(patch.reshape(-1, 3))
    reference = np.median(np.concatenate(samples), axis=0)
    distance = np.hypot(ycrcb[..., 1] - reference[1], ycrcb[..., 2] - reference[2])
    chroma = np.clip(1.5 - distance / _CHROMA_TOLERANCE, 0.0, 1.0)
    region = np.zeros((height, width), np.float32)
    x, y, w, h = box
    centre = (round(x + w / 2), round(y + h * 0.55))
    cv2.ellipse(region, centre, (round(w * 0.46), round(h * 0.62)), 0, 0, 360, 1.0, -1)
    holes = np.zeros_like(region)
    for eye in ("eye_l", "eye_r"):
        ex, ey = landmarks[eye]
        cv2.ellipse(
            holes,
            (round(ex), round(ey)),
            (round(0.32 * iod), round(0.16 * iod)),
            0,
            0,
            360,
            1.0,
            -1,
        )
    for inner, outer in (("brow_inner_l", "brow_outer_l"), ("brow_inner_r", "brow_outer_r")):
        a, b = landmarks[inner], landmarks[outer]
        cv2.line(
            holes,
            tuple(round(v) for v in a),
            tuple(round(v) for v in b),
            1.0,
            max(round(0.14 * iod), 1),
        )
    (mlx, mly), (mrx, mry) = landmarks["mouth_l"], landmarks["mouth_r"]
    mouth_c = (round((mlx + mrx) / 2), round((mly + mry) / 2))
    cv2.ellipse(holes, mouth_c, (round((mrx - mlx) * 0.62), round(0.2 * iod)), 0, 0, 360, 1.0, -1)
    mask = chroma * region * (1.0 - holes)
    return cv2.GaussianBlur(mask, (0, 0), max(iod * 0.03, 0.5)).astype(np.float32)


def load_face_asset(
    path: Path,
    height: int,
    width: int,
    rng: np.random.Generator,
    detector: HaarCascadeDetector | None = None,
    base_aus: tuple[str, ...] = (),
) -> FaceAsset:
    """A photo (or a video's middle frame) cropped and masked for animation; ``base_aus``:
    the AUs the still shows (see :func:`read_face_labels`)."""
    image = read_face_frame(path)
    box = detect_largest_face(image, detector)
    if box is None:
        raise DatasetError(f"{path}: no face found by the Haar detector; use a frontal face photo")
    # crop a window with the output aspect in which the face takes 25-45% of the width
    face_frac = rng.uniform(0.25, 0.45)
    crop_w = box.w / face_frac
    crop_h = crop_w * height / width
    cx = box.x + box.w / 2 + rng.uniform(-0.08, 0.08) * crop_w
    cy = box.y + box.h * 0.55 + rng.uniform(-0.05, 0.05) * crop_h
    scale = width / crop_w
    matrix = np.array([[scale, 0, width / 2 - cx * scale], [0, scale, height / 2 - cy * scale]])
    frame = cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT_101
    )
    face_box = (
        box.x * scale + matrix[0, 2],
        box.y * scale + matrix[1, 2],
        box.w * scale,
        box.h * scale,
    )
    landmarks = landmarks_from_box(face_box)
    skin = _skin_mask(frame, face_box, landmarks)
    person = frame.astype(np.float32) / _GREY
    weight = skin / max(float(skin.sum()), 1.0)
    skin_rgb = tuple(float(v) for v in (person * weight[..., None]).sum(axis=(0, 1)))
    x, y, w, h = face_box
    return FaceAsset(
        person=person,
        alpha=np.ones((height, width), np.float32),
        background=None,
        skin=skin,
        landmarks=landmarks,
        face_box=face_box,
        pivot=(x + w / 2, y + h * 1.2),
        source=path.name,
        skin_tone=None,
        skin_rgb=skin_rgb,  # type: ignore[arg-type]
        base_aus=tuple(base_aus),
    )
