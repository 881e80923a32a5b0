import pytest
import torch
import torch.nn.functional as F

from bigsmall.constants import BP4D_AU_POS_WEIGHT
from bigsmall.training.gradients import angle_deg, pcgrad_backward
from bigsmall.training.losses import MultiTaskLoss, landmark_loss, pos_weight_from_labels


def _batch() -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    au = torch.randn(6, 12, generator=g)
    bvp = torch.randn(6, 1, generator=g)
    resp = torch.randn(6, 1, generator=g)
    labels = {
        "au": (torch.rand(6, 12, generator=g) > 0.5).to(torch.int8),
        "bvp": torch.randn(6, generator=g),
        "resp": torch.randn(6, generator=g),
    }
    return (au, bvp, resp), labels


def test_loss_equals_paper_formula() -> None:
    outputs, labels = _batch()
    loss_fn = MultiTaskLoss({"au": 1, "bvp": 1, "resp": 1}, BP4D_AU_POS_WEIGHT)
    total, parts = loss_fn(outputs, labels)
    expected_au = F.binary_cross_entropy_with_logits(
        outputs[0], labels["au"].float(), pos_weight=torch.tensor(BP4D_AU_POS_WEIGHT)
    )
    assert parts["au"].item() == pytest.approx(expected_au.item(), rel=1e-6)
    assert parts["bvp"].item() == pytest.approx(F.mse_loss(outputs[1][:, 0], labels["bvp"]).item())
    assert total.item() == pytest.approx(sum(p.item() for p in parts.values()), rel=1e-6)


def test_masks_and_missing_heads() -> None:
    outputs, labels = _batch()
    labels["au"][:3] = -1  # not coded
    labels["bvp_mask"] = torch.tensor([True, False, False, False, False, False])
    loss_fn = MultiTaskLoss({"au": 1, "bvp": 1, "resp": 1})
    parts = loss_fn.task_losses((outputs[0], outputs[1], None), labels)
    assert set(parts) == {"au", "bvp"}
    expected = F.binary_cross_entropy_with_logits(outputs[0][3:], labels["au"][3:].float())
    assert parts["au"].item() == pytest.approx(expected.item(), rel=1e-6)
    assert parts["bvp"].item() == pytest.approx(((outputs[1][0, 0] - labels["bvp"][0]) ** 2).item())


def test_uncertainty_weighting_has_parameters() -> None:
    outputs, labels = _batch()
    loss_fn = MultiTaskLoss({"au": 1, "bvp": 1, "resp": 1}, uncertainty=True)
    total, parts = loss_fn(outputs, labels)
    assert len(list(loss_fn.parameters())) == 3
    total.backward()
    # d/ds (exp(-s) L + s) at s = 0 is 1 - L.
    assert loss_fn.log_vars["bvp"].grad.item() == pytest.approx(1 - parts["bvp"].item(), rel=1e-5)


def test_pos_weight_from_labels() -> None:
    au = torch.tensor([[1, 0], [0, 0], [0, -1], [0, 0]])
    w = pos_weight_from_labels(au)
    assert w[0].item() == pytest.approx(3.0)
    assert w[1].item() == pytest.approx(50.0)  # never present


def test_pcgrad_projects_conflicting_gradients() -> None:
    p = torch.nn.Parameter(torch.zeros(2))
    a = torch.tensor([1.0, 0.0])
    b = torch.tensor([-1.0, 1.0])
    losses = {"x": (p * a).sum(), "y": (p * b).sum()}  # gradients a and b, angle 135°
    assert angle_deg(a, b) == pytest.approx(135.0)
    pcgrad_backward(losses, [p])
    # a projected off b: a - (a.b/|b|²) b = [0.5, 0.5]; b off a: [0, 1]. Sum = [0.5, 1.5].
    assert torch.allclose(p.grad, torch.tensor([0.5, 1.5]))


