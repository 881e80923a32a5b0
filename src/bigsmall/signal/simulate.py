"""Simulated physiological waveforms and mean-RGB skin traces (the one place they are made).

* PPG: each beat is a sum of two Gaussian waves in time (a systolic wave and a smaller, later
  reflected/dicrotic wave, giving the notch), placed at beat onsets whose intervals carry
  heart-rate variability (the Gaussian-kernel PPG model in the spirit of the NeuroKit2
  simulator and of McSharry et al. 2003's ECG model).
* Respiration: a slightly asymmetric periodic wave on a phase whose instantaneous rate wanders.
* Mean RGB: the skin reflection model of Wang et al. 2017 / de Haan & van Leest 2014: a skin
  colour scaled by the illumination intensity, a pulse along the blood-volume direction
  ``Pbv`` (normalised [0.33, 0.77, 0.53]), specular changes along (1, 1, 1), sensor noise.

Sign convention (physical): the PPG is blood volume (systolic peaks up); when it rises the skin
reflects *less* light, so the pulse is subtracted along ``Pbv``. Classic rPPG methods then
keep their published polarity (see :mod:`bigsmall.signal.rppg`).
"""

from __future__ import annotations

import numpy as np

from bigsmall.signal.filters import lowpass, standardize
from bigsmall.signal.validation import SignalError, check_fs

SECONDS_PER_MINUTE: float = 60.0
#: Blood-volume pulse signature of skin in normalised RGB (de Haan & van Leest 2014).
PBV_SIGNATURE: tuple[float, float, float] = (0.33, 0.77, 0.53)
#: Default mean skin colour in [0, 1] RGB.
DEFAULT_SKIN_RGB: tuple[float, float, float] = (0.72, 0.53, 0.42)
#: PPG beat shape, as fractions of the beat interval: systolic wave centre and width,
#: dicrotic wave centre and width.
_SYSTOLE_CENTRE, _SYSTOLE_WIDTH = 0.18, 0.08
_DICROTIC_CENTRE, _DICROTIC_WIDTH = 0.48, 0.09
#: Gaussian waves are evaluated up to this many widths from their centre.
_KERNEL_SPAN_WIDTHS: float = 5.0
#: Beat intervals are kept above this fraction of the mean interval.
_MIN_INTERVAL_FRACTION: float = 0.3
#: Respiration asymmetry: amplitude of the 2nd harmonic relative to the fundamental.
_RESP_SECOND_HARMONIC: float = 0.25
#: Cut-off (Hz) of the low-pass that makes random rate/illumination/motion paths smooth.
_RESP_RATE_WANDER_HZ: float = 0.05
_DRIFT_CUTOFF_HZ: float = 0.05
_MOTION_CUTOFF_HZ: float = 2.0


def _check_common(duration_sec: float, fs: float, rate_bpm: float, name: str) -> tuple[int, float]:
    fs = check_fs(fs)
    n = round(duration_sec * fs)
    if n < 2:
        raise SignalError(f"duration_sec={duration_sec} gives fewer than 2 samples at fs={fs:g}")
    if not rate_bpm > 0:
        raise SignalError(f"{name} must be positive, got {rate_bpm}")
    return n, fs


