"""Expression photos as weak AU labels: prototypes, the person split, the folder's checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bigsmall.constants import AU_NAMES
from bigsmall.data.expressions import (
    EXPRESSION_AUS,
    au_targets,
    is_greyscale,
    on_canvas,
    person_bucket,
    person_split,
    read_expression_photos,
    still_big_frame,
    tint,
    write_face_folder,
)
from bigsmall.errors import DatasetError

SHARED_FACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "faces"


def test_prototypes() -> None:
    neutral = au_targets("neutral")
    assert (neutral == 0).all()  # a neutral face shows none of the 12
    smile = au_targets("happiness")
    assert smile[AU_NAMES.index("AU06")] == 1 and smile[AU_NAMES.index("AU12")] == 1
    assert smile[AU_NAMES.index("AU10")] == -1  # not said either way: no loss
    for expression, (shown, absent) in EXPRESSION_AUS.items():
        assert not set(shown) & set(absent), expression
        assert set(shown) | set(absent) <= set(AU_NAMES)
    with pytest.raises(DatasetError, match="unknown expression"):
        au_targets("boredom")


def test_person_split_is_by_person_and_stable() -> None:
    persons = pd.Series([f"person_{i}" for i in range(2000) for _ in range(2)])
    held = person_split(persons)
    assert 0.07 < held.mean() < 0.13
    assert (held[::2] == held[1::2]).all()  # both photos of a person on the same side
    assert person_bucket("Aaron_Eckhart") == person_bucket("Aaron_Eckhart")
    assert not person_split(persons, holdout_buckets=()).any()


def test_read_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no labels\.csv"):
        read_expression_photos(tmp_path)
    (tmp_path / "labels.csv").write_text("image,person\na.jpg,A\n")
    with pytest.raises(DatasetError, match="missing column"):
        read_expression_photos(tmp_path)
    (tmp_path / "labels.csv").write_text(
        "image,person,expression,color\na.jpg,A,happiness,0\nb.jpg,B,neutral,1\n"
    )
    photos = read_expression_photos(tmp_path)
    assert photos.paths() == [tmp_path / "images" / "a.jpg", tmp_path / "images" / "b.jpg"]
    assert photos.targets().shape == (2, len(AU_NAMES))
    assert len(photos.subset(np.array([True, False])).table) == 1
    (tmp_path / "labels.csv").write_text("image,person,expression,color\na.jpg,A,bored,0\n")
    with pytest.raises(DatasetError, match="unknown expression"):
        read_expression_photos(tmp_path)


@pytest.mark.skipif(not SHARED_FACES.is_dir(), reason="needs ../shared/data/faces")
def test_still_frame_is_what_predict_reads(tmp_path: Path) -> None:
    import cv2

    from bigsmall.video.inputs import build_bigsmall_inputs
    from bigsmall.video.io import read_image

    path = SHARED_FACES / "single_face.jpg"
    frame = still_big_frame(path, "face", (144, 144), (9, 9))
    assert frame is not None and frame.shape == (144, 144, 3)
    clip = np.repeat(read_image(path)[None], 6, axis=0)
    from bigsmall.video.io import FrameBatch

    inputs = build_bigsmall_inputs(
        [FrameBatch(clip, np.arange(6) / 30.0, 0)], crop="face", fps=30.0, threaded=False
    )
    assert np.array_equal(frame, inputs.big_uint8[0])
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((120, 160, 3), 128, np.uint8))
    assert still_big_frame(blank, "face", (144, 144), (9, 9)) is None


def test_tint_and_canvas() -> None:
    grey = np.repeat(np.linspace(40, 220, 64 * 48, dtype=np.float32).reshape(64, 48, 1), 3, 2)
    grey = grey.astype(np.uint8)
    assert is_greyscale(grey[None])[0]
    tinted = tint(grey, np.array([1.0, 0.85, 0.7]))
    assert not is_greyscale(tinted[None])[0]
    r, g, b = tinted.reshape(-1, 3).astype(float).mean(0)
    assert r > g > b and abs(g / r - 0.85) < 0.01
    canvas = on_canvas(tinted, sides=3.0)
    assert canvas.shape == (192, 192, 3)
    centre = canvas[96 - 10 : 96 + 10, 96 - 10 : 96 + 10].astype(float)
    assert np.abs(centre - tinted[22:42, 14:34]).max() <= 2  # the photo itself in the middle
    assert canvas[:20, :20].std() < tinted.std() / 4  # a smooth surround, not a copy


@pytest.mark.skipif(not SHARED_FACES.is_dir(), reason="needs ../shared/data/faces")
def test_face_folder_for_the_generator(tmp_path: Path) -> None:
    import cv2

    from bigsmall.data.synthetic.faces import load_face_asset, read_face_labels

    root = tmp_path / "expressions"
    (root / "images").mkdir(parents=True)
    face = cv2.imread(str(SHARED_FACES / "single_face.jpg"), cv2.IMREAD_GRAYSCALE)
    cv2.imwrite(str(root / "images" / "a.jpg"), face)
    cv2.imwrite(str(root / "images" / "b.jpg"), np.full((120, 120), 90, np.uint8))  # no face
    (root / "labels.csv").write_text(
        "image,person,expression,color\na.jpg,A,happiness,0\nb.jpg,B,neutral,0\n"
    )
    out = tmp_path / "faces"
    files = write_face_folder(read_expression_photos(root), out, people=2)
    assert [f.name for f in files] == ["a.png"]  # the faceless photo is skipped
    assert read_face_labels(out) == {"a.png": ("AU06", "AU12")}
    image = cv2.cvtColor(cv2.imread(str(files[0])), cv2.COLOR_BGR2RGB)
    assert not is_greyscale(image[None])[0]  # tinted
    asset = load_face_asset(files[0], 240, 320, np.random.default_rng(0), base_aus=("AU12",))
    assert asset.skin.sum() > 500  # the generator finds skin on it to carry a pulse
