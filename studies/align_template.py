"""Derive and check the pieces of the JAA-Net-style alignment (:mod:`bigsmall.video.align`).

Needs the ``align`` extra (dlib) and ../shared/data. Three parts:

* ``boxmap`` — how dlib's HOG face box sits relative to OpenCV's Haar box on the same face
  (median centre offset and size ratio, in Haar-box widths) → ``HAAR_TO_DLIB`` in
  :mod:`bigsmall.video.landmarks`. Measured on neutral photos of the TRAINING person buckets of
  shared/data/expressions (person bucket 0 — the held-out people — is never read).
* ``template`` — the 49-point template → ``TEMPLATE_UNIT`` in :mod:`bigsmall.video.align`:
  dlib 68-point landmarks (on dlib's own HOG box) of ``--count`` neutral, near-frontal photos of
  the same training people; generalized Procrustes analysis (similarity; Gower 1975) to their
  mean shape; averaged with its mirror image (left-right symmetric); rotated so the eye centres
  are level; translated and scaled so the square around its five key points (eye centres, nose
  tip, mouth corners) is centred at 0 with side 1 — the authors' framing of a face, which
  :func:`bigsmall.video.align.template_points` then scales by ``(size - 1) / enlarge``.
* ``agreement`` — a detector check on real faces in motion (shared/data/faces, faces_motion;
  nothing is fitted on them): landmarks from the Haar box fed straight to the shape predictor,
  from the calibrated Haar→dlib mapping and from :class:`bigsmall.video.landmarks.Landmarker`
  (HOG search around the Haar box, mapping as fall-back), each against the landmarks from dlib's
  own HOG box on the same frame, as the mean point distance over the inter-ocular distance
  (outer eye corners, as 300-W normalises).

Usage: ``python studies/align_template.py {boxmap,template,agreement} [--count 300]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from bigsmall.constants import INNER_49, MIRROR_49
from bigsmall.data.expressions import on_canvas, person_split, read_expression_photos
from bigsmall.video.align import (
    EYE_A_49,
    EYE_B_49,
    MOUTH_A_49,
    MOUTH_B_49,
    NOSE_TIP_49,
    similarity_transform,
    transform_points,
)
from bigsmall.video.boxes import Box
from bigsmall.video.face import HaarCascadeDetector
from bigsmall.video.io import read_image, read_video
from bigsmall.video.landmarks import HAAR_TO_DLIB, BoxMapping, Landmarker

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
#: Canvas around each tight 224² photo (in photo sides), so both detectors see a whole face.
CANVAS_SIDES: float = 2.0
#: Near-frontal: nose tip within this fraction of the inter-ocular distance of the eyes' midline.
MAX_NOSE_OFFSET: float = 0.08


def _center_dist(a: Box, b: Box) -> float:
    (ax, ay), (bx, by) = a.center, b.center
    return float(np.hypot(ax - bx, ay - by))


def training_photos(expression: str = "neutral", seed: int = 0) -> Iterator[tuple[str, np.ndarray]]:
    """(name, canvas RGB) of ``expression`` photos of the training people, in a seeded order."""
    photos = read_expression_photos(SHARED / "expressions")
    held = person_split(photos.table["person"])
    table = photos.table[~held & (photos.table["expression"] == expression)]
    order = np.random.default_rng(seed).permutation(len(table))
    for i in order:
        name = table["image"].iloc[i]
        yield name, on_canvas(read_image(photos.images_dir / name), CANVAS_SIDES)


def paired_boxes(
    rgb: np.ndarray, haar: HaarCascadeDetector, marker: Landmarker
) -> tuple[Box, Box] | None:
    """(Haar box, HOG box) when each detector finds exactly one face and they overlap."""
    haar_boxes = haar.detect(rgb)
    hog = marker.hog_boxes(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))
    if len(haar_boxes) != 1 or len(hog) != 1:
        return None
    a, b = haar_boxes[0], hog[0][0]
    if _center_dist(a, b) > 0.5 * a.w:
        return None
    return a, b


def boxmap(count: int) -> BoxMapping:
    haar, marker = HaarCascadeDetector(), Landmarker()
    rows = []
    for _, rgb in training_photos():
        pair = paired_boxes(rgb, haar, marker)
        if pair is None:
            continue
        a, b = pair
        rows.append(
            ((b.center[0] - a.center[0]) / a.w, (b.center[1] - a.center[1]) / a.w, b.w / a.w)
        )
        if len(rows) >= count:
            break
    values = np.array(rows)
    med = np.median(values, axis=0)
    q = np.percentile(values, [10, 90], axis=0)
    print(f"{len(rows)} photos with one face for both detectors")
    for k, name in enumerate(("dx", "dy", "scale")):
        print(f"  {name}: median {med[k]:+.4f}  (10-90 %: {q[0, k]:+.4f} .. {q[1, k]:+.4f})")
    mapping = BoxMapping(*(round(float(v), 3) for v in med))
    print(f"HAAR_TO_DLIB = {mapping}")
    return mapping


def _eye_centres(points49: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return points49[list(EYE_A_49)].mean(0), points49[list(EYE_B_49)].mean(0)


def _normalise(shape: np.ndarray) -> np.ndarray:
    centred = shape - shape.mean(0)
    return centred / np.sqrt(np.sum(centred**2))


def procrustes_mean(shapes: np.ndarray, iterations: int = 50) -> np.ndarray:
    """Generalized Procrustes mean (similarity) of (N, K, 2) shapes → (K, 2), unit norm."""
    mean = _normalise(shapes[0])
    for _ in range(iterations):
        aligned = np.stack([transform_points(s, similarity_transform(s, mean)) for s in shapes])
        new = aligned.mean(0)
        new = transform_points(new, similarity_transform(new, mean))  # keep the orientation
        new = _normalise(new)
        if np.abs(new - mean).max() < 1e-10:
            break
        mean = new
    return mean


def frame_template(mean: np.ndarray) -> np.ndarray:
    """Symmetric, eye-level, key-point-framed (K, 2) template (see the module docstring)."""
    mirrored = mean[list(MIRROR_49)] * np.array([-1.0, 1.0])
    mean = 0.5 * (mean + transform_points(mirrored, similarity_transform(mirrored, mean)))
    eye_a, eye_b = _eye_centres(mean)
    angle = np.arctan2(eye_b[1] - eye_a[1], eye_b[0] - eye_a[0])
    c, s = np.cos(-angle), np.sin(-angle)
    mean = mean @ np.array([[c, -s], [s, c]]).T
    keys = np.stack([*_eye_centres(mean), mean[NOSE_TIP_49], mean[MOUTH_A_49], mean[MOUTH_B_49]])
    lo, hi = keys.min(0), keys.max(0)
    return (mean - (lo + hi) / 2) / float((hi - lo).max())


def template(count: int) -> np.ndarray:
    haar, marker = HaarCascadeDetector(), Landmarker()
    shapes, seen = [], 0
    for _, rgb in training_photos():
        seen += 1
        pair = paired_boxes(rgb, haar, marker)
        if pair is None:
            continue
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        points = marker.predict(gray, pair[1]).astype(np.float64)[list(INNER_49)]
        eye_a, eye_b = _eye_centres(points)
        iod = float(np.linalg.norm(eye_b - eye_a))
        axis = (eye_b - eye_a) / iod
        nose = points[NOSE_TIP_49] - (eye_a + eye_b) / 2
        if abs(float(nose @ axis)) / iod > MAX_NOSE_OFFSET:
            continue  # turned head
        shapes.append(points)
        if len(shapes) >= count:
            break
    stack = np.stack(shapes)
    mean = procrustes_mean(stack)
    framed = frame_template(mean)
    residual = [
        np.linalg.norm(transform_points(s, similarity_transform(s, framed)) - framed, axis=1).mean()
        for s in stack
    ]
    print(f"{len(shapes)} near-frontal neutral faces (of {seen} photos read)")
    print(f"mean residual after similarity to the template: {np.mean(residual):.4f} key-box units")
    print("TEMPLATE_UNIT = np.array(\n    [")
    for x, y in framed:
        print(f"        [{round(x, 4) + 0.0:+.4f}, {round(y, 4) + 0.0:+.4f}],")
    print("    ],\n    np.float64,\n)")
    return framed


def _video_frames(path: Path, step: int, limit: int) -> Iterator[np.ndarray]:
    if path.suffix == ".jpg":
        yield read_image(path)
        return
    count = 0
    for batch in read_video(path):
        for i, frame in enumerate(batch.frames):
            if (batch.start_index + i) % step == 0:
                yield frame
                count += 1
                if count >= limit:
                    return


def _nme(points: np.ndarray, ref: np.ndarray) -> float:
    iod = float(np.linalg.norm(ref[36] - ref[45]))
    return float(np.linalg.norm(points - ref, axis=1).mean()) / iod


def agreement(step: int, limit: int) -> None:
    haar, marker = HaarCascadeDetector(), Landmarker()
    files = sorted((SHARED / "faces").glob("single_face.*")) + sorted(
        (SHARED / "faces_motion").glob("*.mp4")
    )
    errors: dict[str, list[float]] = {"haar_raw": [], "haar_mapped": [], "landmarker": [],
                                      "pipeline_region": []}  # fmt: skip
    how: dict[str, int] = {"hog": 0, "mapped": 0}
    times: dict[str, list[float]] = {"landmarker": [], "predict": [], "hog_whole": []}
    skipped = 0
    for path in files:
        for rgb in _video_frames(path, step, limit):
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            boxes = haar.detect(rgb)
            t0 = time.perf_counter()
            hog = marker._hog_whole(gray)
            times["hog_whole"].append(time.perf_counter() - t0)
            if not boxes or hog is None:
                skipped += 1
                continue
            box = max(boxes, key=lambda b: b.area)
            if _center_dist(box, hog) > 0.5 * box.w:
                skipped += 1
                continue
            t0 = time.perf_counter()
            ref = marker.predict(gray, hog)
            times["predict"].append(time.perf_counter() - t0)
            errors["haar_raw"].append(_nme(marker.predict(gray, box), ref))
            errors["haar_mapped"].append(_nme(marker.predict(gray, HAAR_TO_DLIB.apply(box)), ref))
            t0 = time.perf_counter()
            dbox, kind = marker.dlib_box(gray, box)
            points = marker.predict(gray, dbox) if dbox is not None else None
            times["landmarker"].append(time.perf_counter() - t0)
            how[kind] = how.get(kind, 0) + 1
            if points is not None:
                errors["landmarker"].append(_nme(points, ref))
            # As the video pipeline calls it: crop box = Haar × 1.5, region = crop box × 2.
            crop_box = box.enlarge(1.5)
            region = crop_box.enlarge(2.0)
            x0, y0 = round(region.x), round(region.y)
            pad = max(0, -x0, -y0, x0 + round(region.w) - rgb.shape[1],
                      y0 + round(region.h) - rgb.shape[0])  # fmt: skip
            padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            sub = padded[
                y0 + pad : y0 + pad + round(region.h), x0 + pad : x0 + pad + round(region.w)
            ]
            hint = Box(crop_box.x - x0, crop_box.y - y0, crop_box.w, crop_box.h)
            pipeline = Landmarker(box_enlarge=1.5)(np.ascontiguousarray(sub), hint)
            if pipeline is not None:
                errors["pipeline_region"].append(_nme(pipeline + np.float32([x0, y0]), ref))
    n = len(errors["haar_raw"])
    print(
        f"{n} frames of {len(files)} files where Haar and HOG found the same face ({skipped} not)"
    )
    print("landmarks vs those from dlib's own HOG box, mean point distance / inter-ocular distance")
    for name, values in errors.items():
        v = np.array(values)
        print(f"  {name:16s} mean {v.mean():.4f}  median {np.median(v):.4f}  "
              f"95th pct {np.percentile(v, 95):.4f}  max {v.max():.4f}  (n={len(v)})")  # fmt: skip
    print(f"Landmarker box source: {how}")
    for name, values in times.items():
        print(f"  time {name:12s} median {1000 * np.median(values):.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=("boxmap", "template", "agreement"))
    parser.add_argument("--count", type=int, default=300, help="photos (boxmap, template)")
    parser.add_argument("--step", type=int, default=5, help="every n-th video frame (agreement)")
    parser.add_argument("--limit", type=int, default=60, help="frames per video (agreement)")
    args = parser.parse_args()
    if args.part == "boxmap":
        boxmap(args.count)
    elif args.part == "template":
        template(args.count)
    else:
        agreement(args.step, args.limit)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
