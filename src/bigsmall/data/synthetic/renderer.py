"""Procedural head-and-shoulders renderer (the synthetic dataset's default face source).

Draws, once per trial, a frontal face that OpenCV's frontal-face Haar cascade (Viola & Jones,
CVPR 2001) detects: a shaded skin ellipse (Lambertian shading of an ellipsoid under a random
light direction), ears, neck and shoulders in clothing, hair in one of several styles,
eyes with whites, iris and pupil, eyelid lines, brows, nose shading and nostrils, lips,
mild skin texture, in front of a textured background (gradients, blotches, blurred
furniture-like rectangles). Geometry varies per subject (face size and aspect, eye spacing,
brow thickness, lip size...). Everything is drawn at :data:`SUPERSAMPLE` times the frame size
and area-downsampled for smooth, anti-aliased edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from bigsmall.data.synthetic.asset import FaceAsset, landmarks_from_box

SUPERSAMPLE: int = 2
#: Skin colours (sRGB, [0, 1]) from very light to very dark, interpolated by ``skin_tone``.
SKIN_PALETTE: np.ndarray = np.array(
    [
        [0.96, 0.80, 0.70],
        [0.88, 0.68, 0.55],
        [0.76, 0.55, 0.40],
        [0.62, 0.42, 0.29],
        [0.48, 0.31, 0.20],
        [0.38, 0.24, 0.15],
        [0.30, 0.18, 0.12],
    ],
    dtype=np.float32,
)
HAIR_PALETTE: np.ndarray = np.array(
    [[0.05, 0.04, 0.03], [0.20, 0.12, 0.06], [0.40, 0.26, 0.12], [0.70, 0.55, 0.30],
     [0.55, 0.20, 0.08], [0.60, 0.60, 0.60], [0.12, 0.10, 0.10]],
    dtype=np.float32,
)  # fmt: skip
IRIS_PALETTE: np.ndarray = np.array(
    [[0.25, 0.15, 0.07], [0.12, 0.08, 0.05], [0.25, 0.40, 0.55], [0.30, 0.40, 0.25]],
    dtype=np.float32,
)
HAIR_STYLES: tuple[str, ...] = ("short", "long", "bald", "bun")


@dataclass(frozen=True)
class SubjectLook:
    """A subject's fixed identity (sampled once per subject)."""

    skin_tone: float  # 0 lightest .. 1 darkest
    skin_rgb: tuple[float, float, float]
    hair_rgb: tuple[float, float, float]
    iris_rgb: tuple[float, float, float]
    hair_style: str
    face_width_frac: float  # face width / frame width
    face_aspect: float  # face height / width
    eye_spacing: float  # inter-ocular distance / face width
    brow_thickness: float  # relative
    lip_fullness: float  # relative
    lip_rgb: tuple[float, float, float]
    clothes_rgb: tuple[float, float, float]
    texture_seed: int


