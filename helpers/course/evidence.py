"""Results are evidence, not claims: what a submission's files say, checked against each other.

- The metrics a results file records (`val_top1`, `test_top1`, ...) are compared with the numbers
  the notebook printed under the same name (`test top-1 0.7920`, `val_top1=0.79`, `79.2%`);
  a disagreement beyond the printed precision is flagged by the metric's name.
- Code cells the lab does not have, or that moved, before a check cell are listed: a cell
  inserted before an unchanged check (`small_acc = 1.0`) can make it pass without the work.
"""

from __future__ import annotations

import math
import re

from helpers.course import cells
from helpers.course.untrusted import clip

_NUMBER = r"(?P<num>[-+]?\d+(?:\.(?P<dec>\d+))?)(?!\.?\d)(?P<pct>[ \t]*%)?"


def metric_pattern(name: str) -> re.Pattern:
    """How a metric is printed: `val_top1`, `val top-1`, `val top1` then `=`, `:` or spaces, then a number.

    `best_val_top1` is printed `best val top-1`; `val_top1` is never read from a `best ...` line.
    """
    words = [re.escape(w) for w in name.split("_")]
    parts = [re.sub(r"top(\d)", r"top[-_ ]?\1", w) for w in words]
    label = r"[ _]".join(parts)
    before = r"(?<![\w-])" if name.startswith("best") else r"(?<!best )(?<!best_)(?<![\w-])"
    return re.compile(before + label + r"[ \t]*[=:]?[ \t]*" + _NUMBER, re.I)


def printed_text(nb) -> list[tuple[int, str]]:
    """(cell index, text) of every stream and text/plain output of the notebook's code cells."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            text = out.get("text") if out.get("output_type") == "stream" else (out.get("data") or {}).get("text/plain")
            if isinstance(text, str):
                found.append((i, text))
    return found


def printed_values(name: str, nb) -> list[tuple[int, float, float]]:
    """(cell, value, tolerance) of each number printed under a metric's name, in notebook order."""
    pattern, found = metric_pattern(name), []
    for i, text in printed_text(nb):
        for m in pattern.finditer(text):
            value, digits = float(m["num"]), len(m["dec"] or "")
            scale = 100 if m["pct"] else 1
            found.append((i, value / scale, 0.5 * 10.0**-digits / scale + 1e-9))
    return found


def printed_disagreements(metrics: dict, nb) -> list[str]:
    """A note for each recorded metric whose value the notebook never printed under its name.

    A lab may print a metric's name more than once (several runs, a table); the recorded value
    must be one of the numbers printed, within the precision they were printed with.
    """
    notes = []
    for name, recorded in metrics.items():
        if not isinstance(name, str) or isinstance(recorded, bool) or not isinstance(recorded, int | float):
            continue
        seen = printed_values(name, nb)
        try:
            value_recorded = float(recorded)
        except OverflowError:  # an int beyond any float: no printed number matches it
            value_recorded = math.inf
        if not seen or (math.isfinite(value_recorded) and any(abs(value_recorded - v) <= tol for _, v, tol in seen)):
            continue
        cell, value, _ = seen[-1]
        notes.append(
            f"results disagree with the notebook: {clip(name, 40)} is recorded as {clip(recorded, 20)} "
            f"but cell {cell} printed {value:g}"
        )
    return notes


def added_before_checks(lab_nb, sub_nb, pairs: dict[int, int]) -> list[str]:
    """Code cells not in the lab, or moved across a check, listed with the first check cell after them."""
    order = sorted(pairs.items())  # (lab index, submission index) in the lab's order
    checks = sorted(j for i, j in order if cells.is_check_cell(lab_nb.cells[i]))
    lab_of = {j: i for i, j in order}
    found: dict[int, list[str]] = {}
    for k, cell in enumerate(sub_nb.cells):
        following = next((j for j in checks if j > k), None)
        if following is None or not _counts(cell):
            continue
        if k not in lab_of:
            found.setdefault(following, []).append(f"added {cells.describe_cell(k, cell)}")
        elif lab_of[k] > lab_of[following]:  # after that check in the lab, before it here
            found.setdefault(following, []).append(f"moved {cells.describe_cell(k, cell)}")
    lab_checks = [(i, j) for i, j in order if cells.is_check_cell(lab_nb.cells[i])]
    for k, i in sorted(lab_of.items()):  # before a check in the lab, after it here
        first = next((j for i2, j in lab_checks if i2 > i), None)
        if first is not None and k > first and _counts(sub_nb.cells[k]):
            found.setdefault(first, []).append(f"moved after it: {cells.describe_cell(k, sub_nb.cells[k])}")
    return [
        f"before check {cells.describe_cell(j, sub_nb.cells[j])}: " + "; ".join(what)
        for j, what in sorted(found.items())
        if what
    ]


def _counts(cell) -> bool:
    """A code cell that could change what a check sees (not empty, not papermill's parameters)."""
    tags = cell.get("metadata", {}).get("tags", [])
    return cell.get("cell_type") == "code" and bool(cell.get("source", "").strip()) and cells.INJECTED_TAG not in tags
