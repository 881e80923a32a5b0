"""ICA: blind source separation of the colour traces.

Poh, McDuff & Picard (2010), "Non-contact, automated cardiac pulse measurements using video
imaging and blind source separation", Optics Express 18(10):10762-10774. The three colour
traces are detrended (smoothness priors), band-passed to the heart-rate band (as in Poh et al.
2011, IEEE TBME 58(1)) and standardised, then unmixed by FastICA (Hyvärinen 1999; symmetric
decorrelation, log-cosh contrast, implemented here with NumPy); the source with the highest
spectral peak inside the heart-rate band is the pulse (its sign aligned with the green trace).
"""

from __future__ import annotations

import numpy as np

from bigsmall.constants import HR_BAND_TOOLBOX_HZ
from bigsmall.signal.detrend import detrend_smoothness_prior
from bigsmall.signal.filters import bandpass, standardize
from bigsmall.signal.rppg._common import EPS, check_rgb
from bigsmall.signal.rppg.green import GREEN_CHANNEL
from bigsmall.signal.spectrum import band_mask, periodogram

MAX_ITERATIONS: int = 200
#: Order of the band-pass applied before unmixing.
FILTER_ORDER: int = 2
TOLERANCE: float = 1e-8
#: Seed of the initial unmixing matrix (the result is deterministic).
SEED: int = 0


def _sym_decorrelate(w: np.ndarray) -> np.ndarray:
    """``(W Wᵀ)^(-1/2) W``: makes the rows of W orthonormal."""
    eigval, eigvec = np.linalg.eigh(w @ w.T)
    return eigvec @ np.diag(1.0 / np.sqrt(np.maximum(eigval, EPS))) @ eigvec.T @ w


def fast_ica(x: np.ndarray, seed: int = SEED) -> np.ndarray:
    """Independent sources (T, C) of the mixtures ``x`` (T, C) by symmetric FastICA (log-cosh)."""
    centred = x - x.mean(axis=0)
    eigval, eigvec = np.linalg.eigh(np.cov(centred, rowvar=False))
    whitening = eigvec @ np.diag(1.0 / np.sqrt(np.maximum(eigval, EPS))) @ eigvec.T
    z = centred @ whitening  # (T, C), identity covariance
    n_comp = z.shape[1]
    w = _sym_decorrelate(np.random.default_rng(seed).standard_normal((n_comp, n_comp)))
    for _ in range(MAX_ITERATIONS):
        g = np.tanh(z @ w.T)  # (T, C): derivative of log cosh
        w_new = (g.T @ z) / z.shape[0] - np.diag((1.0 - g**2).mean(axis=0)) @ w
        w_new = _sym_decorrelate(w_new)
        converged = np.max(np.abs(np.abs(np.einsum("ij,ij->i", w_new, w)) - 1.0)) < TOLERANCE
        w = w_new
        if converged:
            break
    return z @ w.T


def ica(
    rgb: np.ndarray, fs: float, band_hz: tuple[float, float] = HR_BAND_TOOLBOX_HZ
) -> np.ndarray:
    """ICA pulse (T,) of the mean-RGB trace ``rgb`` (T, 3) sampled at ``fs`` Hz."""
    arr, fs = check_rgb(rgb, fs, min_len=4)
    filtered = bandpass(detrend_smoothness_prior(arr), fs, band_hz, order=FILTER_ORDER)
    traces = standardize_columns(filtered)
    sources = fast_ica(traces)
    peak_power = []
    for source in sources.T:
        freqs_hz, power = periodogram(source, fs)
        peak_power.append(power[band_mask(freqs_hz, band_hz)].max(initial=0.0) / power.sum())
    pulse = sources[:, int(np.argmax(peak_power))]
    sign = np.sign(np.dot(pulse, traces[:, GREEN_CHANNEL])) or 1.0  # polarity of the green trace
    return sign * pulse


def standardize_columns(x: np.ndarray) -> np.ndarray:
    """Standardise each column of ``x`` (T, C) separately."""
    return np.stack([standardize(column) for column in x.T], axis=1)
