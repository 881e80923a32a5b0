"""Heart and breathing rates from a pulse or respiration wave.

Rates over sliding windows (with signal quality) are the product's
:func:`bigsmall.predict.analysis.rates_over_time`.

Estimators, chosen by ``method``:

* ``"fft"``: periodogram with nfft = next power of two ≥ T; the largest bin inside the band,
  × 60 (as in the BigSmall evaluation), followed by a sub-harmonic check. A real pulse wave has
  strong 2nd and 3rd harmonics (the dicrotic notch); when the in-band maximum sits at ``f``
  and the spectrum near ``f/3`` or ``f/2`` (in the band, or at most one bin below its lower
  edge) peaks there (a local maximum: a slope rising towards DC, as slow drift leaves, is not
  a rhythm), holds at least :data:`SUBHARMONIC_POWER_RATIO` of the maximum's power and stands
  well above the noise floor (:data:`SUBHARMONIC_NOISE_FACTOR` × the median in-band power),
  the lowest such sub-harmonic is the fundamental and is returned instead. A noise bump
  rarely passes these tests, while a fundamental whose harmonics outgrow it does.
* ``"fft_argmax"``: the same periodogram peak without the sub-harmonic check, exactly the
  reference's rule (use it to reproduce the paper's numbers).
* ``"peaks"``: band-pass, detect peaks (see :mod:`bigsmall.signal.peaks`), 60 / mean interval.
  The refractory distance between peaks is a fraction of the period of the (harmonic-checked)
  spectral rate, so the extra maxima that strong harmonics put inside each beat are skipped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bigsmall.constants import HR_BAND_HZ, RR_BAND_HZ
from bigsmall.signal.peaks import find_peaks
from bigsmall.signal.spectrum import band_mask, dominant_frequency, periodogram
from bigsmall.signal.validation import SignalError, as_1d, check_band, check_fs

SECONDS_PER_MINUTE: float = 60.0
#: Power (relative to the in-band maximum) a sub-harmonic needs to be taken as the fundamental;
#: 0.1 in power ≈ a fundamental at least 0.32× the amplitude of its strongest harmonic (low
#: enough for a fundamental at the band's lower edge, halved in power by the band-pass).
SUBHARMONIC_POWER_RATIO: float = 0.1
#: ... and its largest bin must exceed this multiple of the median in-band power (the noise
#: floor), so that a noise bump next to a fundamental in a noisy spectrum is not taken for it.
SUBHARMONIC_NOISE_FACTOR: float = 10.0
#: Sub-harmonic orders checked, lowest frequency first.
SUBHARMONIC_ORDERS: tuple[int, ...] = (3, 2)
#: Half-width of the search window around ``f / k``, as a fraction of ``f / k`` (rate
#: variability smears the harmonics), never less than one frequency bin.
SUBHARMONIC_TOLERANCE_FRACTION: float = 0.05

RateFn = Callable[[np.ndarray, float, tuple[float, float]], float]


def _window_power(freqs_hz: np.ndarray, power: np.ndarray, centre_hz: float) -> float:
    """Summed power within ±SUBHARMONIC_TOLERANCE_FRACTION·centre (at least one bin) of centre.

    Summing over a window makes the comparison immune to scalloping (a line between two bins).
    """
    resolution_hz = freqs_hz[1] - freqs_hz[0]
    half_width = max(resolution_hz, SUBHARMONIC_TOLERANCE_FRACTION * centre_hz)
    return float(power[np.abs(freqs_hz - centre_hz) <= half_width].sum())


def _local_maxima(power: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(K,) bool: which of ``indices`` are local maxima of ``power`` (above the bin below,
    not below the bin above); a spectrum's first and last bins never are."""
    inner = (indices > 0) & (indices < power.size - 1)
    below = power[np.clip(indices - 1, 0, None)]
    above = power[np.clip(indices + 1, None, power.size - 1)]
    return inner & (power[indices] > below) & (power[indices] >= above)


def _fft_rate(x: np.ndarray, fs: float, band_hz: tuple[float, float]) -> float:
    freqs_hz, power = periodogram(x, fs)
    return rate_from_spectrum(freqs_hz, power, band_hz)


