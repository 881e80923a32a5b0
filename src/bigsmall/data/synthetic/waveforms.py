"""Pulse and breathing waveforms for the synthetic videos.

Two pulse sources, chosen per trial through :data:`PULSE_SOURCES`:

- ``"simulated"``: :func:`bigsmall.signal.simulate.simulate_ppg` (Gaussian systolic + dicrotic
  waves with i.i.d. beat-interval jitter, i.e. HRV with a given SDNN).
- ``"real"``: real finger/wrist PPG recordings that ship inside the ``heartpy`` package
  (van Gent et al., "HeartPy: A novel heart rate algorithm for the analysis of noisy signals",
  Transportation Research Part F 66, 2019; its ``data/*.csv`` example files). Their beats are
  found (systolic peaks), the recording is given a beat phase (one unit per beat, linear
  between peaks), and it is resampled at the phase of the target rhythm: real beat shapes and
  their beat-to-beat shape variation, time-warped to the target heart rate and HRV.
  Falls back to ``"simulated"`` when heartpy is not installed (the trial's JSON records the
  source actually used).

Breathing always comes from :func:`bigsmall.signal.simulate.simulate_respiration`.
Every waveform is zero-mean, unit-std, one sample per video frame.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from bigsmall.signal.simulate import simulate_ppg, simulate_respiration

SECONDS_PER_MINUTE: float = 60.0
#: Band kept from the real PPG recordings before beat detection (Hz).
_REAL_PPG_BAND_HZ: tuple[float, float] = (0.5, 8.0)
_FILTER_ORDER: int = 3
#: Shortest plausible beat interval in the real recordings (s), i.e. 200 bpm.
_MIN_BEAT_SEC: float = 0.3
#: Beats whose interval differs from the running median by more than this fraction are treated
#: as detection errors and cut the recording into clean runs.
_BEAT_TOLERANCE: float = 0.3
#: Shortest clean run kept (beats).
_MIN_RUN_BEATS: int = 8
#: heartpy example files: name -> how their time axis is given.
#: (``data2.csv`` is left out: most of it is motion artefact.)
_HEARTPY_FILES: tuple[tuple[str, str], ...] = (
    ("data.csv", "fs100"),
    ("data3.csv", "datetime"),
)
#: A systolic peak is at least this fraction of the tall peaks' height (rejects dicrotic waves).
_SYSTOLE_MIN_HEIGHT: float = 0.6
_TALL_PEAK_PERCENTILE: float = 90.0
#: Raw samples within this fraction of the range from the recording's maximum count as clipped.
_CLIP_MARGIN: float = 0.005
_HEARTPY_FS_HZ: float = 100.0
_MS_PER_SECOND: float = 1000.0


def _heartpy_data_dir() -> Path | None:
    spec = importlib.util.find_spec("heartpy")  # does not import heartpy (it needs setuptools)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data"
    return path if path.is_dir() else None


def _read_heartpy_file(path: Path, time_kind: str) -> tuple[np.ndarray, float]:
    """One recording: ``(signal (N,), fs)``."""
    if time_kind == "fs100":
        return np.loadtxt(path, dtype=np.float64), _HEARTPY_FS_HZ
    if time_kind == "timer_ms":
        table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
        fs = _MS_PER_SECOND / float(np.median(np.diff(table[:, 0])))
        return table[:, 1], fs
    times, values = [], []
    with path.open() as handle:
        next(handle)
        for line in handle:
            stamp, value = line.rsplit(",", 1)
            times.append(np.datetime64(stamp.strip()))
            values.append(float(value))
    step_sec = np.median(np.diff(np.asarray(times)).astype("timedelta64[us]").astype(np.float64))
    return np.asarray(values), 1e6 / float(step_sec)


@functools.lru_cache(maxsize=1)
def real_ppg_runs() -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Clean runs of real PPG as ``(phase (N,), signal (N,))`` pairs; empty without heartpy.

    ``phase`` counts beats (integer at each systolic peak); ``signal`` is band-passed and
    standardised; higher values = more blood volume (systole).
    """
    data_dir = _heartpy_data_dir()
    if data_dir is None:
        return ()
    runs: list[tuple[np.ndarray, np.ndarray]] = []
    for name, time_kind in _HEARTPY_FILES:
        path = data_dir / name
        if not path.is_file():
            continue
        raw, fs = _read_heartpy_file(path, time_kind)
        sos = butter(_FILTER_ORDER, _REAL_PPG_BAND_HZ, btype="bandpass", fs=fs, output="sos")
        wave = sosfiltfilt(sos, raw - raw.mean())
        peaks, _ = find_peaks(wave, distance=max(int(_MIN_BEAT_SEC * fs), 1), prominence=wave.std())
        if peaks.size < _MIN_RUN_BEATS:
            continue
        tall = np.percentile(wave[peaks], _TALL_PEAK_PERCENTILE)
        peaks = peaks[wave[peaks] >= _SYSTOLE_MIN_HEIGHT * tall]
        intervals = np.diff(peaks).astype(np.float64)
        median = np.median(intervals)
        clipped = raw >= raw.max() - _CLIP_MARGIN * (raw.max() - raw.min())
        clipped_beats = np.add.reduceat(clipped, peaks[:-1]) > 0 if peaks.size > 1 else []
        good = (np.abs(intervals - median) <= _BEAT_TOLERANCE * median) & ~np.asarray(
            clipped_beats, dtype=bool
        )
        start = 0
        for stop in [*np.flatnonzero(~good), intervals.size]:
            if stop - start >= _MIN_RUN_BEATS:
                run_peaks = peaks[start : stop + 1]
                index = np.arange(run_peaks[0], run_peaks[-1] + 1)
                phase = np.interp(index, run_peaks, np.arange(run_peaks.size, dtype=np.float64))
                segment = wave[index]
                runs.append((phase, (segment - segment.mean()) / segment.std()))
            start = stop + 1
    return tuple(runs)


