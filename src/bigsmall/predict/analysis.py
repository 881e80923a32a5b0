"""Per-frame waveforms → rates, rates over time and signal quality (what ``predict`` reports).

The pulse follows the BigSmall paper's evaluation protocol (Narayanswamy et al., WACV 2024,
after the rPPG-Toolbox, Liu et al. 2023): a diff-normalized network output is integrated,
detrended with the smoothness prior (Tarvainen et al., IEEE TBME 2002) and band-passed, see
:func:`bigsmall.evaluation.physiology.prepare_waveform`; the rate is the periodogram peak with
the sub-harmonic check (``rate_method="fft"``), reported where that periodogram peaks between
its bins (:func:`bigsmall.signal.spectrum.refine_peak_hz`; the paper's evaluation keeps the bin
itself). Breathing uses the product's own band :data:`PRODUCT_RR_BAND_HZ` (4.8–30 /min) and
a detrend that keeps it, :data:`PRODUCT_RR_DETREND_LAMBDA`. The waveforms shown are integrated;
a diff-normalized output's rate and SNR are read from the output's own scale, the waveform's
first difference (:func:`rate_wave`), where its noise is white.

Quality. The pulse SNR is de Haan & Jeanne's (IEEE TBME 2013) measure around the pulse's own
rate: power within ±0.1 Hz of the rate and its 2nd harmonic over the rest of the heart band
(:func:`bigsmall.signal.snr_db`). Pure noise measured this way scores about −5 dB on average
and, because the rate is its own highest peak, rarely above 0 dB (10 s windows of white noise
at 30 fps read as a network output: median −4.2 dB, 95th percentile −1.2 dB, 99th 0.0 dB;
30 s windows: 99th −1.9 dB). A rate whose SNR is below :data:`PULSE_SNR_MIN_DB`
(0 dB) is not reported (``None``) and a warning says why; a sine of 0.5× the noise's std
scores ≈ +2.8 dB and is read correctly every time. Breathing has no harmonic structure to
count, so its SNR is the power within ±:data:`BREATHING_HALF_WIDTH_HZ` of the rate over the
rest of the breathing band; 20 s of white noise scores a median −1.6 dB, 95th percentile
+2.0 dB (read as a network output) or −2.5 / +0.7 dB (raw motion; 2,000 draws), hence
:data:`BREATHING_SNR_MIN_DB` = 3 dB and breathing only from ≥ 20 s stretches (shorter
spectra have too few bins in the band for any threshold to separate noise).

Several estimates of one rhythm (BigSmall's PPG and POS on the face's skin colour; its
respiration output and head motion) are read together from their averaged band-normalized
periodograms, which lowers what noise scores: their gates are :data:`FUSED_PULSE_SNR_MIN_DB`
and :data:`FUSED_BREATHING_SNR_MIN_DB`. Some can lead (:class:`ReadingOrder`): each read alone
first, in turn, the first that passes the one-wave gate gives the rate, and only otherwise are
the chosen ones read together. ``predict``'s fused breathing leads with the face's motion, then
the shoulders' (:func:`breathing_reads`), and otherwise reads the respiration head with the
face's motion: the motion is right on still faces wherever it is clear, while the head's noise
would drag a pair below its gate (white noise passes the face-led pair in 0.8 % of 20 s draws,
with the shoulders leading second in 1.0 %; the face alone in 0.3 %, face then shoulders each
alone, ``"motion"``, in 0.5 %; 10,000 draws). A rate
on the band's first or last bin (or outside it) is withheld whatever its SNR
(:func:`at_band_edge`).

Head motion. A talking or nodding head changes the light on the skin and what the crop holds
at its own rhythm, which the network and POS read as a pulse. Where the head's measured pose
moves in the heart band by at least :data:`HEAD_MOTION_MIN_REL` of the crop's height, the
pulse estimates are read with the pose regressed out (:func:`without_head_motion`,
:func:`bigsmall.signal.artifacts.regress_out`); a still head is left alone, as its motion may
carry the pulse itself (ballistocardiac motion) and regressing it would cancel the pulse.

Breathing's harmonics. A face that rises and falls as it breathes changes what the skin region
holds alike on the way up and down: a colour change at twice and three times the breathing
rate, in the heart band from 22.5 and 15 breaths a minute. Where a breathing rate is read, the
heart rate is not read within :data:`NOT_AT_HALF_WIDTH_HZ` of those harmonics
(:func:`breathing_harmonics_hz`, :func:`estimate`'s ``not_at_hz``), and their power counts as
the pulse's noise: on animated photos without a pulse it had given 3 heart rates of 22, all
there; none is given now, and no pulsed video's rate changed (docs/real-faces.md, session 24).
``predict`` (the whole video and the rates over time, each window with its own breathing) and
``live`` read it alike.

Sway. Breathing is read from the rise of the face's centre, but a head that rolls or leans
about a point away from the face's centre (the neck; the centre of an animated photo) moves
that centre up and down too, at breathing rates. The rise is read with what the head's roll
and scale explain regressed out in the breathing band (:func:`rise_without_sway`): a rigid
rotation or scaling about a pivot moves the face's centre in proportion to the angle and to the
scale, by the pivot's distance, so the fit needs no derivatives and its coefficients must be
head-sized distances. On 94 videos with injected breathing (real faces animated with sway,
real talking clips, generated faces): right within 2 /min on 64 instead of 58, wrong readings 2
instead of 6 (docs/real-faces.md, session 18).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from bigsmall.evaluation.physiology import prepare_waveform
from bigsmall.evaluation.settings import EvalSettings
from bigsmall.signal.artifacts import REFERENCE_FILTER_ORDER, coupling, regress_out
from bigsmall.signal.filters import bandpass
from bigsmall.signal.quality import snr_db_from_spectrum
from bigsmall.signal.rate import rate_from_spectrum
from bigsmall.signal.spectrum import band_mask, mean_band_normalized_periodogram, refine_peak_hz

#: Breathing band (Hz) of the product: 4.8–30 per minute. People at rest breathe 6–30 times a
#: minute (slow, paced breathing 6); a 30 s spectrum's bins lie 1.76 /min apart and a rate on
#: the band's first bin is withheld (:func:`at_band_edge`), so the band reaches more than a bin
#: below 6 /min (the paper's 0.13 Hz, 7.8 /min, left 6–9.6 /min unreadable).
PRODUCT_RR_BAND_HZ: tuple[float, float] = (0.08, 0.5)
#: Breathing detrend λ of the product: the smoothness prior's corner ≈ fs·λ^(-1/2)/(2π), 0.068 Hz
#: at 30 fps (0.056 at 25), below :data:`PRODUCT_RR_BAND_HZ` (the configs' 2000 cuts at 0.1 Hz).
#: 10,000 (0.048 Hz) read the same still faces but let more of a talking head's slow nodding
#: through (docs/real-faces.md).
PRODUCT_RR_DETREND_LAMBDA: float = 5_000.0
#: Evaluation settings of the product: the paper's heart band and pulse detrend, the
#: harmonic-robust FFT rate, and a breathing band and detrend that keep slow breathing.
PRODUCT_SETTINGS = EvalSettings(
    rate_method="fft", rr_band_hz=PRODUCT_RR_BAND_HZ, rr_detrend_lambda=PRODUCT_RR_DETREND_LAMBDA
)

#: Below this pulse SNR (dB) the heart rate is withheld (noise alone rarely reaches it).
PULSE_SNR_MIN_DB: float = 0.0
#: Below this SNR (dB) of two pulse estimates read together (the network's PPG and POS on the
#: skin colour: their band-normalized periodograms averaged) the heart rate is withheld. Two
#: independent noises read this way score lower than one: 10 s of white noise pairs (read as a
#: network output and as a POS wave) median −5.0 dB, 95th percentile −3.0, 99th −2.1 dB
#: (30 s: −5.4 / −3.7 / −3.0), so −2 dB lets noise through as rarely as 0 dB does for one wave.
FUSED_PULSE_SNR_MIN_DB: float = -2.0
#: At or above this pulse SNR (dB) the quality label is "good" (between: "fair").
PULSE_SNR_GOOD_DB: float = 3.0
#: Shortest stretch (s) a heart rate is reported from (shorter spectra are too coarse).
PULSE_MIN_SEC: float = 5.0
#: Half-width (Hz) of the window around the breathing rate counted as signal.
BREATHING_HALF_WIDTH_HZ: float = 0.03
#: Below this breathing SNR (dB) the breathing rate is withheld.
BREATHING_SNR_MIN_DB: float = 3.0
#: Below this SNR (dB) of two breathing estimates read together (the respiration head and head
#: motion) the breathing rate is withheld: 20 s of white-noise pairs (a network output and a raw
#: motion trace) read this way score a median −3.3 dB and 95th percentile −0.6 dB (2,000 draws),
#: so +1 dB (with the band-edge rule) lets 0.6 % of noise pairs through, fewer than the 3.1 % of
#: network-output noises that pass 3 dB alone.
FUSED_BREATHING_SNR_MIN_DB: float = 1.0
#: At or above this breathing SNR (dB) the breathing quality label is "good".
BREATHING_SNR_GOOD_DB: float = 6.0
#: Breathing needs longer windows than the pulse (a 0.13 Hz cycle lasts 7.7 s); it is
#: reported only from stretches at least this long.
BREATHING_MIN_WINDOW_SEC: float = 20.0
#: The head's in-band vertical movement (rms of its fitted pose's rise, band-passed to the heart
#: band), as a fraction of the crop box's height, from which the pulse is read with the head's
#: motion regressed out: 0.13 % of a `face` crop (1.5 face heights), 0.2 % of the face, about
#: 0.5 mm on an adult face — far above a still head's sub-pixel ballistocardiac motion, below
#: talking (design videos: talking median 0.8 % of the face, still faces 0.01 %).
HEAD_MOTION_MIN_REL: float = 0.0013
#: Farthest pivot (in crop heights, 1.5 face heights each) of a roll or lean whose part of the
#: face's rise is regressed out of the breathing (:func:`rise_without_sway`): about 3 face
#: heights, the head and upper body. Beyond it a fit is a reference that barely moves (on 94
#: design videos: a generated face's 0.09 % scale change read as a pivot 3 crop heights away
#: took its breathing); 1 and 2 read those videos alike.
MAX_PIVOT_CROP_HEIGHTS: float = 2.0
#: Quality label of a rate whose stretch of video is shorter than its kind's minimum.
TOO_SHORT: str = "too short"
#: Shortest stretch (s) each kind of rate is read from (pulse, breathing).
MIN_SEC: dict[str, float] = {"heart": PULSE_MIN_SEC, "breathing": BREATHING_MIN_WINDOW_SEC}
#: Step between the windows of the rates over time.
RATE_STEP_SEC: float = 1.0

#: kind → (settings band field, SNR threshold, "good" threshold).
_KIND_LIMITS: dict[str, tuple[float, float]] = {
    "heart": (PULSE_SNR_MIN_DB, PULSE_SNR_GOOD_DB),
    "breathing": (BREATHING_SNR_MIN_DB, BREATHING_SNR_GOOD_DB),
}
_MIN_SAMPLES = 8


def breathing_snr_db(
    freqs_hz: np.ndarray,
    power: np.ndarray,
    f0_hz: float,
    band_hz: tuple[float, float],
    noise_only: np.ndarray | None = None,
) -> float:
    """SNR (dB) of a breathing spectrum around ``f0_hz``: power within
    ±max(:data:`BREATHING_HALF_WIDTH_HZ`, one bin) over the rest of ``band_hz``;
    ``noise_only``: as :func:`bigsmall.signal.quality.snr_db_from_spectrum`'s."""
    half = max(BREATHING_HALF_WIDTH_HZ, float(freqs_hz[1] - freqs_hz[0]))
    near = np.abs(freqs_hz - f0_hz) <= half
    if noise_only is not None:
        near &= ~noise_only
    inside = band_mask(freqs_hz, band_hz)
    tiny = np.finfo(np.float64).tiny
    signal_power = power[near & inside].sum()
    noise_power = power[inside & ~near].sum()
    return float(10.0 * (np.log10(max(signal_power, tiny)) - np.log10(max(noise_power, tiny))))


