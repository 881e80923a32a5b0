"""Parameter and MAC counts reproduce Table 1 of the paper within 2 %."""

from __future__ import annotations

import pytest

from bigsmall.models.profile import PAPER_TABLE1, format_profile_table, profile_model

TOLERANCE = 0.02


@pytest.mark.parametrize("name", sorted(PAPER_TABLE1))
def test_table1_within_two_percent(name: str) -> None:
    row = profile_model(name)
    paper_params_m, paper_macs_m = PAPER_TABLE1[name]
    assert row.params_m == pytest.approx(paper_params_m, rel=TOLERANCE)
    assert row.macs_m == pytest.approx(paper_macs_m, rel=TOLERANCE)


def test_exact_counts() -> None:
    # Hand-computed: Big convs 447,897,600 MACs + bias 1,990,656 + pooling 1,078,272 per frame.
    assert profile_model("bigsmall").params == 2_142_478
    assert profile_model("big_only").macs_per_frame == pytest.approx(451_631_616)
    assert profile_model("bigsmall_no_downsample").macs_per_frame == pytest.approx(456_027_904)
    # strict per-frame average with Big on one frame in three
    assert profile_model("bigsmall").macs_per_frame == pytest.approx(155_383_552)
    matmul = profile_model("bigsmall", convention="matmul").macs_per_frame
    assert matmul == pytest.approx(447_897_600 / 3 + 3_055_968 + 1_992_448)


def test_table_lists_ratios() -> None:
    text = format_profile_table([profile_model("small_only_bvp"), profile_model("small_only")])
    assert "small_only_bvp" in text and "1.001" in text
    assert text.splitlines()[-1].split()[-1] == "-"  # no paper row for the two-head Small
