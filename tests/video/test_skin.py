"""The skin colour trace: a pulse on skin pixels is kept, non-skin changes are left out."""

from __future__ import annotations

import numpy as np
import pytest

from bigsmall.video.skin import FACE_REGIONS, UPPER_FACE, skin_region, skin_rgb_trace

SKIN_RGB = (200, 150, 120)  # Cr ≈ 154, Cb ≈ 105: inside the skin box
GREEN_RGB = (40, 180, 60)  # background / clothing: outside it


def frames_with(skin_gain: np.ndarray, other_gain: np.ndarray) -> np.ndarray:
    """(T, 40, 40, 3): left half skin, right half green; each half scaled per frame."""
    out = np.zeros((skin_gain.size, 40, 40, 3), np.uint8)
    out[:, :, :20] = np.clip(np.rint(np.multiply.outer(skin_gain, SKIN_RGB)), 0, 255)[:, None, None]
    out[:, :, 20:] = np.clip(np.rint(np.multiply.outer(other_gain, GREEN_RGB)), 0, 255)[
        :, None, None
    ]
    return out


def test_skin_pixels_only() -> None:
    t = np.arange(60)
    skin = 1.0 + 0.02 * np.sin(2 * np.pi * t / 20)
    other = 1.0 + 0.3 * np.sin(2 * np.pi * t / 7)  # a large non-skin change
    trace = skin_rgb_trace(frames_with(skin, other))
    assert trace.shape == (60, 3)
    expected = np.multiply.outer(skin, SKIN_RGB)
    assert np.abs(trace - expected).max() < 0.6  # uint8 rounding only
    # The whole-crop mean would follow the green half's large swings instead.
    assert np.corrcoef(trace[:, 1], skin)[0, 1] > 0.99


def test_greyscale_falls_back_to_region_mean() -> None:
    grey = np.full((5, 10, 10, 3), 90, np.uint8)
    grey[:, :5] = 30
    assert np.allclose(skin_rgb_trace(grey), 60.0)


def test_region_selects_pixels() -> None:
    frames = frames_with(np.ones(3), np.ones(3))
    right = skin_rgb_trace(frames, (0.5, 0.0, 1.0, 1.0))
    assert np.allclose(right, GREEN_RGB)  # no skin there: the region's own mean


@pytest.mark.parametrize("crop", sorted(FACE_REGIONS))
def test_skin_region_is_upper_face(crop: str) -> None:
    x0, y0, x1, y1 = skin_region(crop)
    fx0, fy0, fx1, fy1 = FACE_REGIONS[crop]
    assert fx0 <= x0 < x1 <= fx1 and fy0 <= y0 < y1 <= fy1
    assert (y1 - y0) == pytest.approx((fy1 - fy0) * (UPPER_FACE[3] - UPPER_FACE[1]))
