"""Held-out real-face test videos with a known pulse and breathing (a study, not a benchmark).

Real faces, real motion, known truth: a real face video (people talking, turning, changing
expression: ``../shared/data/faces_motion``) or a colour photo animated with slow head motion
carries an injected blood-volume pulse on its skin and a breathing movement, then is encoded
as H.264. The set mirrors the held-out check of the default weights: 30 s per video, pulse
0.2–0.4 % skin modulation at 48–142 bpm, breathing 6–28 /min of 1.5–3 px, crf 16–28.

- Skin: pixels whose chrominance is skin-like (YCrCb box of Chai & Ngan, IEEE TCSVT 1999)
  inside an ellipse around the face box, re-found every few frames (the Haar cascade, the MMOD
  CNN where the cascade finds none: tight photos). A video on whose first frames no face is
  found is refused, never written with a pulse it does not carry.
- Pulse: each skin pixel is darkened by ``a · s_c · p(t)`` with ``p`` a unit-peak PPG shape
  (the project's real-PPG shapes), ``a`` the green-channel modulation and ``s_c`` the blood
  colour signature of de Haan & van Leest (Physiol. Meas. 2014) relative to green.
- Breathing: the whole frame shifts vertically by ``b · r(t)`` (``r`` unit-peak); with
  ``--breathing-moves body`` only the person does (the face and everything below the chin
  across 2.8 face widths, soft-edged) while the background above and beside stays still, as
  with a camera on a stand.
- Clips shorter than 30 s are played forward then backward until 30 s.
- ``--talking`` takes faces_motion names (``d6``) or paths to other real face clips.
- ``--noise``: camera noise added to every pixel (grey levels, sd; default 1).
- ``--null``: static clips of photos (no pulse, no motion, camera noise), for the gate;
  ``--no-pulse``: the photos animated as the still faces, with breathing but no pulse.

Usage: ``python studies/realface_videos.py --out DIR [--photos P1.jpg ...]``; writes
``DIR/<name>.mp4`` and ``DIR/truth.csv`` (video, kind, hr_bpm, br_bpm, pulse_pct, crf).
"""

from __future__ import annotations

import argparse
import csv
import functools
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from bigsmall.data.synthetic.waveforms import breathing_waveform, pulse_waveform
from bigsmall.video.face import HaarCascadeDetector, detect_largest_face
from bigsmall.video.face_cnn import MmodFaceDetector
from bigsmall.video.io import read_all, read_image
from bigsmall.video.writer import VideoWriter

FS: float = 30.0
SECONDS: float = 30.0
#: The held-out recipe's draws (each uniform in its range): heart rate (bpm), breathing rate
#: (/min), breathing shift (px), pulse strength (% of the skin's green), H.264 crf.
HR_RANGE_BPM: tuple[float, float] = (48.0, 142.0)
BR_RANGE: tuple[float, float] = (6.0, 28.0)
SHIFT_RANGE_PX: tuple[float, float] = (1.5, 3.0)
PCT_RANGE: tuple[float, float] = (0.2, 0.4)
CRF_RANGE: tuple[int, int] = (16, 28)
#: Blood colour signature (R, G, B) relative to green (de Haan & van Leest 2014: 0.33/0.77/0.53).
SIGNATURE = np.array([0.33, 0.77, 0.53]) / 0.77
MOTION_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "faces_motion"
TALKING = ("d6", "d9", "d14", "d10", "d3", "d13")


def pingpong(frames: np.ndarray, n: int) -> np.ndarray:
    order = np.concatenate([np.arange(len(frames)), np.arange(len(frames) - 2, 0, -1)])
    return frames[np.resize(order, n)]


def skin_mask(frame: np.ndarray, box) -> np.ndarray:
    ycrcb = cv2.cvtColor(frame, cv2.COLOR_RGB2YCrCb)
    cr, cb = ycrcb[..., 1].astype(np.int16), ycrcb[..., 2].astype(np.int16)
    chroma = ((cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)).astype(np.float32)
    region = np.zeros(frame.shape[:2], np.float32)
    if box is not None:
        cx, cy = round(box.x + box.w / 2), round(box.y + box.h * 0.55)
        cv2.ellipse(region, (cx, cy), (round(box.w * 0.55), round(box.h * 0.75)), 0, 0, 360, 1, -1)
    return cv2.GaussianBlur(chroma * region, (0, 0), 2.0)


