"""Heart-rate variability from a pulse wave: beat times, inter-beat intervals, SDNN and RMSSD.

- Beats are the systolic peaks of the band-passed pulse wave
  (:func:`bigsmall.signal.peaks.find_peaks`, refractory distance from the heart rate), each
  refined to sub-sample time by the vertex of the parabola through the peak sample and its two
  neighbours: a camera samples every 33 ms at 30 fps, coarser than the beat-to-beat changes
  HRV measures (the usual remedy in camera PPG; e.g. McDuff et al., "Remote measurement of
  cognitive stress via heart rate variability", EMBC 2014, interpolate the pulse wave). The
  band keeps the pulse's first harmonics (:data:`TIMING_BAND_HZ`): a beat's shape is what
  times it, and a narrow band smooths each beat's time with its neighbours'. Peaks within half
  a period of the wave's ends (a filter's transient, a partial beat) are not beats.
- Intervals more than :data:`MAX_INTERVAL_DEVIATION` away from the median interval are dropped
  as missed or spurious beats (the ectopic-beat rule of Malik et al., "Heart rate variability
  in relation to prognosis after myocardial infarction", Am. J. Cardiol. 1989, uses 20 %), and
  so are the successive differences that involve them.
- SDNN (standard deviation of the intervals) and RMSSD (root mean square of successive
  differences) as defined by the Task Force of the ESC and NASPE, "Heart rate variability:
  standards of measurement, physiological interpretation and clinical use", Circulation 1996.
- Whether the beat times are precise enough for SDNN and RMSSD: noise moves a peak by
  roughly its in-band amplitude over the wave's curvature, tens of ms at the SNR of a good
  camera pulse, more than the RMSSD of a resting person (15-40 ms). :func:`beat_consistency`
  (the median correlation of each beat with the mean beat) measures it; on simulated pulses
  (50-120 bpm, SDNN 10-60 ms, white noise of 1 % to 200 % of the pulse) RMSSD is within 25 %
  of the truth for 95 % of clips with a consistency of at least 0.99 and for 78 % of all clips,
  hence :data:`MIN_BEAT_CONSISTENCY`. The mean interval is within 20 ms at any usable SNR.
- Two estimates of the same beats whose noise is independent (a network's pulse and a
  colour-based one): the spread of their differences measures the timing error itself, as
  comparing three clocks two by two measures each one's noise (the "three-cornered hat",
  Gray & Allan, 24th Frequency Control Symposium 1974). With errors ``e_a``, ``e_b`` of the
  same statistics and independent of each other, their difference ``d = e_a - e_b`` and the
  error of their mean, ``(e_a + e_b) / 2``, have the same covariance up to a factor 4, whatever
  their correlation from beat to beat. So the error the mean beats add to each interval is
  measured by the first differences of ``d`` (over 2) and the error they add to each successive
  difference of intervals by its second differences (over 2), on exactly the intervals and
  pairs SDNN and RMSSD keep: :func:`hrv_from_two` removes those shares. (Assuming the jitter
  white — ``6 j**2`` added to RMSSD² — over-corrects a jitter that drifts from beat to beat, as a
  video's does: on five clear generated 60-s videos it read RMSSD 33–44 % low, the differences
  −14 to +10 %; docs/hrv.md.) Where the jitter explains more than :data:`MAX_JITTER_SHARE` of
  RMSSD² the correction is too large to trust and it is withheld. Noise the two estimates share
  (both read the same pixels) is not seen this way: :func:`beat_consistency` is then read on
  the pair's mean wave (:func:`pair_wave`), which carries what the two share and half of what
  they do not, as the averaged beat times do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bigsmall.signal.filters import bandpass, standardize
from bigsmall.signal.peaks import FILTER_ORDER, find_peaks
from bigsmall.signal.timing import nearest_index
from bigsmall.signal.validation import as_1d, check_fs

#: Intervals further than this fraction from the median interval are dropped.
MAX_INTERVAL_DEVIATION: float = 0.25
#: Below this :func:`beat_consistency` the beat times are too noisy for SDNN and RMSSD.
MIN_BEAT_CONSISTENCY: float = 0.99
_MS_PER_SEC: float = 1000.0
#: Band the beats are timed in (Hz; the upper edge kept below Nyquist: :func:`timing_band_hz`).
#: The heart band the rate is read in (0.75–2.5 Hz) cuts the second harmonic above 75 bpm and
#: mixes each beat's time with its neighbours': timed there, even a noise-free generated pulse
#: read RMSSD up to 20 % off its injected beats' (docs/hrv.md).
TIMING_BAND_HZ: tuple[float, float] = (0.5, 8.0)
#: Peaks closer than this many beat periods to either end of the wave are dropped.
EDGE_PERIODS: float = 0.5
#: The timing band's upper edge is at most this fraction of the Nyquist frequency.
_NYQUIST_FRACTION: float = 0.9


@dataclass(frozen=True)
class HrvResult:
    """Time-domain HRV of one stretch: mean inter-beat interval (the beats' span over the number
    of beat periods in it), SDNN and RMSSD of the kept intervals (ms), the beats found and the
    intervals kept."""

    mean_ibi_ms: float
    sdnn_ms: float
    rmssd_ms: float
    beats: int
    intervals_kept: int
    #: timing jitter of the beats (ms) and the share of RMSSD**2 it accounted for, when two
    #: estimates were compared (:func:`hrv_from_two`); NaN otherwise
    jitter_ms: float = float("nan")
    jitter_share: float = float("nan")


def timing_band_hz(fs: float) -> tuple[float, float]:
    """:data:`TIMING_BAND_HZ` at ``fs``: its upper edge at most 0.9 of the Nyquist frequency."""
    low, high = TIMING_BAND_HZ
    return low, min(high, _NYQUIST_FRACTION * check_fs(fs) / 2.0)


def beat_times(
    wave: np.ndarray,
    fs: float,
    band_hz: tuple[float, float],
    expected_rate_hz: float | None = None,
) -> np.ndarray:
    """(B,) beat times in s (from the first sample) of the pulse wave ``wave`` (T,) at ``fs``:
    its peaks in ``band_hz`` refined by parabolic interpolation, none within
    :data:`EDGE_PERIODS` beat periods (``1 / expected_rate_hz``, else the median interval) of
    the wave's ends."""
    fs = check_fs(fs)
    y = bandpass(as_1d(wave, min_len=3), fs, band_hz, order=FILTER_ORDER)
    peaks = find_peaks(y, fs, band_hz, prefilter=False, expected_rate_hz=expected_rate_hz)
    inner = peaks[(peaks > 0) & (peaks < y.size - 1)]
    left, mid, right = y[inner - 1], y[inner], y[inner + 1]
    curvature = left - 2.0 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
    times = (inner + np.clip(shift, -0.5, 0.5)) / fs
    if expected_rate_hz is not None and expected_rate_hz > 0:
        period = 1.0 / expected_rate_hz
    elif times.size > 1:
        period = float(np.median(np.diff(times)))
    else:
        return times
    edge = EDGE_PERIODS * period
    return times[(times >= edge) & (times <= (y.size - 1) / fs - edge)]


