"""Offline 68-point facial landmarks with dlib (the optional extra ``bigsmall[align]``).

The points follow the iBUG 300-W 68-point scheme (Sagonas et al., "300 Faces In-the-Wild
Challenge: database and results", Image and Vision Computing 2016) and come from dlib's
ensemble-of-regression-trees shape predictor (Kazemi & Sullivan, "One Millisecond Face
Alignment with an Ensemble of Regression Trees", CVPR 2014; King, "Dlib-ml", JMLR 2009),
``shape_predictor_68_face_landmarks.dat`` as shipped by the ``face-recognition-models``
package. They feed the JAA-Net-style alignment of :mod:`bigsmall.video.align`.

Licences (see docs/alignment.md): dlib is under the Boost Software License; the packaged model
files are released by their author into the public domain / CC0, **but** the 68-point model was
trained on iBUG 300-W, whose terms exclude commercial use, and the dataset's authors asked that
the model not be used in a commercial product. Check before shipping it in one.

Face boxes. The 68-point model expects the boxes of dlib's own HOG face detector (the dlib-models
README says so, and it loses accuracy on boxes framed differently). Our frames come with boxes of
OpenCV's Haar cascade (:class:`bigsmall.video.face.HaarCascadeDetector`), which frame the face
differently (larger, higher). So, given a Haar box, :class:`Landmarker` runs dlib's HOG detector
in a small region around it, scaled so the face is :data:`HOG_FACE_PX` wide (cheap, and inside
the detector's 80-pixel window), then if need be in a larger one (:data:`HOG_SEARCHES`), and
uses the detection that matches the Haar box; when the HOG detector finds none there (turned or
tilted heads), it maps the Haar box to a dlib-like box with the calibrated :data:`HAAR_TO_DLIB`
offsets (accurate when the Haar box is on the face; a box off by 10 % of the face's width
already spoils the landmarks, which is why the HOG search comes first). What this changes in
landmark accuracy was measured on real faces (docs/alignment.md; ``studies/align_template.py
agreement``).

Nothing here imports dlib at module import time: the package works without the extra, and
asking for landmarks without it raises :class:`bigsmall.errors.AlignmentUnavailableError`.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bigsmall.errors import AlignmentUnavailableError
from bigsmall.video.boxes import Box, BoxMapping

#: The one-line error when dlib or its model file is missing.
UNAVAILABLE_MESSAGE: str = (
    "landmark alignment needs the optional extra: pip install 'bigsmall[align]'"
)
#: Package (from the ``face-recognition-models`` distribution) holding dlib's model files.
MODELS_PACKAGE: str = "face_recognition_models"
#: Model files by name, in ``<package>/models/``.
MODEL_FILES: dict[str, str] = {"68": "shape_predictor_68_face_landmarks.dat"}
#: Number of points of the 68-point (iBUG 300-W) scheme.
N_POINTS_68: int = 68


#: Haar box (OpenCV's frontal cascade, as :class:`HaarCascadeDetector` returns it) → the box
#: dlib's HOG detector draws on the same face: median offsets over the neutral training-bucket
#: photos of shared/data/expressions (``studies/align_template.py boxmap``; 300 photos where both
#: detectors found one face).
HAAR_TO_DLIB: BoxMapping = BoxMapping(dx=-0.004, dy=0.088, scale=0.851)
#: Width (px) the expected face is scaled to before dlib's HOG detector runs (its sliding window
#: is 80×80 px, so faces between ~80 and ~130 px are found without upsampling).
HOG_FACE_PX: int = 100
#: HOG searches around a hint box, tried in turn until one finds the face: (side of the region
#: searched, largest distance of a matching detection's centre from the expected one), both in
#: expected-box widths. The first is cheap; the second catches a tracked box that lags a moving
#: face (on a clip whose face sways 90 px, the tracked box was off by a median 0.34 and at most
#: 0.93 face widths).
HOG_SEARCHES: tuple[tuple[float, float], ...] = ((2.0, 0.35), (3.5, 1.0))
#: A HOG detection matches the hint only when its width is within this factor range of the
#: expected box's.
HOG_MATCH_SIZE_RANGE: tuple[float, float] = (0.6, 1.6)
#: Longest side (px) a whole frame is scaled to when there is no hint box.
WHOLE_FRAME_SIDE_PX: int = 640
#: A face box whose grey levels vary less than this (std, 0-255) is blank: no landmarks.
MIN_FACE_STD: float = 4.0


def _models_dir() -> Path | None:
    """``<site-packages>/face_recognition_models/models`` without importing the package (its
    ``__init__`` imports ``pkg_resources``, absent from fresh Python 3.11+ environments)."""
    try:
        spec = importlib.util.find_spec(MODELS_PACKAGE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "models"
        if folder.is_dir():
            return folder
    return None


def model_path(model: str = "68") -> Path:
    """Path of a dlib shape-predictor file: a name of :data:`MODEL_FILES` or a ``.dat`` path.

    Raises :class:`AlignmentUnavailableError` when it is not installed.
    """
    if model not in MODEL_FILES:
        path = Path(model)
        if path.suffix != ".dat":
            raise ValueError(f"unknown landmark model {model!r}; choose from {sorted(MODEL_FILES)}")
        if not path.is_file():
            raise AlignmentUnavailableError(f"{path}: landmark model file not found")
        return path
    folder = _models_dir()
    path = None if folder is None else folder / MODEL_FILES[model]
    if path is None or not path.is_file():
        raise AlignmentUnavailableError(UNAVAILABLE_MESSAGE)
    return path


def _import_dlib() -> Any:
    try:
        return importlib.import_module("dlib")
    except ImportError:
        raise AlignmentUnavailableError(UNAVAILABLE_MESSAGE) from None


def landmarks_available() -> bool:
    """True when dlib imports and the 68-point model file is installed."""
    try:
        _import_dlib()
        model_path("68")
    except AlignmentUnavailableError:
        return False
    return True


_LOAD_LOCK = threading.Lock()
_LOADED: dict[str, tuple[Any, Any]] = {}


def _load(path: Path) -> tuple[Any, Any]:
    """(HOG face detector, shape predictor) for ``path``, loaded once per process."""
    key = str(path.resolve())
    with _LOAD_LOCK:
        if key not in _LOADED:
            dlib = _import_dlib()
            _LOADED[key] = (dlib.get_frontal_face_detector(), dlib.shape_predictor(key))
        return _LOADED[key]


def _rect_to_box(rect: Any) -> Box:
    return Box(
        float(rect.left()),
        float(rect.top()),
        float(rect.right() - rect.left() + 1),
        float(rect.bottom() - rect.top() + 1),
    )


class Landmarker:
    """68-point landmarks of the face in an RGB image (dlib; the ``align`` extra).

    model: ``"68"`` (the packaged iBUG 300-W model) or a path to a 68-point ``.dat`` file.
    box_enlarge: the hint boxes passed to :meth:`__call__` are Haar boxes enlarged by this factor
        about their centre (e.g. 1.5 for the tracked crop box of ``crop="face"``); 1.0 for raw
        :class:`~bigsmall.video.face.HaarCascadeDetector` boxes.

    Raises :class:`AlignmentUnavailableError` (one line naming the extra) when dlib or the model
    file is missing. The model (≈100 MB) is loaded once per process and shared.
    """

    def __init__(self, model: str = "68", box_enlarge: float = 1.0) -> None:
        if box_enlarge <= 0:
            raise ValueError(f"box_enlarge must be > 0, got {box_enlarge}")
        self._dlib = _import_dlib()
        self.model_path = model_path(model)
        self._detector, self._predictor = _load(self.model_path)
        self.box_enlarge = box_enlarge
        #: Counts of how the last calls found their face box (for diagnostics and benchmarks).
        self.stats: dict[str, int] = {"hog": 0, "mapped": 0, "none": 0}

    # -- face boxes -------------------------------------------------------------------------
    def hog_boxes(self, gray: np.ndarray, upsample: int = 0) -> list[tuple[Box, float]]:
        """dlib HOG detections in a (H, W) uint8 image: (box, score) pairs in its pixels."""
        rects, scores, _ = self._detector.run(np.ascontiguousarray(gray), upsample, 0.0)
        return [(_rect_to_box(r), float(s)) for r, s in zip(rects, scores, strict=True)]

    def _hog_near(
        self, gray: np.ndarray, haar: Box, search_coef: float, max_offset: float
    ) -> Box | None:
        """The HOG box matching the Haar box ``haar``, searched in a region ``search_coef``
        times the expected dlib box, within ``max_offset`` widths of its centre."""
        expected = HAAR_TO_DLIB.apply(haar)
        region = expected.enlarge(search_coef).clip(gray.shape[1], gray.shape[0])
        x0, y0, x1, y1 = region.to_int()
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        scale = HOG_FACE_PX / max(expected.w, 1.0)
        patch = gray[y0:y1, x0:x1]
        size = (max(round((x1 - x0) * scale), 1), max(round((y1 - y0) * scale), 1))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        patch = cv2.resize(patch, size, interpolation=interpolation)
        best, best_dist = None, np.inf
        ecx, ecy = expected.center
        lo, hi = HOG_MATCH_SIZE_RANGE
        for found, _ in self.hog_boxes(patch):
            box = Box(found.x / scale + x0, found.y / scale + y0, found.w / scale, found.h / scale)
            cx, cy = box.center
            dist = float(np.hypot(cx - ecx, cy - ecy))
            ratio = box.w / max(expected.w, 1e-6)
            if dist <= max_offset * expected.w and lo <= ratio <= hi and dist < best_dist:
                best, best_dist = box, dist
        return best

    def _hog_whole(self, gray: np.ndarray) -> Box | None:
        """The largest HOG face in the whole image (scaled to :data:`WHOLE_FRAME_SIDE_PX`)."""
        height, width = gray.shape
        scale = min(1.0, WHOLE_FRAME_SIDE_PX / max(height, width))
        small = gray
        if scale < 1:
            small = cv2.resize(
                gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA
            )
        found = self.hog_boxes(small, upsample=1 if max(small.shape) < 400 else 0)
        if not found:
            return None
        box = max((b for b, _ in found), key=lambda b: b.area)
        return Box(box.x / scale, box.y / scale, box.w / scale, box.h / scale)

    def dlib_box(self, gray: np.ndarray, face_box: Box | None) -> tuple[Box | None, str]:
        """The box the shape predictor gets, and how it was found (``hog``/``mapped``/``none``)."""
        if face_box is None:
            box = self._hog_whole(gray)
            return box, "none" if box is None else "hog"
        haar = face_box.enlarge(1.0 / self.box_enlarge) if self.box_enlarge != 1.0 else face_box
        for search_coef, max_offset in HOG_SEARCHES:
            box = self._hog_near(gray, haar, search_coef, max_offset)
            if box is not None:
                return box, "hog"
        mapped = HAAR_TO_DLIB.apply(haar)
        x0, y0, x1, y1 = mapped.clip(gray.shape[1], gray.shape[0]).to_int()
        if x1 - x0 < 8 or y1 - y0 < 8 or float(np.std(gray[y0:y1, x0:x1])) < MIN_FACE_STD:
            return None, "none"
        return mapped, "mapped"

    # -- landmarks --------------------------------------------------------------------------
    def predict(self, gray: np.ndarray, box: Box) -> np.ndarray:
        """(68, 2) float32 landmarks of the face in ``box`` of a (H, W) uint8 image."""
        x0, y0, x1, y1 = box.to_int()
        rect = self._dlib.rectangle(x0, y0, x1 - 1, y1 - 1)
        shape = self._predictor(np.ascontiguousarray(gray), rect)
        return np.array([(p.x, p.y) for p in shape.parts()], np.float32).reshape(N_POINTS_68, 2)

    def __call__(self, rgb: np.ndarray, face_box: Box | None) -> np.ndarray | None:
        """(68, 2) float32 (x, y) landmarks in ``rgb``'s pixels, or ``None`` (no face found).

        rgb: (H, W, 3) uint8 RGB image (a frame or a region of one).
        face_box: the face's Haar box in ``rgb``'s pixels (enlarged by ``box_enlarge``), or
            ``None`` to search the whole image with dlib's HOG detector.
        """
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {rgb.shape} {rgb.dtype}")
        if rgb.shape[0] < 8 or rgb.shape[1] < 8:
            self.stats["none"] += 1
            return None
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        box, how = self.dlib_box(gray, face_box)
        self.stats[how] += 1
        return None if box is None else self.predict(gray, box)
