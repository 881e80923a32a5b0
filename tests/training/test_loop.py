import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bigsmall.models import create_model
from bigsmall.models.weights import read_safetensors
from bigsmall.training.loop import fit
from bigsmall.training.losses import MultiTaskLoss
from bigsmall.training.settings import TrainSettings

sys.path.insert(0, str(Path(__file__).parent))
from helpers import ToyWindows


def _settings(**kw: object) -> TrainSettings:
    base = {"epochs": 4, "batch_size": 4, "lr": 3e-3, "seed": 7, "device": "cpu"}
    return TrainSettings(**{**base, **kw})


def _loss() -> MultiTaskLoss:
    return MultiTaskLoss({"au": 1.0, "bvp": 1.0, "resp": 1.0})


@pytest.mark.parametrize("method", ["sum", "pcgrad", "uncertainty"])
def test_fit_reduces_loss(tmp_path: Path, method: str) -> None:
    torch.manual_seed(0)
    model = create_model("bigsmall_tiny_test")
    loss_fn = MultiTaskLoss({"au": 1, "bvp": 1, "resp": 1}, uncertainty=method == "uncertainty")
    result = fit(
        model,
        ToyWindows(),
        _settings(gradient_method=method, epochs=6),
        tmp_path,
        loss_fn=loss_fn,
        progress=False,
    )
    hist = result["history"]
    assert len(hist) == 6
    assert hist[-1]["loss_bvp"] < 0.5 * hist[0]["loss_bvp"]
    assert hist[-1]["loss_resp"] < 0.5 * hist[0]["loss_resp"]
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 7
    assert (tmp_path / "checkpoints" / "last.safetensors").is_file()


