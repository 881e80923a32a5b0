"""Smoothness-priors detrending: sparse solve equals the dense formula, is fast and flat."""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest

from bigsmall.signal import detrend_smoothness_prior, detrend_smoothness_prior_dense

#: One hour at 30 fps.
ONE_HOUR_30FPS = 108_000


@pytest.mark.parametrize("n", [3, 10, 257, 600])
@pytest.mark.parametrize("lambda_", [1.0, 10.0, 100.0])
def test_sparse_equals_dense_formula(n: int, lambda_: float) -> None:
    x = np.random.default_rng(n).standard_normal(n).cumsum()
    np.testing.assert_allclose(
        detrend_smoothness_prior(x, lambda_),
        detrend_smoothness_prior_dense(x, lambda_),
        rtol=0,
        atol=1e-8,
    )


def test_multichannel_equals_per_channel() -> None:
    x = np.random.default_rng(0).standard_normal((300, 3)).cumsum(axis=0)
    out = detrend_smoothness_prior(x)
    for c in range(3):
        np.testing.assert_allclose(out[:, c], detrend_smoothness_prior_dense(x[:, c]), atol=1e-8)


def test_removes_slow_trend_and_keeps_pulse() -> None:
    fs = 30.0
    t = np.arange(int(60 * fs)) / fs
    pulse = np.sin(2 * np.pi * 1.2 * t)
    trend = 5.0 * (t / t[-1]) ** 2 + 2.0 * np.sin(2 * np.pi * 0.01 * t)
    out = detrend_smoothness_prior(pulse + trend)
    assert np.abs(out - pulse)[100:-100].max() < 0.05


def test_one_hour_at_30fps_under_two_seconds_with_flat_memory() -> None:
    x = np.random.default_rng(1).standard_normal(ONE_HOUR_30FPS).cumsum()
    tracemalloc.start()
    start = time.perf_counter()
    out = detrend_smoothness_prior(x)
    elapsed = time.perf_counter() - start
    _, peak_bytes = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert out.shape == x.shape
    assert np.isfinite(out).all()
    assert elapsed < 2.0, f"detrend of {ONE_HOUR_30FPS} samples took {elapsed:.2f} s"
    # The dense inverse would need 108,000² × 8 B ≈ 93 GB; a banded solve needs a few vectors.
    assert peak_bytes < 20 * x.nbytes, f"peak memory {peak_bytes / 1e6:.1f} MB"


def test_lambda_zero_and_invalid() -> None:
    x = np.arange(10.0) ** 2
    np.testing.assert_allclose(detrend_smoothness_prior(x, 0.0), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="lambda"):
        detrend_smoothness_prior(x, -1.0)
