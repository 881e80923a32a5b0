"""JAA-Net-style alignment: known transforms recovered, invariance of the aligned crop, spec,
template sanity, and skips (not tracebacks) for face-less input."""

from __future__ import annotations

import math
import subprocess
import sys

import cv2
import numpy as np
import pytest

from bigsmall.constants import INNER_49, MIRROR_49
from bigsmall.errors import ConfigError
from bigsmall.video.align import (
    EYE_A_49,
    EYE_B_49,
    MOUTH_A_49,
    MOUTH_B_49,
    NOSE_TIP_49,
    TEMPLATE_ID,
    AlignedFace,
    AlignSpec,
    FaceAligner,
    align_face,
    alignment_matrix,
    similarity_transform,
    template_points,
    transform_points,
)
from bigsmall.video.boxes import Box


def _similarity(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    return np.array([[c, -s, shift[0]], [s, c, shift[1]]])


def _textured_face(side: int = 480, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(side, side, 3) uint8 smooth random texture with bright features at 49 face points
    placed as the template scaled ×1.6 about the image centre, and those (49, 2) points."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, (side, side, 3)).astype(np.float32)
    image = cv2.GaussianBlur(noise, (0, 0), 4.0)
    image = (image - image.mean()) * 4 + 128
    points = (template_points(AlignSpec()) - 99.5) * 1.6 + (side - 1) / 2
    for x, y in points:
        cv2.circle(image, (round(x), round(y)), 4, (250, 240, 230), -1, lineType=cv2.LINE_AA)
    return np.clip(image, 0, 255).astype(np.uint8), points


# --- (1) similarity ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("angle", "scale", "shift"), [(15.0, 0.8, (12.5, -7.25)), (-40.0, 2.3, (0.0, 300.0))]
)
def test_similarity_transform_recovers_known_transform(angle, scale, shift) -> None:
    src = np.random.default_rng(1).uniform(-50, 150, (49, 2))
    truth = _similarity(angle, scale, shift)
    estimate = similarity_transform(src, transform_points(src, truth))
    np.testing.assert_allclose(estimate, truth, atol=1e-6)


def test_similarity_transform_is_least_squares_and_never_reflects() -> None:
    rng = np.random.default_rng(2)
    src = rng.uniform(0, 100, (49, 2))
    truth = _similarity(15.0, 0.8, (10.0, 20.0))
    dst = transform_points(src, truth) + rng.normal(0, 0.5, src.shape)
    estimate = similarity_transform(src, dst)
    a, b, tx, ty = estimate[0, 0], estimate[1, 0], estimate[0, 2], estimate[1, 2]

    def cost(a: float, b: float, tx: float, ty: float) -> float:
        matrix = np.array([[a, -b, tx], [b, a, ty]])
        return float(np.sum((transform_points(src, matrix) - dst) ** 2))

    best = cost(a, b, tx, ty)
    for k in range(4):
        for sign in (-1.0, 1.0):
            params = [a, b, tx, ty]
            params[k] += sign * 1e-4
            assert cost(*params) > best
    mirrored = similarity_transform(src, src * np.array([-1.0, 1.0]))
    assert np.linalg.det(mirrored[:, :2]) >= 0  # a reflection is never returned


def test_similarity_transform_rejects_degenerate_points() -> None:
    with pytest.raises(ValueError, match="coincide"):
        similarity_transform(np.ones((49, 2)), np.zeros((49, 2)))
    bad = np.zeros((49, 2))
    bad[3] = np.nan
    with pytest.raises(ValueError, match="finite"):
        similarity_transform(bad, np.zeros((49, 2)))


# --- (2) the same face under rotation / scale / shift gives the same aligned crop -----------


@pytest.mark.parametrize("spec", [AlignSpec(), AlignSpec(out=144)])
def test_aligned_crop_is_invariant_to_rotation_scale_shift(spec: AlignSpec) -> None:
    image, points = _textured_face()
    side = image.shape[0]
    truth = _similarity(15.0, 0.8, (70.0, -20.0))
    truth[:, 2] += (side / 2) - truth[:, :2] @ np.array([side / 2, side / 2])  # about centre
    moved = cv2.warpAffine(image, truth, (side, side), flags=cv2.INTER_LINEAR)
    moved_points = transform_points(points, truth)
    a = align_face(image, points, spec)
    b = align_face(moved, moved_points, spec)
    assert a.image.shape == b.image.shape == (spec.out_side, spec.out_side, 3)
    np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)
    diff = np.abs(a.image.astype(np.float64) - b.image.astype(np.float64))
    assert diff.mean() < 2.0, diff.mean()
    # Control: without alignment the moved image's crop differs a lot (the check can fail).
    wrong = align_face(moved, points, spec)
    assert np.abs(wrong.image.astype(np.float64) - a.image).mean() > 10 * diff.mean()


