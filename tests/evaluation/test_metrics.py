import numpy as np
import pytest

from bigsmall.constants import AU_NAMES
from bigsmall.evaluation.bland_altman import bland_altman
from bigsmall.evaluation.metrics import au_metrics, rate_metrics, trivial_au_baselines


def test_rate_metrics_known_values() -> None:
    ref = np.array([60.0, 80.0, 100.0, 120.0])
    est = np.array([62.0, 78.0, 103.0, 120.0])  # errors 2, -2, 3, 0
    m = rate_metrics(est, ref)
    assert m.n == 4
    assert m.mae == pytest.approx(7 / 4)
    assert m.rmse == pytest.approx(np.sqrt((4 + 4 + 9 + 0) / 4))
    assert m.mape == pytest.approx(np.mean([2 / 60, 2 / 80, 3 / 100, 0]) * 100)
    assert m.mae_se == pytest.approx(np.std([2, 2, 3, 0], ddof=1) / 2)
    assert m.pearson == pytest.approx(np.corrcoef(est, ref)[0, 1])
    assert m.pearson_se == pytest.approx(np.sqrt((1 - m.pearson**2) / 2))


def test_rate_metrics_perfect_and_shape_error() -> None:
    m = rate_metrics([70.0, 90.0, 110.0], [70.0, 90.0, 110.0])
    assert m.mae == 0 and m.rmse == 0 and m.pearson == pytest.approx(1.0)
    with pytest.raises(ValueError):
        rate_metrics([1.0, 2.0], [1.0])


def test_au_metrics_counts_and_ignores_uncoded() -> None:
    labels = np.array([[1, 0], [1, 1], [0, -1], [0, 0]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.9], [0.1, 0.6]])
    m = au_metrics(probs, labels, ("A", "B"), from_logits=False)
    # AU A: tp=1 fn=1 fp=1 -> F1 = 2/(2+1+1) = 50 %; accuracy 2/4.
    assert m.f1[0] == pytest.approx(50.0)
    assert m.accuracy[0] == pytest.approx(50.0)
    # AU B (frame 3 not coded): tp=1, fp=1 -> F1 = 2/3; accuracy 2/3.
    assert m.f1[1] == pytest.approx(200 / 3)
    assert m.accuracy[1] == pytest.approx(200 / 3)
    assert m.mean_f1 == pytest.approx((50 + 200 / 3) / 2)


def test_au_metrics_logits_threshold_at_zero() -> None:
    labels = np.array([[1], [0]])
    m = au_metrics(np.array([[0.0], [-1e-3]]), labels, ("A",))  # sigmoid(0) = 0.5 -> present
    assert m.f1[0] == pytest.approx(100.0)


def test_trivial_baselines() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.random((1000, len(AU_NAMES))) < 0.2).astype(int)
    base = trivial_au_baselines(labels, AU_NAMES)
    p = labels.mean(axis=0)
    assert np.allclose(base["all_positive"].f1, 100 * 2 * p / (1 + p))
    assert np.allclose(base["all_negative"].f1, 0.0)
    assert np.allclose(base["all_negative"].accuracy, 100 * (1 - p))


def test_bland_altman() -> None:
    ba = bland_altman([61.0, 79.0, 101.0, 121.0], [60.0, 80.0, 100.0, 120.0])
    assert ba.bias == pytest.approx(0.5)
    assert ba.upper - ba.bias == pytest.approx(1.959963984540054 * ba.sd)


def test_roc_auc_known_values():
    from bigsmall.evaluation.metrics import roc_auc

    labels = np.array([0, 0, 1, 1])
    assert roc_auc(np.array([0.1, 0.2, 0.8, 0.9]), labels) == 1.0
    assert roc_auc(np.array([0.9, 0.8, 0.2, 0.1]), labels) == 0.0
    # one of the four positive/negative pairs is out of order -> 3/4
    assert roc_auc(np.array([0.1, 0.5, 0.4, 0.9]), labels) == 0.75
    # ties count one half: all scores equal -> 0.5
    assert roc_auc(np.zeros(4), labels) == 0.5
    # not-coded frames (-1) are ignored; one class only -> NaN
    assert roc_auc(np.array([0.1, 0.9, 5.0]), np.array([0, 1, -1])) == 1.0
    assert np.isnan(roc_auc(np.array([0.1, 0.2]), np.array([1, 1])))


def test_roc_auc_matches_pairwise_count_on_random_scores():
    from bigsmall.evaluation.metrics import roc_auc

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.normal(labels * 0.7, 1.0), 1)  # rounded: many ties
    pos, neg = scores[labels == 1], scores[labels == 0]
    pairs = (pos[:, None] > neg[None, :]).mean() + 0.5 * (pos[:, None] == neg[None, :]).mean()
    assert abs(roc_auc(scores, labels) - pairs) < 1e-12
    assert 0.65 < roc_auc(scores, labels) < 0.75  # separation of 0.7 sd: AUC ≈ Φ(0.7/√2) ≈ 0.69
