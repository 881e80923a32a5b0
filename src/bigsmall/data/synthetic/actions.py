"""The 12 BigSmall action units as local appearance changes, their timing, and talking.

Each AU is a set of local *moves* (Gaussian-weighted displacement of the skin around a facial
landmark, rendered with ``cv2.remap``) and *shades* (oriented Gaussian darkening or brightening:
wrinkles, furrows, bulges), following the appearance changes the Facial Action Coding System
describes for each unit (Ekman, Friesen & Hager, "Facial Action Coding System", 2002):
AU01 inner brow raiser, AU02 outer brow raiser, AU04 brow lowerer (+ glabella furrows), AU06
cheek raiser (+ crow's feet), AU07 lid tightener, AU10 upper lip raiser (+ nasolabial fold),
AU12 lip corner puller, AU14 dimpler, AU15 lip corner depressor, AU17 chin raiser, AU23 lip
tightener, AU24 lip presser. Sizes are in units of the inter-ocular distance so they scale with
the face. Handles are written for the image-left side and mirrored to the right.

Timing: events drawn from expression templates with realistic co-occurrence (AU06+AU12 smiles,
AU01+AU02 brow raises, AU04+AU07 frowns, AU01+AU04+AU15(+AU17) sadness, AU23+AU24 lip press...),
each with onset/offset ramps; an AU's label is 1 on frames where its intensity is at least
:data:`LABEL_THRESHOLD`.

Talking (lips parting, jaw dropping at syllable rate) is rendered as its own field and sets
**no** AU label: in FACS it is AU25/AU26 (lips part, jaw drop), which are not among the 12
BigSmall AUs; talking never moves the lip corners or brows.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from bigsmall.constants import AU_NAMES
from bigsmall.data.synthetic.asset import FaceAsset

#: An AU counts as present (label 1) where its rendered intensity reaches this level.
LABEL_THRESHOLD: float = 0.25


@dataclass(frozen=True)
class Move:
    """Skin around ``landmark + offset`` moves by ``shift`` (Gaussian falloff ``sigma``)."""

    landmark: str
    offset: tuple[float, float]
    sigma: float
    shift: tuple[float, float]


@dataclass(frozen=True)
class Shade:
    """Oriented Gaussian darkening (``strength`` > 0) or brightening (< 0)."""

    landmark: str
    offset: tuple[float, float]
    sigma_xy: tuple[float, float]
    strength: float
    angle_deg: float = 0.0


@dataclass(frozen=True)
class Teeth:
    """Blend towards :data:`TEETH_RGB` (teeth seen between parted lips), Gaussian weight."""

    landmark: str
    offset: tuple[float, float]
    sigma_xy: tuple[float, float]
    strength: float


#: Colour of teeth seen between parted lips (sRGB, [0, 1]).
TEETH_RGB: tuple[float, float, float] = (0.86, 0.83, 0.76)

_L = "_l"

#: AU name -> its moves and shades (image-left handles; ``_l`` landmarks are mirrored).
AU_ACTIONS: dict[str, tuple[Move | Shade | Teeth, ...]] = {
    "AU01": (
        Move("brow_inner_l", (0.0, 0.0), 0.17, (0.0, -0.11)),
        Shade("brow_inner_l", (0.05, -0.20), (0.16, 0.022), 0.12),
        Shade("brow_inner_l", (0.05, -0.30), (0.13, 0.022), 0.08),
    ),
    "AU02": (
        Move("brow_outer_l", (0.0, 0.0), 0.17, (0.0, -0.11)),
        Move("brow_outer_l", (0.10, -0.02), 0.12, (0.0, -0.05)),
        Shade("brow_outer_l", (0.06, -0.22), (0.14, 0.022), 0.09),
    ),
    "AU04": (
        Move("brow_inner_l", (0.0, 0.0), 0.16, (0.05, 0.08)),
        Move("brow_outer_l", (0.0, 0.0), 0.2, (0.0, 0.04)),
        Shade("brow_inner_l", (0.06, 0.02), (0.02, 0.10), 0.18),
        Shade("brow_inner_l", (0.02, 0.0), (0.06, 0.03), 0.10),
    ),
    "AU06": (
        Move("cheek_l", (0.0, 0.0), 0.24, (0.0, -0.07)),
        Move("eye_l", (0.0, 0.11), 0.09, (0.0, -0.035)),
        Shade("eye_l", (-0.34, 0.02), (0.07, 0.014), 0.14, -20.0),
        Shade("eye_l", (-0.33, 0.08), (0.07, 0.014), 0.12, 15.0),
        Shade("cheek_l", (0.0, -0.04), (0.14, 0.09), -0.06),
        Shade("cheek_l", (0.03, 0.15), (0.18, 0.03), 0.07),
    ),
    "AU07": (
        Move("eye_l", (0.0, 0.10), 0.085, (0.0, -0.05)),
        Move("eye_l", (0.0, -0.09), 0.08, (0.0, 0.02)),
        Shade("eye_l", (0.0, 0.08), (0.17, 0.018), 0.10),
    ),
    "AU10": (
        Move("lip_upper", (0.0, 0.0), 0.13, (0.0, -0.06)),
        Move("mouth_l", (0.05, -0.02), 0.10, (0.0, -0.03)),
        Move("nose_wing_l", (0.0, 0.0), 0.08, (0.0, -0.02)),
        Shade("nose_wing_l", (-0.06, 0.08), (0.02, 0.09), 0.14, 25.0),
    ),
    "AU12": (
        Move("mouth_l", (0.0, 0.0), 0.14, (-0.07, -0.08)),
        Move("cheek_l", (0.0, 0.05), 0.2, (0.0, -0.03)),
        Shade("nose_wing_l", (-0.07, 0.09), (0.022, 0.10), 0.16, 30.0),
        Shade("mouth_l", (-0.05, -0.01), (0.025, 0.03), 0.10),
    ),
    "AU14": (
        Move("mouth_l", (0.0, 0.0), 0.10, (0.035, 0.0)),
        Shade("mouth_l", (-0.07, 0.0), (0.03, 0.045), 0.22),
    ),
    "AU15": (
        Move("mouth_l", (0.0, 0.0), 0.12, (0.0, 0.075)),
        Shade("mouth_l", (-0.02, 0.11), (0.02, 0.06), 0.12, -20.0),
    ),
    "AU17": (
        Move("chin", (0.0, 0.0), 0.25, (0.0, -0.07)),
        Move("lip_lower", (0.0, 0.0), 0.10, (0.0, -0.03)),
        Shade("lip_lower", (0.0, 0.10), (0.12, 0.025), 0.13),
        Shade("chin", (0.0, -0.05), (0.10, 0.06), 0.07),
    ),
    "AU23": (
        Move("lip_upper", (0.0, 0.0), 0.07, (0.0, 0.025)),
        Move("lip_lower", (0.0, 0.0), 0.07, (0.0, -0.03)),
        Move("mouth_l", (0.0, 0.0), 0.08, (0.03, 0.0)),
        Shade("lip_lower", (0.0, 0.03), (0.12, 0.02), 0.07),
    ),
    "AU24": (
        Move("lip_upper", (0.0, -0.04), 0.09, (0.0, 0.03)),
        Move("lip_lower", (0.0, 0.04), 0.09, (0.0, -0.035)),
        Shade("lip_lower", (0.0, 0.10), (0.14, 0.03), 0.09),
        Shade("lip_upper", (0.0, 0.035), (0.14, 0.04), -0.08),
    ),
}

#: Talking: the jaw drops and the lips part (AU25/AU26-like; labelled as no AU).
TALK_ACTIONS: tuple[Move | Shade | Teeth, ...] = (
    Move("lip_lower", (0.0, 0.0), 0.14, (0.0, 0.11)),
    Move("chin", (0.0, 0.0), 0.35, (0.0, 0.09)),
    Shade("lip_upper", (0.0, 0.045), (0.11, 0.035), 0.65),
    Teeth("lip_upper", (0.0, 0.045), (0.1, 0.02), 0.9),
)

#: Expression templates: (weight, always-on AUs, sometimes-on AUs with their probability).
EXPRESSIONS: tuple[tuple[float, tuple[str, ...], tuple[tuple[str, float], ...]], ...] = (
    (3.0, ("AU06", "AU12"), (("AU10", 0.3), ("AU07", 0.3))),  # Duchenne smile
    (1.5, ("AU12",), (("AU14", 0.3),)),  # polite smile
    (1.2, ("AU01", "AU02"), ()),  # brow raise / surprise
    (1.2, ("AU04", "AU07"), (("AU24", 0.3), ("AU23", 0.3))),  # frown / concentration
    (0.8, ("AU01", "AU04", "AU15"), (("AU17", 0.6),)),  # sadness
    (0.8, ("AU10", "AU04"), (("AU17", 0.4), ("AU07", 0.4))),  # disgust
    (1.0, ("AU24",), (("AU23", 0.5), ("AU17", 0.4))),  # lip press
    (0.8, ("AU14",), (("AU17", 0.3),)),  # doubt / dimpler
    (0.8, ("AU17", "AU15"), ()),  # pout
    (0.6, ("AU07",), ()),  # squint
    (0.6, ("AU06",), ()),  # cheek raise alone
    (0.6, ("AU23",), ()),  # lip tighten alone
)


def _handles(asset: FaceAsset, item: Move | Shade | Teeth) -> list[tuple[float, float, float]]:
    """Centres (x, y) and horizontal sign for the item's landmark(s), mirrored left/right."""
    iod = asset.interocular_px
    out = []
    sides = (
        ((item.landmark, 1.0), (item.landmark[: -len(_L)] + "_r", -1.0))
        if item.landmark.endswith(_L)
        else ((item.landmark, 1.0),)
    )
    for name, sign in sides:
        x, y = asset.landmarks[name]
        out.append((x + sign * item.offset[0] * iod, y + item.offset[1] * iod, sign))
    return out