def test_aligned_landmarks_land_on_the_template_and_matrix_is_consistent() -> None:
    spec = AlignSpec(out=144)
    image, points = _textured_face()
    face = align_face(image, points, spec)
    assert isinstance(face, AlignedFace)
    assert face.landmarks.dtype == np.float32 and face.landmarks.shape == (49, 2)
    assert face.matrix.shape == (2, 3)
    offset = (spec.size - spec.crop) // 2
    ratio = spec.out_side / spec.crop
    expected = (template_points(spec) - offset + 0.5) * ratio - 0.5
    np.testing.assert_allclose(face.landmarks, expected, atol=1e-3)
    np.testing.assert_allclose(face.matrix, alignment_matrix(points, spec), atol=1e-12)
    np.testing.assert_allclose(transform_points(points, face.matrix), face.landmarks, atol=1e-3)


@pytest.mark.parametrize("out", [0, 144, 64])
def test_reported_landmarks_match_image_content(out: int) -> None:
    """A dot drawn at a landmark appears where the aligned landmark says (sub-pixel)."""
    spec = AlignSpec(out=out)
    image = np.full((400, 400, 3), 60, np.uint8)
    points = (template_points(spec) - 99.5) * 1.3 + 200
    points = transform_points(points, _similarity(10.0, 1.0, (0.0, 0.0)))
    x, y = points[NOSE_TIP_49]
    cv2.circle(image, (round(x * 16), round(y * 16)), 6 * 16, (255, 255, 255), -1, cv2.LINE_AA, 4)
    face = align_face(image, points, spec)
    weight = face.image[..., 0].astype(np.float64) - 60
    yy, xx = np.mgrid[: weight.shape[0], : weight.shape[1]]
    centroid = np.array([(xx * weight).sum(), (yy * weight).sum()]) / weight.sum()
    # The dot was drawn at the rounded 1/16-pixel position of the landmark.
    drawn = transform_points(np.array([[round(x * 16) / 16, round(y * 16) / 16]]), face.matrix)
    np.testing.assert_allclose(centroid, drawn[0], atol=0.15)