def _beat_phase(
    n: int, fs: float, heart_rate_bpm: float, hrv_sdnn_ms: float, rng: np.random.Generator
) -> np.ndarray:
    """Beat phase (T,) of a rhythm with mean rate ``heart_rate_bpm`` and beat-interval SDNN."""
    mean_interval_sec = SECONDS_PER_MINUTE / heart_rate_bpm
    n_beats = int(np.ceil(n / fs / mean_interval_sec)) + 2
    intervals = rng.normal(mean_interval_sec, hrv_sdnn_ms / _MS_PER_SECOND, n_beats)
    intervals = np.maximum(intervals, 0.5 * mean_interval_sec)
    beat_times = np.concatenate([[0.0], np.cumsum(intervals)]) - rng.uniform() * intervals[0]
    return np.interp(np.arange(n) / fs, beat_times, np.arange(beat_times.size, dtype=np.float64))


def _real_pulse(
    n: int, fs: float, heart_rate_bpm: float, hrv_sdnn_ms: float, rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    runs = real_ppg_runs()
    if not runs:
        return _simulated_pulse(n, fs, heart_rate_bpm, hrv_sdnn_ms, rng)
    target = _beat_phase(n, fs, heart_rate_bpm, hrv_sdnn_ms, rng)
    needed = float(target[-1] - target[0])
    out = np.empty(n)
    filled = 0
    while filled < n:  # splice runs at beat boundaries until the trial is covered
        phase, wave = runs[int(rng.integers(len(runs)))]
        span = float(phase[-1])
        offset = float(rng.integers(0, max(int(span - min(needed, span - 1)), 1)))
        local = target[filled:] - target[filled] + offset
        usable = int(np.searchsorted(local, span, side="right"))
        out[filled : filled + usable] = np.interp(local[:usable], phase, wave)
        filled += max(usable, 1)
        needed = float(target[-1] - target[min(filled, n - 1)])
    return (out - out.mean()) / out.std(), "heartpy"


def _simulated_pulse(
    n: int, fs: float, heart_rate_bpm: float, hrv_sdnn_ms: float, rng: np.random.Generator
) -> tuple[np.ndarray, str]:
    dicrotic = float(rng.uniform(0.1, 0.5))
    seed = int(rng.integers(2**31))
    wave = simulate_ppg(n / fs, fs, heart_rate_bpm, hrv_sdnn_ms, dicrotic=dicrotic, seed=seed)
    return wave, "simulated"


#: Pulse sources: name -> f(n_frames, fs, heart_rate_bpm, hrv_sdnn_ms, rng) -> (wave, used).
PULSE_SOURCES: dict[
    str, Callable[[int, float, float, float, np.random.Generator], tuple[np.ndarray, str]]
] = {
    "simulated": _simulated_pulse,
    "real": _real_pulse,
}


def pulse_waveform(
    n_frames: int,
    fs: float,
    heart_rate_bpm: float,
    hrv_sdnn_ms: float,
    source: str,
    rng: np.random.Generator,
) -> tuple[np.ndarray, str]:
    """Blood-volume waveform (T,) zero-mean unit-std (up = more blood) and the source used."""
    return PULSE_SOURCES[source](n_frames, fs, heart_rate_bpm, hrv_sdnn_ms, rng)


def breathing_waveform(
    n_frames: int,
    fs: float,
    breathing_rate_bpm: float,
    rate_variability: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Breathing waveform (T,) zero-mean unit-std (up = inhalation)."""
    seed = int(rng.integers(2**31))
    return simulate_respiration(n_frames / fs, fs, breathing_rate_bpm, rate_variability, seed=seed)
