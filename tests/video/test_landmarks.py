"""dlib landmarks (optional extra): the one-line error without it, and on real faces with it."""

from __future__ import annotations

import sys

import cv2
import numpy as np
import pytest

from bigsmall.errors import AlignmentUnavailableError, BigSmallError
from bigsmall.video import landmarks as lm
from bigsmall.video.align import FaceAligner
from bigsmall.video.boxes import Box


def test_landmarker_without_dlib_raises_the_one_line_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "dlib", None)  # `import dlib` now raises ImportError
    with pytest.raises(AlignmentUnavailableError) as info:
        lm.Landmarker()
    message = str(info.value)
    assert message == lm.UNAVAILABLE_MESSAGE
    assert "\n" not in message and "pip install 'bigsmall[align]'" in message
    assert isinstance(info.value, BigSmallError)
    assert lm.landmarks_available() is False
    # A FaceAligner is created without the extra; its first frame raises the same error.
    aligner = FaceAligner()
    with pytest.raises(AlignmentUnavailableError, match=r"bigsmall\[align\]"):
        aligner(np.zeros((64, 64, 3), np.uint8), None)


def test_landmarker_without_the_model_file_raises_the_one_line_error(monkeypatch) -> None:
    monkeypatch.setattr(lm, "_models_dir", lambda: None)
    with pytest.raises(AlignmentUnavailableError, match=r"^landmark alignment needs"):
        lm.model_path("68")
    with pytest.raises(AlignmentUnavailableError):
        lm.Landmarker()
    assert lm.landmarks_available() is False


def test_model_path_rejects_unknown_models(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown landmark model"):
        lm.model_path("99")
    with pytest.raises(AlignmentUnavailableError, match="not found"):
        lm.model_path(str(tmp_path / "missing.dat"))


def test_box_mapping_moves_and_scales_about_the_centre() -> None:
    mapped = lm.BoxMapping(dx=0.1, dy=-0.2, scale=0.5).apply(Box(10, 20, 100, 80))
    assert mapped.center == pytest.approx((70.0, 40.0))
    assert (mapped.w, mapped.h) == pytest.approx((50.0, 50.0))


@pytest.fixture(scope="module")
def landmarker() -> lm.Landmarker:
    pytest.importorskip("dlib")
    if not lm.landmarks_available():
        pytest.skip("the align extra's model file is not installed")
    return lm.Landmarker()


@pytest.fixture
def single_face(faces_dir):
    """(the real single_face.jpg, its Haar face box); skipped without ../shared."""
    from bigsmall.video.face import HaarCascadeDetector
    from bigsmall.video.io import read_image

    photo = faces_dir / "single_face.jpg"
    if not photo.is_file():
        pytest.skip(f"{photo} not found")
    image = read_image(photo)
    return image, HaarCascadeDetector().detect(image)[0]


def test_model_files_are_found_without_importing_the_models_package(landmarker) -> None:
    assert landmarker.model_path.name == lm.MODEL_FILES["68"]
    assert "face_recognition_models" not in sys.modules  # its __init__ needs pkg_resources


def _nme(points: np.ndarray, ref: np.ndarray) -> float:
    return float(np.linalg.norm(points - ref, axis=1).mean() / np.linalg.norm(ref[36] - ref[45]))


def test_landmarks_on_a_real_face_agree_for_haar_and_hog_boxes(landmarker, single_face) -> None:
    image, haar = single_face
    from_hog = landmarker(image, None)
    from_haar = landmarker(image, haar)
    assert from_hog is not None and from_haar is not None
    assert from_hog.shape == (68, 2) and from_hog.dtype == np.float32
    assert _nme(from_haar, from_hog) < 0.03
    x0, y0, x1, y1 = haar.enlarge(1.3).to_int()
    assert (from_haar[:, 0] > x0).all() and (from_haar[:, 0] < x1).all()
    assert (from_haar[:, 1] > y0).all() and (from_haar[:, 1] < y1).all()
    # Anatomy: the eyes (36-47) above the nose tip (30) above the mouth (48-67).
    assert from_haar[36:48, 1].max() < from_haar[30, 1] < from_haar[48:, 1].min()
    # The enlarged crop box of the video pipeline (Haar × 1.5) gives the same points.
    enlarged = lm.Landmarker(box_enlarge=1.5)(image, haar.enlarge(1.5))
    assert enlarged is not None and _nme(enlarged, from_haar) < 0.02
    # A wrong hint (no face under it) finds no HOG face there: a blank patch gives None.
    blank = image.copy()
    blank[:, :] = 90
    assert landmarker(blank, haar) is None


def test_landmarker_on_small_or_faceless_images_returns_none(landmarker) -> None:
    assert landmarker(np.full((4, 4, 3), 128, np.uint8), None) is None
    assert landmarker(np.full((240, 320, 3), 128, np.uint8), None) is None
    assert landmarker(np.full((240, 320, 3), 128, np.uint8), Box(100, 60, 100, 100)) is None
    with pytest.raises(ValueError, match="uint8"):
        landmarker(np.zeros((64, 64), np.uint8), None)


def test_landmarker_follows_a_shifted_hint_box(landmarker, single_face) -> None:
    """A tracked box that lags the face by 10 % of its width still gives the same points
    (the HOG search around it re-centres the box; the bare mapping would not)."""
    image, haar = single_face
    ref = landmarker(image, haar)
    shifted = Box(haar.x + 0.12 * haar.w, haar.y - 0.1 * haar.w, haar.w, haar.h)
    points = landmarker(image, shifted)
    assert ref is not None and points is not None
    assert _nme(points, ref) < 0.02
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    box, how = landmarker.dlib_box(gray, shifted)
    assert how == "hog" and box is not None
