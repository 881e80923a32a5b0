"""Offline face detection behind a small :class:`FaceDetector` protocol.

Default: the Viola-Jones Haar cascade (Viola & Jones, CVPR 2001) that ships with OpenCV 4.x
(``haarcascade_frontalface_default.xml``, as the rPPG-Toolbox reference uses), run on a
downscaled grayscale frame for speed; boxes are scaled back to the full frame. When that
finds nothing, the search is repeated on a contrast-limited adaptive histogram equalisation
(CLAHE; Zuiderveld, "Contrast Limited Adaptive Histogram Equalization", Graphics Gems IV, 1994)
of the image: the cascade's Haar features are contrast differences, too weak on dark or
low-contrast faces (very dark skin, dim light) until the local grey levels are spread out.
(Global equalisation was tried and missed a quarter of the darkest synthetic faces.)
A whole-frame search that still finds nothing is tried once more on the frame padded by
:data:`EDGE_PAD_FRACTION` of its size on every side (edge pixels replicated): a face that fills
a tightly cropped photo touches the frame's edges, where the cascade's windows cannot sit
around it (on 600 tight 224×224 face photos of ``shared/data/expressions`` the plain search
missed 40, the padded retry all but 2). On such a crop the cascade can also take an eye or a
mouth for a small face and stop there; a whole-frame search whose largest face is small for
the frame therefore also looks, padded, for a face at least 1.5 times as wide around it (on the
285 colour photos of ``shared/data/expressions`` at 480×480 the largest face disagreed with the
CNN's on 14, on 6 with the look around; on 600 training photos at 224×224, 3 and 2; no box
moved on real videos whose face does not fill the frame). Where the cascade finds no face
around it, the CNN fallback is asked for one (:meth:`FallbackDetector._around`; with both, the
default detector disagrees with the CNN on none of those photos; about 90 ms more per
whole-frame search whose face is small, in practice once per video).

Faces the cascade cannot see at all (tight crops with forehead or chin cut off, turned or
tilted heads) fall back to a CNN (:class:`FallbackDetector`,
:mod:`bigsmall.video.face_cnn`): whole-frame searches that find nothing are repeated by it,
less and less often while it keeps finding nothing, so a video without a face stays cheap.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from bigsmall.video.boxes import Box
from bigsmall.video.face_cnn import MmodFaceDetector, dlib_available

#: Longest side of the frame the Haar cascade runs on (pixels).
DEFAULT_DETECT_SIDE_PX: int = 320
#: Size (px) a known face is scaled to when re-detecting near an expected size.
TRACK_FACE_PX: int = 32
#: Re-detection looks for faces between these fractions/multiples of the expected size.
TRACK_SIZE_RANGE: tuple[float, float] = (0.75, 1.5)
#: Re-detection searches this many times the last face's size around it.
TRACK_ROI_COEF: float = 2.5
#: CLAHE clip limit and tile grid of the retry pass on low-contrast frames.
CLAHE_CLIP_LIMIT: float = 3.0
CLAHE_TILES: tuple[int, int] = (8, 8)
#: Border (fraction of each side) added around a frame for the retry on faces that fill it.
EDGE_PAD_FRACTION: float = 0.25
#: A whole-frame search whose largest face is narrower than this fraction of the frame's
#: shorter side also looks for a face around it (:func:`faces_around_small`) at least
#: :data:`ENCLOSING_MIN_SCALE` times as wide.
ENCLOSING_CHECK_FRACTION: float = 0.7
ENCLOSING_MIN_SCALE: float = 1.5
#: The cascade file shipped in opencv-python(-headless) 4.x.
HAAR_CASCADE_FILE: str = "haarcascade_frontalface_default.xml"


#: Loaded cascades not in use by any detector (parsing the XML costs ~20 ms per detector).
_FREE_CASCADES: list[cv2.CascadeClassifier] = []
_FREE_LOCK = threading.Lock()


def _take_cascade(path: Path) -> cv2.CascadeClassifier:
    """A loaded cascade owned by one detector at a time (handed back when it is collected)."""
    with _FREE_LOCK:
        if _FREE_CASCADES:
            return _FREE_CASCADES.pop()
    cascade = cv2.CascadeClassifier(str(path))
    if cascade.empty():
        raise RuntimeError(f"{path}: OpenCV Haar cascade missing; install opencv<5")
    return cascade


def _give_back_cascade(cascade: cv2.CascadeClassifier) -> None:
    with _FREE_LOCK:
        _FREE_CASCADES.append(cascade)


@runtime_checkable
class FaceDetector(Protocol):
    """Anything that finds faces in one RGB frame."""

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        """Face boxes in ``frame_rgb`` (H, W, 3) uint8 pixel coordinates."""
        ...


def _downscale(image: np.ndarray, max_side_px: int) -> tuple[np.ndarray, float]:
    """Area-downscale so the longest side is at most ``max_side_px``; returns (image, scale)."""
    height, width = image.shape[:2]
    scale = min(1.0, max_side_px / max(height, width))
    if scale < 1.0:
        size = (max(round(width * scale), 1), max(round(height * scale), 1))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return image, scale


def faces_around_small(
    boxes: list[Box], frame_shape: tuple[int, ...], search: Callable[[int], list[Box]]
) -> list[Box]:
    """Where the largest of ``boxes`` is narrower than :data:`ENCLOSING_CHECK_FRACTION` of the
    frame's shorter side, the faces ``search(min_side_px)`` finds that are at least
    :data:`ENCLOSING_MIN_SCALE` times as wide and contain its centre; else none (no search)."""
    largest = max(boxes, key=lambda b: b.area)
    if largest.w >= ENCLOSING_CHECK_FRACTION * min(frame_shape[:2]):
        return []
    min_side_px = max(round(ENCLOSING_MIN_SCALE * largest.w), 1)
    cx, cy = largest.center
    return [
        b
        for b in search(min_side_px)
        if b.w >= min_side_px and b.x <= cx <= b.x + b.w and b.y <= cy <= b.y + b.h
    ]


class HaarCascadeDetector:
    """OpenCV's frontal-face Haar cascade on a grayscale frame downscaled to ``max_side_px``.

    ``min_size_frac``: smallest face as a fraction of the downscaled frame's shorter side.
    ``equalize_retry``: when a search finds nothing, repeat it on the CLAHE-equalised image
    (finds dark-skinned and dimly lit faces the plain pass misses).
    """

    def __init__(
        self,
        max_side_px: int = DEFAULT_DETECT_SIDE_PX,
        scale_factor: float = 1.1,
        min_neighbors: int = 5,
        min_size_frac: float = 0.15,
        equalize_retry: bool = True,
    ) -> None:
        path = Path(cv2.data.haarcascades) / HAAR_CASCADE_FILE
        self._cascade = _take_cascade(path)
        weakref.finalize(self, _give_back_cascade, self._cascade)
        self.max_side_px = max_side_px
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size_frac = min_size_frac
        self.equalize_retry = equalize_retry
        self._clahe = cv2.createCLAHE(clipLimit=CLAHE_CLIP_LIMIT, tileGridSize=CLAHE_TILES)

    def detect_gray(self, gray: np.ndarray, near: Box | None = None) -> list[Box]:
        """Faces in a (H, W) uint8 grayscale frame, in that frame's pixel coordinates.

        ``near``: the face found last time. When given, only the region around it
        (:data:`TRACK_ROI_COEF` times its size) is searched, scaled so that the face becomes
        :data:`TRACK_FACE_PX` wide, for sizes within :data:`TRACK_SIZE_RANGE` of it: many
        times cheaper than a full search. Callers that need the face back at once search the
        whole frame when this finds nothing (as :func:`bigsmall.video.build_bigsmall_inputs`).
        """
        x_off = y_off = 0
        if near is not None and near.w > 0:
            roi = near.enlarge(TRACK_ROI_COEF).clip(gray.shape[1], gray.shape[0])
            x0, y0, x1, y1 = roi.to_int()
            x_off, y_off = x0, y0
            region = gray[y0:y1, x0:x1]
            face_side = max(near.w, near.h)
            max_side = max(region.shape[:2]) * TRACK_FACE_PX / face_side
            small, scale = _downscale(region, max(round(max_side), 1))
            lo, hi = TRACK_SIZE_RANGE
            min_size = (round(face_side * scale * lo),) * 2
            max_size = (round(face_side * scale * hi),) * 2
        else:
            small, scale = _downscale(gray, self.max_side_px)
            min_side = max(round(min(small.shape[:2]) * self.min_size_frac), 1)
            min_size, max_size = (min_side, min_side), (0, 0)
        found = self._search(small, min_size, max_size)
        if len(found) == 0 and self.equalize_retry:
            equalized = self._clahe.apply(np.ascontiguousarray(small))
            found = self._search(equalized, min_size, max_size)
        rows = np.asarray(found, dtype=np.float64).reshape(-1, 4)
        boxes = [Box(float(x), float(y), float(w), float(h)) for x, y, w, h in rows]
        if near is None and boxes:
            boxes += self._enclosing_faces(small, boxes)
        elif near is None:
            boxes = self._search_padded(small)
        return [
            Box(b.x / scale + x_off, b.y / scale + y_off, b.w / scale, b.h / scale) for b in boxes
        ]

    def _search(
        self, gray: np.ndarray, min_size: tuple[int, int], max_size: tuple[int, int]
    ) -> np.ndarray | tuple[()]:
        return self._cascade.detectMultiScale(
            gray,
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=min_size,
            maxSize=max_size,
        )

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        small, scale = _downscale(frame_rgb, self.max_side_px)
        boxes = self.detect_gray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        return [Box(b.x / scale, b.y / scale, b.w / scale, b.h / scale) for b in boxes]

    def _enclosing_faces(self, gray: np.ndarray, boxes: list[Box]) -> list[Box]:
        """The cascade's faces around the largest of ``boxes`` (``gray``'s coordinates) where
        that is small for the frame (:func:`faces_around_small`): on a tightly cropped photo the
        cascade can take an eye or a mouth for a face and, having found one, never looks for the
        face that fills the frame around it."""
        return faces_around_small(boxes, gray.shape, lambda side: self._search_padded(gray, side))

    def _search_padded(self, gray: np.ndarray, min_side: int | None = None) -> list[Box]:
        """Whole-frame search on ``gray`` padded by :data:`EDGE_PAD_FRACTION` (edge pixels
        replicated) for faces of at least ``min_side`` px (default: ``min_size_frac`` of the
        padded frame), boxes in ``gray``'s coordinates (a face filling the frame)."""
        pad_y = round(gray.shape[0] * EDGE_PAD_FRACTION)
        pad_x = round(gray.shape[1] * EDGE_PAD_FRACTION)
        padded = cv2.copyMakeBorder(gray, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_REPLICATE)
        if min_side is None:
            min_side = round(min(padded.shape[:2]) * self.min_size_frac)
        min_side = max(min_side, 1)
        found = self._search(padded, (min_side, min_side), (0, 0))
        rows = np.asarray(found, dtype=np.float64).reshape(-1, 4)
        return [Box(float(x - pad_x), float(y - pad_y), float(w), float(h)) for x, y, w, h in rows]


