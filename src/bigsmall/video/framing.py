"""Face crops that reproduce the BP4D+ framing the released BigSmall weights were trained on.

Narayanswamy et al., BigSmall, WACV 2024 (arXiv:2303.11573): on BP4D+ (Zhang et al., CVPR 2016)
the reference never detects a face; each 1040×1392 portrait frame is cut to its bottom
1040×1040 square and resized to 144×144. The released Big_AU weights only ever saw that framing,
and their AU outputs change strongly with a crop's scale and position. On other video the
same framing must be rebuilt from a detected face box: a square of side ``scale`` face widths
whose centre is offset from the face box's centre by ``(dx, dy)`` face widths.

How :data:`BP4D_FRAMING` was chosen (no BP4D+ frames are available here, so this is an
estimate, not a measurement of BP4D+): with OpenCV's Haar face box on the project's test
photos (``single_face.jpg``, a smiling face; 12 frames of ``single_face.mp4``, a neutral face of
the same person), crop squares were swept over scale 1.2–3.4 face widths and vertical offset
−0.9…+0.6 face widths in steps of 0.2 and 0.1, and the mean Big_AU probability of AU06 + AU12
(cheek raiser, lip corner puller; three released folds averaged) on the smile minus that on the
neutral frames was computed. The chosen framing maximises that score averaged over its 3×3
grid neighbourhood (0.69): there the smile reads AU06 0.91, AU07 0.87, AU10 0.72, AU12 0.71
(a Duchenne smile) while the neutral frames read < 0.3 for every AU and ≈ 0 for AU06/AU12.
The toolbox's framing (box enlarged 1.5× about its centre) gives AU12 0.01 on the same smile.
Held-out check on ``multi_face.jpg`` (not used for the choice; Haar finds three smiling faces
and one neutral one): over a 7×4 grid of scale × offset, this framing separates them best
(fold-mean AU06/AU12 0.65, 0.79, 0.74 on the smiles, 0.17 on the neutral face; toolbox-like
framing 0.64, 0.38, 0.30 vs 0.00).
The face box then spans 1/2.6 ≈ 38 % of the square's width and its centre sits at ≈ 62 % of
the square's height: the head in the lower middle of BP4D+'s bottom square. This is one
person and two recordings: an estimate from the model's behaviour, not a BP4D+ measurement;
outputs change noticeably within ±10 % of it (see the project README for the stability
numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from bigsmall.video.boxes import Box, FaceTracker
from bigsmall.video.crop import BIG_SIZE_HW, bp4d_square_box
from bigsmall.video.face import FaceDetector
from bigsmall.video.frame_views import FrameView


@dataclass(frozen=True)
class Framing:
    """A square crop relative to a face box.

    Attributes:
        scale: crop side in face-box widths.
        dx: horizontal offset of the crop centre from the face-box centre, in face widths
            (positive: crop centre to the right, the face appears further left).
        dy: vertical offset, in face widths (negative: crop centre above the face centre, the
            face appears in the lower part of the crop).
    """

    scale: float
    dx: float = 0.0
    dy: float = 0.0


#: Estimated BP4D+ framing for Haar face boxes (see module docstring for how it was chosen).
BP4D_FRAMING = Framing(scale=2.6, dx=0.0, dy=-0.3)
#: The toolbox's generic framing: the face box enlarged 1.5× about its centre.
TOOLBOX_FRAMING = Framing(scale=1.5, dx=0.0, dy=0.0)

#: Named framings.
FRAMINGS: dict[str, Framing] = {"bp4d_framing": BP4D_FRAMING, "toolbox": TOOLBOX_FRAMING}


def framing_box(face: Box, framing: Framing = BP4D_FRAMING) -> Box:
    """The square crop box for ``face`` under ``framing`` (may extend beyond the frame)."""
    side = framing.scale * face.w
    cx, cy = face.center
    cx += framing.dx * face.w
    cy += framing.dy * face.w
    return Box(cx - side / 2, cy - side / 2, side, side)


def crop_square_padded(
    frame: np.ndarray,
    box: Box,
    size_hw: tuple[int, int] = BIG_SIZE_HW,
    border: int = cv2.BORDER_REPLICATE,
) -> np.ndarray:
    """Crop ``box`` from (H, W, C) ``frame``, padding outside the frame, and area-resize.

    Unlike :func:`bigsmall.video.crop.crop_resize` the box is not clipped, so the face keeps
    its scale and position in the crop when the box leaves the frame (edge pixels are
    replicated by default). Returns (size_h, size_w, C) of the frame's dtype.
    """
    x0, y0, x1, y1 = box.to_int()
    height, width = frame.shape[:2]
    pad = max(0, -x0, -y0, x1 - width, y1 - height)
    if pad:
        frame = cv2.copyMakeBorder(frame, pad, pad, pad, pad, border)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    crop = frame[y0:y1, x0:x1]
    if crop.size == 0:
        raise ValueError(f"empty crop box {box}")
    return cv2.resize(crop, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA)


def crop_framed(
    frame: np.ndarray,
    face: Box,
    framing: Framing = BP4D_FRAMING,
    size_hw: tuple[int, int] = BIG_SIZE_HW,
) -> np.ndarray:
    """(H, W, C) frame → (size_h, size_w, C) crop of ``face`` under ``framing``."""
    return crop_square_padded(frame, framing_box(face, framing), size_hw)


def crop_framed_frames(
    frames: np.ndarray,
    faces: Sequence[Box],
    framing: Framing = BP4D_FRAMING,
    size_hw: tuple[int, int] = BIG_SIZE_HW,
) -> np.ndarray:
    """(T, H, W, C) frames with one face box each → (T, size_h, size_w, C) crops."""
    if len(faces) != len(frames):
        raise ValueError(f"{len(frames)} frames but {len(faces)} face boxes")
    return np.stack(
        [crop_framed(f, b, framing, size_hw) for f, b in zip(frames, faces, strict=True)]
    )


def nearby_framings(
    framing: Framing = BP4D_FRAMING,
    rel_scales: Sequence[float] = (-0.1, -0.05, 0.0, 0.05, 0.1),
    shifts: Sequence[float] = (-0.1, -0.05, 0.0, 0.05, 0.1),
) -> list[Framing]:
    """Perturbed framings around ``framing`` for stability checks.

    ``rel_scales``: relative changes of the crop side (±5–10 %); ``shifts``: offsets of the
    crop centre as fractions of the **crop side**, applied horizontally and vertically one at a
    time (not combined). The unperturbed framing is included once.
    """
    out = [framing]
    for r in rel_scales:
        if r:
            out.append(replace(framing, scale=framing.scale * (1 + r)))
    for s in shifts:
        if s:
            step = s * framing.scale
            out.append(replace(framing, dx=framing.dx + step))
            out.append(replace(framing, dy=framing.dy + step))
    return out


# ---------------------------------------------------------------------------- crop modes
# The one vocabulary of crops (``PreprocessConfig.crop``, a dataset's ``Recording.crop``, the
# ``crop`` of a weights record, ``build_bigsmall_inputs(crop=...)``):
#
# * ``face``: the tracked face box (OpenCV Haar) enlarged 1.5× about its centre (the toolbox's).
# * ``bp4d``: the bottom W×W square of a portrait frame, no detection (the reference on BP4D+).
# * ``bp4d_framing``: that framing rebuilt on other video from the tracked face box
#   (:data:`BP4D_FRAMING`, what the authors' BP4D+ weights learned), padded where it leaves
#   the frame.
# * ``full``: the whole frame.


#: With a gliding box, a detection is skipped when the picture inside the box has not changed
#: since the last one taken: the mean absolute difference of the crop's 24 × 24 grey thumbnails
#: is below this (grey levels). Static photos with camera noise and H.264 read 0.03–0.24 per
#: second; swaying, talking and breathing faces 0.5–50. A face cannot move without changing the
#: picture, while the detector's boxes on an unchanged picture scatter (on a tight photo it
#: alternated between two wrong boxes, and the crop's moves read as a 61.5-bpm pulse).
STILL_SCENE_GREY_LEVELS: float = 0.5
_THUMB_SIDE: int = 24


def _thumbnail(crop_rgb: np.ndarray) -> np.ndarray | None:
    """(24, 24) float32 grey thumbnail of an RGB crop (``None`` for an empty one)."""
    if crop_rgb.size == 0:
        return None
    grey = cv2.cvtColor(np.ascontiguousarray(crop_rgb), cv2.COLOR_RGB2GRAY)
    side = (_THUMB_SIDE, _THUMB_SIDE)
    return cv2.resize(grey, side, interpolation=cv2.INTER_AREA).astype(np.float32)


class FacePolicy:
    """The ``face`` crop's per-frame ``view → (crop box or None, face found)``, tracking the face
    between detections; :attr:`unclipped_box` is the current crop box before the frame clipped
    it (what a Big frame cut at another framing scales, :mod:`bigsmall.video.reframe`).

    With ``glide_box`` a detection is skipped while the picture inside the box is unchanged
    since the last one taken (:data:`STILL_SCENE_GREY_LEVELS`): a still face's crop stays put.
    """

    def __init__(
        self,
        detector: FaceDetector,
        every_k_frames: int,
        enlarge_coef: float,
        square: bool,
        glide_box: bool = False,
    ) -> None:
        self.detector, self.every_k_frames = detector, every_k_frames
        self.enlarge_coef, self.square = enlarge_coef, square
        self.glide_box = glide_box
        self.tracker: FaceTracker | None = None
        # a region of the frame and its thumbnail when the last detection was taken
        self._seen: tuple[Box, np.ndarray | None] | None = None

    @property
    def unclipped_box(self) -> Box | None:
        return None if self.tracker is None else self.tracker.unclipped_box

    @property
    def last_face(self) -> Box | None:
        """The face box of the last detection (``None`` before a face or after a miss)."""
        return None if self.tracker is None else self.tracker.last_face

    def __call__(self, view: FrameView) -> tuple[Box | None, bool]:
        tracker = self.tracker
        if tracker is None:
            tracker = self.tracker = FaceTracker(
                view.width,
                view.height,
                self.every_k_frames,
                self.enlarge_coef,
                self.square,
                glide=self.glide_box,
            )
        # Until a face is first found, look on every frame.
        if tracker.box is None or tracker.wants_detection():
            if tracker.box is not None and self._unchanged(view):
                return tracker.update(None)  # nothing moved: keep the box
            near = tracker.last_face
            faces = view.detect(self.detector, near)
            if not faces and near is not None:
                # Lost near the last face (moved, or too coarse at the tracking scale): search
                # the whole frame now rather than holding a stale box for a whole period.
                faces = view.detect(self.detector, None)
            box, found = tracker.update(faces)
            seen = box if self.glide_box and faces else None
            self._seen = None if seen is None else (seen, _thumbnail(view.crop(seen)))
            return box, found
        return tracker.update(None)

    def _unchanged(self, view: FrameView) -> bool:
        """True when the region seen at the last detection taken looks as it did then."""
        if self._seen is None:
            return False
        region, before = self._seen
        now = _thumbnail(view.crop(region))
        if before is None or now is None:
            return False
        return float(np.mean(np.abs(now - before))) < STILL_SCENE_GREY_LEVELS


def framing_policy(
    detector: FaceDetector, every_k_frames: int, framing: Framing, glide_box: bool = False
) -> Callable[[FrameView], tuple[Box | None, bool]]:
    """Track the face box itself (no enlargement) and frame it as ``framing`` says; the box may
    leave the frame (see :func:`padded_crop`)."""
    return FramingPolicy(FacePolicy(detector, every_k_frames, 1.0, False, glide_box), framing)


class FramingPolicy:
    """A framing's per-frame ``view → (crop box or None, face found)``: the tracked face box
    (:class:`FacePolicy`, not enlarged) framed as ``framing`` says."""

    def __init__(self, track: FacePolicy, framing: Framing) -> None:
        self.track, self.framing = track, framing

    @property
    def last_face(self) -> Box | None:
        return self.track.last_face

    def __call__(self, view: FrameView) -> tuple[Box | None, bool]:
        box, found = self.track(view)
        return (None if box is None else framing_box(box, self.framing)), found


def plain_crop(view: FrameView, box: Box | None) -> np.ndarray:
    return view.crop(box)


def padded_crop(view: FrameView, box: Box | None) -> np.ndarray:
    """The crop of ``box`` with the parts outside the frame filled by replicating edge pixels
    (what :func:`bigsmall.video.framing.crop_square_padded` does on a whole RGB frame)."""
    crop = view.crop(box)
    if box is None:
        return crop
    x0, y0, x1, y1 = box.to_int()
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = max(0, y1 - view.height), max(0, x1 - view.width)
    if top or left or bottom or right:
        crop = cv2.copyMakeBorder(crop, top, bottom, left, right, cv2.BORDER_REPLICATE)
    return crop


def bp4d_policy(view: FrameView) -> tuple[Box | None, bool]:
    return bp4d_square_box(view.width, view.height), True


def full_policy(view: FrameView) -> tuple[Box | None, bool]:
    return Box(0.0, 0.0, float(view.width), float(view.height)), True


#: Crop modes: ``face`` (detect + track), ``bp4d`` (bottom square, no detection), ``full``.
CROP_MODES: tuple[str, ...] = ("face", "bp4d", "full", "bp4d_framing")
#: Crop modes that detect the face.
DETECTING_MODES: frozenset[str] = frozenset({"face", "bp4d_framing"})
#: Crop modes whose box may extend past the frame (the crop is padded, not clipped).
PADDED_MODES: frozenset[str] = frozenset({"bp4d_framing"})


def crop_policy(
    crop: str,
    detector: FaceDetector,
    every_k_frames: int,
    enlarge_coef: float,
    square: bool = False,
    glide_box: bool = False,
) -> Callable[[FrameView], tuple[Box | None, bool]]:
    """A per-frame ``view → (crop box or None, face found)`` function for ``crop`` (one of
    :data:`CROP_MODES`); detecting modes keep their tracking state inside
    (``glide_box``: see :class:`bigsmall.video.boxes.FaceTracker`)."""
    if crop == "face":
        return FacePolicy(detector, every_k_frames, enlarge_coef, square, glide_box)
    if crop == "bp4d_framing":
        return framing_policy(detector, every_k_frames, BP4D_FRAMING, glide_box)
    if crop == "bp4d":
        return bp4d_policy
    if crop == "full":
        return full_policy
    raise ValueError(f"unknown crop mode {crop!r}; choose from {CROP_MODES}")


def cut_crop(crop: str) -> Callable[[FrameView, Box | None], np.ndarray]:
    """How ``crop``'s box is cut: padded (a framing may leave the frame) or clipped."""
    return padded_crop if crop in PADDED_MODES else plain_crop
