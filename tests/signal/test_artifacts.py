"""Motion artefacts regressed out of a pulse: a known pulse recovered under a known motion."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.signal import SignalError, coupling, heart_rate, regress_out

FS = 30.0
BAND = (0.75, 2.5)


def _talking(seed: int, seconds: float = 30.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A 1.5 Hz pulse (90 bpm), a head whose nod (1.0 Hz, with a wobbling rate) and turn
    (0.8 Hz) print into the colour 3× stronger than the pulse, partly through their velocity,
    and white noise: (observed, pulse, motion (T, 2))."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    pulse = np.sin(2 * np.pi * 1.5 * t)
    nod = np.sin(2 * np.pi * (1.0 * t + 0.05 * np.sin(2 * np.pi * 0.1 * t)))
    turn = np.sin(2 * np.pi * 0.8 * t + 1.0)
    motion = np.stack([4.0 * nod + 0.3, 0.02 * turn], axis=1)  # px, rad: any units
    artefact = 3.0 * nod + 2.0 * np.gradient(nod) * FS / (2 * np.pi) + 2.5 * turn
    observed = pulse + artefact + 0.3 * rng.standard_normal(t.size)
    return observed, pulse, motion


@pytest.mark.parametrize("seed", range(5))
def test_the_pulse_is_read_once_the_head_motion_is_regressed_out(seed: int) -> None:
    observed, pulse, motion = _talking(seed)
    assert abs(heart_rate(observed, FS) - 90.0) > 10.0  # the nod wins before
    cleaned = regress_out(observed, motion, FS, BAND)
    assert heart_rate(cleaned, FS) == pytest.approx(90.0, abs=1.0)
    # what is left is the pulse and the noise (at most r = 0.92 with the pulse): the artefact
    # is gone, the pulse kept
    assert np.corrcoef(cleaned, pulse)[0, 1] > 0.85
    assert np.corrcoef(observed, pulse)[0, 1] < 0.4
    # the nod's velocity is needed: position alone leaves part of it
    position_only = regress_out(observed, motion, FS, BAND, with_derivatives=False)
    assert np.std(position_only - pulse) > 2.0 * np.std(cleaned - pulse)


def test_a_reference_unrelated_to_the_signal_leaves_it_almost_untouched() -> None:
    rng = np.random.default_rng(7)
    t = np.arange(900) / FS
    pulse = np.sin(2 * np.pi * 1.2 * t)
    unrelated = rng.standard_normal((900, 3))
    cleaned = regress_out(pulse, unrelated, FS, BAND)
    # 6 regressors confined to the band, which holds about 2 x 1.75 Hz x 30 s = 105 degrees of
    # freedom, take a few percent of an in-band pulse's power by chance (about 6/105), no more
    kept = np.sum(cleaned**2) / np.sum(pulse**2)
    assert 0.85 < kept <= 1.0


def test_constant_or_missing_references_change_nothing() -> None:
    x = np.sin(np.arange(300) / 5.0)
    refs = np.full((300, 2), 3.0)
    refs[:, 1] = np.nan
    np.testing.assert_array_equal(regress_out(x, refs, FS, BAND), x)


def test_mismatched_lengths_are_one_clear_error() -> None:
    with pytest.raises(SignalError, match="must match"):
        regress_out(np.zeros(300), np.zeros((299, 2)), FS, BAND)


def test_several_signals_are_each_fitted_on_their_own() -> None:
    first, _, motion = _talking(0)
    second, _, _ = _talking(1)
    both = regress_out(np.stack([first, second], axis=1), motion, FS, BAND)
    assert both.shape == (first.size, 2)
    np.testing.assert_allclose(both[:, 0], regress_out(first, motion, FS, BAND), atol=1e-10)
    np.testing.assert_allclose(both[:, 1], regress_out(second, motion, FS, BAND), atol=1e-10)
    with pytest.raises(SignalError, match="finite"):
        regress_out(np.full(300, np.nan), motion[:300], FS, BAND)


@pytest.mark.parametrize("drift_px", [40.0, 200.0])
def test_a_coupling_is_measured_in_band_whatever_the_drift(drift_px: float) -> None:
    """A head's rise: breathing, a sway coupled to its roll 2 px per unit, and a slow drift
    (settling over 30 s). Measured in the band the coupling reads 2 at either drift; a plain
    least-squares fit of the raw rise is steered by the drift's leak, the more the larger."""
    rng = np.random.default_rng(3)
    band = (0.08, 0.5)
    t = np.arange(900) / FS
    breathing = np.sin(2 * np.pi * 0.3 * t)
    roll = np.sin(2 * np.pi * 0.2 * t + 0.5) + 0.2 * rng.standard_normal(t.size)
    drift = drift_px * (t / t[-1]) ** 2 + 10.0 * np.sin(2 * np.pi * 0.02 * t)
    rise = breathing + 2.0 * roll + drift
    (measured,) = coupling(rise, roll, FS, band)
    assert measured == pytest.approx(2.0, abs=0.1)
    raw = np.linalg.lstsq(np.stack([roll, np.ones_like(t)], 1), rise, rcond=None)[0][0]
    assert abs(raw - 2.0) > {40.0: 0.3, 200.0: 1.5}[drift_px]
    # a reference that does not move gets 0; lengths must match
    assert coupling(rise, np.stack([roll, np.ones_like(t)], 1), FS, band)[1] == 0.0
    with pytest.raises(SignalError, match="same T"):
        coupling(rise, roll[:-1], FS, band)
