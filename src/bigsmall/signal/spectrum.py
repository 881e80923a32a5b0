"""Periodogram with next-power-of-two padding, the dominant frequency inside a band, and the
mean band-normalized periodogram of several estimates of one rhythm, and that periodogram's
peak located between its bins.

Several estimates of the same pulse (a network's output, a classic method's) share its
frequency but not their noise or their phase; averaging their periodograms, each scaled to unit
power inside the band, keeps the common peak while each one's noise counts only once
(spectral averaging as in Welch, IEEE Trans. Audio Electroacoust. 15(2), 1967, here across
estimates rather than across time segments).

A periodogram's bins lie ``fs / nfft`` apart (30 s at 30 fps: 1.76 per minute), so a rate read
from its largest bin is off by up to half that. The periodogram is the zero-padded limit of the
squared discrete-time Fourier transform; evaluating that transform on a fine grid within one
bin of the largest bin finds the maximum itself, which for one sinusoid in white noise is the
maximum-likelihood estimate of its frequency (Rife & Boorstyn, "Single-tone parameter
estimation from discrete-time observations", IEEE Trans. Inf. Theory 20(5), 1974)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from bigsmall.signal.validation import SignalError, as_1d, check_band, check_fs


def next_power_of_two(n: int) -> int:
    """Smallest power of two ≥ ``n`` (1 for n ≤ 1)."""
    return 1 if n <= 1 else 1 << (int(n) - 1).bit_length()


def periodogram(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided periodogram of ``x`` (T,) with nfft = next power of two ≥ T.

    Returns ``(freqs_hz, power)``, both (nfft // 2 + 1,). The mean is removed first.
    """
    fs = check_fs(fs)
    arr = as_1d(x, min_len=2)
    # scipy.signal.periodogram's density scaling (boxcar window, constant detrend), computed
    # directly: the same values, ~7× faster on a 10 s window (sliding rates call it hundreds
    # of times per video).
    nfft = next_power_of_two(arr.size)
    spectrum = np.fft.rfft(arr - arr.mean(), nfft)
    power = (spectrum.real**2 + spectrum.imag**2) / (fs * arr.size)
    power[1 : None if nfft % 2 else -1] *= 2.0  # one-sided: all but DC (and Nyquist) doubled
    return np.fft.rfftfreq(nfft, 1.0 / fs), power


def band_mask(freqs_hz: np.ndarray, band_hz: tuple[float, float]) -> np.ndarray:
    """Boolean mask of ``freqs_hz`` inside the closed band ``[low, high]``."""
    return (freqs_hz >= band_hz[0]) & (freqs_hz <= band_hz[1])


def dominant_frequency(x: np.ndarray, fs: float, band_hz: tuple[float, float]) -> float:
    """Frequency (Hz) of the largest periodogram bin of ``x`` (T,) inside ``band_hz``."""
    fs = check_fs(fs)
    band = check_band(band_hz, fs)
    freqs_hz, power = periodogram(x, fs)
    inside = band_mask(freqs_hz, band)
    if not inside.any():
        raise SignalError(
            f"no frequency bin of a {np.size(x)}-sample signal falls in {band} Hz; "
            "pass a longer signal"
        )
    return float(freqs_hz[inside][np.argmax(power[inside])])


