"""Comparing over seeds: the table, the rule for "differs", the text the labs print."""

from __future__ import annotations

import pytest
import torch

from helpers.experiments import check_learned, differs, format_table, learned_floor, over_seeds, seed_table


def test_over_seeds_seeds_each_run_and_skips_none():
    rows = over_seeds(lambda s: None if s == 2 else {"draw": torch.rand(1).item()}, [0, 1, 2, 0], setting="a")
    assert [r["seed"] for r in rows] == [0, 1, 0] and rows[0]["draw"] == rows[2]["draw"] != rows[1]["draw"]
    assert all(r["setting"] == "a" for r in rows)


def test_seed_table_and_differs_follow_the_ranges():
    rows = [
        {"setting": s, "seed": i, "acc": v}
        for s, vals in {
            "base": [0.80, 0.82, 0.81],
            "close": [0.815, 0.83, 0.84],
            "far": [0.86, 0.87, 0.85],
            "one seed": [0.99],
        }.items()
        for i, v in enumerate(vals)
    ]
    table = seed_table(rows, "acc")
    assert list(table.index) == ["base", "close", "far", "one seed"], "first-seen order"
    assert table.loc["base", "mean"] == pytest.approx(0.81) and table.loc["base", "spread"] == pytest.approx(0.01)
    assert not differs(table, "close", "base"), "overlapping ranges: within the spread"
    assert differs(table, "far", "base") and differs(table, "base", "far")
    assert not differs(table, "one seed", "base"), "one seed has no spread to compare against"
    with pytest.raises(ValueError, match="no 'top1'"):
        seed_table(rows, "top1")


def test_format_table_aligns_long_names():
    rows = [{"setting": s, "acc": v} for s in ("short", "warm-up + cosine, wd warm-up") for v in (0.5, 0.7)]
    lines = format_table(seed_table(rows, "acc")).splitlines()
    assert lines[0].index(":") == lines[1].index(":") and "60.00% ± 10.00  (50.00–70.00, 2 seeds)" in lines[0]


def test_check_learned_is_relative_to_chance_and_says_what_to_do():
    assert learned_floor(10) == 0.25 and learned_floor(5) == 0.5 and learned_floor(2) == 0.75  # reachable
    check_learned(0.9, 2)
    check_learned(0.42, 10, "CIFAR-10 in a few epochs")  # below the old 0.5, far above chance: passes
    check_learned(torch.tensor(0.9), 10)
    for stuck in (0.11, 0.25, float("nan")):
        with pytest.raises(AssertionError, match=r"chance is 0\.10.*clears 0\.25 on any dataset.*bug"):
            check_learned(stuck, 10, "SimpleNN")
    with pytest.raises(AssertionError, match="chance is 0.20"):
        check_learned(0.45, 5)
    with pytest.raises(ValueError, match="at least 2"):
        learned_floor(1)