def kept_intervals(intervals_ms: np.ndarray, max_deviation: float) -> np.ndarray:
    """(B-1,) bool: the intervals (B-1,) within ``max_deviation`` of their median."""
    median = float(np.median(intervals_ms))
    return np.abs(intervals_ms - median) <= max_deviation * median


def hrv_from_beats(
    times_sec: np.ndarray, max_deviation: float = MAX_INTERVAL_DEVIATION
) -> HrvResult | None:
    """Time-domain HRV of beat times (B,) in s; ``None`` with fewer than 3 usable intervals."""
    times = np.sort(np.asarray(times_sec, np.float64))
    if times.size < 4:
        return None
    intervals = np.diff(times) * _MS_PER_SEC
    median = float(np.median(intervals))
    keep = kept_intervals(intervals, max_deviation)
    if keep.sum() < 3:
        return None
    kept = intervals[keep]
    successive = np.diff(intervals)[keep[1:] & keep[:-1]]
    rmssd = float(np.sqrt(np.mean(successive**2))) if successive.size else float("nan")
    # the mean over the whole span: missed or extra beats change the count of intervals, not
    # the time the beats span. Each interval holds round(interval / median) beat periods (a
    # missed beat: 2; the two halves of one split by a spurious beat: 1 together) — counting
    # per interval, not round(span / median), which miscounts a long clip whose median
    # interval differs from its mean by more than half a period over the span
    span_ms = (times[-1] - times[0]) * _MS_PER_SEC
    periods = max(int(np.round(intervals / median).sum()), 1)
    return HrvResult(
        mean_ibi_ms=float(span_ms / periods),
        sdnn_ms=float(kept.std(ddof=1)),
        rmssd_ms=rmssd,
        beats=int(times.size),
        intervals_kept=int(kept.size),
    )


def beat_consistency(wave: np.ndarray, fs: float, times_sec: np.ndarray) -> float:
    """Median Pearson correlation of each beat of ``wave`` (T,) (one period centred on each
    beat time) with the mean beat; NaN with fewer than 3 whole beats."""
    x = as_1d(wave, min_len=3)
    times = np.asarray(times_sec, np.float64)
    if times.size < 3:
        return float("nan")
    half = int(0.5 * float(np.median(np.diff(times))) * fs)
    centres = np.round(times * fs).astype(int)
    centres = centres[(centres - half >= 0) & (centres + half <= x.size)]
    if centres.size < 3 or half < 2:
        return float("nan")
    beats = np.stack([x[c - half : c + half] for c in centres])
    beats = beats - beats.mean(axis=1, keepdims=True)
    template = beats.mean(axis=0)
    norms = np.linalg.norm(beats, axis=1) * np.linalg.norm(template)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = beats @ template / norms
    return float(np.nanmedian(r))


