"""A CNN face detector for the faces the Haar cascade misses: tight, turned, tilted, dark.

Davis E. King, "Max-Margin Object Detection", arXiv:1502.00046 (2015): a small convolutional
network scanned over an image pyramid, trained with the max-margin (MMOD) loss on every window
of fully annotated images. dlib ships it (``cnn_face_detection_model_v1``); the weights file
(``models/mmod_human_face_detector.dat``, CC0, trained by the author on faces from ImageNet,
AFLW, Pascal VOC, VGG, WIDER and FaceScrub; ``models/README.md`` records its source) is part
of this package.

Why: the Viola-Jones cascade needs a whole, frontal, upright face. Of the 290 colour photos of
``shared/data/expressions`` (tight web crops) animated with slow head motion, the cascade found
no face in any sampled frame of 61; this detector found one in 57 of them (a 200-px frame, its
luma) and none in the frames of ``shared/data/faces/no_face.mp4``. It costs about 250 ms a frame
on a 2-core machine, ~100× the cascade, so it runs only where the cascade has already failed
(:class:`bigsmall.video.face.FallbackDetector`). The network sees faces of about 80 px and up:
at 200 px, faces of at least two fifths of the frame — the tight crops the cascade misses.

Its boxes are tighter and lower than the cascade's. Everything downstream (the 1.5× crop,
framings, the weights' training data) was built on cascade boxes, so each box is mapped to the
cascade's geometry with :data:`HAAR_FROM_MMOD`, the median relation measured on 396 photos
where both found the face (centre shift (+0.04, −0.08) box widths, size ×1.2; interquartile
ranges 0.04, 0.08 and 0.2; both detectors' boxes are square, to a pixel).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from bigsmall.video.boxes import Box, BoxMapping

#: The MMOD face model shipped with the package (CC0; see ``models/README.md``).
MMOD_MODEL_FILE: Path = Path(__file__).with_name("models") / "mmod_human_face_detector.dat"
#: Longest side (px) of the frame the network scans: faces from about two fifths of it up.
CNN_SIDE_PX: int = 200
#: An MMOD box → the Haar cascade's box of the same face.
HAAR_FROM_MMOD: BoxMapping = BoxMapping(dx=0.04, dy=-0.08, scale=1.2)

_NET_LOCK = threading.Lock()
_NET: object | None = None
#: One forward pass at a time: dlib's network keeps its buffers in the object.
_RUN_LOCK = threading.Lock()


def dlib_available() -> bool:
    """Whether dlib (the ``dlib-bin`` wheel) can be imported here."""
    try:
        import dlib  # noqa: F401
    except ImportError:
        return False
    return True


def _network() -> object:
    """The loaded MMOD network (parsed once per process, ~0.1 s)."""
    global _NET
    with _NET_LOCK:
        if _NET is None:
            import dlib

            _NET = dlib.cnn_face_detection_model_v1(str(MMOD_MODEL_FILE))
        return _NET


class MmodFaceDetector:
    """dlib's MMOD CNN face detector on a frame downscaled to ``side_px``; boxes mapped to the
    Haar cascade's geometry (:data:`HAAR_FROM_MMOD`) in the input frame's pixels.

    Raises ``ImportError`` when dlib is not installed (check :func:`dlib_available`).
    """

    def __init__(self, side_px: int = CNN_SIDE_PX) -> None:
        self.side_px = side_px
        self._net = _network()

    def detect_gray(self, gray: np.ndarray, near: Box | None = None) -> list[Box]:
        """Faces in a (H, W) uint8 frame (``near`` is ignored: the whole frame is searched)."""
        height, width = gray.shape[:2]
        scale = min(1.0, self.side_px / max(height, width))
        small = gray
        if scale < 1.0:
            size = (max(round(width * scale), 1), max(round(height * scale), 1))
            small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        with _RUN_LOCK:
            found = self._net(np.ascontiguousarray(small), 0)  # type: ignore[operator]
        boxes = []
        for det in found:
            r = det.rect
            box = Box(r.left() / scale, r.top() / scale, r.width() / scale, r.height() / scale)
            boxes.append(HAAR_FROM_MMOD.apply(box))
        return boxes

    def detect(self, frame_rgb: np.ndarray) -> list[Box]:
        return self.detect_gray(cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2GRAY))
