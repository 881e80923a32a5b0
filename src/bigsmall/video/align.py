"""Landmark face alignment as JAA-Net and JÂA-Net prepare their inputs (NumPy + OpenCV).

Papers: Shao, Liu, Cai, Ma, "Deep Adaptive Attention for Joint Facial Action Unit Detection and
Face Alignment", ECCV 2018 (JAA-Net); Shao, Liu, Cai, Ma, "JÂA-Net: Joint Facial Action Unit
Detection and Face Alignment via Adaptive Attention", IJCV 2021. Both align each face by a
similarity transformation to 200×200×3 and crop 176×176×3 from it (random crop in training,
centre crop in testing), on 49 facial landmarks: the 68-point iBUG scheme without the 17 jaw
points and the two inner mouth corners (60 and 64, 0-based), in the order :data:`INNER_49`.
BigSmall (Narayanswamy et al., WACV 2024) follows them for its † inputs (Table 2) and Table 4.

How the authors' public preprocessing frames the face (read for facts, not copied): it rotates
the face so the two eye centres (means of the six points of each eye) are level, takes the
square around five key points — the eye centres, the nose tip and the two mouth corners —
enlarged 2.9 times about its centre (``box_enlarge = 2.9``), and maps that square onto the
200×200 image; pixels from outside the frame are grey (128). That framing moves with each face's
expression (an open mouth shifts the mouth corners). Here every face is instead mapped by the
least-squares similarity (Umeyama, "Least-squares estimation of transformation parameters
between two point patterns", IEEE TPAMI 1991) of all its 49 points onto one fixed template,
:func:`template_points`, and the template is framed exactly as the authors frame a face: its
five key points centred in the image, their extent × :attr:`AlignSpec.enlarge` filling it. A
neutral face thus lands where the papers' preprocessing would put it, and expression or
landmark noise moves the transform far less (49 points instead of 5).

The template is the generalized Procrustes mean (similarity) of dlib's 68-point landmarks on
300 neutral, near-frontal photos of people in the training person buckets of
shared/data/expressions, made left-right symmetric and rotated so the eyes are level
(``studies/align_template.py template``; numbers in :data:`TEMPLATE_UNIT`).

Border rule: pixels that come from outside the input image are constant grey (128, 128, 128),
as the authors' preprocessing fills them. When the similarity shrinks the face by more than
2×, the input is first reduced with area interpolation (so the bilinear warp does not alias);
the warp itself is bilinear (``cv2.INTER_LINEAR``), and the resize of the crop to
:attr:`AlignSpec.out` uses area interpolation, as BigSmall resizes its Big frames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from bigsmall.constants import EYES_49, INNER_49
from bigsmall.errors import ConfigError
from bigsmall.video.boxes import Box

if TYPE_CHECKING:
    from bigsmall.video.landmarks import Landmarker

#: Key points of the 49-point order used to frame the face (as the authors' preprocessing).
EYE_A_49, EYE_B_49 = EYES_49  # the eye on the image's left (68: 36–41), on its right (42–47)
NOSE_TIP_49: int = 13  # 68: 30
MOUTH_A_49: int = 31  # 68: 48
MOUTH_B_49: int = 37  # 68: 54

#: Grey level of the pixels that come from outside the input image.
BORDER_VALUE: tuple[int, int, int] = (128, 128, 128)
#: A similarity that shrinks the face below this scale first reduces the input (INTER_AREA).
MIN_WARP_SCALE: float = 0.5

#: Name of the template in :meth:`AlignSpec.to_dict` (changes whenever its numbers change).
TEMPLATE_ID: str = "dlib68-expressions-neutral-gpa-v1"

#: The 49-point template (x, y), unit-normalised: the square around its five key points (eye
#: centres, nose tip, mouth corners) is centred at (0, 0) and its larger side is 1 (the key
#: points' extent). x grows to the image's right, y downwards. Derived by
#: ``studies/align_template.py template`` (see the module docstring).
TEMPLATE_UNIT: np.ndarray = np.array(
    [  # brows 0-9, nose 10-18, eyes 19-30, outer lips 31-42, inner lips 43-48
        [-0.8325, -0.6493],
        [-0.7064, -0.7748],
        [-0.5221, -0.8181],
        [-0.3309, -0.7931],
        [-0.1514, -0.7255],
        [+0.1514, -0.7255],
        [+0.3309, -0.7931],
        [+0.5221, -0.8181],
        [+0.7064, -0.7748],
        [+0.8325, -0.6493],
        [+0.0000, -0.5364],
        [+0.0000, -0.3622],
        [+0.0000, -0.1889],
        [+0.0000, -0.0086],
        [-0.2036, +0.1227],
        [-0.1064, +0.1578],
        [+0.0000, +0.1859],
        [+0.1064, +0.1578],
        [+0.2036, +0.1227],
        [-0.6192, -0.4981],
        [-0.5087, -0.5584],
        [-0.3794, -0.5587],
        [-0.2631, -0.4786],
        [-0.3851, -0.4535],
        [-0.5146, -0.4527],
        [+0.2631, -0.4786],
        [+0.3794, -0.5587],
        [+0.5087, -0.5584],
        [+0.6192, -0.4981],
        [+0.5146, -0.4527],
        [+0.3851, -0.4535],
        [-0.3657, +0.5000],
        [-0.2308, +0.4243],
        [-0.0990, +0.3873],
        [+0.0000, +0.4133],
        [+0.0990, +0.3873],
        [+0.2308, +0.4243],
        [+0.3657, +0.5000],
        [+0.2333, +0.5909],
        [+0.1047, +0.6281],
        [+0.0000, +0.6363],
        [-0.1047, +0.6281],
        [-0.2333, +0.5909],
        [-0.1002, +0.4684],
        [+0.0000, +0.4791],
        [+0.1002, +0.4684],
        [+0.1004, +0.5119],
        [+0.0000, +0.5222],
        [-0.1004, +0.5119],
    ],
    np.float64,
)
TEMPLATE_UNIT.setflags(write=False)


@dataclass(frozen=True)
class AlignSpec:
    """How faces are aligned; part of cache keys and of the weights' metadata.

    size: side (px) of the aligned face image (JAA-Net / JÂA-Net: 200).
    crop: side of the centre crop taken from it (papers: 176; random crops in training are the
        trainer's business).
    out: final side after an area resize of the crop (0 = keep ``crop``; e.g. 144 for
        BigSmall's Big branch).
    enlarge: the template's five key points span ``(size - 1) / enlarge`` pixels (the authors'
        preprocessing: ``box_enlarge = 2.9``).
    """

    size: int = 200
    crop: int = 176
    out: int = 0
    enlarge: float = 2.9

    def __post_init__(self) -> None:
        if not (isinstance(self.size, int) and isinstance(self.crop, int)):
            raise ConfigError(f"align: size and crop must be integers, got {self}")
        if not isinstance(self.out, int):
            raise ConfigError(f"align: out must be an integer, got {self.out!r}")
        if self.size < 16 or not 0 < self.crop <= self.size or self.out < 0:
            raise ConfigError(
                f"align: need size >= 16, 0 < crop <= size, out >= 0 (got size={self.size}, "
                f"crop={self.crop}, out={self.out})"
            )
        if not np.isfinite(self.enlarge) or self.enlarge < 1.0:
            raise ConfigError(f"align: enlarge must be >= 1, got {self.enlarge}")

    @property
    def out_side(self) -> int:
        """Side (px) of the aligned images returned."""
        return self.out or self.crop

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (with the template's id) for cache keys and weights metadata."""
        return {**asdict(self), "template": TEMPLATE_ID}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlignSpec:
        """Inverse of :meth:`to_dict`; one-line :class:`ConfigError` for unknown keys or a
        different template (weights aligned with another template)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names - {"template"})
        if unknown:
            raise ConfigError(f"align: unknown key(s) {', '.join(unknown)}; known: {sorted(names)}")
        template = d.get("template", TEMPLATE_ID)
        if template != TEMPLATE_ID:
            raise ConfigError(
                f"align: template {template!r} is not this version's {TEMPLATE_ID!r}; "
                "re-create the aligned data with this version"
            )
        values = {k: v for k, v in d.items() if k in names}
        for key in ("size", "crop", "out"):
            if key in values and isinstance(values[key], float) and values[key].is_integer():
                values[key] = int(values[key])
        if "enlarge" in values:
            values["enlarge"] = float(values["enlarge"])
        return cls(**values)


def template_points(spec: AlignSpec = AlignSpec()) -> np.ndarray:
    """(49, 2) float64 template positions (x, y) in the ``size`` × ``size`` aligned image."""
    centre = (spec.size - 1) / 2.0
    return centre + TEMPLATE_UNIT * ((spec.size - 1) / spec.enlarge)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, shift; no reflection) src → dst.

    src, dst: (K, 2) corresponding points, K >= 2. Returns the (2, 3) float64 matrix ``M`` that
    minimises ``sum |M @ [x, y, 1] - dst|²`` (Umeyama 1991; in 2-D the rotation-and-scale part
    ``[[a, -b], [b, a]]`` has the closed form below). Raises ``ValueError`` for non-finite or
    coincident points.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 2:
        raise ValueError(f"need two (K, 2) point sets with K >= 2, got {src.shape}, {dst.shape}")
    if not (np.isfinite(src).all() and np.isfinite(dst).all()):
        raise ValueError("points must be finite")
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    s, d = src - src_mean, dst - dst_mean
    norm = float(np.sum(s * s))
    if norm <= 1e-12 * max(1.0, float(np.abs(src).max()) ** 2):
        raise ValueError("source points coincide; no similarity is defined")
    a = float(np.sum(s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1])) / norm
    b = float(np.sum(s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0])) / norm
    rot = np.array([[a, -b], [b, a]])
    shift = dst_mean - rot @ src_mean
    return np.hstack([rot, shift[:, None]])


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(K, 2) points mapped by a (2, 3) affine matrix → (K, 2) float64."""
    points = np.asarray(points, np.float64)
    matrix = np.asarray(matrix, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """(2, 3) matrix of ``outer ∘ inner``."""
    return np.hstack(
        [outer[:, :2] @ inner[:, :2], (outer[:, :2] @ inner[:, 2] + outer[:, 2])[:, None]]
    )


def _inner_points(landmarks: np.ndarray) -> np.ndarray:
    points = np.asarray(landmarks, np.float64)
    if points.shape == (68, 2):
        return points[list(INNER_49)]
    if points.shape == (49, 2):
        return points
    raise ValueError(f"expected (68, 2) or (49, 2) landmarks, got {points.shape}")


@dataclass(frozen=True)
class AlignedFace:
    """One aligned face.

    image: (out_side, out_side, 3) uint8 aligned RGB face.
    landmarks: (49, 2) float32 (x, y) of its 49 points in ``image``'s pixels.
    matrix: (2, 3) float64 affine map from input-image pixels to ``image`` pixels.
    """

    image: np.ndarray
    landmarks: np.ndarray
    matrix: np.ndarray


def _resize_matrix(ratio_x: float, ratio_y: float) -> np.ndarray:
    """(2, 3) map of pixel coordinates under ``cv2.resize`` by these ratios (OpenCV maps pixel
    centres: ``x_out = (x_in + 0.5) * ratio - 0.5``)."""
    return np.array([[ratio_x, 0.0, 0.5 * ratio_x - 0.5], [0.0, ratio_y, 0.5 * ratio_y - 0.5]])


def _crop_matrix(points49: np.ndarray, spec: AlignSpec) -> np.ndarray:
    """(2, 3) map from input pixels to the centre ``crop``² of the ``size``² aligned image."""
    to_full = similarity_transform(points49, template_points(spec))
    offset = (spec.size - spec.crop) // 2
    return to_full - np.array([[0.0, 0.0, offset], [0.0, 0.0, offset]])


def alignment_matrix(landmarks: np.ndarray, spec: AlignSpec = AlignSpec()) -> np.ndarray:
    """(2, 3) float64 map from input pixels to the ``out_side``² output of :func:`align_face`.

    landmarks: (68, 2) or (49, 2) (x, y) in input pixels.
    """
    to_crop = _crop_matrix(_inner_points(landmarks), spec)
    if spec.out_side == spec.crop:
        return to_crop
    ratio = spec.out_side / spec.crop
    return _compose(_resize_matrix(ratio, ratio), to_crop)


def align_face(
    rgb: np.ndarray,
    landmarks68: np.ndarray,
    spec: AlignSpec = AlignSpec(),
) -> AlignedFace:
    """Align a face: similarity from its 49 points to the template, warp to ``size``², centre
    crop ``crop``², area resize to ``out``² when set. Deterministic.

    rgb: (H, W, 3) uint8 image; landmarks68: (68, 2) or (49, 2) (x, y) in its pixels.
    Returns an :class:`AlignedFace` ((out_side, out_side, 3) uint8 image, (49, 2) landmarks in
    it, the (2, 3) input → output matrix). Raises ``ValueError`` for bad shapes or degenerate
    (non-finite, coincident) landmarks.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    points = _inner_points(landmarks68)
    to_crop = _crop_matrix(points, spec)
    # Warping straight into the crop gives the pixels of warping to size² and then cropping.
    source, warp = rgb, to_crop
    scale = float(np.hypot(to_crop[0, 0], to_crop[1, 0]))
    if scale < MIN_WARP_SCALE:
        # Reduce the input first (area interpolation), so the bilinear warp does not alias.
        factor = scale / MIN_WARP_SCALE
        width = max(round(rgb.shape[1] * factor), 1)
        height = max(round(rgb.shape[0] * factor), 1)
        source = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)
        fx, fy = width / rgb.shape[1], height / rgb.shape[0]
        # reduced pixels → input pixels, then input → crop
        warp = _compose(to_crop, _resize_matrix(1.0 / fx, 1.0 / fy))
    image = cv2.warpAffine(
        np.ascontiguousarray(source),
        warp,
        (spec.crop, spec.crop),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=BORDER_VALUE,
    )
    matrix = to_crop
    if spec.out_side != spec.crop:
        image = cv2.resize(image, (spec.out_side, spec.out_side), interpolation=cv2.INTER_AREA)
        ratio = spec.out_side / spec.crop
        matrix = _compose(_resize_matrix(ratio, ratio), to_crop)
    out_points = transform_points(points, matrix).astype(np.float32)
    return AlignedFace(image=image, landmarks=out_points, matrix=matrix)


class FaceAligner:
    """Landmarks (dlib, :class:`~bigsmall.video.landmarks.Landmarker`) + :func:`align_face`.

    spec: the alignment. landmarker: a shared landmarker, or ``None`` to create one on the first
    call (that call raises :class:`~bigsmall.errors.AlignmentUnavailableError` without the
    ``align`` extra). box_enlarge: passed to the landmarker it creates (how much the caller's
    face boxes were enlarged from the Haar detector's; 1.5 for ``crop="face"`` crop boxes).
    """

    def __init__(
        self,
        spec: AlignSpec = AlignSpec(),
        landmarker: Landmarker | None = None,
        box_enlarge: float = 1.0,
    ) -> None:
        self.spec = spec
        self._landmarker = landmarker
        self.box_enlarge = box_enlarge
        #: Frames aligned and frames skipped (no face or degenerate landmarks).
        self.aligned = 0
        self.skipped = 0

    @property
    def landmarker(self) -> Landmarker:
        if self._landmarker is None:
            from bigsmall.video.landmarks import Landmarker

            self._landmarker = Landmarker(box_enlarge=self.box_enlarge)
        return self._landmarker

    def __call__(self, rgb: np.ndarray, face_box: Box | None) -> AlignedFace | None:
        """Aligned face of ``rgb`` ((H, W, 3) uint8 region of a frame), or ``None`` when no face
        or no usable landmarks are found (a counted skip: :attr:`skipped`).

        face_box: the face's box in ``rgb``'s pixels (Haar, enlarged by ``box_enlarge``), or
        ``None`` to search the whole region.
        """
        points = self.landmarker(rgb, face_box)
        if points is None:
            self.skipped += 1
            return None
        try:
            face = align_face(rgb, points, self.spec)
        except ValueError:
            self.skipped += 1
            return None
        self.aligned += 1
        return face
