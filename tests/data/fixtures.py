"""Builders of tiny dataset trees in the real layouts, with known label values.

Tests run with ``--import-mode=importlib``, so this folder is not on ``sys.path``: a test
module puts it there (``sys.path.insert(0, str(Path(__file__).parent))``) and then does
``import fixtures as fx``; older ones load this file by path.
"""

from __future__ import annotations

import json
import zipfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

FRAME_SIZE = 16
PHYSIO_FS = 1000.0
BP4D_FPS = 25.0
#: BP4D+ fixture: blood-pressure sine frequency (Hz), mean and amplitude (mmHg).
BP_HZ, BP_MEAN, BP_AMP = 1.2, 100.0, 20.0
RESP_HZ = 0.25
BP4D_AU_NUMBERS = (
    1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
    22, 23, 24, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39,
)  # fmt: skip


def write_video(path: Path, n_frames: int, fps: float, codec: str = "mpeg4") -> Path:
    """A tiny video whose frame i is uniformly grey level ``(5 * i) % 256``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        stream.width = stream.height = FRAME_SIZE
        stream.pix_fmt = "yuv420p"
        for i in range(n_frames):
            image = np.full((FRAME_SIZE, FRAME_SIZE, 3), (5 * i) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def encode_image(value: int, ext: str = ".png", shape: tuple[int, int] = (8, 6)) -> bytes:
    """An encoded image of uniform grey ``value`` (height, width = ``shape``)."""
    ok, data = cv2.imencode(ext, np.full((*shape, 3), value, np.uint8))
    assert ok
    return data.tobytes()


def write_numbers(path: Path, values: np.ndarray, header: str | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ([header] if header else []) + [f"{v:.6f}" for v in values]
    path.write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- BP4D+
def bp4d_bp(t_sec: np.ndarray) -> np.ndarray:
    return BP_MEAN + BP_AMP * np.sin(2 * np.pi * BP_HZ * t_sec)


def bp4d_resp(t_sec: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * RESP_HZ * t_sec)


def au_value(au: int, frame: int) -> int:
    """Known AU_OCC value of AU ``au`` at 1-based ``frame``: 9 (= unknown) for AU24 at 20."""
    if au == 24 and frame == 20:
        return 9
    if au == 1:
        return frame % 2
    if au == 12:
        return int(frame >= 50)
    return 0


def build_bp4d_trial(
    root: Path,
    subject: str,
    task: str,
    n_frames: int = 100,
    *,
    video: str = "subject_zip",
    au_frames: tuple[int, int] | None = (11, 90),
    physio_sec: float | None = None,
    drop: tuple[str, ...] = (),
    nan_span_sec: tuple[float, float] | None = None,
    index_header: bool = False,
    au_int: tuple[int, ...] = (),
) -> None:
    """One BP4D+ trial. ``video``: "subject_zip" | "trial_zip" | "dir". AU frames 1-based.

    ``index_header``: the AU_OCC header counts columns (0..34) instead of naming AUs.
    ``au_int``: AUs that get an AU_INT file (intensity = frame % 6 over the AU frames).
    """
    base = root / "2D+3D"
    base.mkdir(parents=True, exist_ok=True)
    names = [f"{i + 1}.jpg" for i in range(n_frames)]  # 1.jpg .. n.jpg: natural sort matters
    if video == "dir":
        folder = base / subject / task
        folder.mkdir(parents=True, exist_ok=True)
        for i, name in enumerate(names):
            (folder / name).write_bytes(encode_image(2 * i, ".jpg"))
    else:
        zip_path = base / (f"{subject}.zip" if video == "subject_zip" else f"{subject}_{task}.zip")
        prefix = f"{subject}/{task}/" if video == "subject_zip" else f"{subject}_{task}/"
        with zipfile.ZipFile(zip_path, "a") as archive:
            for i, name in enumerate(names):
                archive.writestr(prefix + name, encode_image(2 * i, ".jpg"))
    physio = root / "Physiology" / subject / task
    n_physio = round((physio_sec or n_frames / BP4D_FPS) * PHYSIO_FS)
    t = np.arange(n_physio) / PHYSIO_FS
    bp = bp4d_bp(t)
    if nan_span_sec is not None:
        bp[round(nan_span_sec[0] * PHYSIO_FS) : round(nan_span_sec[1] * PHYSIO_FS)] = np.nan
    channels = {
        "BP_mmHg.txt": bp,
        "Resp_Volts.txt": bp4d_resp(t),
        "Pulse Rate_BPM.txt": np.full(n_physio, 72.0),
        "Respiration Rate_BPM.txt": np.full(n_physio, 15.0),
    }
    for name, values in channels.items():
        if name not in drop:
            write_numbers(physio / name, values)
    if au_frames is not None:
        au_dir = root / "AUCoding" / "AU_OCC"
        au_dir.mkdir(parents=True, exist_ok=True)
        names = range(1, 35) if index_header else BP4D_AU_NUMBERS
        rows = [",".join(["0", *(str(n) for n in names)])]
        for frame in range(au_frames[0], au_frames[1] + 1):
            rows.append(",".join([str(frame), *(str(au_value(n, frame)) for n in BP4D_AU_NUMBERS)]))
        (au_dir / f"{subject}_{task}.csv").write_text("\n".join(rows) + "\n")
        for au in au_int:
            int_dir = root / "AUCoding" / "AU_INT" / f"AU{au:02d}"
            int_dir.mkdir(parents=True, exist_ok=True)
            lines = [f"{f},{f % 6}" for f in range(au_frames[0], au_frames[1] + 1)]
            (int_dir / f"{subject}_{task}_AU{au:02d}.csv").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- UBFC-rPPG
UBFC_FPS = 30.0
UBFC_PPG_HZ = 1.5


def ubfc_ppg(t_sec: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * UBFC_PPG_HZ * t_sec)


def build_ubfc_subject(
    root: Path,
    name: str,
    n_frames: int = 60,
    *,
    label_fs: float = UBFC_FPS,
    label_sec: float | None = None,
    n_lines: int = 3,
    write_labels: bool = True,
) -> None:
    folder = root / name
    write_video(folder / "vid.avi", n_frames, UBFC_FPS)
    if not write_labels:
        return
    n = round((label_sec or n_frames / UBFC_FPS) * label_fs)
    t = np.arange(n) / label_fs
    lines = [
        "  ".join(f"{v:.8e}" for v in ubfc_ppg(t)),
        "  ".join(f"{v:.8e}" for v in np.full(n, 90.0)),
        "  ".join(f"{v:.8e}" for v in t),
    ][:n_lines]
    (folder / "ground_truth.txt").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- PURE
PURE_T0_NS = 1_392_643_993_642_815_000
PURE_WAVE_FS = 60.0


def pure_wave(t_sec: np.ndarray) -> np.ndarray:
    """Known waveform (linear, so interpolation is exact): 10 per second + 3."""
    return 10.0 * t_sec + 3.0


def build_pure_recording(
    root: Path,
    name: str,
    n_frames: int = 45,
    *,
    wave_sec: tuple[float, float] | None = None,
    write_json: bool = True,
) -> np.ndarray:
    """Frames with jittered time stamps; returns the frame times (s, from the first frame)."""
    rng = np.random.default_rng(1)
    step_ns = 1e9 / 30.0
    offsets_ns = np.round(np.arange(n_frames) * step_ns + rng.uniform(-2e6, 2e6, n_frames))
    offsets_ns[0] = 0
    frame_ns = PURE_T0_NS + offsets_ns.astype(np.int64)
    folder = root / name / name
    folder.mkdir(parents=True, exist_ok=True)
    for i, stamp in enumerate(frame_ns):
        (folder / f"Image{stamp}.png").write_bytes(encode_image(i))
    frame_sec = (frame_ns - PURE_T0_NS) / 1e9
    start, stop = wave_sec or (-0.1, frame_sec[-1] + 0.1)
    wave_t = np.arange(start, stop, 1.0 / PURE_WAVE_FS)
    package = {
        "/FullPackage": [
            {
                "Timestamp": int(PURE_T0_NS + round(t * 1e9)),
                "Value": {"waveform": pure_wave(t), "pulseRate": 70, "o2saturation": 98},
            }
            for t in wave_t
        ],
        "/Image": [{"Timestamp": int(s)} for s in frame_ns],
    }
    if write_json:
        (root / name / f"{name}.json").write_text(json.dumps(package))
    return frame_sec


# --------------------------------------------------------------------------- DISFA
DISFA_FPS = 20.0
DISFA_AU_NUMBERS = (1, 2, 4, 6, 9, 12, 25, 26)


def disfa_intensity(au: int, frame: int) -> int:
    """Known intensity of AU ``au`` at 1-based ``frame``."""
    return (frame + au) % 6


def build_disfa_subject(
    root: Path,
    subject: str,
    n_frames: int = 40,
    *,
    n_label_frames: int | None = None,
    skip: tuple[int, int] | None = (2, 5),
    drop_aus: tuple[int, ...] = (),
) -> None:
    """``skip`` = (AU, 1-based frame) whose line is left out (→ not coded)."""
    write_video(root / "Videos_LeftCamera" / f"LeftVideo{subject}_comp.avi", n_frames, DISFA_FPS)
    folder = root / "ActionUnit_Labels" / subject
    folder.mkdir(parents=True, exist_ok=True)
    for au in DISFA_AU_NUMBERS:
        if au in drop_aus:
            continue
        lines = [
            f"{frame},{disfa_intensity(au, frame)}"
            for frame in range(1, (n_label_frames or n_frames) + 1)
            if (au, frame) != skip
        ]
        (folder / f"{subject}_au{au}.txt").write_text("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- folder
FOLDER_FPS = 25.0
FOLDER_PPG_HZ = 1.25


def build_folder_video(
    root: Path,
    relative: str,
    n_frames: int = 50,
    *,
    csv_span_sec: tuple[float, float] | None = (0.0, 2.0),
    csv_fs: float = 100.0,
    sidecar: dict | None = None,
    time_column: str = "time_s",
    codec: str = "libx264",
) -> Path:
    video = write_video(root / relative, n_frames, FOLDER_FPS, codec=codec)
    if csv_span_sec is not None:
        t = np.arange(round((csv_span_sec[1] - csv_span_sec[0]) * csv_fs) + 1) / csv_fs
        t = t + csv_span_sec[0]
        rows = [f"{time_column},ppg,resp,AU01,au12,extra"]
        for i, ti in enumerate(t):
            au12 = "" if 0.5 <= ti < 0.7 else str(int(ti >= 1.5))
            ppg = np.sin(2 * np.pi * FOLDER_PPG_HZ * ti)
            rows.append(f"{ti:.5f},{ppg:.9f},{2.0 * ti:.9f},{int(ti >= 1.0)},{au12},{i}")
        # rows written in reverse order: the source must sort by time
        video.with_suffix(".csv").write_text("\n".join([rows[0], *reversed(rows[1:])]) + "\n")
    if sidecar is not None:
        video.with_suffix(".json").write_text(json.dumps(sidecar))
    return video