def _snr(
    kind: str,
    freqs_hz: np.ndarray,
    power: np.ndarray,
    rate_bpm: float,
    noise_only: np.ndarray | None = None,
) -> float:
    band = PRODUCT_SETTINGS.band_hz(kind)
    snr = snr_db_from_spectrum if kind == "heart" else breathing_snr_db
    return snr(freqs_hz, power, rate_bpm / 60.0, band, noise_only)


def quality_label(kind: str, snr: float, n_waves: int = 1) -> str:
    """The quality label ("good", "fair" or "poor") of an SNR (dB) of ``kind`` read from
    ``n_waves`` estimates."""
    good = _KIND_LIMITS[kind][1]
    if not np.isfinite(snr) or snr < snr_threshold_db(kind, n_waves):
        return "poor"
    return "good" if snr >= good else "fair"


def snr_threshold_db(kind: str, n_waves: int = 1) -> float:
    """The SNR (dB) below which a rate of ``kind`` read from ``n_waves`` estimates is withheld."""
    if n_waves > 1:
        return FUSED_PULSE_SNR_MIN_DB if kind == "heart" else FUSED_BREATHING_SNR_MIN_DB
    return _KIND_LIMITS[kind][0]


def prepare(x: np.ndarray, fs: float, kind: str, diff_normalized: bool) -> np.ndarray:
    """(T,) raw waveform → (T,) detrended, band-passed waveform (integrated if diff-normalized).

    Non-finite samples (e.g. frames without a face) are set to zero first.
    """
    wave = np.nan_to_num(np.asarray(x, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    settings = replace(PRODUCT_SETTINGS, diff_normalized=diff_normalized)
    return prepare_waveform(wave, fs, kind, settings)


def rate_wave(x: np.ndarray, fs: float, kind: str, diff_normalized: bool) -> np.ndarray:
    """(T,) raw waveform → (T,) the wave its rate is read from: :func:`prepare`'s waveform, or
    for a diff-normalized output the first difference of it — the output's own scale.

    A network trained on diff-normalized labels (BigSmall's PPG and respiration heads) outputs
    the waveform's derivative; its noise is roughly white there, and integrating it (as the
    waveform shown is integrated) reddens the noise by 1/f², which pulls the spectral peak and
    the SNR towards the band's low end: on animated photos without a pulse the network's
    integrated output put its heart rate at 46–54 bpm in 13 of 25 and passed the gate on 5;
    read from its derivative, on 1 (docs/real-faces.md). White noise passes the gates less
    often this way (10 s: 1.1 % of single waves, 0.9 % of pairs, against 4.3 % and 2.6 %).
    """
    return rate_view(prepare(x, fs, kind, diff_normalized), diff_normalized)


def rate_view(prepared: np.ndarray, diff_normalized: bool) -> np.ndarray:
    """(T,) a :func:`prepare`-d waveform → (T,) what its rate is read from (:func:`rate_wave`)."""
    return np.diff(prepared, prepend=prepared[:1]) if diff_normalized else prepared


@dataclass(frozen=True)
class RateEstimate:
    """A rate (per minute; NaN when too noisy or too short), its SNR (dB), quality label
    ("good", "fair", "poor", or :data:`TOO_SHORT` when the stretch was too short to read) and
    the indices of the estimates it was read from among those given to :func:`estimate`
    (empty when none was usable)."""

    rate_bpm: float
    snr_db: float
    quality: str
    read_from: tuple[int, ...] = ()
    #: the spectrum's strongest peak (per minute) where it lay at a frequency the rate may not
    #: be read at (:func:`estimate`'s ``not_at_hz``: a harmonic of the breathing), else NaN
    passed_over_bpm: float = float("nan")

    @property
    def reliable(self) -> bool:
        return self.quality in ("fair", "good")

    @property
    def n_waves(self) -> int:
        """How many estimates the rate was read from together (1 when none was usable: the
        one-wave gate is the one that applies)."""
        return max(len(self.read_from), 1)


@dataclass(frozen=True)
class ReadingOrder:
    """How several estimates of one rhythm are read by :func:`estimate`: those at ``leads``
    (indices) each alone, in turn, the first that passes the one-wave gate giving the rate;
    otherwise those at ``together`` (``None``: all) from their averaged periodograms."""

    leads: tuple[int, ...] = ()
    together: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if any(i < 0 for i in (*self.leads, *(self.together or ()))):
            raise ValueError(f"reading order indices must be >= 0: {self}")
        if self.together is not None and not self.together:
            raise ValueError("a reading order reads at least one estimate together")


#: Every estimate read together, none alone first.
ALL_TOGETHER = ReadingOrder()


def estimate(
    waves: np.ndarray | Sequence[np.ndarray],
    fs: float,
    kind: str,
    order: ReadingOrder = ALL_TOGETHER,
    not_at_hz: Sequence[float] = (),
) -> RateEstimate:
    """Rate, SNR and quality of prepared (T,) waveform(s) of ``kind``; rate NaN when poor.

    Several waves (estimates of the same rhythm) are read together from the mean of their
    band-normalized periodograms
    (:func:`bigsmall.signal.spectrum.mean_band_normalized_periodogram`); one wave gives exactly
    its own periodogram's rate and SNR. ``order``: waves read alone first (the first that
    passes the one-wave gate is returned, ``n_waves`` 1) and those read together otherwise.
    ``not_at_hz``: frequencies of another rhythm (within :data:`NOT_AT_HALF_WIDTH_HZ`; e.g.
    :func:`breathing_harmonics_hz`): the rate is read elsewhere and their power counts as
    noise, so what is read must stand out of it too (a weaker pulse beside a stronger
    harmonic is withheld rather than the harmonic given as a pulse).
    """
    waves = _as_waves(waves)
    named = (*order.leads, *(order.together or ()))
    if named and max(named) >= len(waves):
        raise ValueError(f"{order} names an estimate beyond the {len(waves)} given")
    chosen = range(len(waves))
    if len(waves) > 1:
        for lead in order.leads:
            alone = estimate([waves[lead]], fs, kind, not_at_hz=not_at_hz)
            if alone.reliable:
                return replace(alone, read_from=(lead,))
        if order.together is not None:
            chosen = order.together
    read_from = tuple(
        i for i in chosen if np.size(waves[i]) >= _MIN_SAMPLES and np.any(np.asarray(waves[i]))
    )
    usable = [np.asarray(waves[i], np.float64) for i in read_from]
    if not usable:
        return RateEstimate(float("nan"), float("nan"), "poor")
    band = PRODUCT_SETTINGS.band_hz(kind)
    freqs_hz, power = mean_band_normalized_periodogram(usable, fs, band)
    rate = rate_from_spectrum(freqs_hz, power, band)  # PRODUCT_SETTINGS' "fft" rule
    passed_over = float("nan")
    barred = _near_any(freqs_hz, not_at_hz)
    if barred.any():  # another rhythm's: never the rate, always noise
        unbarred = rate_from_spectrum(freqs_hz, np.where(barred, 0.0, power), band)
        if unbarred != rate:
            passed_over, rate = rate, unbarred
    snr = _snr(kind, freqs_hz, power, rate, barred)
    label = quality_label(kind, snr, len(usable))
    if at_band_edge(freqs_hz, rate / 60.0, band):
        label = "poor"
    if label == "poor":
        return RateEstimate(float("nan"), snr, label, read_from, passed_over)
    # the gate reads the bins; the rate reported is the peak between them
    rate = 60.0 * refine_peak_hz(usable, fs, band, rate / 60.0)
    if _near_any(np.array([rate / 60.0]), not_at_hz)[0]:  # the bar's neighbour, on its lobe
        return RateEstimate(float("nan"), snr, "poor", read_from, rate)
    return RateEstimate(rate, snr, label, read_from, passed_over)


#: Half-width (Hz) of what :func:`estimate`'s ``not_at_hz`` leaves out: 3 bpm, a 30-s
#: spectrum's resolution and a steady harmonic's main lobe over it, and the breathing rate's own
#: error (within 0.6 /min on the design videos: 1.8 bpm at three times). In 10-s windows
#: (rates over time, ``live``) it took pulse-less windows given a heart rate from 55 to 14 of
#: 926 with pulsed ones right 376 → 379 of 1,064; scaled with such a window's coarser
#: resolution (±9 bpm) it cost right ones (341) for 3 fewer pulse-less (docs/real-faces.md,
#: session 24).
NOT_AT_HALF_WIDTH_HZ: float = 0.05
#: Harmonics of the breathing rate at which no heart rate is read (the module's docstring):
#: 2 and 3 withheld the 3 heart rates given on animated photos without a pulse and lost none of
#: the 22 given on pulsed videos; adding 4 changed nothing (docs/real-faces.md, session 24).
#: A real heart beating within 3 bpm of two or three times its breathing is withheld too: for
#: resting people (heart 70 ± 10 bpm, breathing 15 ± 3 /min) about 3 in 100.
BREATHING_HARMONIC_ORDERS: tuple[int, ...] = (2, 3)


def breathing_harmonics_hz(breathing_bpm: float | None) -> tuple[float, ...]:
    """The frequencies (Hz) of :data:`BREATHING_HARMONIC_ORDERS` × a breathing rate (per
    minute), for :func:`estimate`'s ``not_at_hz``; none when the rate is ``None`` or NaN."""
    if breathing_bpm is None or not np.isfinite(breathing_bpm):
        return ()
    return tuple(k * breathing_bpm / 60.0 for k in BREATHING_HARMONIC_ORDERS)


def _near_any(freqs_hz: np.ndarray, targets_hz: Sequence[float]) -> np.ndarray:
    """(F,) bool: bins within :data:`NOT_AT_HALF_WIDTH_HZ` of any of ``targets_hz``."""
    barred = np.zeros(freqs_hz.shape, bool)
    for target in targets_hz:
        barred |= np.abs(freqs_hz - target) <= NOT_AT_HALF_WIDTH_HZ
    return barred


_Read = TypeVar("_Read")


def breathing_reads(
    source: str, model: _Read | None, body: Sequence[_Read]
) -> tuple[list[_Read], ReadingOrder]:
    """The raw breathing estimates read for ``source`` (any items: e.g. ``(wave,
    diff-normalized)``, arranged, not read) and how (:class:`ReadingOrder`).

    model: the respiration head's output, or ``None`` (no network: the motion alone).
    body: the motion estimates in the order they lead: the face's rise, then the shoulders'.
    ``"model"``: the head alone; ``"motion"``: each motion alone in turn, never averaged
    (averaged as a last reading they gained no rate on the design videos and let more noise
    through); ``"fused"``: each motion alone in turn, then the head read together with the
    face's motion (adding the shoulders there lost a right reading on the design videos, and
    gained none: docs/real-faces.md).
    """
    if source == "motion" or model is None:
        reads = list(body)
        if len(reads) < 2:
            return reads, ALL_TOGETHER
        return reads, ReadingOrder(leads=tuple(range(len(reads))), together=(0,))
    if source == "model":
        return [model], ALL_TOGETHER
    return [model, *body], ReadingOrder(leads=tuple(range(1, len(body) + 1)), together=(0, 1))


#: The least breathing-band movement (rms of a body's rise, band-passed to the breathing band)
#: that is read as motion at all, as a fraction of the crop box's height: 0.01 % (0.05 px of a
#: 480-px crop). The tracker's own jitter on a still picture with camera noise stays below
#: 0.002 % (23 static photo clips: 0.0001-0.0016 %, one read as breathing at 3.7 dB); breathing
#: moved the study's faces and shoulders by 0.06-5 % (docs/real-faces.md, session 22).
BODY_MOTION_MIN_REL: float = 1e-4


def body_motion(rise: np.ndarray, fs: float, height_px: float) -> np.ndarray:
    """(T,) a body's rise (px; the face's or the shoulders') as it is where it moves in the
    breathing band by at least :data:`BODY_MOTION_MIN_REL` of ``height_px`` (the crop's
    height); zeros otherwise, an estimate :func:`estimate` leaves out (a still picture's
    tracker jitter is no breathing)."""
    rise = np.nan_to_num(np.asarray(rise, np.float64))
    if rise.size < _MIN_SAMPLES or not height_px > 0:
        return np.zeros_like(rise)
    band = PRODUCT_SETTINGS.band_hz("breathing")
    moves = _moves_by(rise, fs, band, BODY_MOTION_MIN_REL * height_px, order=1)
    return rise if moves else np.zeros_like(rise)


def _moves_by(
    rise: np.ndarray, fs: float, band_hz: tuple[float, float], least_px: float, order: int
) -> bool:
    """Whether ``rise`` (T,) (px) moves in ``band_hz`` by at least ``least_px`` (rms of its
    band-passed deviation from its mean; Butterworth ``order``)."""
    in_band = bandpass(rise - rise.mean(), fs, band_hz, order=order)
    return float(np.std(in_band)) >= least_px


def without_head_motion(
    waves: Sequence[np.ndarray], pose: np.ndarray, rise: int, height_px: float, fs: float
) -> list[np.ndarray]:
    """(T,) pulse rate views (:func:`rate_wave`) with the head's motion regressed out, where
    it moves enough (:data:`HEAD_MOTION_MIN_REL` of ``height_px``, the crop's height);
    otherwise the waves as they are.

    ``pose``: (T, K) the head's fitted pose over the same frames (column ``rise``: the vertical
    movement in pixels; NaN where not measured). Every column and its derivative is a reference
    (:func:`bigsmall.signal.artifacts.regress_out`).
    """
    band = PRODUCT_SETTINGS.band_hz("heart")
    pose = np.nan_to_num(np.asarray(pose, np.float64))
    moves = pose[:, rise] - pose[:, rise].mean()
    if pose.shape[0] < _MIN_SAMPLES or not np.any(moves) or not height_px > 0:
        return list(waves)
    least_px = HEAD_MOTION_MIN_REL * height_px
    if not _moves_by(moves, fs, band, least_px, order=REFERENCE_FILTER_ORDER):
        return list(waves)
    cleaned = regress_out(np.stack(waves, axis=1), pose, fs, band)
    return list(cleaned.T)


def rise_without_sway(pose: np.ndarray, rise: int, fs: float, height_px: float) -> np.ndarray:
    """(T,) the rise column of ``pose`` (T, K) less what the other columns (the head's roll in
    radians and log scale) explain in the breathing band (:func:`coupling`, measured in the
    band, the columns themselves subtracted); NaN counts as zero.

    Each coefficient is the distance (px) from the face's centre to the pivot of that motion;
    a pivot further than :data:`MAX_PIVOT_CROP_HEIGHTS` crop heights (``height_px``) is no
    pivot of a head (a chance fit of a reference that barely moves) and that column is left
    out (the others refitted). A pose too short or without motion gives the rise as it is."""
    pose = np.nan_to_num(np.asarray(pose, np.float64))
    moves = pose[:, rise].copy()
    others = np.delete(pose, rise, axis=1)
    if pose.shape[0] < _MIN_SAMPLES or not np.any(moves != moves[0]) or not height_px > 0:
        return moves
    band = PRODUCT_SETTINGS.band_hz("breathing")
    keep = np.any(others != others[:1], axis=0)
    while keep.any():
        coef = coupling(moves, others[:, keep], fs, band)
        near = np.abs(coef) <= MAX_PIVOT_CROP_HEIGHTS * height_px
        if near.all():
            sway = others[:, keep] - others[:, keep].mean(axis=0)
            return moves - sway @ coef
        keep[np.flatnonzero(keep)[~near]] = False
    return moves


def at_band_edge(freqs_hz: np.ndarray, f_hz: float, band_hz: tuple[float, float]) -> bool:
    """True when ``f_hz`` is the first or last frequency bin inside ``band_hz``, or outside the
    band: the largest in-band bin sits on the edge when the power keeps rising beyond it (slow
    motion below the heart band, or noise above it), which is not a peak of the rhythm itself."""
    inside = freqs_hz[band_mask(freqs_hz, band_hz)]
    step = float(freqs_hz[1] - freqs_hz[0])
    return bool(inside.size) and (f_hz < inside[0] + step / 2 or f_hz > inside[-1] - step / 2)


def _as_waves(x: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    return [x] if isinstance(x, np.ndarray) and x.ndim == 1 else list(x)


def rates_over_time(
    pulse: np.ndarray | Sequence[np.ndarray],
    breathing: np.ndarray | Sequence[np.ndarray] | None,
    valid: np.ndarray,
    fs: float,
    window_sec: float,
    breathing_order: ReadingOrder = ALL_TOGETHER,
) -> dict[str, np.ndarray]:
    """Sliding-window rates every :data:`RATE_STEP_SEC`.

    pulse, breathing: (T,) prepared waveform(s) (``breathing`` may be ``None``); several
        waves of one kind are read together (see :func:`estimate`; ``breathing_order``: its
        ``order`` for the breathing waves).
    valid: (T,) bool, frames with a face; a window with less than half valid frames gets NaN.
    window_sec: pulse window; breathing uses max(window_sec, :data:`BREATHING_MIN_WINDOW_SEC`)
        capped at the clip, centred on the same times (shifted inside the clip at the edges).
        A window shorter than its kind's :data:`MIN_SEC` (a short clip) gives NaN, as the
        whole-video rate does. Each window's heart rate is read away from the harmonics of
        its breathing rate (:func:`breathing_harmonics_hz`), where one is read.
    Returns columns time_s, heart_rate_bpm, pulse_snr_db, breathing_rate_bpm,
    breathing_snr_db, each (W,).
    """
    pulse = _as_waves(pulse)
    breathing = None if breathing is None else _as_waves(breathing)
    n = pulse[0].shape[0]
    hr_len = min(max(round(window_sec * fs), 2), n)
    br_len = min(max(round(max(window_sec, BREATHING_MIN_WINDOW_SEC) * fs), 2), n)
    step = max(round(RATE_STEP_SEC * fs), 1)
    starts = np.arange(0, n - hr_len + 1, step)
    cols: dict[str, list[float]] = {
        k: []
        for k in (
            "time_s",
            "heart_rate_bpm",
            "pulse_snr_db",
            "breathing_rate_bpm",
            "breathing_snr_db",
        )
    }
    nan = float("nan")
    for start in starts:
        centre = start + hr_len / 2.0
        cols["time_s"].append(centre / fs)
        br = RateEstimate(nan, nan, "poor")
        if breathing is not None:
            br_start = int(min(max(round(centre - br_len / 2.0), 0), n - br_len))
            br = _window_estimate(
                breathing, valid, br_start, br_len, fs, "breathing", breathing_order
            )
        not_at_hz = breathing_harmonics_hz(br.rate_bpm)
        hr = _window_estimate(pulse, valid, start, hr_len, fs, "heart", not_at_hz=not_at_hz)
        cols["heart_rate_bpm"].append(hr.rate_bpm)
        cols["pulse_snr_db"].append(hr.snr_db)
        cols["breathing_rate_bpm"].append(br.rate_bpm)
        cols["breathing_snr_db"].append(br.snr_db)
    return {k: np.asarray(v, np.float64) for k, v in cols.items()}


def _window_estimate(
    waves: list[np.ndarray],
    valid: np.ndarray,
    start: int,
    length: int,
    fs: float,
    kind: str,
    order: ReadingOrder = ALL_TOGETHER,
    not_at_hz: Sequence[float] = (),
) -> RateEstimate:
    if length < MIN_SEC[kind] * fs - 0.5:
        return RateEstimate(float("nan"), float("nan"), TOO_SHORT)
    if valid[start : start + length].mean() < 0.5:
        return RateEstimate(float("nan"), float("nan"), "poor")
    return estimate([w[start : start + length] for w in waves], fs, kind, order, not_at_hz)


#: Gaps in the face's detection up to this long (s) between frames with a face are read
#: through (:func:`bridge_gaps`): the detector looks once a second, and one that misses a face
#: still there (a tilted or tight face) for a look or two would otherwise cut the clip into
#: stretches too short for a rate; the crop holds the face's last box meanwhile.
MAX_FACE_GAP_SEC: float = 2.0


def bridge_gaps(mask: np.ndarray, fs: float, max_gap_sec: float = MAX_FACE_GAP_SEC) -> np.ndarray:
    """(T,) bool: the (T,) bool ``mask`` with each run of False no longer than ``max_gap_sec``
    that has True on both sides set to True (runs at either end stay False)."""
    out = np.asarray(mask, bool).copy()
    longest = max_gap_sec * fs + 0.5
    for start, stop in zip(*_runs(~out), strict=True):  # the runs of False
        if start > 0 and stop < out.size and stop - start <= longest:
            out[start:stop] = True
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(starts, stops)`` (R,) each: the runs of True in the (T,) bool ``mask``."""
    padded = np.concatenate([[False], np.asarray(mask, bool), [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return edges[::2], edges[1::2]


def longest_run(mask: np.ndarray) -> tuple[int, int]:
    """``(start, stop)`` of the longest run of True in the (T,) bool ``mask`` ((0, 0) if none)."""
    starts, stops = _runs(mask)
    if starts.size == 0:
        return 0, 0
    best = int(np.argmax(stops - starts))
    return int(starts[best]), int(stops[best])
