"""``bigsmall predict`` / ``demo``: outputs, many videos, every bad input, the HTML report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from bigsmall.cli import main
from bigsmall.cli.predict import breathing_origin
from bigsmall.predict import SUMMARY_KEYS
from bigsmall.predict.outputs import COMBINED_COLUMNS
from bigsmall.video.writer import VideoWriter

CHROMIUM = Path("/usr/bin/chromium")


def _noise_video(path: Path, seconds: float = 2.0, fps: float = 30.0) -> Path:
    rng = np.random.default_rng(0)
    with VideoWriter(path, fps, 160, 120, preset="ultrafast") as writer:
        for _ in range(round(seconds * fps)):
            writer.write(rng.integers(90, 110, (120, 160, 3), dtype=np.uint8))
    return path


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6 s generated face video (pulse + breathing), quick to measure."""
    from bigsmall.predict.demo_video import make_demo_video

    path = tmp_path_factory.mktemp("clip") / "face.mp4"
    make_demo_video(path, seconds=6.0)
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _assert_one_line_error(code: int, err: str, out_dir: Path) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bigsmall: error: ")
    assert "Traceback" not in err
    assert not out_dir.exists()
    assert not list(out_dir.parent.glob(f".{out_dir.name}.tmp*"))


def test_predict_writes_all_outputs(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, stdout, err = _run(
        ["predict", str(face_clip), "--out", str(out), "--method", "chrom", "--window-sec", "5"],
        capsys,
    )
    assert code == 0, err
    assert "heart rate" in stdout and str(out) in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert tuple(summary) == SUMMARY_KEYS
    assert summary["frames"] == 180 and summary["fps"] == 30.0 and summary["method"] == "chrom"
    assert summary["breathing_rate_bpm"] is None  # 6 s < 20 s: withheld, with a warning
    assert any("breathing rate needs at least 20 s" in w for w in summary["warnings"])
    assert summary["signal_quality"]["breathing_quality"] == "too short"
    rates = pd.read_csv(out / "rates.csv")
    assert len(rates) == 2  # 6 s, 5 s windows every 1 s
    assert rates["breathing_rate_bpm"].isna().all()  # as the summary: 6 s < 20 s
    assert rates["breathing_snr_db"].isna().all()
    assert len(pd.read_csv(out / "signals.csv")) == 180
    assert {p.name for p in out.iterdir()} >= {"report.png", "report.html"}


def test_short_clip_says_too_short(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A 4 s clip is "too short" for either rate, in the console, the summary
    and every window of rates.csv alike."""
    from bigsmall.predict.demo_video import make_demo_video

    video = tmp_path / "short.mp4"
    make_demo_video(video, seconds=4.0)
    out = tmp_path / "out"
    code, stdout, err = _run(["predict", str(video), "--out", str(out), "--no-report"], capsys)
    assert code == 0, err
    assert "(pulse too short)" in stdout and "needs at least 5 s" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["heart_rate_bpm"] is None and summary["breathing_rate_bpm"] is None
    assert summary["signal_quality"]["pulse_quality"] == "too short"
    assert summary["video"] == str(video)
    rates = pd.read_csv(out / "rates.csv")
    assert rates[["heart_rate_bpm", "breathing_rate_bpm"]].isna().all().all()


def test_photos_give_their_aus(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A photo, or a folder of photos, gives AUs per image and no rates, with one
    line saying why; a classic rPPG method refuses a photo in one line."""
    import cv2

    from bigsmall.video.io import read_all

    photos = tmp_path / "photos"
    photos.mkdir()
    frame = read_all(face_clip, max_frames=1).frames[0]
    for name in ("a.png", "b.jpg"):
        cv2.imwrite(str(photos / name), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    out = tmp_path / "one"
    code, stdout, err = _run(["predict", str(photos / "a.png"), "--out", str(out)], capsys)
    assert code == 0, err
    assert "still image, a face; AUs present:" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["heart_rate_bpm"] is None and summary["breathing_rate_bpm"] is None
    assert set(summary["au_occurrence"].values()) <= {0.0, 1.0}
    assert summary["signal_quality"]["pulse_quality"] == "still image"
    assert any("still image" in w.lower() for w in summary["warnings"])
    # one photo, one frame: no frame rate or length invented for it, no waveform values
    assert (summary["frames"], summary["fps"], summary["duration_sec"]) == (1, None, None)
    signals = pd.read_csv(out / "signals.csv")
    assert len(signals) == 1 and signals[["ppg", "resp"]].isna().all().all()
    assert signals["AU12"].between(0, 1).all() and signals["face_found"].eq(1).all()
    assert "action units only" in (out / "report.html").read_text()
    many = tmp_path / "many"
    code, stdout, err = _run(["predict", str(photos), "--out", str(many), "--no-report"], capsys)
    assert code == 0, err
    # each photo's progress line gives its AUs, not empty rates
    progress = [line for line in stdout.splitlines() if line.startswith("[")]
    assert len(progress) == 2 and all("still image, a face; AUs present:" in p for p in progress)
    assert "HR --" not in stdout
    table = pd.read_csv(many / "summary.csv")
    assert len(table) == 2 and (table["status"] == "ok").all()
    assert "AU12_occurrence" in table.columns
    code, _, err = _run(
        ["predict", str(photos / "a.png"), "--method", "pos", "--out", str(tmp_path / "p")],
        capsys,
    )
    _assert_one_line_error(code, err, tmp_path / "p")
    assert "still image" in err


def test_a_folder_of_videos_and_photos(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder holding a video and a photo: the network measures both (the photo's AUs); a
    classic method, which reads nothing in a photo, measures the video and names the photo it
    left out, instead of passing over it in silence or failing on it."""
    import shutil

    import cv2

    from bigsmall.video.io import read_all

    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(face_clip, folder / "clip.mp4")
    frame = read_all(face_clip, max_frames=1).frames[0]
    cv2.imwrite(str(folder / "still.jpg"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    out = tmp_path / "both"
    code, stdout, err = _run(["predict", str(folder), "--out", str(out), "--no-report"], capsys)
    assert code == 0, err
    table = pd.read_csv(out / "summary.csv")
    assert [Path(v).name for v in table["video"]] == ["clip.mp4", "still.jpg"]
    assert (table["status"] == "ok").all()
    assert "still.jpg: still image, a face; AUs present:" in stdout
    assert "left out" not in stdout
    classic = tmp_path / "classic"
    code, stdout, err = _run(
        ["predict", str(folder), "--method", "pos", "--out", str(classic), "--no-report"], capsys
    )
    assert code == 0, err
    table = pd.read_csv(classic / "summary.csv")
    assert [Path(v).name for v in table["video"]] == ["clip.mp4"]
    assert "1 photo(s) left out (still.jpg): a classic method reads no AUs" in stdout


def test_overwrite_replaces_only_bigsmall_folders(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """--overwrite never removes a document, the input video or the current
    folder; it replaces a folder an earlier run wrote."""
    work = tmp_path / "work"
    work.mkdir()
    video = work / "clip.mp4"
    shutil.copy(face_clip, video)
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    fast = ["--method", "chrom", "--no-report", "--overwrite"]
    for out in (str(work), ".", "clip.mp4", "notes.txt"):
        code, _, err = _run(["predict", "clip.mp4", "--out", out, *fast], capsys)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
    docs = work / "docs"
    docs.mkdir()
    (docs / "thesis.tex").write_text("years")
    code, _, err = _run(["predict", "clip.mp4", "--out", "docs", *fast], capsys)
    assert code == 2 and "only replaces bigsmall's own output folders" in err
    assert sorted(p.name for p in work.iterdir()) == ["clip.mp4", "docs", "notes.txt"]
    assert (docs / "thesis.tex").read_text() == "years"
    for _ in range(2):  # a folder bigsmall wrote is replaced
        code, _, err = _run(["predict", "clip.mp4", "--out", "res", *fast], capsys)
        assert code == 0, err
    assert (work / "res" / "summary.json").is_file()


def test_predict_many_videos(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(face_clip, videos / "a.mp4")
    shutil.copy(face_clip, videos / "b.mp4")
    (videos / "broken.mp4").write_text("not a video")
    out = tmp_path / "many"
    code, stdout, err = _run(
        ["predict", str(videos), "--out", str(out), "--method", "pos", "--no-report"], capsys
    )
    assert code == 2  # one video failed; the others were measured
    assert len(err.strip().splitlines()) == 1 and "broken.mp4" in err
    assert "2 of 3 inputs measured" in stdout
    assert "[1/3]" in stdout and "[2/3]" in stdout and "[3/3]" in err  # a line per video
    assert (out / "a" / "summary.json").is_file() and (out / "b" / "signals.csv").is_file()
    assert not (out / "broken").exists()
    table = pd.read_csv(out / "summary.csv")
    assert list(table["status"]) == ["ok", "ok", "error"]
    assert tuple(table.columns) == COMBINED_COLUMNS  # the same order, whichever video fails
    glob_out = tmp_path / "globbed"
    code, _, _ = _run(
        ["predict", str(videos / "[ab].mp4"), "--out", str(glob_out), "--method", "pos",
         "--no-report"],
        capsys,
    )  # fmt: skip
    assert code == 0
    assert len(pd.read_csv(glob_out / "summary.csv")) == 2


@pytest.mark.parametrize("case", ["missing", "not_video", "empty", "truncated"])
def test_bad_files(
    case: str, face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video = tmp_path / "input.mp4"
    if case == "not_video":
        video.write_text("hello, this is text\n" * 50)
    elif case == "empty":
        video.write_bytes(b"")
    elif case == "truncated":
        data = face_clip.read_bytes()
        video.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    code, _, err = _run(["predict", str(video), "--out", str(out), "--method", "pos"], capsys)
    _assert_one_line_error(code, err, out)
    expected = {
        "missing": "not found",
        "not_video": "not a readable video",
        "empty": "empty",
        "truncated": "truncated",
    }[case]
    assert expected in err


def test_too_short_for_one_window(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _, err = _run(
        ["predict", str(face_clip), "--out", str(out), "--method", "pos", "--window-sec", "8"],
        capsys,
    )
    _assert_one_line_error(code, err, out)
    assert "shorter than one 8 s analysis window" in err
    from bigsmall.predict.demo_video import make_demo_video

    make_demo_video(tmp_path / "short.mp4", seconds=1.0)
    code, _, err = _run(
        ["predict", str(tmp_path / "short.mp4"), "--out", str(out), "--method", "pos"], capsys
    )
    _assert_one_line_error(code, err, out)
    assert "shorter than one analysis window" in err


def test_no_face(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = _noise_video(tmp_path / "noise.mp4")
    out = tmp_path / "out"
    code, _, err = _run(["predict", str(video), "--out", str(out), "--method", "pos"], capsys)
    _assert_one_line_error(code, err, out)
    assert "no face found" in err


def test_no_face_real_clip(faces_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code, _, err = _run(
        ["predict", str(faces_dir / "no_face.mp4"), "--out", str(out), "--method", "pos"], capsys
    )
    _assert_one_line_error(code, err, out)


def test_face_lost_partly_real_clip(faces_dir: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code, stdout, err = _run(
        ["predict", str(faces_dir / "face_noface.mov"), "--out", str(out), "--method", "pos",
         "--no-report"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert 0.0 < summary["face_found_fraction"] < 1.0
    assert any(w.startswith("No face was found in") for w in summary["warnings"])
    assert "warning: No face was found" in stdout
    signals = pd.read_csv(out / "signals.csv")
    lost = signals["face_found"] == 0
    assert signals.loc[lost, ["box_x", "box_y", "box_w", "box_h"]].isna().all().all()  # #8
    assert signals.loc[~lost, "box_w"].notna().all()


@pytest.mark.parametrize(
    "option",
    [
        ["--method", "magic"],
        ["--backend", "tpu"],
        ["--fold", "4"],
        ["--window-sec", "-3"],
        ["--window-sec", "ten"],
        ["--breathing", "lungs"],
    ],
)
def test_bad_option_values_are_usage_errors(
    option: list[str], face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["predict", str(face_clip), "--out", str(out), *option])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: bigsmall predict") and "error: argument" in err
    assert not out.exists()


def test_checkpoint_missing_is_one_line(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, _, err = _run(
        ["predict", str(face_clip), "--out", str(out), "--checkpoint", str(tmp_path / "x.pt")],
        capsys,
    )
    _assert_one_line_error(code, err, out)
    assert "checkpoint not found" in err


def test_demo_runs_and_prints_truth(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    code, stdout, err = _run(
        ["demo", "--out", str(out), "--seconds", "20", "--method", "pos"], capsys
    )
    assert code == 0, err
    truth = json.loads((out / "truth.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    match = re.search(r"heart rate: true ([\d.]+) bpm, measured ([\d.]+)", stdout)
    assert match and abs(float(match.group(1)) - truth["heart_rate_bpm"]) < 0.06
    assert abs(summary["heart_rate_bpm"] - truth["heart_rate_bpm"]) < 3.0
    assert abs(summary["breathing_rate_bpm"] - truth["breathing_rate_bpm"]) < 2.0
    assert "report: " in stdout and (out / "report.html").is_file()
    # a second run replaces the demo's own folder
    assert main(["demo", "--out", str(out), "--seconds", "3", "--method", "pos"]) == 0


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed")
def test_html_report_renders_in_chromium(face_clip: Path, tmp_path: Path, capsys) -> None:
    """Readable rows (no raw JSON), AU names, rendered by headless Chromium."""
    out = tmp_path / "out"
    assert main(["predict", str(face_clip), "--out", str(out)]) == 0
    capsys.readouterr()
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    page = (out / "report.html").resolve().as_uri()
    dom = subprocess.run(
        [str(CHROMIUM), *flags, "--dump-dom", page], capture_output=True, text=True, timeout=60
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    images = re.findall(r'<img[^>]+src="(data:image/png;base64,[^"]+)"', dom.stdout)
    assert len(images) >= 1 and len(images[0]) > 10_000
    assert 'id="summary"' in dom.stdout
    summary_table = dom.stdout.split('id="summary"')[1].split("</table>\n")[0]
    assert "{" not in summary_table and "lip corner puller" in summary_table
    assert "heart rate (bpm)" in summary_table and "signal quality" in summary_table
    assert "CONSOLE" not in dom.stderr and "Uncaught" not in dom.stderr
    shot = tmp_path / "shot.png"
    result = subprocess.run(
        [str(CHROMIUM), *flags, f"--screenshot={shot}", "--window-size=1200,1600", page],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and shot.is_file()
    import cv2

    pixels = cv2.imread(str(shot))
    # The figure drew lines (red pulse, blue breathing): the screenshot is not blank.
    assert pixels is not None and pixels.std() > 10.0


def test_live_on_a_file(face_clip: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, err = _run(
        ["live", "--video", str(face_clip), "--method", "pos", "--window-sec", "4"], capsys
    )
    assert code == 0, err
    lines = stdout.strip().splitlines()
    assert len(lines) == 8  # one status per second of the 6 s clip + two final lines
    assert lines[0].startswith("t=") and "HR -- bpm (waiting)" in lines[0]
    assert re.search(r"t=\s+4\.0s\s+HR\s+(--|[\d.]+) bpm \((good|fair|poor)\)", lines[3])
    assert "latency" in lines[0] and lines[-2].startswith("processed 180 frames")
    # a file is also read whole, as predict reads it (6 s: long enough for a heart rate only)
    assert lines[-1].startswith("whole stream (last 6 s): HR")
    assert "BR -- /min (too short)" in lines[-1]


def test_partly_truncated_video_and_allow_truncated(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import av

    from bigsmall.video import read_all

    frames = read_all(face_clip).frames
    full = tmp_path / "full.mkv"  # Matroska: frames decode up to the damage
    with av.open(str(full), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    data = full.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) * 2 // 3])
    out = tmp_path / "out"
    code, _, err = _run(["predict", str(cut), "--out", str(out), "--method", "pos"], capsys)
    _assert_one_line_error(code, err, out)
    assert "truncated" in err and "--allow-truncated" in err
    code, _, err = _run(
        ["predict", str(cut), "--out", str(out), "--method", "pos", "--allow-truncated",
         "--no-report"],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert 60 < summary["frames"] < 170
    assert any("truncated" in w for w in summary["warnings"])
    # live on the same file shows what it read, then says it broke off
    code, stdout, err = _run(["live", "--video", str(cut), "--method", "pos"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "truncated" in err
    assert stdout.strip().splitlines()[0].startswith("t=")


def test_live_camera_missing_is_one_line(capfd: pytest.CaptureFixture[str]) -> None:
    # capfd: OpenCV writes its warnings to file descriptor 2 directly
    code, _, err = _run(["live", "--camera", "97", "--method", "pos"], capfd)
    assert code == 2
    assert err.strip().splitlines() == [
        "bigsmall: error: camera 97: cannot be opened; check --camera or use --video"
    ]


def test_live_and_predict_agree_on_one_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On the same 24 s face video, live (default weights, fused breathing as
    predict) ends with predict's breathing rate, a heart rate within 2 bpm, the same AUs."""
    from bigsmall.predict.demo_video import make_demo_video

    video = tmp_path / "clip.mp4"
    make_demo_video(video, seconds=24.0)
    out = tmp_path / "out"
    assert main(["predict", str(video), "--out", str(out), "--no-report"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    capsys.readouterr()
    code, stdout, err = _run(["live", "--video", str(video)], capsys)
    assert code == 0, err
    last = [line for line in stdout.splitlines() if line.startswith("t=")][-1]
    hr = float(re.search(r"HR\s+([\d.]+) bpm", last).group(1))
    br = float(re.search(r"BR\s+([\d.]+) /min", last).group(1))
    assert abs(hr - summary["heart_rate_bpm"]) <= 2.0
    assert abs(br - summary["breathing_rate_bpm"]) <= 1.0
    active = {au for au, share in summary["au_occurrence"].items() if share >= 0.5}
    shown = re.search(r"AUs: (.*?)  face", last).group(1)
    assert (set() if shown == "none" else set(shown.split())) == active


def test_live_on_a_variable_frame_rate_file_is_not_called_truncated(
    face_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A VFR file yields more (grid) frames than it decodes: ``ended_early`` compares what the
    reader yields with what it announces, so live does not call it truncated."""
    from fractions import Fraction

    import av

    from bigsmall.video import read_all

    frames = read_all(face_clip).frames
    keep = [*range(90), *range(90, len(frames), 3)]  # 30 fps, then 10 fps
    vfr = tmp_path / "vfr.mp4"
    with av.open(str(vfr), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.codec_context.time_base = stream.time_base = Fraction(1, 30)
        for i in keep:
            frame = av.VideoFrame.from_ndarray(frames[i], format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, 30)
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    code, stdout, err = _run(["live", "--video", str(vfr), "--method", "pos"], capsys)
    assert code == 0, err
    assert stdout.strip().splitlines()[-2].startswith("processed")


def test_the_console_says_what_a_breathing_rate_was_read_from() -> None:
    quality = {"breathing_source": "fused (the face's motion, else ...)"}
    given = SimpleNamespace(
        breathing_rate_bpm=14.2,
        signal_quality={**quality, "breathing_read_from": "shoulders motion"},
    )
    withheld = SimpleNamespace(
        breathing_rate_bpm=None, signal_quality={**quality, "breathing_read_from": None}
    )
    assert breathing_origin(given) == "fused: shoulders motion"
    assert breathing_origin(withheld) == "fused"
