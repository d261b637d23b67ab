"""Comparing runs honestly: the same experiment over several seeds, as mean ± spread.

Introduced in lab 02. One run's accuracy moves by tenths of a point (sometimes more) when only
the seed changes: which images land in which batch, the initial weights. A difference between
two settings means something only when it is larger than that spread, so every comparison a
lab draws a conclusion from runs each setting over a few seeds (`cfg.recipe["seeds"]`: one in
smoke, three in quick and full) and reads the table this module makes.

    rows = over_seeds(lambda seed: {"val_top1": train(seed)}, seeds=[0, 1, 2], setting="step decay")
    table = seed_table(rows, "val_top1")           # one row per setting: mean, spread, n
    differs(table, "step decay", "constant")
    check_learned(table.loc["step decay", "min"], 10, "step decay")   # a working pipeline, any dataset
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from helpers import runtime


def over_seeds(run: Callable[[int], dict], seeds: Iterable[int], **labels) -> list[dict]:
    """`run(seed)` once per seed, each after seeding everything; its dict plus `seed` and `labels`.

    A run that returns None is skipped (e.g. one that diverged and was recorded as such).
    """
    rows = []
    for seed in seeds:
        runtime.seed_everything(seed)
        result = run(seed)
        if result is not None:
            rows.append({**labels, "seed": seed, **result})
    return rows


def seed_table(rows: list[dict], metric: str, by: str = "setting") -> pd.DataFrame:
    """Mean, standard deviation, min, max and count of `metric` per `by`, in first-seen order.

    `spread` is half the range (max − min) / 2: with three seeds, a plain ± that a reader can
    check against the individual runs.
    """
    frame = pd.DataFrame(rows)
    if frame.empty or metric not in frame:
        raise ValueError(f"no {metric!r} in the runs; each run's dict must hold it")
    order = list(dict.fromkeys(frame[by]))
    grouped = frame.groupby(by, sort=False)[metric]
    table = pd.DataFrame(
        {
            "mean": grouped.mean(),
            "std": grouped.std(ddof=0),
            "min": grouped.min(),
            "max": grouped.max(),
            "n": grouped.count(),
        }
    ).loc[order]
    table["spread"] = (table["max"] - table["min"]) / 2
    return table


def differs(table: pd.DataFrame, a: str, b: str) -> bool:
    """Whether settings `a` and `b` differ by more than their spreads: their ranges do not overlap.

    With one seed per setting there is no spread to compare against, so nothing differs.
    """
    ra, rb = table.loc[a], table.loc[b]
    if min(ra["n"], rb["n"]) < 2:
        return False
    return bool(ra["min"] > rb["max"] or rb["min"] > ra["max"])


def format_table(table: pd.DataFrame, percent: bool = True) -> str:
    """The table as text: `mean ± spread (min–max, n seeds)` per setting."""
    scale, unit = (100, "%") if percent else (1, "")
    lines, width = [], max([24, *(len(str(name)) for name in table.index)])
    for name, row in table.iterrows():
        lines.append(
            f"{name:>{width}}: {row['mean'] * scale:6.2f}{unit} ± {row['spread'] * scale:.2f}"
            f"  ({row['min'] * scale:.2f}–{row['max'] * scale:.2f}, {int(row['n'])} seed"
            f"{'s' if row['n'] != 1 else ''})"
        )
    return "\n".join(lines)


CHANCE_MULTIPLE = 2.5  # a run this far above chance has learned; a broken pipeline stays near chance


def learned_floor(num_classes: int) -> float:
    """The accuracy any working pipeline clears on any dataset: 2.5x chance (0.25 for 10 classes),
    or halfway from chance to 1 where that is lower (few classes: 0.75 for 2).

    The labs' "it learned" checks use it instead of a number tuned to one dataset, so they hold in
    quick on Fashion-MNIST (about 0.85 there) and on CIFAR-10 (0.4-0.6 in a few epochs) alike, and
    still fail where a bug leaves the model at chance.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    chance = 1 / num_classes
    return min(CHANCE_MULTIPLE * chance, (1 + chance) / 2)


def check_learned(accuracy: float, num_classes: int, what: str = "the model") -> None:
    """Raise AssertionError, saying what to look at, unless `accuracy` clears `learned_floor`."""
    floor, value = learned_floor(num_classes), float(accuracy)
    if not value > floor:  # NaN (a diverged run) fails too
        raise AssertionError(
            f"{what} reached {value:.3f} accuracy; with {num_classes} classes chance is {1 / num_classes:.2f}, "
            f"and a working pipeline clears {floor:.2f} on any dataset. Look for a bug "
            "in the data, the model or the training loop (or a diverged run); if the run was cut very short "
            "(epochs=1), train longer."
        )