#: Longest run of whole-frame searches the fallback sits out after finding nothing again
#: (it waits 1, 2, 4, ... of them): about 2 s at 30 fps.
FALLBACK_MAX_GAP: int = 64


class FallbackDetector:
    """``primary`` first; when a whole-frame search of it finds nothing, ``fallback``.

    The fallback (slow: :class:`bigsmall.video.face_cnn.MmodFaceDetector`, ~100× the cascade)
    never runs for a search near a known face (the caller searches the whole frame next) and
    backs off while it finds nothing: after each miss it sits out twice as many whole-frame
    searches as before, up to :data:`FALLBACK_MAX_GAP`; a find resets that. On a video with no
    face it therefore runs about ``log2(64) + frames / 64`` times, not once per frame.
    """

    def __init__(
        self, primary: HaarCascadeDetector, fallback: FaceDetector, max_gap: int = FALLBACK_MAX_GAP
    ) -> None:
        self.primary, self.fallback, self.max_gap = primary, fallback, max_gap
        self._gap = 0  # searches sat out after the last miss (doubled per miss, 0 after a find)
        self._wait = 0  # searches still to sit out

    def _ask_fallback(self, gray: np.ndarray) -> list[Box]:
        detect_gray = getattr(self.fallback, "detect_gray", None)
        if detect_gray is not None:
            return list(detect_gray(gray, None))
        return list(self.fallback.detect(cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)))

    def _fall_back(self, gray: np.ndarray) -> list[Box]:
        if self._wait > 0:
            self._wait -= 1
            return []
        boxes = self._ask_fallback(gray)
        self._gap = 0 if boxes else min(max(2 * self._gap, 1), self.max_gap)
        self._wait = self._gap
        return boxes

    def _around(self, gray: np.ndarray, boxes: list[Box]) -> list[Box]:
        """The fallback's faces around the largest of ``boxes`` where it is still small for the
        frame after the primary's own look around (:func:`faces_around_small`)."""
        return faces_around_small(boxes, gray.shape, lambda side: self._ask_fallback(gray))

    def detect_gray(self, gray: np.ndarray, near: Box | None = None) -> list[Box]:
        """Faces in a (H, W) uint8 grayscale frame (see :meth:`HaarCascadeDetector.detect_gray`).

        A whole-frame search whose largest face stays small for the frame also asks the
        fallback for a face around it (an eye the cascade took for a face on a tight crop)."""
        boxes = self.primary.detect_gray(gray, near)
        if near is not None:
            return boxes
        if boxes:
            return boxes + self._around(gray, boxes)
        return self._fall_back(gray)

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        return self.detect_gray(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2GRAY))


