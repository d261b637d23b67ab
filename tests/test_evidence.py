"""Results are evidence: recorded metrics against printed numbers, and cells slipped in before checks."""

from __future__ import annotations

import csv

import nbformat
import pytest
import tiny_lab

from helpers.course import evidence, grading


@pytest.mark.parametrize(
    "name, text, value",
    [
        ("val_top1", "best val top-1 0.8000 (epoch 2); last val top-1 0.7000", 0.7),
        ("best_val_top1", "best val top-1 0.8000 (epoch 2); last val top-1 0.7000", 0.8),
        ("val_top1", "val_top1=0.5", 0.5),
        ("test_top1", "test top-1 79.2%", 0.792),
        ("test_top1", "test top-1 0.79.", 0.79),
    ],
)
def test_printed_metrics_are_read_by_name(name, text, value):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    assert evidence.printed_values(name, nb)[-1][1] == pytest.approx(value)


def test_a_table_header_is_not_a_printed_value():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text=" epoch  val_top1\n 1  0.5\n")]
    assert evidence.printed_values("val_top1", nb) == []
    assert evidence.printed_disagreements({"val_top1": 0.9}, nb) == []


@pytest.mark.parametrize("recorded", [10**400, -(10**400), float("inf"), float("nan")])
def test_a_recorded_number_beyond_any_float_is_a_disagreement_not_a_crash(recorded):
    """A results file may hold any JSON number (the grader fuzz found 10**400): it disagrees with what was printed."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x")])
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="val_top1 0.5000")]
    (note,) = evidence.printed_disagreements({"val_top1": recorded}, nb)
    assert "val_top1 is recorded as" in note and "printed 0.5" in note


def grade(root):
    _, out = grading.grade_folder(root, labs_dir=tiny_lab.executed() / "labs")
    with open(out / "grades.csv", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}, out


def test_forged_results_and_cells_slipped_in_before_a_check_are_flagged(tmp_path):
    nb, results = tiny_lab.run_json()
    subs = tmp_path / "subs"
    tiny_lab.submit(subs, "honest")
    tiny_lab.submit(subs, "forger", results={**results, "metrics": {**results["metrics"], "val_top1": 0.99}})
    check = next(i for i, c in enumerate(nb["cells"]) if "points" in c["metadata"].get("nbgrader", {}))
    slipped = nbformat.v4.new_code_cell("mean = lambda xs: 3.0  # passes the check", execution_count=4)
    inserted = {**nb, "cells": nb["cells"][:check] + [slipped] + nb["cells"][check:]}
    tiny_lab.submit(subs, "inserter", inserted)
    cells = list(nb["cells"])
    cells[check - 1], cells[check] = cells[check], cells[check - 1]  # the check first, then the exercise
    tiny_lab.submit(subs, "mover", {**nb, "cells": cells})
    rows, out = grade(subs)
    assert rows["honest"]["problems"] == "" and rows["honest"]["score"] == "2"
    forger = rows["forger"]["problems"]
    assert "results disagree with the notebook: val_top1 is recorded as 0.99 but cell 6 printed" in forger
    assert "test_top1" not in forger, "only the forged metric is named"
    assert f"before check cell {check + 1} " in rows["inserter"]["problems"]
    assert f"added cell {check} (In [4], `mean = lambda xs: 3.0  # passes the check`)" in rows["inserter"]["problems"]
    assert "moved after it: cell 4 " in rows["mover"]["problems"]
    assert "added cell" in (out / "inserter.html").read_text()
