"""csdialog.evaluation: the paired comparison of two models' decisions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csdialog.errors import ValidationError
from csdialog.evaluation import PairedComparison, paired_comparison

pairs = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_paired_comparison_counts_and_symmetry(items: list[tuple[bool, bool]]) -> None:
    a = [x for x, _ in items]
    b = [y for _, y in items]
    r = paired_comparison(a, b, n_boot=200)
    assert r.n == len(items)
    assert r.a_only == sum(x and not y for x, y in items)
    assert r.b_only == sum(y and not x for x, y in items)
    assert r.diff == pytest.approx(r.accuracy_b - r.accuracy_a, abs=1e-5)
    assert -1.0 <= r.diff_ci[0] <= r.diff_ci[1] <= 1.0
    if r.a_only + r.b_only == 0:  # the models agree on every item
        assert (r.diff, r.diff_ci, r.p_value) == (0.0, (0.0, 0.0), 1.0)
    assert 0.0 <= r.p_value <= 1.0
    swapped = paired_comparison(b, a, n_boot=200)
    assert (swapped.a_only, swapped.b_only) == (r.b_only, r.a_only)
    assert swapped.diff == pytest.approx(-r.diff, abs=1e-5)
    assert swapped.p_value == pytest.approx(r.p_value)


def test_paired_comparison_known_values() -> None:
    # 12 items model B alone gets right, 2 model A alone: McNemar exact p = 2 * P(X <= 2),
    # X ~ Binomial(14, 0.5) = 2 * 106 / 16384
    a = [True] * 20 + [False] * 12 + [True] * 2
    b = [True] * 20 + [True] * 12 + [False] * 2
    r = paired_comparison(a, b)
    assert isinstance(r, PairedComparison)
    assert (r.a_only, r.b_only) == (2, 12)
    assert r.p_value == pytest.approx(2 * 106 / 16384, abs=1e-6)
    assert r.diff == pytest.approx(10 / 34, abs=1e-6)
    assert 0 < r.diff_ci[0] < r.diff < r.diff_ci[1]
    same = paired_comparison(np.ones(5, dtype=bool), np.ones(5, dtype=bool))
    assert (same.p_value, same.diff, same.diff_ci) == (1.0, 0.0, (0.0, 0.0))


@pytest.mark.parametrize("a, b, n_boot, match", [
    ([True], [True, False], 100, "1 decision\\(s\\) of model A but 2"),
    ([], [], 100, "n > 0"),
    ([True], [False], 0, "n_boot=0"),
])
def test_paired_comparison_says_what_is_wrong(a: list[bool], b: list[bool], n_boot: int,
                                              match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        paired_comparison(a, b, n_boot=n_boot)


def test_paired_comparison_blocks_give_the_same_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large sets draw their resamples in blocks of rows: the same numbers as one draw."""
    import csdialog.evaluation as ev

    rng = np.random.default_rng(1)
    a, b = rng.random(301) < 0.6, rng.random(301) < 0.7
    whole = paired_comparison(a, b, n_boot=500, seed=3)
    monkeypatch.setattr(ev, "_BOOT_BLOCK", 301 * 7)  # 7 resamples per block, 72 blocks
    assert paired_comparison(a, b, n_boot=500, seed=3) == whole