def test_large_faces_are_reduced_before_the_warp() -> None:
    """A face 3x larger aligns to the same crop (area-reduced first, no aliasing)."""
    image, points = _textured_face(side=360)
    big = cv2.resize(image, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
    a = align_face(image, points, AlignSpec())
    b = align_face(big, (points + 0.5) * 3 - 0.5, AlignSpec())
    np.testing.assert_allclose(a.landmarks, b.landmarks, atol=1e-3)
    assert np.abs(a.image.astype(np.float64) - b.image).mean() < 3.0


def test_shrinking_warp_does_not_alias() -> None:
    """A face 4x larger than the template (similarity scale 0.25) on a 1-pixel checkerboard
    aligns to flat grey (area reduction first); a bare bilinear warp gives a moiré (std ≈ 42)."""
    side = 1600
    points = transform_points(
        (template_points(AlignSpec()) - 99.5) * 4.0, _similarity(7.0, 1.0, (800.0, 800.0))
    )
    yy, xx = np.mgrid[:side, :side]
    board = np.where((yy + xx) % 2 == 0, 255, 0).astype(np.uint8)
    face = align_face(np.repeat(board[..., None], 3, axis=2), points, AlignSpec())
    assert abs(float(face.image.mean()) - 127.5) < 3
    assert float(face.image.std()) < 5.0


def test_align_face_accepts_68_points_and_pads_grey() -> None:
    image, points49 = _textured_face(side=200)
    points68 = np.zeros((68, 2))
    points68[list(INNER_49)] = points49
    points68[:17] = np.nan  # the jaw is not used
    a = align_face(image, points68)
    b = align_face(image, points49)
    np.testing.assert_array_equal(a.image, b.image)
    # The textured face fills a 200 px image with the template ×1.6: the aligned crop reaches
    # outside it, where pixels are the constant grey of the border rule.
    assert (a.image[0, 0] == 128).all()
    with pytest.raises(ValueError, match="landmarks"):
        align_face(image, points49[:10])


# --- (4) skips, never tracebacks ------------------------------------------------------------


class _StubLandmarker:
    def __init__(self, result: np.ndarray | None) -> None:
        self.result = result

    def __call__(self, rgb: np.ndarray, face_box: Box | None) -> np.ndarray | None:
        return self.result


def test_face_aligner_counts_skips_for_missing_or_degenerate_landmarks() -> None:
    grey = np.full((240, 320, 3), 128, np.uint8)
    aligner = FaceAligner(landmarker=_StubLandmarker(None))  # type: ignore[arg-type]
    assert aligner(grey, None) is None
    assert aligner(grey, Box(100, 60, 100, 100)) is None
    degenerate = FaceAligner(landmarker=_StubLandmarker(np.full((68, 2), 50.0, np.float32)))  # type: ignore[arg-type]
    assert degenerate(grey, None) is None
    assert (aligner.skipped, aligner.aligned, degenerate.skipped) == (2, 0, 1)


def test_face_aligner_on_a_faceless_image_returns_none_with_dlib() -> None:
    pytest.importorskip("dlib")
    from bigsmall.video.landmarks import landmarks_available

    if not landmarks_available():
        pytest.skip("the align extra's model file is not installed")
    aligner = FaceAligner(AlignSpec(out=144))
    grey = np.full((360, 480, 3), 128, np.uint8)
    assert aligner(grey, None) is None
    assert aligner(grey, Box(150, 90, 160, 160)) is None
    noise = np.random.default_rng(0).integers(0, 255, (360, 480, 3), dtype=np.uint8)
    assert aligner(noise, None) is None
    assert aligner.skipped == 3


def test_face_aligner_real_face_rotated_and_scaled_gives_the_same_crop(faces_dir) -> None:
    pytest.importorskip("dlib")
    from bigsmall.video.face import HaarCascadeDetector
    from bigsmall.video.io import read_image
    from bigsmall.video.landmarks import landmarks_available

    if not landmarks_available():
        pytest.skip("the align extra's model file is not installed")
    photo = faces_dir / "single_face.jpg"
    if not photo.is_file():
        pytest.skip(f"{photo} not found")
    image = read_image(photo)
    height, width = image.shape[:2]
    truth = cv2.getRotationMatrix2D((width / 2, height / 2), 15.0, 0.8)
    truth[:, 2] += (20.0, -15.0)
    moved = cv2.warpAffine(image, truth, (width, height), borderMode=cv2.BORDER_REPLICATE)
    aligner = FaceAligner(AlignSpec())
    box = HaarCascadeDetector().detect(image)[0]
    a, b = aligner(image, box), aligner(moved, None)
    assert a is not None and b is not None
    # The aligned landmarks agree to ~1 px (dlib's own noise), the crops to a few grey levels.
    assert np.abs(a.landmarks - b.landmarks).mean() < 1.5
    diff = np.abs(a.image.astype(np.float64) - b.image.astype(np.float64)).mean()
    assert diff < 6.0, diff
    # The recovered input → output maps differ by the known transform.
    composed = b.matrix[:, :2] @ truth[:, :2]
    np.testing.assert_allclose(composed, a.matrix[:, :2], atol=0.03)


# --- (5) spec -------------------------------------------------------------------------------


def test_align_spec_round_trip_and_errors() -> None:
    for spec in (AlignSpec(), AlignSpec(size=224, crop=200, out=144, enlarge=2.5)):
        d = spec.to_dict()
        assert d["template"] == TEMPLATE_ID
        assert AlignSpec.from_dict(d) == spec
        assert AlignSpec.from_dict({k: v for k, v in d.items() if k != "template"}) == spec
    assert AlignSpec(out=144).out_side == 144 and AlignSpec().out_side == 176
    assert AlignSpec.from_dict({"size": 200.0, "out": 144}) == AlignSpec(out=144)
    with pytest.raises(ConfigError, match="unknown key"):
        AlignSpec.from_dict({"sise": 200})
    with pytest.raises(ConfigError, match="template"):
        AlignSpec.from_dict({**AlignSpec().to_dict(), "template": "other"})
    for bad in ({"crop": 300}, {"out": -1}, {"enlarge": 0.5}, {"size": 8, "crop": 8}):
        with pytest.raises(ConfigError):
            AlignSpec(**bad)


# --- (6) template and point scheme ----------------------------------------------------------


def test_inner_49_is_the_papers_scheme() -> None:
    assert len(INNER_49) == 49 == len(set(INNER_49))
    assert not set(INNER_49) & {*range(17), 60, 64}
    # Mirror pairs as in the 49-point scheme of the authors' data (their reflect list, 1-based:
    # 10 9 8 7 6 5 4 3 2 1 11 12 13 14 19 18 17 16 15 29 28 27 26 31 30 23 22 21 20 25 24 ...).
    assert [i + 1 for i in MIRROR_49[:31]] == [
        10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 11, 12, 13, 14, 19, 18, 17, 16, 15,
        29, 28, 27, 26, 31, 30, 23, 22, 21, 20, 25, 24,
    ]  # fmt: skip
    assert all(MIRROR_49[MIRROR_49[i]] == i for i in range(49))


def test_template_is_level_symmetric_centred_and_inside_the_crop() -> None:
    spec = AlignSpec()
    points = template_points(spec)
    assert points.shape == (49, 2) and points.dtype == np.float64
    eye_a, eye_b = points[list(EYE_A_49)].mean(0), points[list(EYE_B_49)].mean(0)
    assert abs(eye_a[1] - eye_b[1]) < 1e-3  # eyes level
    assert eye_a[0] < eye_b[0] and points[MOUTH_A_49, 0] < points[MOUTH_B_49, 0]
    centre = (spec.size - 1) / 2
    mirrored = points[list(MIRROR_49)] * np.array([-1.0, 1.0]) + np.array([2 * centre, 0.0])
    np.testing.assert_allclose(mirrored, points, atol=0.05)  # left-right symmetric
    keys = np.stack([eye_a, eye_b, points[NOSE_TIP_49], points[MOUTH_A_49], points[MOUTH_B_49]])
    lo, hi = keys.min(0), keys.max(0)
    np.testing.assert_allclose((lo + hi) / 2, [centre, centre], atol=0.05)
    assert abs((hi - lo).max() - (spec.size - 1) / spec.enlarge) < 0.05
    # Anatomy: brows above eyes above nose tip above mouth.
    assert points[:10, 1].max() < min(eye_a[1], eye_b[1]) < points[NOSE_TIP_49, 1]
    assert points[NOSE_TIP_49, 1] < points[31:, 1].min()
    offset = (spec.size - spec.crop) // 2
    assert points.min() > offset + 10 and points.max() < offset + spec.crop - 10


def test_video_layer_modules_do_not_import_dlib_or_torch() -> None:
    code = (
        "import sys, bigsmall.video.align, bigsmall.video.landmarks\n"
        "bad = {'dlib', 'torch', 'face_recognition_models'} & set(sys.modules)\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