def face_roi(asset: FaceAsset) -> tuple[int, int, int, int]:
    """Integer (x0, y0, x1, y1) region the AU fields cover: the face and a margin."""
    iod = asset.interocular_px
    xs = [p[0] for p in asset.landmarks.values()]
    ys = [p[1] for p in asset.landmarks.values()]
    x0 = max(int(min(xs) - 0.5 * iod), 0)
    x1 = min(int(max(xs) + 0.5 * iod) + 1, asset.width)
    y0 = max(int(min(ys) - 0.6 * iod), 0)
    y1 = min(int(max(ys) + 0.5 * iod) + 1, asset.height)
    return x0, y0, x1, y1


def _fields(
    asset: FaceAsset, items: tuple[Move | Shade | Teeth, ...], roi: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sampling offset (2, h, w) (``out(p) = src(p + offset)``), shade and teeth (h, w)."""
    x0, y0, x1, y1 = roi
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    iod = asset.interocular_px
    offset = np.zeros((2, y1 - y0, x1 - x0), np.float32)
    shade = np.zeros((y1 - y0, x1 - x0), np.float32)
    teeth = np.zeros((y1 - y0, x1 - x0), np.float32)
    for item in items:
        for cx, cy, sign in _handles(asset, item):
            dx, dy = xx - cx, yy - cy
            if isinstance(item, Move):
                weight = np.exp(-(dx**2 + dy**2) / (2 * (item.sigma * iod) ** 2))
                offset[0] -= sign * item.shift[0] * iod * weight
                offset[1] -= item.shift[1] * iod * weight
            else:
                angle = np.deg2rad(sign * getattr(item, "angle_deg", 0.0))
                u = dx * np.cos(angle) + dy * np.sin(angle)
                v = -dx * np.sin(angle) + dy * np.cos(angle)
                sx, sy = item.sigma_xy[0] * iod, item.sigma_xy[1] * iod
                weight = item.strength * np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
                if isinstance(item, Teeth):
                    teeth += weight
                else:
                    shade += weight
    return offset, shade, np.clip(teeth, 0.0, 1.0)


@dataclass
class ActionFields:
    """Precomputed per-unit fields over the face ROI (x0, y0, x1, y1).

    ``offsets``: (K, 2, h, w) float32 sampling offsets at full intensity; ``shades``: (K, h, w)
    float32; ``teeth``: (K, h, w) float32 blend weights towards :data:`TEETH_RGB`.
    Units 0..11 are :data:`bigsmall.constants.AU_NAMES`, unit 12 is talking (mouth open).
    """

    roi: tuple[int, int, int, int]
    offsets: np.ndarray
    shades: np.ndarray
    teeth: np.ndarray
    grid_x: np.ndarray
    grid_y: np.ndarray
    teeth_active: np.ndarray
    teeth_rgb: np.ndarray = dataclasses.field(
        default_factory=lambda: np.asarray(TEETH_RGB, np.float32)
    )

    def apply(self, layer: np.ndarray, weights: np.ndarray) -> None:
        """Warp and shade ``layer`` (H, W, C) float32 in place inside the ROI.

        ``weights``: (K,) intensity of each unit in [0, 1].
        """
        active = np.flatnonzero(weights > 0)
        if active.size == 0:
            return
        x0, y0, x1, y1 = self.roi
        offset = self.offsets[active[0]] * np.float32(weights[active[0]])
        shade = self.shades[active[0]] * np.float32(weights[active[0]])
        for k in active[1:]:
            offset += self.offsets[k] * np.float32(weights[k])
            shade += self.shades[k] * np.float32(weights[k])
        patch = layer[y0:y1, x0:x1]
        warped = cv2.remap(
            patch,
            self.grid_x + offset[0],
            self.grid_y + offset[1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        )
        if warped.ndim == 2:
            warped *= 1 - shade
        else:
            warped[..., :3] *= (1 - shade)[..., None]
        teeth_units = [k for k in active if self.teeth_active[k]]
        if teeth_units and warped.ndim == 3:
            cover = sum(self.teeth[k] * np.float32(weights[k]) for k in teeth_units)
            cover = np.clip(cover, 0.0, 1.0)[..., None]
            warped[..., :3] = warped[..., :3] * (1 - cover) + self.teeth_rgb * cover
        layer[y0:y1, x0:x1] = warped


def build_action_fields(asset: FaceAsset, strength: float = 1.0) -> ActionFields:
    """Fields for the 12 AUs and talking on this face (computed once per trial).

    ``strength`` multiplies every AU's displacement and shading (not talking's)."""
    roi = face_roi(asset)
    pairs = [_fields(asset, AU_ACTIONS[name], roi) for name in AU_NAMES]
    if strength != 1.0:
        pairs = [(o * np.float32(strength), s * np.float32(strength), t) for o, s, t in pairs]
    pairs.append(_fields(asset, TALK_ACTIONS, roi))
    x0, y0, x1, y1 = roi
    grid_y, grid_x = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32)
    teeth = np.stack([p[2] for p in pairs])
    return ActionFields(
        roi=roi,
        offsets=np.stack([p[0] for p in pairs]),
        shades=np.stack([p[1] for p in pairs]),
        teeth=teeth,
        teeth_active=teeth.reshape(teeth.shape[0], -1).max(axis=1) > 0,
        grid_x=grid_x,
        grid_y=grid_y,
    )


def _ramp_profile(n: int, start: int, length: int, ramp: int, peak: float) -> np.ndarray:
    """Trapezoid (T,) rising over ``ramp`` frames from ``start``, lasting ``length`` frames."""
    t = np.arange(n, dtype=np.float32)
    rise = np.clip((t - start) / max(ramp, 1), 0, 1)
    fall = np.clip((start + length - t) / max(ramp, 1), 0, 1)
    profile = np.minimum(rise, fall)
    return peak * profile * profile * (3 - 2 * profile)  # smoothstep edges


def sample_au_timeline(
    n_frames: int,
    fps: float,
    events_per_min: float,
    rng: np.random.Generator,
    event_sec: tuple[float, float] = (0.8, 6.0),
) -> np.ndarray:
    """AU intensities (T, 12) float32 in [0, 1] from random expression events.

    ``events_per_min``: Poisson rate of events; ``event_sec``: (shortest, longest) duration."""
    intensity = np.zeros((n_frames, len(AU_NAMES)), np.float32)
    weights = np.array([e[0] for e in EXPRESSIONS])
    duration_min = n_frames / fps / 60.0
    n_events = int(rng.poisson(events_per_min * duration_min))
    for _ in range(n_events):
        _, always, sometimes = EXPRESSIONS[
            int(rng.choice(len(EXPRESSIONS), p=weights / weights.sum()))
        ]
        units = list(always) + [name for name, p in sometimes if rng.uniform() < p]
        length = int(rng.uniform(*event_sec) * fps)
        start = int(rng.integers(-length // 2, n_frames))
        ramp = int(rng.uniform(0.15, 0.7) * fps)
        for name in units:
            peak = float(rng.uniform(0.55, 1.0))
            jitter = int(rng.integers(-ramp // 2 - 1, ramp // 2 + 1))
            profile = _ramp_profile(n_frames, start + jitter, length, ramp, peak)
            k = AU_NAMES.index(name)
            intensity[:, k] = np.maximum(intensity[:, k], profile)
    return intensity


def au_labels(intensity: np.ndarray) -> np.ndarray:
    """(T, 12) uint8 occurrence labels from intensities."""
    return (intensity >= LABEL_THRESHOLD).astype(np.uint8)


def sample_talking(
    n_frames: int, fps: float, talk_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Mouth openness (T,) float32 in [0, 1]: speech bursts with syllable-rate opening."""
    openness = np.zeros(n_frames, np.float32)
    if talk_fraction <= 0:
        return openness
    t = np.arange(n_frames) / fps
    envelope = np.zeros(n_frames, np.float32)
    position = int(rng.uniform(0, 3) * fps)
    while position < n_frames:
        burst = int(rng.uniform(1.0, 6.0) * fps)
        envelope[position : position + burst] = 1.0
        gap = burst * (1 - talk_fraction) / max(talk_fraction, 1e-3)
        position += burst + int(gap * rng.uniform(0.5, 1.5))
    envelope = cv2.GaussianBlur(envelope[None, :], (0, 0), sigmaX=0.08 * fps)[0]
    syllable_hz = rng.uniform(3.0, 6.0)
    wander = np.cumsum(rng.normal(0, 0.3, n_frames)) / fps
    syllables = np.abs(np.sin(np.pi * (syllable_hz * t + wander)))
    amplitude = rng.uniform(0.4, 1.0, n_frames // max(int(fps / syllable_hz), 1) + 2)
    amplitude = np.repeat(amplitude, max(int(fps / syllable_hz), 1))[:n_frames]
    openness[:] = np.clip(envelope * syllables * amplitude, 0, 1)
    return openness