def mean_band_normalized_periodogram(
    waves: list[np.ndarray] | tuple[np.ndarray, ...], fs: float, band_hz: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean of the periodograms of equal-length ``waves`` (each (T,)), each divided by its
    power inside ``band_hz`` (a wave without power there is left out).

    Returns ``(freqs_hz, power)`` as :func:`periodogram`; all-zero power when no wave counts.
    """
    if not waves:
        raise SignalError("pass at least one wave")
    freqs_hz, total = None, None
    count = 0
    for wave in waves:
        freqs_hz, power = periodogram(wave, fs)
        in_band = power[band_mask(freqs_hz, band_hz)].sum()
        if total is None:
            total = np.zeros_like(power)
        elif power.shape != total.shape:
            raise SignalError("waves must have the same length")
        if in_band > 0:
            total += power / in_band
            count += 1
    return freqs_hz, total / max(count, 1)


#: Frequencies evaluated per stage of :func:`refine_peak_hz`: the first stage spans ±one bin,
#: each next one ±one step of the previous (9 points, 2 stages: a sixteenth of a bin).
PEAK_REFINE_POINTS: int = 9
PEAK_REFINE_STAGES: int = 2


def power_near(
    x: np.ndarray, fs: float, centre_hz: float, step_hz: float, points: int
) -> np.ndarray:
    """The periodogram of ``x`` (T,) at ``points`` frequencies ``step_hz`` apart centred on
    ``centre_hz``: |DTFT|², scaled and mean removed as :func:`periodogram` (which samples it at
    ``k · fs / nfft``). Returns (points,)."""
    fs = check_fs(fs)
    arr = as_1d(x, min_len=2)
    return _powers_near(arr[None] - arr.mean(), fs, centre_hz, step_hz, points)[0]


def refine_peak_hz(
    waves: list[np.ndarray] | tuple[np.ndarray, ...],
    fs: float,
    band_hz: tuple[float, float],
    peak_hz: float,
    points: int = PEAK_REFINE_POINTS,
    stages: int = PEAK_REFINE_STAGES,
) -> float:
    """The maximum of the mean band-normalized periodogram of ``waves`` (each (T,), weighted as
    :func:`mean_band_normalized_periodogram`) within one bin (``fs / nfft``) of ``peak_hz``
    (a bin of that periodogram, usually its largest in the band), inside ``band_hz``:
    ``points`` frequencies across ±one bin, then ``stages - 1`` times across ±one step around
    the best so far. Returns Hz."""
    if not waves:
        raise SignalError("pass at least one wave")
    if points < 3 or stages < 1:
        raise SignalError(f"need points >= 3 and stages >= 1, got {points} and {stages}")
    fs = check_fs(fs)
    arrays = [as_1d(w, min_len=2) for w in waves]
    n = arrays[0].size
    if any(a.size != n for a in arrays):
        raise SignalError("waves must have the same length")
    rows, weights = [], []
    for arr in arrays:
        freqs_hz, power = periodogram(arr, fs)
        in_band = power[band_mask(freqs_hz, band_hz)].sum()
        if in_band > 0:
            rows.append(arr - arr.mean())
            weights.append(1.0 / in_band)
    if not rows:
        return float(peak_hz)
    centred, weight = np.stack(rows), np.asarray(weights)
    best, step = float(peak_hz), 2.0 * fs / next_power_of_two(n) / (points - 1)
    for _ in range(stages):
        offsets = step * (np.arange(points) - (points - 1) / 2)
        total = weight @ _powers_near(centred, fs, best, step, points)
        total[~band_mask(best + offsets, band_hz)] = -np.inf
        best = float(best + offsets[np.argmax(total)])
        step *= 2.0 / (points - 1)
    return best


def _powers_near(
    centred: np.ndarray, fs: float, centre_hz: float, step_hz: float, points: int
) -> np.ndarray:
    """|DTFT|² of each mean-removed row of ``centred`` (K, T) at ``points`` frequencies
    ``step_hz`` apart centred on ``centre_hz``, periodogram-scaled: (K, points). The rows are
    shifted down by the centre (one cosine and sine per sample), then the offsets' transform
    (the same for every window of this length) is applied; cosines and sines as real matrices
    (an order of magnitude faster than complex ones)."""
    angle = np.arange(centred.shape[1]) * (2.0 * np.pi * centre_hz / fs)
    cos_c, sin_c = centred * np.cos(angle), centred * np.sin(angle)
    cos_o, sin_o = _offset_basis(centred.shape[1], step_hz / fs, points)
    re = cos_c @ cos_o - sin_c @ sin_o  # Re Σ x e^{iθ} with θ = centre + offset phase
    im = sin_c @ cos_o + cos_c @ sin_o
    return 2.0 * (re**2 + im**2) / (fs * centred.shape[1])


@lru_cache(maxsize=64)
def _offset_basis(n: int, step_cycles: float, points: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosines and sines (each (n, points)) of the offsets' phase 2π·j·step·t, j centred."""
    offsets = step_cycles * (np.arange(points) - (points - 1) / 2)
    phase = np.outer(np.arange(n) * 2.0 * np.pi, offsets)
    return np.cos(phase), np.sin(phase)
