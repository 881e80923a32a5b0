"""Motion artefacts removed from a pulse estimate with a reference of the motion.

Adaptive noise cancelling (Widrow et al., "Adaptive noise cancelling: principles and
applications", Proc. IEEE 63(12), 1975): where a second recording carries the interference but
not the signal, the part of the primary recording that the reference predicts is interference,
and subtracting the best linear prediction leaves the signal. Wearable PPG uses an
accelerometer as the reference; a face video has its own, the head's measured pose. A talking,
nodding or turning head changes the light on the skin and what the crop holds at the head's own
rhythm, which a colour method or a network reads as a pulse.

:func:`regress_out` fits one least-squares combination over the whole stretch (not an adaptive
filter): each reference channel band-passed to the band of interest, and its derivative (a
movement's effect on the image may follow its position or its velocity, a quarter period apart).
It removes whatever the references explain, a pulse too if they carry one: a reference that
moves with the heartbeat (a still head's ballistocardiac motion) would cancel the pulse itself,
so callers use it only where the motion is far larger than that.

:func:`coupling` measures a coupling that holds at every frequency (a geometric one: a head
that rolls about a pivot beside the face's centre moves that centre up and down in proportion
to the angle, by the pivot's distance) in one band, where both signals are band-passed alike;
the caller subtracts the references themselves, unfiltered, times it.
"""

from __future__ import annotations

import numpy as np

from bigsmall.signal.filters import bandpass
from bigsmall.signal.validation import SignalError, as_float_array

#: Butterworth order (doubled by the zero-phase pass) of the references' band-pass.
REFERENCE_FILTER_ORDER: int = 2


def _as_references(references: np.ndarray) -> np.ndarray:
    """(T, K) float64 references (a (T,) one as K = 1), non-finite samples as zero."""
    refs = np.nan_to_num(as_float_array(references, "references", min_len=3).astype(np.float64))
    return refs.reshape(refs.shape[0], -1)


def _in_band(x: np.ndarray, fs: float, band_hz: tuple[float, float]) -> np.ndarray:
    """``x`` (T,) or (T, K) centred and band-passed the references' way."""
    return bandpass(x - x.mean(axis=0), fs, band_hz, order=REFERENCE_FILTER_ORDER)


def regress_out(
    x: np.ndarray,
    references: np.ndarray,
    fs: float,
    band_hz: tuple[float, float],
    with_derivatives: bool = True,
) -> np.ndarray:
    """``x`` (T,) or (T, C) minus its least-squares fit on ``references`` (T,) or (T, K);
    each column of ``x`` is fitted on its own, the references prepared once.

    Each reference channel is band-passed to ``band_hz`` (zero-phase Butterworth) and, with
    ``with_derivatives``, joined by its first difference; non-finite samples count as zero.
    Channels without variation are ignored; with none left ``x`` is returned unchanged (a copy).
    """
    y = as_float_array(x, min_len=3)
    if y.ndim > 2 or not np.isfinite(y).all():
        raise SignalError(f"x must be finite, of shape (T,) or (T, C); got shape {y.shape}")
    refs = _as_references(references)
    if refs.shape[0] != y.shape[0]:
        raise SignalError(
            f"references have {refs.shape[0]} samples, the signal {y.shape[0]}: they must match"
        )
    varying = refs[:, np.any(refs != refs[:1], axis=0)]
    if varying.shape[1] == 0:
        return y.copy()
    passed = _in_band(varying, fs, band_hz)
    if with_derivatives:
        passed = np.concatenate([passed, np.gradient(passed, axis=0)], axis=1)
    scale = passed.std(axis=0)
    if not np.any(scale > 0.0):
        return y.copy()
    design = passed[:, scale > 0.0] / scale[scale > 0.0]
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return y - design @ coef


def coupling(
    x: np.ndarray, references: np.ndarray, fs: float, band_hz: tuple[float, float]
) -> np.ndarray:
    """(K,) least-squares coefficients of ``x`` (T,) on ``references`` (T, K) (or (T,)), both
    centred and band-passed to ``band_hz`` (zero-phase Butterworth of
    :data:`REFERENCE_FILTER_ORDER`), in units of ``x`` per unit of each reference: x's slow
    drift, often far larger than its in-band part, does not steer them. Non-finite samples
    count as zero; a reference without variation in the band gets 0."""
    y = np.nan_to_num(as_float_array(x, min_len=3).astype(np.float64))
    refs = _as_references(references)
    if y.ndim != 1 or refs.shape[0] != y.shape[0]:
        raise SignalError(
            f"x must be (T,) and references (T, K) of the same T; got {y.shape}, {refs.shape}"
        )
    passed, target = _in_band(refs, fs, band_hz), _in_band(y, fs, band_hz)
    coef = np.zeros(refs.shape[1])
    used = passed.std(axis=0) > 0.0
    if used.any():
        coef[used] = np.linalg.lstsq(passed[:, used], target, rcond=None)[0]
    return coef
