"""Temporal shift (WTSM / TSM): every channel fold lands where the spec says."""

from __future__ import annotations

import pytest
import torch

from bigsmall.models.layers import TemporalShift, WrappingTimeShift, make_shift

N_WINDOWS = 2


def _value(b: int, t: int, c: int) -> float:
    """A distinct value per window, frame and channel."""
    return 10000.0 * b + 100.0 * t + c + 1.0


def _hand_built(n_segment: int, channels: int) -> torch.Tensor:
    x = torch.zeros(N_WINDOWS * n_segment, channels, 2, 3)
    for b in range(N_WINDOWS):
        for t in range(n_segment):
            for c in range(channels):
                x[b * n_segment + t, c] = _value(b, t, c)
    return x


def _expected(n_segment: int, channels: int, wrap: bool) -> torch.Tensor:
    """Written from the spec, frame by frame, independent of the implementation."""
    fold = channels // 3
    y = torch.zeros(N_WINDOWS * n_segment, channels, 2, 3)
    for b in range(N_WINDOWS):
        for t in range(n_segment):
            for c in range(channels):
                if c < fold:  # takes the next frame; the last frame takes frame 0
                    src = t + 1 if t + 1 < n_segment else (0 if wrap else None)
                elif c < 2 * fold:  # takes the previous frame; frame 0 takes frame N-1
                    src = t - 1 if t > 0 else (n_segment - 1 if wrap else None)
                else:
                    src = t
                y[b * n_segment + t, c] = 0.0 if src is None else _value(b, src, c)
    return y


@pytest.mark.parametrize("n_segment", [2, 3, 4])
@pytest.mark.parametrize("channels", [6, 7, 32])
@pytest.mark.parametrize("wrap", [True, False])
def test_shift_matches_spec(n_segment: int, channels: int, wrap: bool) -> None:
    x = _hand_built(n_segment, channels)
    y = TemporalShift(n_segment, wrap=wrap)(x)
    assert y.shape == x.shape
    torch.testing.assert_close(y, _expected(n_segment, channels, wrap), rtol=0, atol=0)


def test_wtsm_wrap_around_concrete_values() -> None:
    # N = 3, C = 3 (fold 1): one window, spelled out.
    x = _hand_built(3, 3)[:3, :, 0, 0]  # window 0: value = 100 t + c + 1
    y = WrappingTimeShift(3)(_hand_built(3, 3))[:3, :, 0, 0]
    # channel 0 (future): frames take 1, 2, 0
    assert y[:, 0].tolist() == [x[1, 0].item(), x[2, 0].item(), x[0, 0].item()]
    # channel 1 (past): frames take 2, 0, 1
    assert y[:, 1].tolist() == [x[2, 1].item(), x[0, 1].item(), x[1, 1].item()]
    assert y[:, 2].tolist() == x[:, 2].tolist()


def test_tsm_zero_fills_instead_of_wrapping() -> None:
    y = make_shift("tsm", 3)(_hand_built(3, 3))[:3, :, 0, 0]
    assert y[2, 0].item() == 0.0  # last frame: nothing after it
    assert y[0, 1].item() == 0.0  # first frame: nothing before it
    assert y[0, 0].item() == _value(0, 1, 0)


def test_windows_do_not_leak() -> None:
    y = WrappingTimeShift(2)(_hand_built(2, 6))
    # window 1 values start at 10000; no window-0 value may appear in window 1's rows
    assert bool((y[2:] >= 10000).all())
    assert bool((y[:2] < 10000).all())


def test_no_shift_is_identity_and_unknown_kind_fails() -> None:
    x = _hand_built(3, 6)
    assert torch.equal(make_shift("none", 3)(x), x)
    with pytest.raises(ValueError, match="unknown shift"):
        make_shift("left", 3)