def sample_look(rng: np.random.Generator) -> SubjectLook:
    """Draw a subject's identity; skin tone uniform over the palette (incl. very dark)."""
    tone = float(rng.uniform())
    position = tone * (len(SKIN_PALETTE) - 1)
    low = int(np.floor(position))
    high = min(low + 1, len(SKIN_PALETTE) - 1)
    skin = SKIN_PALETTE[low] * (1 - (position - low)) + SKIN_PALETTE[high] * (position - low)
    skin = np.clip(skin * rng.normal(1.0, 0.04, 3), 0.02, 1.0)  # redness / yellowness jitter
    lip = np.clip(skin * np.array([0.85, 0.60, 0.62]) * rng.uniform(0.85, 1.05), 0.02, 1.0)
    if rng.uniform() < 0.3:  # lipstick-like
        lip = np.clip(lip * np.array([1.2, 0.8, 0.85]), 0.02, 1.0)
    return SubjectLook(
        skin_tone=tone,
        skin_rgb=tuple(float(v) for v in skin),
        hair_rgb=tuple(float(v) for v in HAIR_PALETTE[rng.integers(len(HAIR_PALETTE))]),
        iris_rgb=tuple(float(v) for v in IRIS_PALETTE[rng.integers(len(IRIS_PALETTE))]),
        hair_style=HAIR_STYLES[int(rng.integers(len(HAIR_STYLES)))],
        face_width_frac=float(rng.uniform(0.26, 0.40)),
        face_aspect=float(rng.uniform(1.22, 1.42)),
        eye_spacing=float(rng.uniform(0.36, 0.42)),
        brow_thickness=float(rng.uniform(0.7, 1.4)),
        lip_fullness=float(rng.uniform(0.7, 1.3)),
        lip_rgb=tuple(float(v) for v in lip),
        clothes_rgb=tuple(float(v) for v in rng.uniform(0.05, 0.9, 3)),
        texture_seed=int(rng.integers(2**31)),
    )


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """Zero-mean unit-ish random field (H, W) with about ``cells`` blobs across."""
    height, width = shape
    grid = rng.standard_normal((max(cells * height // width, 2), max(cells, 2))).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def render_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Textured indoor-like background (H, W, 3) float32 in [0, 1]."""
    base = rng.uniform(0.15, 0.85, 3).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    gradient = rng.uniform(-0.25, 0.25) * (xx / width - 0.5) + rng.uniform(-0.25, 0.25) * (
        yy / height - 0.5
    )
    image = base[None, None, :] * (1 + gradient[..., None])
    for _ in range(int(rng.integers(1, 6))):  # furniture / door / shelf-like blocks
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(width // 10, width // 2)), int(rng.integers(height // 10, height))
        colour = rng.uniform(0.05, 0.95, 3).astype(np.float32)
        cv2.rectangle(image, (x0, y0), (x0 + w, y0 + h), colour.tolist(), -1)
    image *= 1 + 0.15 * _smooth_noise(rng, (height, width), int(rng.integers(3, 12)))[..., None]
    image += 0.02 * rng.standard_normal((height, width, 3)).astype(np.float32)
    blur = int(rng.choice([1, 3, 5]))
    image = cv2.GaussianBlur(image, (blur, blur), 0) if blur > 1 else image
    return np.clip(image, 0.0, 1.0)


def render_procedural(
    look: SubjectLook, height: int, width: int, rng: np.random.Generator
) -> FaceAsset:
    """Draw the subject's head and shoulders (trial-specific placement and light)."""
    ss = SUPERSAMPLE
    big_h, big_w = height * ss, width * ss
    face_w = look.face_width_frac * width * rng.uniform(0.93, 1.07)
    face_h = face_w * look.face_aspect
    cx = width / 2 + rng.uniform(-0.08, 0.08) * width
    cy = height * 0.45 + rng.uniform(-0.05, 0.05) * height
    skin = np.asarray(look.skin_rgb, np.float32)
    hair = np.asarray(look.hair_rgb, np.float32)

    person = np.zeros((big_h, big_w, 3), np.float32)
    alpha = np.zeros((big_h, big_w), np.float32)
    skin_mask = np.zeros((big_h, big_w), np.float32)

    def pt(x: float, y: float) -> tuple[int, int]:
        return (round(x * ss), round(y * ss))

    def ax(a: float, b: float) -> tuple[int, int]:
        return (max(round(a * ss), 1), max(round(b * ss), 1))

    def fill_ellipse(
        target: np.ndarray,
        centre: tuple[float, float],
        axes: tuple[float, float],
        colour: float | tuple[float, ...],
        angle: float = 0.0,
    ) -> None:
        value = colour if isinstance(colour, tuple) else (colour,) * 3
        cv2.ellipse(
            target,
            pt(*centre),
            ax(*axes),
            angle,
            0,
            360,
            value[: target.shape[-1] if target.ndim == 3 else 1],
            -1,
            cv2.LINE_AA,
        )

    # body: shoulders and neck
    clothes = tuple(float(v) for v in look.clothes_rgb)
    shoulder_y = cy + face_h * 0.95
    fill_ellipse(person, (cx, shoulder_y + face_h * 0.55), (face_w * 1.5, face_h * 0.75), clothes)
    fill_ellipse(alpha, (cx, shoulder_y + face_h * 0.55), (face_w * 1.5, face_h * 0.75), 1.0)
    neck = (pt(cx - face_w * 0.24, cy), pt(cx + face_w * 0.24, shoulder_y + face_h * 0.05))
    neck_colour = tuple(float(v) for v in skin * 0.82)
    cv2.rectangle(person, *neck, neck_colour, -1, cv2.LINE_AA)
    cv2.rectangle(alpha, *neck, 1.0, -1, cv2.LINE_AA)
    cv2.rectangle(skin_mask, *neck, 1.0, -1, cv2.LINE_AA)
    # hair behind the head
    if look.hair_style == "long":
        fill_ellipse(
            person, (cx, cy + face_h * 0.1), (face_w * 0.68, face_h * 0.68), tuple(hair.tolist())
        )
        fill_ellipse(alpha, (cx, cy + face_h * 0.1), (face_w * 0.68, face_h * 0.68), 1.0)
    if look.hair_style == "bun":
        fill_ellipse(
            person, (cx, cy - face_h * 0.55), (face_w * 0.22, face_h * 0.14), tuple(hair.tolist())
        )
        fill_ellipse(alpha, (cx, cy - face_h * 0.55), (face_w * 0.22, face_h * 0.14), 1.0)
    # ears and head
    for side in (-1, 1):
        centre = (cx + side * face_w * 0.49, cy + face_h * 0.02)
        fill_ellipse(person, centre, (face_w * 0.08, face_h * 0.11), tuple((skin * 0.9).tolist()))
        fill_ellipse(alpha, centre, (face_w * 0.08, face_h * 0.11), 1.0)
        fill_ellipse(skin_mask, centre, (face_w * 0.08, face_h * 0.11), 1.0)
    head = np.zeros((big_h, big_w), np.float32)
    fill_ellipse(head, (cx, cy), (face_w / 2, face_h / 2), 1.0)
    # Lambertian shading of an ellipsoid head under a random light direction
    yy, xx = np.mgrid[0:big_h, 0:big_w].astype(np.float32)
    nx = (xx / ss - cx) / (face_w / 2)
    ny = (yy / ss - cy) / (face_h / 2)
    nz = np.sqrt(np.clip(1 - nx**2 - ny**2, 0.0, 1.0))
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.5, 0.2), 1.0], np.float32)
    light /= np.linalg.norm(light)
    ambient = rng.uniform(0.35, 0.6)
    shade = ambient + (1 - ambient) * np.clip(nx * light[0] + ny * light[1] + nz * light[2], 0, 1)
    shade = np.where(head > 0, shade, 1.0).astype(np.float32)
    texture = 1 + 0.03 * _smooth_noise(np.random.default_rng(look.texture_seed), (big_h, big_w), 40)
    head_rgb = skin[None, None, :] * (shade * texture)[..., None]
    person = person * (1 - head[..., None]) + head_rgb * head[..., None]
    alpha = np.maximum(alpha, head)
    skin_mask = np.maximum(skin_mask, head)

    box = (cx - face_w * 0.5, cy - face_h * 0.5 + face_h * 0.12, face_w, face_w)
    eye_half = look.eye_spacing * face_w / 2
    eye_y = cy - face_h * 0.06
    landmarks = landmarks_from_box(box, ((cx - eye_half, eye_y), (cx + eye_half, eye_y)))
    iod = 2 * eye_half
    non_skin = np.zeros((big_h, big_w), np.float32)

    # hair on top of the head
    if look.hair_style in ("short", "long", "bun"):
        cap = np.zeros((big_h, big_w), np.float32)
        fill_ellipse(cap, (cx, cy - face_h * 0.14), (face_w * 0.54, face_h * 0.42), 1.0)
        cut = np.zeros_like(cap)
        hairline = cy - face_h * rng.uniform(0.20, 0.30)
        cv2.rectangle(cut, (0, round(hairline * ss)), (big_w, big_h), 1.0, -1)
        cap *= 1 - cut
        fill_ellipse(cap, (cx, hairline), (face_w * 0.36, face_h * 0.06), 0.0)
        cap = cv2.GaussianBlur(cap, (0, 0), ss * 1.0)
        person = person * (1 - cap[..., None]) + hair[None, None, :] * cap[..., None]
        alpha = np.maximum(alpha, cap)
        non_skin = np.maximum(non_skin, cap)
    # eye sockets (darker band under the brow ridge) and cheek highlights
    socket = np.zeros((big_h, big_w), np.float32)
    for name in ("eye_l", "eye_r"):
        ex, ey = landmarks[name]
        fill_ellipse(socket, (ex, ey - iod * 0.04), (iod * 0.36, iod * 0.2), 0.55)
    for name in ("cheek_l", "cheek_r"):
        fill_ellipse(socket, landmarks[name], (iod * 0.25, iod * 0.18), -0.15)
    fill_ellipse(socket, (cx, eye_y + iod * 0.1), (iod * 0.07, iod * 0.3), -0.12)  # nose bridge
    socket = cv2.GaussianBlur(socket, (0, 0), iod * 0.08 * ss)
    person *= 1 - socket[..., None]
    # eyes
    for name in ("eye_l", "eye_r"):
        ex, ey = landmarks[name]
        eye_axes = (iod * 0.25, iod * 0.085)
        fill_ellipse(
            person, (ex, ey), (eye_axes[0] * 1.25, eye_axes[1] * 1.8), tuple((skin * 0.8).tolist())
        )
        fill_ellipse(person, (ex, ey), eye_axes, tuple((0.4 * skin + 0.3).tolist()))
        iris_r = iod * 0.095
        fill_ellipse(person, (ex, ey), (iris_r, iris_r), tuple(look.iris_rgb))
        fill_ellipse(person, (ex, ey), (iris_r * 0.45, iris_r * 0.45), (0.02, 0.02, 0.02))
        fill_ellipse(
            person,
            (ex + iris_r * 0.3, ey - iris_r * 0.3),
            (iris_r * 0.15, iris_r * 0.15),
            (0.95, 0.95, 0.95),
        )
        cv2.ellipse(
            person,
            pt(ex, ey),
            ax(*eye_axes),
            0,
            180,
            360,
            (0.05, 0.04, 0.03),
            max(ss, 1),
            cv2.LINE_AA,
        )
        fill_ellipse(non_skin, (ex, ey), (eye_axes[0] * 1.3, eye_axes[1] * 2.0), 1.0)
    # brows
    thickness = max(round(iod * 0.11 * look.brow_thickness * ss), 1)
    brow_colour = tuple((np.minimum(hair, skin) * 0.45).tolist())
    for inner, outer in (("brow_inner_l", "brow_outer_l"), ("brow_inner_r", "brow_outer_r")):
        (x0, y0), (x1, y1) = landmarks[inner], landmarks[outer]
        mid = ((x0 + x1) / 2, min(y0, y1) - iod * 0.05)
        curve = np.array([pt(x0, y0), pt(*mid), pt(x1, y1)], np.int32)
        cv2.polylines(person, [curve], False, brow_colour, thickness, cv2.LINE_AA)
        cv2.polylines(non_skin, [curve], False, 1.0, thickness + ss, cv2.LINE_AA)
    # nose: shaded sides, bright bridge, nostrils
    nose_x, nose_y = landmarks["nose_tip"]
    bridge_top = (landmarks["eye_l"][1] + landmarks["eye_r"][1]) / 2
    shade_layer = np.zeros((big_h, big_w), np.float32)
    side = -1 if light[0] > 0 else 1
    cv2.line(
        shade_layer,
        pt(nose_x + side * iod * 0.07, bridge_top),
        pt(nose_x + side * iod * 0.1, nose_y),
        0.35,
        max(round(iod * 0.06 * ss), 1),
        cv2.LINE_AA,
    )
    fill_ellipse(shade_layer, (nose_x, nose_y + iod * 0.05), (iod * 0.2, iod * 0.06), 0.25)
    shade_layer = cv2.GaussianBlur(shade_layer, (0, 0), iod * 0.04 * ss)
    person *= 1 - shade_layer[..., None]
    for wing in ("nose_wing_l", "nose_wing_r"):
        wx, wy = landmarks[wing]
        fill_ellipse(
            person,
            ((wx + nose_x) / 2, wy + iod * 0.02),
            (iod * 0.045, iod * 0.025),
            tuple((skin * 0.3).tolist()),
        )
    # lips
    lip = tuple(look.lip_rgb)
    (mlx, mly), (mrx, mry) = landmarks["mouth_l"], landmarks["mouth_r"]
    mouth_cx, mouth_cy = (mlx + mrx) / 2, (mly + mry) / 2
    half_w = (mrx - mlx) / 2
    upper = iod * 0.09 * look.lip_fullness
    lower = iod * 0.11 * look.lip_fullness
    lips = np.zeros((big_h, big_w), np.float32)
    cv2.ellipse(lips, pt(mouth_cx, mouth_cy), ax(half_w, upper), 0, 180, 360, 1.0, -1, cv2.LINE_AA)
    cv2.ellipse(
        lips, pt(mouth_cx, mouth_cy), ax(half_w * 0.95, lower), 0, 0, 180, 1.0, -1, cv2.LINE_AA
    )
    lips = cv2.GaussianBlur(lips, (0, 0), ss * 0.6)
    person = (
        person * (1 - lips[..., None])
        + np.asarray(lip, np.float32) * lips[..., None] * shade[..., None]
    )
    cv2.line(
        person,
        pt(mlx, mly),
        pt(mrx, mry),
        tuple((np.asarray(lip) * 0.25).tolist()),
        2 * ss,
        cv2.LINE_AA,
    )
    non_skin = np.maximum(non_skin, cv2.dilate(lips, np.ones((ss * 2 + 1,) * 2, np.uint8)))

    skin_mask = np.clip(skin_mask - non_skin, 0.0, 1.0)
    person = np.clip(person, 0.0, 1.0)

    def down(image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)

    return FaceAsset(
        person=down(person),
        alpha=down(alpha),
        background=render_background(rng, height, width),
        skin=down(skin_mask),
        landmarks=landmarks,
        face_box=box,
        pivot=(cx, cy + face_h * 0.45),
        source="procedural",
        skin_tone=look.skin_tone,
        skin_rgb=look.skin_rgb,
    )
