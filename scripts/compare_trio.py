"""Issue 6 comparison on the synthetic test subjects: the authors' trio, BigSmall initialised from
the trio (before / after fine-tuning) and BigSmall trained from scratch.

    python scripts/compare_trio.py --config configs/synthetic.yaml \
        --weights ../shared/weights/official-bigsmall --scratch runs/synthetic/fold1 \
        [--finetuned runs/synthetic_trio/fold1] --out trio_comparison.md

HR/BR MAE come from the project's evaluator on fold 1's test subjects of the synthetic config;
AU agreement is with Big_AU's own predictions on real face frames (../shared/data/faces,
BP4D+-like framing), since synthetic AU labels say little about real faces.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from bigsmall.config import load_config
from bigsmall.data.dataset import WindowDataset
from bigsmall.evaluation.agreement import big_au_agreement
from bigsmall.evaluation.evaluate import evaluate_outputs
from bigsmall.evaluation.predict import predict_dataset
from bigsmall.experiment import preprocess, split_ids
from bigsmall.models import create_model
from bigsmall.models.official import bigsmall_from_trio, load_official, load_official_trio
from bigsmall.models.weights import load_safetensors
from bigsmall.video import HaarCascadeDetector, read_all
from bigsmall.video.framing import BP4D_FRAMING, crop_framed_frames
from bigsmall.video.normalize import diff_normalize_frames, standardize_frames


def real_face_inputs(faces_dir: Path, n_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Big (T, 3, 144, 144) and Small (T, 3, 9, 9) inputs of single_face.mp4, BP4D+ framing."""
    import cv2

    clip = read_all(faces_dir / "single_face.mp4", max_frames=n_frames)
    detector = HaarCascadeDetector()
    box = max(detector.detect(clip.frames[0]), key=lambda b: b.w * b.h)
    crops = crop_framed_frames(clip.frames, [box] * len(clip.frames), BP4D_FRAMING)
    unit = np.clip(crops.astype(np.float32) / 255.0, 1 / 255, 1.0)
    big = standardize_frames(unit)
    diff = diff_normalize_frames(unit)
    small = np.stack([cv2.resize(d, (9, 9), interpolation=cv2.INTER_AREA) for d in diff])
    to_t = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))).float()  # noqa: E731
    return to_t(big), to_t(small)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="configs/synthetic.yaml")
    p.add_argument("--weights", default="../shared/weights/official-bigsmall")
    p.add_argument("--faces", default="../shared/data/faces")
    p.add_argument("--fold", type=int, default=1, help="official weights fold")
    p.add_argument("--scratch", required=True, help="run folder of BigSmall from scratch")
    p.add_argument("--finetuned", default=None, help="run folder of BigSmall fine-tuned from trio")
    p.add_argument("--out", default="trio_comparison.md")
    args = p.parse_args()

    cfg = load_config(args.config)
    cache = preprocess(cfg, log=lambda _: None)
    _, test_ids = split_ids(cfg, cache, 1)
    test = WindowDataset(cache, test_ids)
    recordings = test.recordings()

    trio = load_official_trio(args.weights, args.fold)
    trio.big_downsample = True  # the cache holds Big's frame 0 of each window only
    models: dict[str, torch.nn.Module] = {
        "trio (BP4D+ trained)": trio,
        "BigSmall init from trio, not fine-tuned": bigsmall_from_trio(args.weights, args.fold),
    }
    for label, run in (("BigSmall init from trio, fine-tuned on synthetic", args.finetuned),
                       ("BigSmall from scratch on synthetic", args.scratch)):  # fmt: skip
        if run:
            m = create_model("bigsmall")
            load_safetensors(m, Path(run) / "checkpoints" / "last.safetensors")
            models[label] = m

    big, small = real_face_inputs(Path(args.faces), 72)
    big_au = load_official("big_au", args.weights, args.fold)
    rows = []
    for label, model in models.items():
        model.eval()
        res = evaluate_outputs(label, predict_dataset(model, test, progress=False), recordings,
                               cfg.eval)  # fmt: skip
        agree = big_au_agreement(model, big_au, big, small)
        rows.append((label, res.heart.mae, res.breathing.mae, float(np.mean(agree.agreement)),
                     float(np.nanmean(agree.pearson))))  # fmt: skip
        print(rows[-1], flush=True)
    lines = [
        "| model | HR MAE (bpm) | BR MAE (/min) | AU agreement with Big_AU | AU prob. r |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {a} | {b:.2f} | {c:.2f} | {d:.3f} | {e:.2f} |" for a, b, c, d, e in rows]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