def test_au_distillation_term() -> None:
    outputs, labels = _batch()
    teacher = torch.sigmoid(torch.randn(6, 12, generator=torch.Generator().manual_seed(1)))
    labels["au_teacher"] = teacher
    parts = MultiTaskLoss({"au": 1, "bvp": 1, "resp": 1}, au_distill_weight=0.5)(outputs, labels)
    expected = F.binary_cross_entropy_with_logits(outputs[0], teacher)
    assert parts[1]["au_distill"].item() == pytest.approx(expected.item(), rel=1e-6)
    total = parts[1]["au"] + parts[1]["bvp"] + parts[1]["resp"] + 0.5 * expected
    assert parts[0].item() == pytest.approx(total.item(), rel=1e-6)
    # off by default, and uncertainty weighting leaves the distillation weight fixed
    assert "au_distill" not in MultiTaskLoss({"au": 1}).task_losses(outputs, labels)
    loss = MultiTaskLoss({"au": 1}, uncertainty=True, au_distill_weight=2.0)
    total_u, parts_u = loss(outputs, labels)
    assert total_u.item() == pytest.approx((parts_u["au"] + 2.0 * parts_u["au_distill"]).item())


# -- face alignment (JAA-Net's E_align) ---------------------------------------------------------
def _landmarks(f: int = 4) -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    marks = 0.3 + 0.4 * torch.rand(f, 49, 2, generator=g)
    marks[:, 19:25, 0] = 0.35  # left eye around x = 0.35, right eye around x = 0.65
    marks[:, 25:31, 0] = 0.65
    marks[:, 19:31, 1] = 0.4
    return marks


def test_landmark_loss_zero_masks_and_matches_the_paper() -> None:
    target = _landmarks()
    assert float(landmark_loss(target, target)) == 0.0
    pred = target + 0.03
    # E_align = Σ_j ‖p_j − g_j‖² / (2 d_o²) with d_o = 0.3 (eye centres), mean over frames
    expected = 49 * (2 * 0.03**2) / (2 * 0.3**2)
    assert float(landmark_loss(pred, target)) == pytest.approx(expected, rel=1e-5)
    holes = target.clone()
    holes[0, 40:] = float("nan")  # unknown mouth points of frame 0: masked, rescaled to 49
    holes[1, 20] = float("nan")  # an unknown eye point: frame 1 has no d_o and is skipped
    got = landmark_loss(pred, holes)
    assert torch.isfinite(got) and float(got) == pytest.approx(expected, rel=1e-5)
    assert landmark_loss(pred, torch.full_like(target, float("nan"))) is None


def test_landmark_loss_invariant_to_translation_and_scale() -> None:
    target = _landmarks()
    pred = target + 0.02 * torch.randn(target.shape, generator=torch.Generator().manual_seed(4))
    base = float(landmark_loss(pred, target))
    shift = torch.tensor([0.1, -0.2])
    assert float(landmark_loss(pred + shift, target + shift)) == pytest.approx(base, rel=1e-5)
    # pixels of a 176-pixel face instead of fractions: the same value (normalised by d_o²)
    assert float(landmark_loss(pred * 176, target * 176)) == pytest.approx(base, rel=1e-5)


def test_multitask_loss_uses_landmarks_when_both_sides_have_them() -> None:
    outputs, labels = _batch()
    target = _landmarks(6)
    pred = target + 0.01
    loss_fn = MultiTaskLoss({"au": 1, "bvp": 1, "resp": 1}, landmark_weight=0.5)
    total, parts = loss_fn((*outputs, pred), {**labels, "landmarks": target})
    assert parts["landmarks"].item() == pytest.approx(float(landmark_loss(pred, target)))
    assert total.item() == pytest.approx(
        parts["au"].item() + parts["bvp"].item() + parts["resp"].item()
        + 0.5 * parts["landmarks"].item(),
        rel=1e-6,
    )  # fmt: skip
    assert "landmarks" not in loss_fn.task_losses(outputs, {**labels, "landmarks": target})
    assert "landmarks" not in loss_fn.task_losses((*outputs, pred), labels)
    off = MultiTaskLoss({"au": 1}, landmark_weight=0.0)
    assert "landmarks" not in off.task_losses((*outputs, pred), {**labels, "landmarks": target})
