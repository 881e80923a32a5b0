"""What the frame compositor animates: a still scene with a face, its masks and landmarks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Landmark names every face asset provides, (x, y) pixels in the asset's frame.
LANDMARKS: tuple[str, ...] = (
    "eye_l", "eye_r",  # eye centres (l = image left)
    "brow_inner_l", "brow_inner_r", "brow_outer_l", "brow_outer_r",
    "nose_tip", "nose_wing_l", "nose_wing_r",
    "mouth_l", "mouth_r", "lip_upper", "lip_lower",
    "cheek_l", "cheek_r", "chin",
)  # fmt: skip


@dataclass
class FaceAsset:
    """A still person in front of a background, ready to animate.

    ``person``: (H, W, 3) float32 RGB in [0, 1], the moving layer (head and shoulders; for a
    photo, the whole frame). ``alpha``: (H, W) float32 coverage of ``person`` over
    ``background`` (all ones for a photo). ``background``: (H, W, 3) float32 or ``None``
    (photo). ``skin``: (H, W) float32 soft skin mask in [0, 1] (cheeks, forehead, nose, neck;
    no eyes, brows, lips, hair). ``landmarks``: name -> (x, y) in pixels.
    ``face_box``: (x, y, w, h) of the face in pixels. ``pivot``: (x, y) the head rotates about.
    ``source``: where the face comes from (``"procedural"`` or a file name).
    ``skin_tone``: a number in [0, 1] (0 = lightest, 1 = darkest) or ``None`` when unknown.
    ``base_aus``: AUs the still face already shows (a photo of a smile: AU06, AU12); they are
    labelled present on every frame of its videos.
    """

    person: np.ndarray
    alpha: np.ndarray
    background: np.ndarray | None
    skin: np.ndarray
    landmarks: dict[str, tuple[float, float]]
    face_box: tuple[float, float, float, float]
    pivot: tuple[float, float]
    source: str
    skin_tone: float | None
    skin_rgb: tuple[float, float, float]
    base_aus: tuple[str, ...] = ()

    @property
    def height(self) -> int:
        return int(self.person.shape[0])

    @property
    def width(self) -> int:
        return int(self.person.shape[1])

    @property
    def interocular_px(self) -> float:
        (xl, yl), (xr, yr) = self.landmarks["eye_l"], self.landmarks["eye_r"]
        return float(np.hypot(xr - xl, yr - yl))


def landmarks_from_box(
    box: tuple[float, float, float, float],
    eyes: tuple[tuple[float, float], tuple[float, float]] | None = None,
) -> dict[str, tuple[float, float]]:
    """Typical landmark positions for a frontal face box (Haar-style: brows to mouth/chin).

    Proportions follow average frontal-face anthropometry for the OpenCV frontal cascade's box
    (eyes at ~40% of its height, mouth at ~78%). ``eyes``, when given (e.g. from an eye
    detector), fixes the eye centres and the horizontal scale.
    """
    x, y, w, h = box
    if eyes is None:
        eyes = ((x + 0.31 * w, y + 0.40 * h), (x + 0.69 * w, y + 0.40 * h))
    (xl, yl), (xr, yr) = eyes
    cx = (xl + xr) / 2
    iod = xr - xl
    ey = (yl + yr) / 2
    unit = iod / 0.38  # face-box width implied by the eyes

    def at(du: float, dv: float) -> tuple[float, float]:
        return (cx + du * unit, ey + dv * unit)

    return {
        "eye_l": (xl, yl),
        "eye_r": (xr, yr),
        "brow_inner_l": at(-0.09, -0.12),
        "brow_inner_r": at(0.09, -0.12),
        "brow_outer_l": at(-0.29, -0.11),
        "brow_outer_r": at(0.29, -0.11),
        "nose_tip": at(0.0, 0.22),
        "nose_wing_l": at(-0.08, 0.24),
        "nose_wing_r": at(0.08, 0.24),
        "mouth_l": at(-0.15, 0.38),
        "mouth_r": at(0.15, 0.38),
        "lip_upper": at(0.0, 0.345),
        "lip_lower": at(0.0, 0.42),
        "cheek_l": at(-0.22, 0.17),
        "cheek_r": at(0.22, 0.17),
        "chin": at(0.0, 0.58),
    }