#: Two estimates of one beat further apart than this (s) are not the same beat.
MAX_MATCH_SEC: float = 0.15
#: Above this share of RMSSD**2 explained by timing jitter the correction is too large to trust.
MAX_JITTER_SHARE: float = 0.6


def _match(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """For sorted beat times ``a`` (B_a,) and ``b`` (B_b,): the beat of ``b`` nearest to each
    of ``a`` (B_a,), ``a`` minus it (B_a,) and their median, the constant lag of ``a`` behind
    ``b`` (s)."""
    nearest = b[nearest_index(b, a)]
    diff = a - nearest
    return nearest, diff, float(np.median(diff))


def pair_wave(
    wave_a: np.ndarray,
    wave_b: np.ndarray,
    times_a_sec: np.ndarray,
    times_b_sec: np.ndarray,
    fs: float,
) -> np.ndarray:
    """(T,) the mean of two pulse waves (T,) of the same beats, each standardized, ``wave_b``
    shifted by the constant lag of the beats ``times_a_sec`` behind ``times_b_sec`` (as
    :func:`hrv_from_two` matches them): the wave whose noise the pair's mean beat times carry
    (what they share, and half of what they do not), for :func:`beat_consistency`."""
    fs = check_fs(fs)
    a, b = as_1d(wave_a, min_len=3), as_1d(wave_b, min_len=3)
    if a.shape != b.shape:
        raise ValueError(f"the two waves differ in length ({a.size} and {b.size} samples)")
    ta, tb = (
        np.sort(np.asarray(times_a_sec, np.float64)),
        np.sort(np.asarray(times_b_sec, np.float64)),
    )
    lag = _match(ta, tb)[2] if ta.size and tb.size else 0.0
    t = np.arange(a.size) / fs
    shifted = np.interp(t - lag, t, b)  # b's beat at t_b now at t_b + lag, on a's beat
    return 0.5 * (standardize(a) + standardize(shifted))


def hrv_from_two(
    times_a_sec: np.ndarray,
    times_b_sec: np.ndarray,
    max_deviation: float = MAX_INTERVAL_DEVIATION,
) -> HrvResult | None:
    """Time-domain HRV of two independent estimates (B_a,), (B_b,) of the same beat times (s):
    each beat of ``a`` matched to the nearest of ``b`` (a constant lag between them removed),
    the matched pairs averaged, and the timing jitter their differences reveal removed from
    SDNN and RMSSD (see the module docstring). ``None`` with too few matched beats."""
    a = np.sort(np.asarray(times_a_sec, np.float64))
    b = np.sort(np.asarray(times_b_sec, np.float64))
    if a.size < 4 or b.size < 4:
        return None
    nearest, diff, lag = _match(a, b)
    matched = np.abs(diff - lag) <= MAX_MATCH_SEC
    if matched.sum() < 4:
        return None
    mean_times = 0.5 * (a[matched] + nearest[matched] + lag)
    plain = hrv_from_beats(mean_times, max_deviation)
    if plain is None:
        return None
    # the two estimates' disagreement at each matched beat (ms), in the mean beats' order
    order = np.argsort(mean_times, kind="stable")
    mean_times = mean_times[order]
    disagreement = (diff[matched] - lag)[order] * _MS_PER_SEC
    keep = kept_intervals(np.diff(mean_times) * _MS_PER_SEC, max_deviation)
    pairs = keep[1:] & keep[:-1]
    # what the mean beats' error adds to the kept intervals' variance and to the mean square
    # of their successive differences (both / 4: the mean's error is half the difference's)
    interval_var = float(np.var(np.diff(disagreement)[keep], ddof=1)) / 4.0
    successive_sq = (
        float(np.mean(np.diff(disagreement, 2)[pairs] ** 2)) / 4.0 if pairs.any() else 0.0
    )
    rmssd_sq, sdnn_sq = plain.rmssd_ms**2, plain.sdnn_ms**2
    share = successive_sq / rmssd_sq if rmssd_sq > 0 else float("inf")
    return HrvResult(
        mean_ibi_ms=plain.mean_ibi_ms,
        sdnn_ms=float(np.sqrt(max(sdnn_sq - interval_var, 0.0))),
        rmssd_ms=float(np.sqrt(max(rmssd_sq - successive_sq, 0.0))),
        beats=plain.beats,
        intervals_kept=plain.intervals_kept,
        jitter_ms=float(np.std(disagreement)) / 2.0,
        jitter_share=float(share),
    )
