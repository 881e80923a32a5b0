"""A nod's perspective as a reference for the breathing on talking faces (a probe; a study,
docs/real-faces.md, session 24).

Speech nodding pitches the head about the neck, breathing lifts it. The product's pose is a
similarity (shift, rotation, scale: :mod:`bigsmall.predict.motion`), which cannot see a pitch;
a pitch shows as perspective, the top of the face nearer the camera than the bottom. Here
Shi–Tomasi corners in the first frame's face (Haar cascade) are followed by pyramidal
Lucas–Kanade flow on every third frame, a homography is fitted to them (least median of
squares), and per frame: the face centre's rise (from a similarity fit), its rotation and log
scale, the keystone (log of the top edge's width over the bottom edge's under the homography)
and the face's log height. Each set of references is regressed out of the rise in the
breathing band by least squares, and the rise's strongest breathing-band peak (per minute,
with its SNR: ±0.03 Hz over the rest of the band) is printed against the truth.

    python studies/nod_keystone.py SETS/heldout talking_d6 talking_d13
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import cv2
import numpy as np

from bigsmall.signal.filters import bandpass
from bigsmall.signal.spectrum import band_mask, periodogram

FS, STRIDE, BAND_HZ, HALF_HZ = 30.0, 3, (0.08, 0.5), 0.03


def _gray_frames(path: Path) -> list[np.ndarray]:
    capture, frames = cv2.VideoCapture(str(path)), []
    while True:
        ok, frame = capture.read()
        if not ok:
            return frames
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))


def pose_trace(path: Path) -> np.ndarray:
    """(T / STRIDE, 5) rise (px, up), rotation (rad), log scale, keystone, log height."""
    frames = _gray_frames(path)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    found = cascade.detectMultiScale(frames[0], 1.1, 5, minSize=(60, 60))
    x, y, w, h = max(found, key=lambda b: b[2] * b[3])
    mask = np.zeros_like(frames[0])
    mask[y + int(0.1 * h) : y + int(0.95 * h), x + int(0.15 * w) : x + int(0.85 * w)] = 255
    key_points = cv2.goodFeaturesToTrack(frames[0], 60, 0.01, 4, mask=mask)
    top = np.float32([[[x + 0.2 * w, y + 0.15 * h], [x + 0.8 * w, y + 0.15 * h]]])
    bottom = np.float32([[[x + 0.2 * w, y + 0.85 * h], [x + 0.8 * w, y + 0.85 * h]]])
    centre = np.array([x + w / 2, y + h / 2, 1.0])
    rows: list[tuple[float, ...]] = []
    previous, points, alive = frames[0], key_points.copy(), np.ones(len(key_points), bool)
    for frame in frames[::STRIDE]:
        points, status, _ = cv2.calcOpticalFlowPyrLK(
            previous, frame, points, None, winSize=(15, 15), maxLevel=2
        )
        alive &= status[:, 0] == 1
        previous = frame
        if alive.sum() < 8:
            rows.append(rows[-1] if rows else (0.0,) * 5)
            continue
        src, dst = key_points[alive], points[alive]
        homography, _ = cv2.findHomography(src, dst, cv2.LMEDS)
        similarity, _ = cv2.estimateAffinePartial2D(src, dst, method=cv2.LMEDS)
        if homography is None or similarity is None:
            rows.append(rows[-1] if rows else (0.0,) * 5)
            continue
        t = cv2.perspectiveTransform(top, homography)[0]
        b = cv2.perspectiveTransform(bottom, homography)[0]
        keystone = np.log(np.linalg.norm(t[1] - t[0]) / np.linalg.norm(b[1] - b[0]))
        height = np.log(np.linalg.norm((t[0] + t[1]) / 2 - (b[0] + b[1]) / 2) / (0.7 * h))
        rise = -((similarity @ centre)[1] - centre[1])
        rotation = np.arctan2(similarity[1, 0], similarity[0, 0])
        scale = np.log(np.hypot(similarity[0, 0], similarity[1, 0]))
        rows.append((rise, rotation, scale, keystone, height))
    return np.asarray(rows, np.float64)


def strongest(x: np.ndarray, fs: float) -> tuple[float, float]:
    """The strongest breathing-band peak of (T,) ``x`` (per minute) and its SNR (dB)."""
    freqs_hz, power = periodogram(bandpass(x - x.mean(), fs, BAND_HZ), fs)
    inside = band_mask(freqs_hz, BAND_HZ)
    f0 = freqs_hz[np.argmax(np.where(inside, power, 0.0))]
    near = np.abs(freqs_hz - f0) <= HALF_HZ
    snr = power[inside & near].sum() / max(power[inside & ~near].sum(), 1e-30)
    return 60.0 * f0, 10.0 * np.log10(snr)


def without(rise: np.ndarray, references: np.ndarray, fs: float) -> np.ndarray:
    """(T,) the rise in the breathing band with (T, K) ``references`` regressed out."""
    y = bandpass(rise - rise.mean(), fs, BAND_HZ)
    refs = np.stack([bandpass(c - c.mean(), fs, BAND_HZ) for c in references.T], axis=1)
    beta, *_ = np.linalg.lstsq(refs, y, rcond=None)
    return y - refs @ beta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("videos", nargs="+")
    args = parser.parse_args()
    with open(args.folder / "truth.csv") as handle:
        truth = {row[0]: row for row in csv.reader(handle)}
    fs = FS / STRIDE
    for name in args.videos:
        rise, rotation, scale, keystone, height = pose_trace(args.folder / f"{name}.mp4").T
        reads = {
            "rise": strongest(rise, fs),
            "-rot,scale": strongest(without(rise, np.stack([rotation, scale], 1), fs), fs),
            "-keystone": strongest(without(rise, np.stack([rotation, scale, keystone], 1), fs), fs),
            "-keystone,height": strongest(
                without(rise, np.stack([rotation, scale, keystone, height], 1), fs), fs
            ),
        }
        line = "  ".join(f"{k} {r:5.1f} ({snr:5.1f} dB)" for k, (r, snr) in reads.items())
        print(f"{name:14s} breathing {float(truth[name][3]):5.1f}  {line}", flush=True)


if __name__ == "__main__":
    main()
