"""Study: does a content-stabilized face crop help the network read a pulse on real faces?

The tracker holds the face box between re-detections (every 30 frames), so the crop follows
neither the head's bobbing nor its drift, and jumps at each re-detection. Here the box is
instead kept on the face's content: each frame's translation against the previous one is
measured by phase correlation of the luma inside the box (Kuglin & Hines 1975) and the box moved
by it, then pulled by ``--pull`` of the way toward the detector's box (so drift cannot build
up); the crop is cut at the sub-pixel box (bilinear). ``--mask-rows K`` also zeroes the bottom K
rows of every 9x9 Small frame (the mouth). Everything else is ``studies/realface_eval.py``,
whose arguments follow (``--pull 1`` with no mask reproduces it: the detector's box, the usual
integer crop).

    python studies/stabilized_crop.py --pull 0.03 DIR [DIR ...] --methods bigsmall

Breathing read from the head's motion is not adapted (the crop now moves with the head), so
breathing results of stabilized runs are not meaningful.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

import bigsmall.video.inputs as inputs_module
from bigsmall.video.boxes import Box

#: Side of the luma patch compared between frames.
SIDE: int = 64
WINDOW = cv2.createHanningWindow((SIDE, SIDE), cv2.CV_32F)


class StabilizedPolicy:
    """Wraps a crop policy: the detector's box, followed on content between frames."""

    def __init__(self, policy, pull: float) -> None:
        self.policy, self.pull = policy, pull
        self.box: Box | None = None
        self.prev: np.ndarray | None = None

    def luma(self, view, box: Box) -> np.ndarray | None:
        x0, y0 = round(box.x), round(box.y)
        x1, y1 = x0 + round(box.w), y0 + round(box.h)
        height, width = view.y.shape
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        patch = view.y[y0:y1, x0:x1].astype(np.float32)
        return cv2.resize(patch, (SIDE, SIDE), interpolation=cv2.INTER_AREA)

    def __call__(self, view):
        detected, face = self.policy(view)
        if detected is None or not face or not hasattr(view, "y"):
            self.box = self.prev = None
            return detected, face
        if self.box is None or abs(detected.w - self.box.w) > 0.15 * detected.w:
            self.box = Box(detected.x, detected.y, detected.w, detected.h)
        else:
            gray = self.luma(view, self.box)
            if gray is not None and self.prev is not None:
                (dx, dy), _ = cv2.phaseCorrelate(self.prev, gray, WINDOW)
                if abs(dx) < SIDE / 4 and abs(dy) < SIDE / 4:
                    scale = self.box.w / SIDE
                    b = self.box
                    self.box = Box(b.x + dx * scale, b.y + dy * scale, b.w, b.h)
            b, p = self.box, self.pull
            self.box = Box(
                b.x + p * (detected.x - b.x),
                b.y + p * (detected.y - b.y),
                b.w + p * (detected.w - b.w),
                b.h + p * (detected.h - b.h),
            )
        self.prev = self.luma(view, self.box)
        return self.box, face


def subpixel_cut(view, box: Box | None) -> np.ndarray:
    """The crop of ``box`` at its sub-pixel position (bilinear; frame edges not handled)."""
    if box is None:
        return view.crop(box)
    pad = 2
    x0, y0 = int(np.floor(box.x)) - pad, int(np.floor(box.y)) - pad
    width, height = round(box.w), round(box.h)
    region = Box(float(x0), float(y0), float(width + 2 * pad + 1), float(height + 2 * pad + 1))
    rgb = np.ascontiguousarray(view.crop(region))
    cx = box.x + box.w / 2 - max(x0, 0)
    cy = box.y + box.h / 2 - max(y0, 0)
    return cv2.getRectSubPix(rgb, (width, height), (cx - 0.5, cy - 0.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], add_help=False)
    parser.add_argument("--pull", type=float, default=0.03)
    parser.add_argument("--mask-rows", type=int, default=0)
    args, rest = parser.parse_known_args()
    plain_policy = inputs_module.crop_policy

    def crop_policy(crop: str, *a, **k):
        policy = plain_policy(crop, *a, **k)
        return StabilizedPolicy(policy, args.pull) if crop == "face" else policy

    inputs_module.crop_policy = crop_policy
    if args.pull < 1.0:
        inputs_module.cut_crop = lambda crop: subpixel_cut
    if args.mask_rows:
        plain_small = inputs_module._Accumulator.small_result

        def small_result(self):
            out = plain_small(self)
            out[:, out.shape[1] - args.mask_rows :] = 0.0
            return out

        inputs_module._Accumulator.small_result = small_result
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import realface_eval

    sys.argv = [sys.argv[0], *rest]
    realface_eval.main()


if __name__ == "__main__":
    main()
