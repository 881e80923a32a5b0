"""Evaluation knobs (owned by the evaluation layer; composed by the experiment config)."""

from __future__ import annotations

from dataclasses import dataclass

from bigsmall.constants import HR_BAND_HZ, RR_BAND_HZ

#: Breathing detrend λ that leaves the breathing band (≥ 0.13 Hz) intact at 25–30 fps.
RECOMMENDED_RR_DETREND_LAMBDA: float = 2000.0


#: Which band and detrend λ of the settings each waveform kind uses.
_FIELDS_OF_KIND: dict[str, tuple[str, str]] = {
    "heart": ("hr_band_hz", "detrend_lambda"),
    "breathing": ("rr_band_hz", "rr_detrend_lambda"),
}


def _field(kind: str, which: int) -> str:
    try:
        return _FIELDS_OF_KIND[kind][which]
    except KeyError:
        raise ValueError(
            f"unknown waveform kind {kind!r}; choose one of {sorted(_FIELDS_OF_KIND)}"
        ) from None


@dataclass(frozen=True)
class EvalSettings:
    """How per-recording waveforms become rates (the BigSmall paper's protocol by default).

    Attributes:
        rate_method: "fft_argmax" (periodogram peak in the band: the paper), "fft" (the same with
            a sub-harmonic check against 2×/3× errors) or "peaks" (60 / mean peak interval).
        hr_band_hz: heart-rate band for the filter and the search; (0.75, 2.5) reproduces the
            paper, (0.6, 3.3) is the rPPG-Toolbox default.
        rr_band_hz: breathing band.
        detrend_lambda: smoothness-prior λ (Tarvainen et al. 2002) for the pulse.
        rr_detrend_lambda: λ for breathing. The paper uses 100 for both, but that detrend is a
            high-pass with its corner near ``fs·λ^(-1/2)/(2π)`` (≈ 0.4 Hz at 25 fps): it removes
            ~98% of a 9 /min breath while keeping its harmonics, so slow breathing reads at 2×.
            100 reproduces the paper; :data:`RECOMMENDED_RR_DETREND_LAMBDA` keeps the breathing
            band intact (corner ≈ 0.09 Hz at 25 fps) and is what the project's own configs use.
        filter_order: Butterworth order of the zero-phase band-pass (the paper uses 1).
        diff_normalized: the waveforms are diff-normalized (integrate them first).
        scope: which test recordings form a video: "au_subset" (the released configs) or "all"
            (the paper's text, entire BP4D+ of held-out subjects); reported with every table.
    """

    rate_method: str = "fft_argmax"
    hr_band_hz: tuple[float, float] = HR_BAND_HZ
    rr_band_hz: tuple[float, float] = RR_BAND_HZ
    detrend_lambda: float = 100.0
    rr_detrend_lambda: float = 100.0
    filter_order: int = 1
    diff_normalized: bool = True
    scope: str = "all"

    def band_hz(self, kind: str) -> tuple[float, float]:
        """The (low, high) band in Hz of ``kind``: "heart" or "breathing"."""
        return getattr(self, _field(kind, 0))

    def detrend_lambda_of(self, kind: str) -> float:
        """The smoothness-prior λ used for ``kind``: "heart" or "breathing"."""
        return getattr(self, _field(kind, 1))