def test_resume_is_exact(tmp_path: Path) -> None:
    torch.manual_seed(0)
    full = create_model("bigsmall_tiny_test")
    init = {k: v.clone() for k, v in full.state_dict().items()}
    fit(full, ToyWindows(), _settings(), tmp_path / "full", loss_fn=_loss(), progress=False)

    part = create_model("bigsmall_tiny_test")
    part.load_state_dict(init)
    run = tmp_path / "part"
    fit(part, ToyWindows(), _settings(), run, loss_fn=_loss(), progress=False, stop_after_epochs=2)
    resumed = create_model("bigsmall_tiny_test")  # fresh process state: weights come from disk
    fit(resumed, ToyWindows(), _settings(), run, loss_fn=_loss(), progress=False, resume=True)

    a = read_safetensors(tmp_path / "full" / "checkpoints" / "last.safetensors")
    b = read_safetensors(run / "checkpoints" / "last.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert (run / "metrics.csv").read_text() == (tmp_path / "full" / "metrics.csv").read_text()


TORCHRUN_SCRIPT = """
import sys, torch
sys.path.insert(0, {helpers!r})
sys.path.insert(0, {tests!r})
import tiny_model  # registers bigsmall_tiny_test
from helpers import ToyWindows
from bigsmall.models import create_model
from bigsmall.training.loop import fit
from bigsmall.training.losses import MultiTaskLoss
from bigsmall.training.settings import TrainSettings
torch.manual_seed(0)
model = create_model("bigsmall_tiny_test")
s = TrainSettings(epochs=2, batch_size=16, seed=3, device="cpu", warmup_epochs=1)
bvp0 = model.bvp_fc1.weight.detach().clone()
moved = []  # per epoch: did the pulse head move (not during the AU warm-up)?
r = fit(model, ToyWindows(), s, {run!r}, loss_fn=MultiTaskLoss({{"au": 1, "bvp": 1, "resp": 1}}),
        progress=False, on_epoch_end=lambda e, m: moved.append(
            not torch.equal(m.bvp_fc1.weight, bvp0)))
rank = torch.distributed.get_rank()
with open({run!r} + f"/rank{{rank}}.txt", "w") as f:  # ranks' stdout lines can interleave
    f.write(f"{{torch.distributed.get_world_size()}} {{r['epoch']}} {{moved}}")
"""


@pytest.mark.timeout(180)
def test_torchrun_two_processes(tmp_path: Path) -> None:
    script = tmp_path / "train_ddp.py"
    run = tmp_path / "run"
    script.write_text(
        TORCHRUN_SCRIPT.format(
            helpers=str(Path(__file__).parent), tests=str(Path(__file__).parents[1]), run=str(run)
        )
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         "--master_port=29517", str(script)],
        capture_output=True, text=True, env=env, timeout=170,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert [(run / f"rank{k}.txt").read_text() for k in (0, 1)] == ["2 2 [False, True]"] * 2
    assert (run / "checkpoints" / "last.safetensors").is_file()


def test_distillation_pulls_au_towards_teacher(tmp_path: Path) -> None:
    from torch.utils.data import DataLoader

    from bigsmall.training.loop import WindowModel, teacher_au

    torch.manual_seed(1)
    teacher = create_model("bigsmall_tiny_test").eval()
    with torch.no_grad():  # a confident teacher: AU logits far from 0
        teacher.au_fc2.bias.copy_(torch.linspace(-4, 4, 12))
    data = ToyWindows()
    batch = next(iter(DataLoader(data, batch_size=len(data))))
    target = teacher_au(teacher, batch)
    assert target.shape == (len(data) * 3, 12)

    def gap(model: torch.nn.Module) -> float:
        with torch.no_grad():
            au = WindowModel(model.eval())(batch["big"], batch["small"]).au
        return float((torch.sigmoid(au) - target).abs().mean())

    torch.manual_seed(0)
    student = create_model("bigsmall_tiny_test")
    before = gap(student)
    settings = _settings(task_weights={"au": 0.0, "bvp": 1.0, "resp": 1.0}, au_distill_weight=1.0)
    result = fit(student, data, settings, tmp_path, loss_fn=MultiTaskLoss(
        settings.task_weights, au_distill_weight=1.0), progress=False, teacher=teacher)  # fmt: skip
    assert "loss_au_distill" in result["history"][0]
    assert gap(student) < 0.5 * before


def test_teacher_au_big_only_repeats_per_window() -> None:
    from bigsmall.training.loop import teacher_au

    torch.manual_seed(0)
    teacher = create_model("bigsmall_tiny_test", use_small=False).eval()
    batch = {"big": torch.randn(4, 1, 3, 32, 32), "small": torch.randn(4, 3, 3, 4, 4)}
    target = teacher_au(teacher, batch)
    assert target.shape == (12, 12)
    assert torch.equal(target[0::3], target[1::3]) and torch.equal(target[0::3], target[2::3])
    expected = torch.sigmoid(teacher.heads(teacher.big_branch(batch["big"][:, 0])).au)
    assert torch.allclose(target[0::3], expected)


def test_warmup_trains_only_its_tasks_then_all(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model("bigsmall_tiny_test")
    snapshots: list[dict[str, torch.Tensor]] = [
        {k: v.clone() for k, v in model.state_dict().items()}
    ]

    def keep(_epoch: int, m: torch.nn.Module) -> None:
        snapshots.append({k: v.clone() for k, v in m.state_dict().items()})

    result = fit(
        model,
        ToyWindows(),
        _settings(epochs=2, warmup_epochs=1, warmup_tasks=("au",)),
        tmp_path,
        loss_fn=_loss(),
        progress=False,
        on_epoch_end=keep,
    )
    start, warm, joint = snapshots

    def changed(a: dict, b: dict, prefix: str) -> bool:
        return any(not torch.equal(a[k], b[k]) for k in a if k.startswith(prefix))

    # Warm-up epoch: the AU head and the shared branches move; the pulse/breathing heads do not.
    assert changed(start, warm, "au_fc") and changed(start, warm, "big_conv1")
    assert not changed(start, warm, "bvp_fc") and not changed(start, warm, "resp_fc")
    # Then every task trains.
    assert changed(warm, joint, "bvp_fc") and changed(warm, joint, "resp_fc")
    first = result["history"][0]
    assert first["loss"] == pytest.approx(first["loss_au"])  # trained on the AU loss alone
    assert first["loss_bvp"] > 0 and first["loss_resp"] > 0  # still logged


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"epochs": 2, "warmup_epochs": 2}, r"warmup_epochs \(2\) must be >= 0 and below epochs"),
        ({"warmup_epochs": 1, "warmup_tasks": ("pulse",)}, "warmup_tasks must be"),
        ({"warmup_epochs": 1, "warmup_tasks": ()}, "warmup_tasks must be"),
    ],
)
def test_warmup_settings_are_validated(kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(**kw)


def test_warmup_on_a_model_without_those_tasks_is_refused(tmp_path: Path) -> None:
    model = create_model("bigsmall_tiny_test", tasks=("bvp", "resp"))
    with pytest.raises(ValueError, match=r"name none of BigSmall.s tasks \[.bvp., .resp.\]"):
        fit(model, ToyWindows(), _settings(warmup_epochs=1), tmp_path, loss_fn=_loss(),
            progress=False)  # fmt: skip


def test_warmup_with_routed_branches(tmp_path: Path) -> None:
    """Warm-up on the pulse and breathing with routing: only the Small branch (and those heads)
    learn; afterwards routing is off and the Big branch learns too."""
    torch.manual_seed(0)
    model = create_model("bigsmall_tiny_test")
    start = {k: v.clone() for k, v in model.state_dict().items()}
    after: list[dict[str, torch.Tensor]] = []
    routed: list[bool] = []

    def keep(_epoch: int, m: torch.nn.Module) -> None:
        after.append({k: v.clone() for k, v in m.state_dict().items()})

    settings = _settings(
        epochs=2, warmup_epochs=1, warmup_tasks=("bvp", "resp"), warmup_route_branches=True
    )
    loss_fn = _loss()
    original = loss_fn.task_losses

    def spy(*args: object, **kwargs: object) -> dict:
        routed.append(model.route_gradients)
        return original(*args, **kwargs)

    loss_fn.task_losses = spy  # type: ignore[method-assign]
    fit(model, ToyWindows(), settings, tmp_path, loss_fn=loss_fn, progress=False,
        on_epoch_end=keep)  # fmt: skip
    warm, joint = after
    same = [k for k in start if torch.equal(start[k], warm[k])]
    assert any(k.startswith("big_conv") for k in same) and not any(
        k.startswith(("small_conv", "bvp_fc", "resp_fc")) for k in same
    )
    assert all(k.startswith(("big_conv", "au_fc")) for k in same)
    assert not torch.equal(warm["big_conv1.weight"], joint["big_conv1.weight"])
    steps = len(routed) // 2
    assert routed[:steps] == [True] * steps and routed[steps:] == [False] * steps
    assert model.route_gradients is False


def test_frame_targets_landmarks_per_frame_or_repeated() -> None:
    from bigsmall.training.loop import frame_targets

    small = torch.zeros(2, 3, 3, 9, 9)
    one = torch.arange(2 * 1 * 49 * 2, dtype=torch.float32).view(2, 1, 49, 2)
    out = frame_targets({"small": small, "landmarks": one})["landmarks"]
    assert out.shape == (6, 49, 2)
    assert torch.equal(out[0], one[0, 0]) and torch.equal(out[2], one[0, 0])
    assert torch.equal(out[3], one[1, 0]) and torch.equal(out[5], one[1, 0])
    every = torch.randn(2, 3, 49, 2)
    per_frame = frame_targets({"small": small, "landmarks": every})["landmarks"]
    assert torch.equal(per_frame, every.flatten(0, 1))
    with pytest.raises(ValueError, match="landmarks"):
        frame_targets({"small": small, "landmarks": torch.zeros(2, 2, 49, 2)})
