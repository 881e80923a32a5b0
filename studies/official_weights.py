"""Measurements of the authors' released BP4D+ weights on the project's real face media.

Usage: ``python studies/official_weights.py [--shared ../shared] [--folds 1 2 3]``

Prints, per fold (Narayanswamy et al., BigSmall, WACV 2024; released Table 1 baselines):

1. Small disagreement: the respiration head of Small_Resp applied to Small_Heart's features
   (what ``bigsmall_from_trio`` keeps) vs Small_Resp end to end, Pearson r over frames.
2. The trio-initialised BigSmall vs the trio: PPG / respiration output correlation and AU
   agreement, with WTSM (as the paper) and without shift, with and without Big temporal
   downsampling; WTSM vs no shift on the same initialisation; RMS of Big vs Small features
   (the fusion sum is dominated by Big).
3. Framing: Big_AU's AU06/AU12 probability on the smiling photo and the neutral video under the
   BP4D+-like and the toolbox framings, and the per-AU std of probabilities across nearby
   crops (±5 % and ±10 % scale / shift).

Inputs: ``single_face.mp4`` (72 frames, 30 fps, neutral face) cropped with the BP4D+-like
framing, Big standardized and Small diff-normalized over the clip; ``single_face.jpg`` (a
smile). No physiological ground truth exists for these files: these are agreement numbers.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import torch

from bigsmall.constants import AU_NAMES
from bigsmall.evaluation.agreement import au_agreement, au_crop_stability
from bigsmall.models.official import bigsmall_from_trio, load_official_trio
from bigsmall.video.boxes import Box, median_box
from bigsmall.video.face import HaarCascadeDetector
from bigsmall.video.framing import FRAMINGS, crop_framed_frames, nearby_framings
from bigsmall.video.io import read_all
from bigsmall.video.normalize import diff_normalize_frames, standardize_frames, uint8_to_unit_float

SMALL_HW = (9, 9)
SMOOTH_FRAMES = 5
SMILE_AUS = ("AU06", "AU12")


def _r(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(np.corrcoef(a.numpy().ravel(), b.numpy().ravel())[0, 1])


def _faces(frames: np.ndarray) -> list[Box]:
    det = HaarCascadeDetector()
    raw = [max(det.detect(f), key=lambda b: b.area) for f in frames]
    half = SMOOTH_FRAMES // 2
    return [median_box(raw[max(i - half, 0) : i + half + 1]) for i in range(len(raw))]


def _nchw(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2)


def _inputs(frames: np.ndarray, faces: list[Box], n: int) -> tuple[torch.Tensor, torch.Tensor]:
    crops = crop_framed_frames(uint8_to_unit_float(frames), faces, FRAMINGS["bp4d_framing"])
    big = standardize_frames(crops).astype(np.float32)
    diff = diff_normalize_frames(crops).astype(np.float32)
    small = np.stack([cv2.resize(d, SMALL_HW[::-1], interpolation=cv2.INTER_AREA) for d in diff])
    t = len(frames) // n * n
    return _nchw(big[:t]), _nchw(small[:t])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[2] / "shared")
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    weights = args.shared / "weights" / "official-bigsmall"
    media = args.shared / "data" / "faces"
    torch.set_num_threads(max(torch.get_num_threads(), 1))
    video = read_all(media / "single_face.mp4").frames
    faces = _faces(video)
    big, small = _inputs(video, faces, 3)
    still = cv2.cvtColor(cv2.imread(str(media / "single_face.jpg")), cv2.COLOR_BGR2RGB)[None]
    still_face = _faces(still)
    smile = [AU_NAMES.index(a) for a in SMILE_AUS]
    for fold in args.folds:
        trio = load_official_trio(weights, fold)
        print(f"== fold {fold} ({big.shape[0]} frames)")
        with torch.no_grad():
            ref = trio(big, small)
            heart_feats = trio.small_heart.small_branch(small)
            resp_feats = trio.small_resp.small_branch(small)
            r_resp = _r(trio.small_resp.heads(heart_feats).resp, ref.resp)
            r_bvp = _r(trio.small_heart.heads(resp_feats).bvp, ref.bvp)
            print(
                f"  resp head on Heart features vs Small_Resp: r={r_resp:.3f}; "
                f"bvp head on Resp features vs Small_Heart: r={r_bvp:.3f}"
            )
            b = trio.big_au.big_branch(big[::3])
            print(
                f"  feature RMS: Big {float(b.pow(2).mean().sqrt()):.3f}, Small_Heart "
                f"{float(heart_feats.pow(2).mean().sqrt()):.3f}"
            )
            outs = {}
            for shift in ("wtsm", "none"):
                for down in (True, False):
                    m = bigsmall_from_trio(trio, shift=shift, big_downsample=down).eval()
                    outs[(shift, down)] = o = m(big, small)
                    ag = au_agreement(torch.sigmoid(o.au).numpy(), torch.sigmoid(ref.au).numpy())
                    print(
                        f"  init BigSmall shift={shift:4s} downsample={down!s:5s} vs trio: "
                        f"bvp r={_r(o.bvp, ref.bvp):.3f} resp r={_r(o.resp, ref.resp):.3f} "
                        f"AU agreement={ag.mean_agreement:.3f} AU prob r={ag.mean_pearson:.3f}"
                    )
            w, n = outs[("wtsm", True)], outs[("none", True)]
            print(
                f"  WTSM vs no shift (same init): bvp r={_r(w.bvp, n.bvp):.3f} "
                f"resp r={_r(w.resp, n.resp):.3f}"
            )
        big_au = trio.big_au
        big_au.n_segment = 1
        for name, base in FRAMINGS.items():
            for label, kw in (
                ("5%", {"rel_scales": (-0.05, 0, 0.05), "shifts": (-0.05, 0.05)}),
                ("10%", {}),
            ):
                for what, frames, boxes in (
                    ("smile", still, still_face),
                    ("neutral", video[::6], faces[::6]),
                ):
                    probs, std = au_crop_stability(
                        big_au, frames, boxes, nearby_framings(base, **kw)
                    )
                    p0 = probs[0].mean(0)[smile].mean()
                    print(
                        f"  framing {name:7s} ±{label:3s} {what:7s}: AU06/12 p={p0:.2f}; "
                        "per-AU std " + " ".join(f"{v:.2f}" for v in std)
                    )


if __name__ == "__main__":
    main()