def haar_with_cnn_fallback() -> FaceDetector:
    """The Haar cascade backed by the MMOD CNN (:mod:`bigsmall.video.face_cnn`) where dlib is
    installed (a dependency of the package); the cascade alone where it is not."""
    if not dlib_available():
        return HaarCascadeDetector()
    return FallbackDetector(HaarCascadeDetector(), MmodFaceDetector())


#: Detectors by name; each entry builds a detector with default settings.
DETECTORS: dict[str, Callable[[], FaceDetector]] = {
    "haar": HaarCascadeDetector,
    "haar+cnn": haar_with_cnn_fallback,
}
#: What ``predict`` and ``live`` find faces with.
DEFAULT_DETECTOR: str = "haar+cnn"


def create_detector(name: str = "haar") -> FaceDetector:
    """Build a registered face detector by name."""
    try:
        return DETECTORS[name]()
    except KeyError:
        raise ValueError(
            f"unknown face detector {name!r}; choose from {sorted(DETECTORS)}"
        ) from None


def detect_largest_face(frame_rgb: np.ndarray, detector: FaceDetector | None = None) -> Box | None:
    """The largest face in one RGB frame, or ``None``."""
    boxes = (detector or HaarCascadeDetector()).detect(frame_rgb)
    return max(boxes, key=lambda b: b.area) if boxes else None
