"""Build the shipped default weights, end to end, in one command.

    python scripts/build_default_weights.py [--expressions ../shared/data/expressions]

Two stages:

1. **Pulse and breathing** (Small branch, PPG and respiration heads): BigSmall initialised from
   the authors' BP4D+ trio (fold 1) and fine-tuned on synthetic videos with a known pulse and
   breathing (``configs/default_weights.yaml``, the previous build). Its output is the file the
   package shipped before this build (SHA-256 :data:`STAGE1_SHA256`), taken from the project's
   git history; ``--rebuild-stage1`` runs that build again instead (50 min on 2 cores; its
   synthetic videos differ in their encoder's bytes, so the result may differ slightly).
2. **Action units from real people** (Big branch and AU head): the Big branch and AU head are
   reset to the authors' Big_AU (BP4D+ only), then trained on the expression photos of
   ``shared/data/expressions`` (4,500 people; a tenth of them, by a hash of the name, held
   out) with weak AU labels from the EMFACS prototypes (:mod:`bigsmall.data.expressions`),
   every photo prepared as ``predict`` prepares a frame under the ``face`` crop, while the PPG
   and respiration outputs are kept close to stage 1's (:mod:`bigsmall.training.stills`).

The weights go to ``src/bigsmall/weights/bigsmall.safetensors`` (metadata: model, N, crop,
training data) with their ONNX graph beside them, and the smiles of the held-out people are
measured (``studies/smiles_heldout.py``; the numbers go into ``MODEL_CARD.md``). About 35 min
on 2 cores (stage 2, 3 epochs; rebuilding stage 1 takes 50 min more).
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
EPOCHS = 3
LR = 1e-3
KEEP_WEIGHT = 1.0
SEED = 0
#: The stage-1 weights: the default weights shipped by commit STAGE1_COMMIT.
STAGE1_COMMIT = "c7b62ba"
STAGE1_SHA256 = "33e2c7e2e4238f59dbc4705689f1ad18b8bd5225a033ff5176e8fb0734e4337a"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stage1_from_history(work: Path) -> Path:
    """The stage-1 weights from git history, checked against :data:`STAGE1_SHA256`."""
    target = work / "stage1.safetensors"
    if not target.is_file():
        blob = f"{STAGE1_COMMIT}:src/bigsmall/weights/bigsmall.safetensors"
        data = subprocess.run(
            ["git", "-C", str(ROOT), "show", blob], check=True, capture_output=True
        ).stdout
        target.write_bytes(data)
    if sha256(target) != STAGE1_SHA256:
        raise SystemExit(f"{target}: not the stage-1 weights (SHA-256 differs)")
    return target


def stage1(work: Path, official: Path) -> Path:
    """The pulse and breathing stage (the previous build), run again."""
    target = work / "stage1.safetensors"
    os.environ.update(
        BIGSMALL_DATA=str(work / "data"),
        BIGSMALL_CACHE=str(work / "cache"),
        BIGSMALL_RUNS=str(work / "runs"),
        BIGSMALL_FACES=str(work / "real_faces"),
        BIGSMALL_OFFICIAL=str(official),
    )
    sys.path.insert(0, str(ROOT / "scripts"))
    import prepare_real_faces

    if not (work / "real_faces" / "heldout" / "labels.csv").is_file():
        prepare_real_faces.main([str(work / "real_faces")])
    from bigsmall.config import load_config
    from bigsmall.experiment import run_experiment
    from bigsmall.models.weights import read_safetensors, save_safetensors

    (result,) = run_experiment(load_config(STAGE1_CONFIG))
    state = read_safetensors(result.run_dir / "checkpoints" / "last.safetensors")
    save_safetensors(state, target, metadata={"model": "bigsmall", "n_segment": "3"})
    return target


def stage2(start: Path, official: Path, expressions: Path, epochs: int) -> tuple[object, str]:
    """Big branch and AU head from real photos; returns the model and a log of the run."""
    import torch

    from bigsmall.constants import AU_NAMES
    from bigsmall.data.expressions import person_split, read_expression_photos, still_big_frames
    from bigsmall.models.official import bigsmall_from_trio
    from bigsmall.predict.runner import load_model
    from bigsmall.training.stills import evaluate_au, fit_au_on_stills

    torch.manual_seed(SEED)
    photos = read_expression_photos(expressions)
    held = person_split(photos.table["person"])
    frames, found = still_big_frames(photos.paths(), CROP, workers=2)
    train = found & ~held
    teacher = load_model(start).module
    model = copy.deepcopy(teacher)
    trio = bigsmall_from_trio(official, 1).state_dict()
    state = model.state_dict()
    for key in state:
        if key.startswith(("big_conv", "au_fc")):
            state[key] = trio[key].clone()
    model.load_state_dict(state)
    losses = fit_au_on_stills(
        model,
        frames[train],
        photos.targets()[train],
        epochs=epochs,
        lr=LR,
        seed=SEED,
        teacher=teacher,
        keep_weight=KEEP_WEIGHT,
    )
    probs = evaluate_au(model, frames[found & held])
    smile = (photos.table["expression"].to_numpy() == "happiness")[found & held]
    said = probs[:, AU_NAMES.index("AU12")] >= 0.5
    balanced = 0.5 * (said[smile].mean() + (~said[~smile]).mean())
    log = (
        f"trained on {int(train.sum())} photos of "
        f"{photos.table['person'][train].nunique()} people ({epochs} epochs, losses "
        f"{', '.join(f'{v:.3f}' for v in losses)}); face found on {found.mean():.3f} of all "
        f"photos; held-out people's crops (static, no H.264): AU12 balanced accuracy {balanced:.3f}"
    )
    return model, log


def ship(model: object, start: Path, log: str) -> Path:
    """Save into the package with the weights' own record and their ONNX graph."""
    from bigsmall.models.weights import save_safetensors
    from bigsmall.predict.runner import shipped_weights_path, write_onnx_beside
    from bigsmall.version import __version__

    target = shipped_weights_path()
    for old in target.parent.glob(f"{target.stem}-*.onnx"):
        old.unlink()
    metadata = {
        "model": "bigsmall",
        "n_segment": "3",
        "crop": CROP,
        "version": __version__,
        "trained_by": "scripts/build_default_weights.py",
        "training_data": json.dumps(
            {
                "au": "shared/data/expressions (muxspace/facial_expressions, Apache-2.0 "
                "repository; web photos), 9 of 10 person buckets; Big_AU (BP4D+) start",
                "pulse_breathing": f"stage 1 weights sha256 {sha256(start)[:16]} "
                "(configs/default_weights.yaml, synthetic videos)",
            }
        ),
        "stage2": log,
    }
    save_safetensors(model, target, metadata=metadata)
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
        "--rebuild-stage1", action="store_true", help="run stage 1 again (else from git history)"
    )
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    start = (
        stage1(work, args.official.resolve()) if args.rebuild_stage1 else stage1_from_history(work)
    )
    model, log = stage2(start, args.official.resolve(), args.expressions, args.epochs)
    print(log)
    target = ship(model, start, log)
    print(f"shipped {target}")
    study = ROOT / "studies" / "smiles_heldout.py"
    subprocess.run([sys.executable, str(study), "--expressions", str(args.expressions)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
