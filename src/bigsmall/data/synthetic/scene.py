"""Per-trial recording conditions: physiology, motion, lighting, camera; and their time courses.

Ranges (drawn independently per trial with :func:`sample_trial`):

- heart rate 45-150 bpm (80% ~ N(75, 13) clipped, 20% uniform), HRV SDNN 10-80 ms,
  pulse shape from a real PPG recording (40% when heartpy is installed) or simulated;
- pulse amplitude 0.2-1% of skin intensity (lower on darker skin), spatial variation 15-50%;
- breathing 6-30 /min (80% ~ N(15, 4) clipped, 20% uniform), rate wander 0-15%,
  breathing motion 0.3-3 px at 240 px frame height (scaled with the frame), intensity 0.1-0.6%;
- head motion level still / small / moderate / large (20/40/28/12%): smooth translation,
  in-plane rotation and scale, plus, when moderate or large, short periodic bursts (nods,
  head bobbing at 0.5-3 Hz, i.e. inside the heart-rate band);
- lighting gain 0.55-1.25, colour temperature 2700-8000 K, slow drift of intensity and of a
  directional gradient, occasional flicker (15% of trials: 1-3% mains-alias ripple) and steps;
- camera: auto-exposure strength 0-0.7, sensor noise 0.5-4 grey levels, H.264 crf 18-35;
- expressions 4-18 events/min of 0.8-6 s each at FACS-B-like strength by default (denser,
  shorter or stronger with ``au_events_per_min``, ``au_event_sec``, ``au_strength``);
  talking in 35% of trials.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from bigsmall.data.synthetic.waveforms import real_ppg_runs

MOTION_LEVELS: tuple[str, ...] = ("still", "small", "moderate", "large")
_MOTION_PROBS: tuple[float, ...] = (0.2, 0.4, 0.28, 0.12)
#: Per level: (translation px, rotation deg, relative scale) amplitudes at 240 px height.
_MOTION_AMPLITUDE: dict[str, tuple[float, float, float]] = {
    "still": (0.3, 0.2, 0.002),
    "small": (2.0, 1.5, 0.01),
    "moderate": (6.0, 4.0, 0.03),
    "large": (14.0, 9.0, 0.06),
}
REFERENCE_HEIGHT_PX: int = 240
_KELVIN_RANGE: tuple[float, float] = (2700.0, 8000.0)


@dataclass(frozen=True)
class TrialParams:
    """Everything drawn for one video (written to its JSON)."""

    heart_rate_bpm: float
    hrv_sdnn_ms: float
    pulse_source: str
    pulse_amplitude: float
    pulse_spatial_variation: float
    breathing_rate_bpm: float
    breathing_variability: float
    breathing_motion_px: float
    breathing_intensity: float
    motion: str
    motion_bursts: bool
    light_gain: float
    color_temperature_k: float
    light_drift: float
    flicker: bool
    auto_exposure: float
    noise_std: float
    crf: int
    au_events_per_min: float
    talk_fraction: float
    #: Shortest and longest expression event (s).
    au_event_sec: tuple[float, float] = (0.8, 6.0)
    #: Multiplier of every AU's skin displacement and shading (1 = the default appearance).
    au_strength: float = 1.0

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _rate(rng: np.random.Generator, mean: float, std: float, low: float, high: float) -> float:
    if rng.uniform() < 0.8:
        return float(np.clip(rng.normal(mean, std), low, high))
    return float(rng.uniform(low, high))


def sample_trial(
    rng: np.random.Generator,
    skin_tone: float | None,
    au_events_per_min: tuple[float, float] = (4.0, 18.0),
    au_event_sec: tuple[float, float] = (0.8, 6.0),
    au_strength: float = 1.0,
) -> TrialParams:
    """Draw one trial's conditions (``skin_tone`` 0..1 lowers the pulse amplitude when dark).

    ``au_events_per_min``: range the trial's expression-event rate is drawn from;
    ``au_event_sec``: range of each event's duration; ``au_strength``: AU appearance multiplier.
    The defaults draw exactly what earlier versions drew (same seed, same videos)."""
    tone = 0.5 if skin_tone is None else skin_tone
    use_real = bool(real_ppg_runs()) and rng.uniform() < 0.4
    return TrialParams(
        heart_rate_bpm=_rate(rng, 75.0, 13.0, 45.0, 150.0),
        hrv_sdnn_ms=float(rng.uniform(10.0, 80.0)),
        pulse_source="real" if use_real else "simulated",
        pulse_amplitude=float(rng.uniform(0.002, 0.01) * (1.0 - 0.4 * tone)),
        pulse_spatial_variation=float(rng.uniform(0.15, 0.5)),
        breathing_rate_bpm=_rate(rng, 15.0, 4.0, 6.0, 30.0),
        breathing_variability=float(rng.uniform(0.0, 0.15)),
        breathing_motion_px=float(rng.uniform(0.3, 3.0)),
        breathing_intensity=float(rng.uniform(0.001, 0.006)),
        motion=str(rng.choice(MOTION_LEVELS, p=_MOTION_PROBS)),
        motion_bursts=bool(rng.uniform() < 0.5),
        light_gain=float(rng.uniform(0.55, 1.25)),
        color_temperature_k=float(rng.uniform(*_KELVIN_RANGE)),
        light_drift=float(rng.uniform(0.0, 0.08)),
        flicker=bool(rng.uniform() < 0.15),
        auto_exposure=float(rng.uniform(0.0, 0.7)),
        noise_std=float(rng.uniform(0.5, 4.0)),
        crf=int(rng.integers(18, 36)),
        au_events_per_min=float(rng.uniform(*au_events_per_min)),
        talk_fraction=float(rng.uniform(0.2, 0.7)) if rng.uniform() < 0.35 else 0.0,
        au_event_sec=(float(au_event_sec[0]), float(au_event_sec[1])),
        au_strength=float(au_strength),
    )


def _smooth_path(rng: np.random.Generator, n: int, fs: float, cutoff_hz: float) -> np.ndarray:
    """Zero-mean, unit-peak-ish random path (T,) with energy below ``cutoff_hz``."""
    step = max(int(fs / cutoff_hz), 1)
    knots = rng.standard_normal(n // step + 3)
    t = np.arange(n) / step
    path = np.interp(t, np.arange(knots.size), knots)
    kernel = np.hanning(2 * step + 1)
    path = np.convolve(np.pad(path, step, mode="edge"), kernel / kernel.sum(), mode="same")[
        step:-step
    ]
    return (path - path.mean()) / 2.0


def head_motion(
    params: TrialParams, n: int, fps: float, height_px: int, rng: np.random.Generator
) -> np.ndarray:
    """(T, 4) float32: x shift px, y shift px, rotation deg, scale factor."""
    shift_px, rot_deg, scale = _MOTION_AMPLITUDE[params.motion]
    shift_px *= height_px / REFERENCE_HEIGHT_PX
    out = np.zeros((n, 4), np.float32)
    out[:, 0] = shift_px * _smooth_path(rng, n, fps, 0.3)
    out[:, 1] = shift_px * 0.6 * _smooth_path(rng, n, fps, 0.3)
    out[:, 2] = rot_deg * _smooth_path(rng, n, fps, 0.25)
    out[:, 3] = 1.0 + scale * _smooth_path(rng, n, fps, 0.15)
    if params.motion_bursts and params.motion in ("moderate", "large"):
        t = np.arange(n) / fps
        for _ in range(int(rng.integers(1, 4))):
            start, length = rng.uniform(0, n / fps), rng.uniform(1.0, 4.0)
            window = np.clip(np.minimum(t - start, start + length - t) / 0.3, 0, 1)
            rate_hz = rng.uniform(0.5, 3.0)
            wave = np.sin(2 * np.pi * rate_hz * t + rng.uniform(0, 2 * np.pi)) * window
            axis = int(rng.integers(0, 3))  # nod (y), shake (x) or tilt (rotation)
            amplitude = (shift_px * 0.5, shift_px * 0.5, rot_deg * 0.5)[axis]
            out[:, axis] += (amplitude * wave).astype(np.float32)
    return out


def kelvin_to_rgb_gain(kelvin: float) -> np.ndarray:
    """(3,) white-balance-free light colour for a colour temperature, normalised to max 1.

    A smooth fit of the Planckian locus in sRGB (red falls, blue rises with temperature).
    """
    t = kelvin / 100.0
    red = 1.0 if t <= 66 else np.clip(1.292936 * (t - 60) ** -0.1332047, 0, 1)
    green = (
        np.clip(0.390082 * np.log(t) - 0.631841, 0, 1)
        if t <= 66
        else np.clip(1.129891 * (t - 60) ** -0.0755148, 0, 1)
    )
    blue = (
        1.0
        if t >= 66
        else (0.0 if t <= 19 else np.clip(0.543207 * np.log(t - 10) - 1.196254, 0, 1))
    )
    rgb = np.array([red, green, blue], np.float64)
    # cameras white-balance most of the cast away: keep a third of it
    rgb = 1.0 + (rgb / rgb.max() - 1.0) / 3.0
    return (rgb / rgb.max()).astype(np.float32)


def lighting(
    params: TrialParams, n: int, fps: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame light: gain (T, 3) float32 and directional gradient coefficients (T, 2)."""
    colour = kelvin_to_rgb_gain(params.color_temperature_k)
    drift = 1.0 + params.light_drift * _smooth_path(rng, n, fps, 0.05)
    if params.flicker:
        t = np.arange(n) / fps
        ripple = rng.uniform(0.01, 0.03) * np.sin(2 * np.pi * rng.uniform(0.5, 12.0) * t)
        drift = drift * (1.0 + ripple)
        if rng.uniform() < 0.5:  # a light switched / someone passing
            at = int(rng.integers(0, n))
            drift[at:] *= 1.0 + rng.uniform(-0.15, 0.15)
    gain = params.light_gain * drift[:, None] * colour[None, :]
    gradient = np.stack(
        [
            rng.uniform(-0.15, 0.15) + params.light_drift * _smooth_path(rng, n, fps, 0.05)
            for _ in range(2)
        ],
        axis=1,
    )
    return gain.astype(np.float32), gradient.astype(np.float32)