def rate_from_spectrum(
    freqs_hz: np.ndarray, power: np.ndarray, band_hz: tuple[float, float]
) -> float:
    """The ``"fft"`` rule (in-band peak, then the sub-harmonic check) on a given spectrum;
    per minute."""
    inside = band_mask(freqs_hz, band_hz)
    if not inside.any():
        raise SignalError(
            f"a {2 * (freqs_hz.size - 1)}-bin spectrum has no frequency bin in {band_hz} Hz; "
            "pass a longer signal"
        )
    f_peak = float(freqs_hz[inside][np.argmax(power[inside])])
    noise_floor = SUBHARMONIC_NOISE_FACTOR * float(np.median(power[inside]))
    peak_power = _window_power(freqs_hz, power, f_peak)
    resolution_hz = freqs_hz[1] - freqs_hz[0]
    for order in SUBHARMONIC_ORDERS:
        f_sub = f_peak / order
        half_width = max(resolution_hz, SUBHARMONIC_TOLERANCE_FRACTION * f_sub)
        if f_sub + half_width < band_hz[0]:  # the fundamental may sit just below the band edge
            continue
        near = np.flatnonzero(
            (np.abs(freqs_hz - f_sub) <= half_width) & (freqs_hz >= band_hz[0] - resolution_hz)
        )
        near = near[_local_maxima(power, near)]
        if near.size == 0:  # a slope (towards DC or the band's edge), not a peak of its own
            continue
        best = near[np.argmax(power[near])]
        strong = _window_power(freqs_hz, power, f_sub) >= SUBHARMONIC_POWER_RATIO * peak_power
        if strong and power[best] >= noise_floor:
            return float(freqs_hz[best]) * SECONDS_PER_MINUTE
    return f_peak * SECONDS_PER_MINUTE


def _peaks_rate(x: np.ndarray, fs: float, band_hz: tuple[float, float]) -> float:
    expected_hz = _fft_rate(x, fs, band_hz) / SECONDS_PER_MINUTE
    indices = find_peaks(x, fs, band_hz, expected_rate_hz=expected_hz)
    if indices.size < 2:
        raise SignalError(
            f"found {indices.size} peak(s) in a {x.size / fs:g} s signal for band {band_hz} Hz; "
            "pass a longer signal or use method='fft'"
        )
    return SECONDS_PER_MINUTE * fs / float(np.mean(np.diff(indices)))


def _fft_argmax_rate(x: np.ndarray, fs: float, band_hz: tuple[float, float]) -> float:
    return dominant_frequency(x, fs, band_hz) * SECONDS_PER_MINUTE


#: Rate estimators by name.
RATE_METHODS: dict[str, RateFn] = {
    "fft": _fft_rate,
    "fft_argmax": _fft_argmax_rate,
    "peaks": _peaks_rate,
}


def _lookup(table: dict, name: str, what: str):
    try:
        return table[name]
    except KeyError:
        raise SignalError(f"unknown {what} {name!r}; choose one of {sorted(table)}") from None


def estimate_rate(
    x: np.ndarray, fs: float, band_hz: tuple[float, float], method: str = "fft"
) -> float:
    """Rate in cycles per minute of the rhythm of ``x`` (T,) inside ``band_hz`` (Hz)."""
    fs = check_fs(fs)
    band = check_band(band_hz, fs)
    arr = as_1d(x, min_len=2)
    return _lookup(RATE_METHODS, method, "rate method")(arr, fs, band)


def heart_rate(
    x: np.ndarray, fs: float, method: str = "fft", band_hz: tuple[float, float] = HR_BAND_HZ
) -> float:
    """Heart rate (beats per minute) of the pulse wave ``x`` (T,) sampled at ``fs`` Hz."""
    return estimate_rate(x, fs, band_hz, method)


def breathing_rate(
    x: np.ndarray, fs: float, method: str = "fft", band_hz: tuple[float, float] = RR_BAND_HZ
) -> float:
    """Breathing rate (breaths per minute) of the respiration wave ``x`` (T,) at ``fs`` Hz."""
    return estimate_rate(x, fs, band_hz, method)