def still_motion(photo: np.ndarray, n: int, rng: np.random.Generator, size=(480, 480)):
    """Slow head motion of a photo: ±2° roll, ±6 px sway, ±3 % scale, below 0.3 Hz."""
    h, w = photo.shape[:2]
    t = np.arange(n) / FS
    f = rng.uniform(0.05, 0.3, 3)
    ph = rng.uniform(0, 2 * np.pi, 3)
    out = np.empty((n, size[1], size[0], 3), np.uint8)
    base = size[0] * 0.9 / w
    for i in range(n):
        ang = 2.0 * np.sin(2 * np.pi * f[0] * t[i] + ph[0])
        sc = base * (1 + 0.03 * np.sin(2 * np.pi * f[1] * t[i] + ph[1]))
        m = cv2.getRotationMatrix2D((w / 2, h / 2), ang, sc)
        m[0, 2] += size[0] / 2 - w / 2 + 6 * np.sin(2 * np.pi * f[2] * t[i] + ph[2])
        m[1, 2] += size[1] / 2 - h / 2
        out[i] = cv2.warpAffine(
            photo, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    return out


def talking_frames(src: str, n: int) -> np.ndarray:
    """(n, H, W, 3) a talking clip (a faces_motion name such as ``d6``, or a path) played forward
    and back to ``n`` frames; the 1280-px clip at half size."""
    clip = Path(src) if src.endswith(".mp4") else MOTION_DIR / f"{src}.mp4"
    frames = pingpong(read_all(clip).frames, n)
    if frames.shape[2] > 720:
        frames = np.stack(
            [cv2.resize(f, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for f in frames]
        )
    return frames


def static_frames(photo: np.ndarray, n: int, rng: np.random.Generator, noise: float) -> np.ndarray:
    """(n, 480, 480, 3) a photo as a static clip with camera noise of sd ``noise`` (grey
    levels), drawn frame by frame (the same draws as all at once, without a 5-GB array)."""
    still = cv2.resize(photo, (480, 480), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    frames = np.empty((n, *still.shape), np.uint8)
    for i in range(n):
        frames[i] = np.clip(still + rng.normal(0, noise, still.shape), 0, 255)
    return frames


HAAR = HaarCascadeDetector()


@functools.cache
def _cnn() -> MmodFaceDetector:
    """The CNN detector, built on first use (only tight photos need it)."""
    return MmodFaceDetector()


def find_face(frame: np.ndarray):
    """The largest face: the cascade's, else the CNN's."""
    return detect_largest_face(frame, HAAR) or detect_largest_face(frame, _cnn())


def body_mask(shape: tuple[int, int], box) -> np.ndarray:
    """(H, W) float32 in [0, 1]: the person around face ``box`` (a face ellipse and the body
    below the chin, 2.8 face widths across), edges softened over about a tenth of a face."""
    mask = np.zeros(shape, np.float32)
    cx, cy = round(box.x + box.w / 2), round(box.y + box.h * 0.5)
    cv2.ellipse(mask, (cx, cy), (round(box.w * 0.7), round(box.h * 0.85)), 0, 0, 360, 1, -1)
    chin = round(box.y + box.h * 0.95)
    mask[chin:, max(0, round(box.x - 0.9 * box.w)) : round(box.x + 1.9 * box.w)] = 1.0
    return cv2.GaussianBlur(mask, (0, 0), 0.1 * box.w)


def inject(
    frames: np.ndarray,
    hr: float,
    br: float,
    pct: float,
    amp_px: float,
    rng,
    noise: float = 1.0,
    moves: str = "frame",
):
    n = len(frames)
    ppg, _ = pulse_waveform(n, FS, hr, 30.0, "real" if rng.uniform() < 0.5 else "simulated", rng)
    ppg = ppg / np.abs(ppg).max()
    resp = breathing_waveform(n, FS, br, 0.05, rng)
    resp = resp / np.abs(resp).max()
    out = np.empty_like(frames)
    first_second = [find_face(f) for f in frames[:30:5]]  # the loop's first detections
    box = next((b for b in first_second if b is not None), None)
    if box is None and pct > 0:
        raise SystemExit("no face found on the first second; the pulse would not be injected")
    h = frames.shape[1]
    for i, frame in enumerate(frames):
        if i % 5 == 0:
            found = first_second[i // 5] if i < 30 else find_face(frame)
            box = found or box
        mask = skin_mask(frame, box)[..., None]
        gain = 1.0 - (pct / 100.0) * SIGNATURE[None, None, :] * ppg[i] * mask
        pulsed = frame.astype(np.float32) * gain
        shift = np.float32([[1, 0, 0], [0, 1, -amp_px * resp[i]]])  # inhalation: up
        moved = cv2.warpAffine(pulsed, shift, (frame.shape[1], h), borderMode=cv2.BORDER_REPLICATE)
        if moves == "body" and box is not None:  # the background stays where it is
            person = body_mask(frame.shape[:2], box)[..., None]
            moved = person * moved + (1.0 - person) * pulsed
        out[i] = np.clip(moved + rng.normal(0, noise, moved.shape), 0, 255).astype(np.uint8)
    return out, ppg, resp


def write(path: Path, frames: np.ndarray, crf: int) -> None:
    h, w = frames.shape[1] // 2 * 2, frames.shape[2] // 2 * 2
    with VideoWriter(path, FS, w, h, crf=crf) as writer:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[:h, :w]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--photos", nargs="*", type=Path, default=[])
    parser.add_argument("--talking", nargs="*", default=list(TALKING))
    parser.add_argument("--null", action="store_true", help="static photo clips, no pulse")
    parser.add_argument("--no-pulse", action="store_true", help="animated photos, no pulse")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--noise", type=float, default=1.0, help="camera noise, grey levels (sd)")
    parser.add_argument("--labels", action="store_true", help="write <name>.csv (ppg, resp)")
    parser.add_argument("--suffix", default="", help="appended to every video's name")
    parser.add_argument(
        "--breathing-moves",
        choices=("frame", "body"),
        default="frame",
        help="what breathing shifts: the whole frame, or the person only",
    )
    ranges = (
        ("--pct", float, PCT_RANGE, "pulse strength range, %% of the skin's green"),
        ("--crf", int, CRF_RANGE, "H.264 crf range"),
        ("--br", float, BR_RANGE, "breathing rate range (/min)"),
    )
    for flag, kind, default, text in ranges:  # each a LO HI pair
        parser.add_argument(
            flag, nargs=2, type=kind, default=default, metavar=("LO", "HI"), help=text
        )
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    n = round(args.seconds * FS)
    jobs = [] if args.null else [("talking", name) for name in args.talking]
    photo_kind = "null" if args.null else "nopulse" if args.no_pulse else "still"
    jobs += [(photo_kind, str(p)) for p in args.photos]
    for kind, src in jobs:
        if kind == "talking":
            frames = talking_frames(src, n)
        else:
            photo = read_image(src)
            frames = None if kind == "null" else still_motion(photo, n, rng)
        name = f"{kind}_{Path(src).stem}{args.suffix}"
        hr, br = rng.uniform(*HR_RANGE_BPM), rng.uniform(*args.br)
        pct, amp, crf = (
            rng.uniform(*args.pct),
            rng.uniform(*SHIFT_RANGE_PX),
            int(rng.integers(args.crf[0], args.crf[1] + 1)),
        )
        if kind == "null":
            frames = static_frames(photo, n, rng, args.noise)
            hr = br = pct = amp = 0.0
        else:
            if kind == "nopulse":
                pct = 0.0
            frames, ppg, resp = inject(
                frames, hr, br, pct, amp, rng, args.noise, args.breathing_moves
            )
            hr = hr if pct else 0.0
            if args.labels:  # the folder source's label file: what was injected, per frame
                labels = {"time_s": np.arange(n) / FS, "resp": resp}
                labels |= {"ppg": ppg} if pct else {}
                pd.DataFrame(labels).to_csv(args.out / f"{name}.csv", index=False)
        write(args.out / f"{name}.mp4", frames, crf)
        row = (name, kind, round(hr, 2), round(br, 2), round(pct, 3), crf)
        # each video's row as soon as it is written: a refusal later keeps the earlier rows
        with open(args.out / "truth.csv", "a", newline="") as handle:
            csv.writer(handle).writerow(row)
        print(row, flush=True)


if __name__ == "__main__":
    main()
