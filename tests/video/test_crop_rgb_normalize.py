"""Cropping, mean RGB and the reference normalisation formulas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from bigsmall.video import (
    Box,
    bp4d_square_box,
    bp4d_square_crop,
    crop_resize,
    crop_resize_frames,
    diff_normalize_frames,
    spatial_mean_rgb,
    standardize_frames,
    uint8_to_unit_float,
)


def test_crop_resize_area_interpolation() -> None:
    frame = np.zeros((100, 200, 3), np.uint8)
    frame[20:60, 50:90] = 200
    frame[20:40, 50:70] = 100  # top-left quarter of the box darker
    out = crop_resize(frame, Box(50, 20, 40, 40), size_hw=(4, 4))
    assert out.shape == (4, 4, 3) and out.dtype == np.uint8
    assert out[0, 0, 0] == 100 and out[3, 3, 0] == 200
    assert out.mean() == pytest.approx((100 + 3 * 200) / 4)
    np.testing.assert_array_equal(
        out, cv2.resize(frame[20:60, 50:90], (4, 4), interpolation=cv2.INTER_AREA)
    )
    whole = crop_resize(frame, None, size_hw=(10, 20))
    assert whole.shape == (10, 20, 3)


def test_crop_resize_frames_per_frame_boxes() -> None:
    frames = np.stack([np.full((20, 20, 3), v, np.uint8) for v in (10, 20)])
    out = crop_resize_frames(frames, [Box(0, 0, 10, 10), None], size_hw=(5, 5))
    assert out.shape == (2, 5, 5, 3) and out[0].max() == 10 and out[1].min() == 20


def test_bp4d_square_crop_bottom_square() -> None:
    frame = np.arange(10 * 4 * 3, dtype=np.uint8).reshape(10, 4, 3)
    crop = bp4d_square_crop(frame)
    assert crop.shape == (4, 4, 3)
    np.testing.assert_array_equal(crop, frame[6:10])
    assert bp4d_square_box(4, 10) == Box(0, 6, 4, 4)
    assert bp4d_square_crop(np.zeros((4, 10, 3))).shape == (4, 10, 3)


def test_spatial_mean_rgb_with_and_without_mask() -> None:
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    frames[0, :2] = (10, 20, 30)
    frames[1] = (5, 5, 5)
    np.testing.assert_allclose(spatial_mean_rgb(frames), [[5, 10, 15], [5, 5, 5]])
    mask = np.zeros((4, 4), bool)
    mask[:2] = True
    np.testing.assert_allclose(spatial_mean_rgb(frames, mask), [[10, 20, 30], [5, 5, 5]])
    np.testing.assert_allclose(spatial_mean_rgb(frames[0]), [5, 10, 15])
    empty = spatial_mean_rgb(frames, np.zeros((4, 4), bool))
    assert np.isnan(empty).all()


def test_standardize_frames_formula() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0]).reshape(4, 1, 1, 1)
    out = standardize_frames(x)
    np.testing.assert_allclose(out.ravel(), (x.ravel() - 2.5) / np.std([1, 2, 3, 4]))
    assert not np.isnan(standardize_frames(np.ones((3, 2, 2, 3)))).any()


def test_diff_normalize_frames_formula() -> None:
    x = np.array([1.0, 3.0, 2.0]).reshape(3, 1, 1, 1)
    d = np.array([(3 - 1) / (4 + 1e-7), (2 - 3) / (5 + 1e-7)])
    out = diff_normalize_frames(x).ravel()
    np.testing.assert_allclose(out, [*(d / d.std()), 0.0])
    assert not np.isnan(diff_normalize_frames(np.zeros((3, 2, 2, 3)))).any()


def test_uint8_to_unit_float_clips_low_end() -> None:
    out = uint8_to_unit_float(np.array([0, 1, 255], np.uint8))
    np.testing.assert_allclose(out, [1 / 255, 1 / 255, 1.0], rtol=1e-6)


def test_standardize_table_is_the_reference_formula() -> None:
    """Indexing :func:`standardize_table` with uint8 frames equals the float formula
    ((x / 255 clipped to [1/255, 1]) - mean) / std, NaN -> 0, that Big frames follow."""
    from bigsmall.video.normalize import standardize_table, uint8_to_unit_float, unit_levels

    frames = np.random.default_rng(0).integers(0, 256, (4, 8, 8, 3), dtype=np.uint8)
    x = uint8_to_unit_float(frames)
    mean, std = float(x.mean()), float(x.std())
    expected = (x - np.float32(mean)) / np.float32(std)
    np.testing.assert_allclose(standardize_table(mean, std)[frames], expected, rtol=0, atol=1e-6)
    assert unit_levels()[0] == np.float32(1 / 255) and unit_levels()[255] == 1.0
    assert not np.isnan(standardize_table(0.5, 0.0)).any()  # a flat clip: zeros, not NaN


@pytest.mark.parametrize("shape", [(5, 3, 12, 12), (2, 9, 9, 3), (7,), (0, 4)])
def test_apply_table_equals_indexing(shape: tuple[int, ...]) -> None:
    """OpenCV's lookup gives exactly ``table[frames]``, for any shape, also strided views."""
    from bigsmall.video.normalize import apply_table, standardize_table

    table = standardize_table(0.42, 0.17)
    frames = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    out = apply_table(frames, table)
    assert out.dtype == np.float32 and out.shape == frames.shape
    np.testing.assert_array_equal(out, table[frames])
    if frames.ndim == 4:
        view = frames[:, :, ::2]
        np.testing.assert_array_equal(apply_table(view, table), table[view])
