"""Animate a :class:`FaceAsset` into video frames with known pulse, breathing and AUs.

Per frame, on layers pre-rendered once per trial:

1. AU and talking fields warp and shade the face region (:mod:`.actions`);
2. the pulse changes skin colour along the blood-volume direction
   ``Pbv = [0.33, 0.77, 0.53]`` (relative pulsatile amplitude in R, G, B; de Haan & van Leest,
   "Improved motion robustness of remote-PPG by using the blood volume pulse signature",
   Physiol. Meas. 35, 2014): ``I_c <- I_c * (1 - a(x, y) * Pbv_c / Pbv_G * ppg(t))`` on skin
   pixels only, ``a`` the trial's amplitude (0.2-1%) with smooth spatial variation; more
   blood (``ppg`` up) absorbs more light, so the skin darkens;
3. breathing lifts the head and shoulders by a few pixels (``resp`` up = inhalation = up) and
   brightens them slightly; head motion (translation, in-plane rotation, scale) is one affine
   warp about the neck;
4. the person is composited over the background; lighting gain, colour temperature, drift,
   flicker, a directional gradient and auto exposure multiply the frame; sensor noise is
   added and the frame is quantised to uint8 (H.264 coding happens in the writer).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from bigsmall.constants import AU_NAMES
from bigsmall.data.synthetic.actions import (
    au_labels,
    build_action_fields,
    sample_au_timeline,
    sample_talking,
)
from bigsmall.data.synthetic.asset import FaceAsset
from bigsmall.data.synthetic.scene import REFERENCE_HEIGHT_PX, TrialParams, head_motion, lighting
from bigsmall.data.synthetic.waveforms import breathing_waveform, pulse_waveform

#: Relative pulsatile amplitude per channel (R, G, B), de Haan & van Leest 2014.
PBV: np.ndarray = np.array([0.33, 0.77, 0.53], np.float32)
_GREEN: int = 1
#: Face luminance that auto exposure steers towards.
_EXPOSURE_TARGET: float = 0.45
_MAX_EXPOSURE_GAIN: float = 2.5
_LUMA: np.ndarray = np.array([0.299, 0.587, 0.114], np.float32)
_GREY_LEVELS: float = 255.0
#: Blobs across the face in the pulse amplitude's spatial variation.
_PULSE_VARIATION_CELLS: int = 6
#: Share of trials whose smiles (AU12) part the lips and show teeth.
_OPEN_SMILE_PROB: float = 0.5
#: Extra rows/columns of the per-trial noise field that frames take random crops of.
_NOISE_PAD_PX: int = 64


@dataclass
class TrialSignals:
    """Ground truth and time courses of one trial (T frames).

    ``ppg``, ``resp``: (T,) float64 zero-mean unit-std; ``au_intensity``: (T, 12) float32;
    ``au``: (T, 12) uint8 labels; ``talk``: (T,) float32 mouth openness; ``motion``: (T, 4)
    (dx px, dy px, rotation deg, scale); ``gain``: (T, 3) light; ``gradient``: (T, 2);
    ``pulse_source``: the pulse source actually used.
    """

    ppg: np.ndarray
    resp: np.ndarray
    au_intensity: np.ndarray
    au: np.ndarray
    talk: np.ndarray
    motion: np.ndarray
    gain: np.ndarray
    gradient: np.ndarray
    pulse_source: str


def trial_signals(
    params: TrialParams, n_frames: int, fps: float, height_px: int, rng: np.random.Generator
) -> TrialSignals:
    """Draw all per-frame time courses of a trial."""
    ppg, used = pulse_waveform(
        n_frames, fps, params.heart_rate_bpm, params.hrv_sdnn_ms, params.pulse_source, rng
    )
    resp = breathing_waveform(
        n_frames, fps, params.breathing_rate_bpm, params.breathing_variability, rng
    )
    intensity = sample_au_timeline(
        n_frames, fps, params.au_events_per_min, rng, params.au_event_sec
    )
    talk = sample_talking(n_frames, fps, params.talk_fraction, rng)
    # open-mouthed smiles (lips part, teeth show: AU25, not labelled) in some trials
    open_smile = float(rng.uniform(0.3, 0.8)) if rng.uniform() < _OPEN_SMILE_PROB else 0.0
    talk = np.maximum(talk, open_smile * intensity[:, AU_NAMES.index("AU12")])
    motion = head_motion(params, n_frames, fps, height_px, rng)
    gain, gradient = lighting(params, n_frames, fps, rng)
    return TrialSignals(
        ppg=ppg,
        resp=resp,
        au_intensity=intensity,
        au=au_labels(intensity),
        talk=talk,
        motion=motion,
        gain=gain,
        gradient=gradient,
        pulse_source=used,
    )


def _luma(rgb: np.ndarray) -> float:
    """Luma of one (3,) colour, summed element-wise (no BLAS, so bit-stable)."""
    return float(rgb[0] * _LUMA[0] + rgb[1] * _LUMA[1] + rgb[2] * _LUMA[2])


def _bbox(mask: np.ndarray) -> tuple[slice, slice]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return slice(0, 0), slice(0, 0)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def render_frames(
    asset: FaceAsset,
    params: TrialParams,
    signals: TrialSignals,
    rng: np.random.Generator,
    batch_size: int = 32,
) -> Iterator[np.ndarray]:
    """Yield (B, H, W, 3) uint8 RGB frame batches of the trial."""
    height, width = asset.height, asset.width
    n_frames = signals.ppg.shape[0]
    fields = build_action_fields(asset, params.au_strength)
    photo = asset.background is None
    alpha3 = np.repeat(asset.alpha[..., None], 3, axis=2).astype(np.float32)
    base = np.ascontiguousarray(asset.person * alpha3, dtype=np.float32)
    background = None if photo else np.ascontiguousarray(asset.background, dtype=np.float32)

    variation = cv2.resize(
        rng.standard_normal((_PULSE_VARIATION_CELLS, _PULSE_VARIATION_CELLS)).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    amplitude = (
        params.pulse_amplitude
        * asset.skin
        * np.clip(1.0 + params.pulse_spatial_variation * variation, 0.0, None)
    )
    rows, cols = _bbox(asset.skin > 0)
    pulse_map = (amplitude[rows, cols, None] * (PBV / PBV[_GREEN])[None, None, :]).astype(
        np.float32
    )

    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    ramp_x = np.repeat((xx / width - 0.5)[..., None], 3, axis=2)
    ramp_y = np.repeat((yy / height - 0.5)[..., None], 3, axis=2)
    skin_weight = asset.skin / max(float(asset.skin.sum()), 1.0)
    face_luma = float(sum((asset.person[..., c] * skin_weight).sum() * _LUMA[c] for c in range(3)))
    breath_px = params.breathing_motion_px * height / REFERENCE_HEIGHT_PX
    border = cv2.BORDER_REFLECT_101 if photo else cv2.BORDER_CONSTANT
    px, py = asset.pivot
    # camera noise: random crops of one per-trial noise field (cheaper than fresh noise)
    pad = _NOISE_PAD_PX
    noise = rng.standard_normal((height + pad, width + pad, 3), dtype=np.float32)
    noise *= np.float32(params.noise_std)

    for start in range(0, n_frames, batch_size):
        stop = min(start + batch_size, n_frames)
        out = np.empty((stop - start, height, width, 3), np.uint8)
        for j, i in enumerate(range(start, stop)):
            layer = base.copy()
            weights = np.append(signals.au_intensity[i], signals.talk[i])
            fields.apply(layer, weights)
            layer[rows, cols] *= 1.0 - pulse_map * np.float32(signals.ppg[i])
            dx, dy, angle, scale = (float(v) for v in signals.motion[i])
            matrix = cv2.getRotationMatrix2D((px, py), angle, scale)
            matrix[0, 2] += dx
            matrix[1, 2] += dy - breath_px * float(signals.resp[i])
            frame = cv2.warpAffine(
                layer, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=border
            )
            frame *= np.float32(1.0 + params.breathing_intensity * signals.resp[i])
            if background is not None:
                cover = cv2.warpAffine(alpha3, matrix, (width, height), flags=cv2.INTER_LINEAR)
                frame += background
                frame -= background * cover
            gain = signals.gain[i]
            exposure = (_EXPOSURE_TARGET / max(face_luma * _luma(gain), 1e-3)) ** (
                params.auto_exposure
            )
            gain = (gain * min(exposure, _MAX_EXPOSURE_GAIN) * _GREY_LEVELS).astype(np.float32)
            gx, gy = (np.float32(v) for v in signals.gradient[i])
            light = ramp_x * gx
            light += ramp_y * gy
            light += np.float32(1.0)
            light *= gain
            frame *= light
            oy, ox = rng.integers(0, pad, 2)
            frame += noise[oy : oy + height, ox : ox + width]
            np.clip(frame, 0.0, _GREY_LEVELS, out=frame)
            out[j] = (frame + np.float32(0.5)).astype(np.uint8)
        yield out