def simulate_ppg_beats(
    duration_sec: float,
    fs: float,
    heart_rate_bpm: float,
    hrv_sdnn_ms: float = 0.0,
    dicrotic: float = 0.3,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulated PPG and its beat onsets.

    Beat intervals are i.i.d. Gaussian with mean ``60 / heart_rate_bpm`` s and standard
    deviation ``hrv_sdnn_ms``; ``dicrotic`` is the dicrotic wave's height relative to the
    systolic wave. Returns ``(ppg, beat_onsets_sec)``: ``ppg`` (T,) zero-mean unit-std with
    T = round(duration_sec * fs), and the onset time of every beat (B,) in seconds (the first
    beat starts before 0 so the signal is periodic from the first sample).
    """
    n, fs = _check_common(duration_sec, fs, heart_rate_bpm, "heart_rate_bpm")
    rng = np.random.default_rng(seed)
    mean_interval_sec = SECONDS_PER_MINUTE / heart_rate_bpm
    duration = n / fs
    chunk = int(np.ceil(duration / mean_interval_sec)) + 2  # beats drawn per round
    first_onset = -mean_interval_sec * (1.0 + rng.uniform())  # a random phase, a beat before 0
    intervals = np.empty(0)
    while first_onset + intervals.sum() <= duration:  # draw until the beats cover the signal
        more = mean_interval_sec + rng.normal(0.0, hrv_sdnn_ms / 1000.0, chunk)
        more = np.maximum(more, _MIN_INTERVAL_FRACTION * mean_interval_sec)
        intervals = np.concatenate([intervals, more])
    onsets = first_onset + np.concatenate([[0.0], np.cumsum(intervals[:-1])])
    waves = ((_SYSTOLE_CENTRE, _SYSTOLE_WIDTH, 1.0), (_DICROTIC_CENTRE, _DICROTIC_WIDTH, dicrotic))
    ppg = np.zeros(n)
    for onset, interval in zip(onsets, intervals, strict=True):
        if onset >= duration:
            break
        for centre_frac, width_frac, height in waves:
            centre, width = onset + centre_frac * interval, width_frac * interval
            lo = max(0, int(np.floor((centre - _KERNEL_SPAN_WIDTHS * width) * fs)))
            hi = min(n, int(np.ceil((centre + _KERNEL_SPAN_WIDTHS * width) * fs)) + 1)
            if hi > lo:
                t = np.arange(lo, hi) / fs
                ppg[lo:hi] += height * np.exp(-0.5 * ((t - centre) / width) ** 2)
    return standardize(ppg), onsets[onsets < duration]


def simulate_ppg(
    duration_sec: float,
    fs: float,
    heart_rate_bpm: float,
    hrv_sdnn_ms: float = 0.0,
    dicrotic: float = 0.3,
    seed: int | None = None,
) -> np.ndarray:
    """Simulated PPG (T,), zero-mean unit-std; see :func:`simulate_ppg_beats`."""
    return simulate_ppg_beats(duration_sec, fs, heart_rate_bpm, hrv_sdnn_ms, dicrotic, seed)[0]


def _smooth_noise(rng: np.random.Generator, n: int, fs: float, cutoff_hz: float) -> np.ndarray:
    """Zero-mean unit-std random path (T,) with power below ``cutoff_hz``."""
    white = rng.standard_normal(n)
    if cutoff_hz < fs / 2.0 and n > 1:
        white = lowpass(white, fs, cutoff_hz, order=2)
    return standardize(white)


def simulate_respiration(
    duration_sec: float,
    fs: float,
    breathing_rate_bpm: float,
    rate_variability: float = 0.0,
    seed: int | None = None,
) -> np.ndarray:
    """Simulated respiration (T,), zero-mean unit-std.

    The instantaneous rate is ``breathing_rate_bpm * (1 + rate_variability * w(t))`` with
    ``w`` a slow unit-std random path (below 0.05 Hz), so 0.1 means about ±10% wander.
    """
    n, fs = _check_common(duration_sec, fs, breathing_rate_bpm, "breathing_rate_bpm")
    rng = np.random.default_rng(seed)
    wander = _smooth_noise(rng, n, fs, _RESP_RATE_WANDER_HZ) if rate_variability else np.zeros(n)
    rate_hz = breathing_rate_bpm / SECONDS_PER_MINUTE * np.maximum(1 + rate_variability * wander, 0)
    phase = 2 * np.pi * (np.cumsum(rate_hz) / fs + rng.uniform())
    wave = np.sin(phase) + _RESP_SECOND_HARMONIC * np.sin(2 * phase + np.pi / 2)
    return standardize(wave)


def simulate_rgb_trace(
    duration_sec: float,
    fs: float,
    heart_rate_bpm: float,
    breathing_rate_bpm: float | None = None,
    pulse_amplitude: float = 0.003,
    illumination_drift: float = 0.05,
    motion: float = 0.0,
    noise_std: float = 0.0005,
    skin_rgb: tuple[float, float, float] = DEFAULT_SKIN_RGB,
    seed: int | None = None,
    hrv_sdnn_ms: float = 0.0,
    respiration_amplitude: float = 0.002,
) -> np.ndarray:
    """Simulated mean skin RGB trace (T, 3) in [0, 1] units.

    ``C(t) = I(t) · skin ⊙ (1 − pulse_amplitude · ppg(t) · Pbv) + specular(t) · (1,1,1) + n(t)``
    with ``ppg`` from :func:`simulate_ppg` (blood volume, peaks up, so reflectance dips):

    * ``I(t) = (1 + illumination_drift · d(t)) · (1 + motion · m(t) + resp(t))``: slow
      illumination drift ``d`` (unit-std path below 0.05 Hz, all channels) and intensity
      changes from motion ``m`` (unit-std path below 2 Hz); with ``breathing_rate_bpm`` the
      breathing moves the face and modulates the intensity by ``respiration_amplitude``.
    * ``specular(t) = motion · mean(skin) · s(t)``: a white (1, 1, 1) specular component from
      motion, ``s`` an independent unit-std path below 2 Hz.
    * ``pulse_amplitude``: the pulse's relative (AC/DC) std along the normalised ``Pbv``.
    * ``n(t)``: Gaussian sensor noise with std ``noise_std`` per channel.
    """
    n, fs = _check_common(duration_sec, fs, heart_rate_bpm, "heart_rate_bpm")
    rng = np.random.default_rng(seed)
    skin = np.asarray(skin_rgb, dtype=np.float64)
    pbv = np.asarray(PBV_SIGNATURE) / np.linalg.norm(PBV_SIGNATURE)
    ppg = simulate_ppg(duration_sec, fs, heart_rate_bpm, hrv_sdnn_ms, seed=rng.integers(2**31))
    intensity = 1.0 + illumination_drift * _smooth_noise(rng, n, fs, _DRIFT_CUTOFF_HZ)
    modulation = 1.0 + motion * _smooth_noise(rng, n, fs, _MOTION_CUTOFF_HZ)
    if breathing_rate_bpm is not None:
        resp = simulate_respiration(duration_sec, fs, breathing_rate_bpm, seed=rng.integers(2**31))
        modulation = modulation + respiration_amplitude * resp
    specular = motion * skin.mean() * _smooth_noise(rng, n, fs, _MOTION_CUTOFF_HZ)
    diffuse = skin[None, :] * (1.0 - pulse_amplitude * ppg[:, None] * pbv[None, :])
    rgb = (intensity * modulation)[:, None] * diffuse + specular[:, None]
    return rgb + rng.normal(0.0, noise_std, rgb.shape)
