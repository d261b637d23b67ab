"""`python -m helpers grade`: order, check cells, results, edits, corrupt files, and --reproduce."""

from __future__ import annotations

import csv
import json
import shutil

import nbformat
import papermill
import pytest
from lab_run import LAB, REPO, cli, lab01_output

from helpers.course import cells, grading


def code_notebook(*sources, counts=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for cell, count in zip(nb.cells, counts or [None] * len(sources), strict=True):
        cell.execution_count = count
    return nb


def test_execution_order_problems():
    assert grading.execution_problems(code_notebook("a = 1", "", "b = 2", counts=[1, None, 2])) == []
    problems = grading.execution_problems(code_notebook("a = 1", "b = 2", "c = 3", counts=[3, 2, 5]))
    assert problems[0] == "cell 1 (In [2], `b = 2`) was run before a cell above it (In [3])"
    assert "out of order" in problems[1] and len(problems) == 2
    problems = grading.execution_problems(code_notebook("a = 1", "b = 2", "c = 3", "d = 4", counts=[1, None, None, 2]))
    assert problems == ["cell 1 (`b = 2`) and 1 more code cells after it not run"]
    nb = code_notebook("a = 1", counts=[1])
    nb.cells[0].outputs = [nbformat.v4.new_output("error", ename="ValueError", evalue="boom", traceback=[])]
    assert grading.execution_problems(nb) == ["cell 0 (In [1], `a = 1`) raised ValueError: boom"]


def test_check_cells_are_found_by_content_even_after_cells_move():
    lab = code_notebook(
        "x = 1", "### BEGIN SOLUTION\ny = 2\n### END SOLUTION", "assert y == 2", "z = 3", "assert z == 3"
    )
    sources = ("x = 1", "# injected", "y = 2  # mine", "assert y == 2", "z = 3", "assert z > 0")
    sub = code_notebook(*sources, counts=[1, 2, 3, 4, 5, 6])
    sub.cells[1].metadata["tags"] = ["injected-parameters"]
    checks = grading.grade_checks(lab, sub)
    assert [(c.label.split(" (")[0], c.status) for c in checks] == [("cell 3", "passed"), ("cell 5", "edited")]
    assert "-assert z == 3" in checks[1].detail and "+assert z > 0" in checks[1].detail
    del sub.cells[3]
    assert grading.grade_checks(lab, sub)[0].status == "missing"


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Six students built from one real smoke run of lab 01, graded once."""
    out, root = lab01_output(), tmp_path_factory.mktemp("submissions")
    source = out / f"{LAB}.ipynb"
    base = nbformat.read(source, as_version=4)
    check = next(i for i, c in enumerate(base.cells) if cells.is_graded_check(c))  # found by metadata, not text
    later = next(i for i, c in enumerate(base.cells) if cells.is_graded_check(c) and i > check + 2)

    def submit(student, nb=None, name=f"{LAB}.ipynb"):
        (root / student).mkdir()
        nbformat.write(nb or base, root / student / name)
        return nb

    submit("alice")
    shutil.copy(out / f"{LAB}.json", root / "alice")
    bob = nbformat.read(source, as_version=4)
    bob.cells[check].source += "\nassert 1 < 5  # <script>alert(1)</script>"
    submit("bob", bob)
    carol = nbformat.read(source, as_version=4)
    carol.cells[check].execution_count, carol.cells[later].execution_count = 99, carol.cells[check].execution_count
    submit("carol", carol)
    dave = nbformat.read(source, as_version=4)
    dave.cells[later].outputs = [
        nbformat.v4.new_output("error", ename="AssertionError", evalue="too low", traceback=[])
    ]
    for cell in dave.cells[later + 1 :]:
        if cell.cell_type == "code":
            cell.execution_count, cell.outputs = None, []
    submit("dave", dave)
    (root / "eve").mkdir()
    (root / "eve" / f"{LAB}.ipynb").write_text('{"cells": [')
    (root / "eve" / "notes.txt").write_text("see you")
    submit("frank", name="99_extra.ipynb")
    proc = cli("grade", str(root), "--out", str(root.parent / "grades"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(root.parent / "grades" / "grades.csv") as f:
        rows = {(r["student"], r["file"]): r for r in csv.DictReader(f)}
    return rows, root.parent / "grades", base, (check, later)


def test_a_good_submission(graded):
    rows, _, base, _ = graded
    alice = rows[("alice", f"{LAB}.ipynb")]
    lab = cells.read_notebook(REPO / "labs" / f"{LAB}.ipynb")
    total = sum(cells.is_check_cell(c) and not cells.is_demonstration(c) for c in lab.cells)
    assert alice["status"] == "graded" and alice["ran_top_to_bottom"] == "yes"
    assert alice["checks_passed"] == alice["checks_total"] == str(total)
    assert alice["failed_checks"] == alice["edited_checks"] == alice["problems"] == ""
    recorded = json.loads((lab01_output() / f"{LAB}.json").read_text())
    assert float(alice["val_top1"]) == round(recorded["metrics"]["val_top1"], 4) and alice["profile"] == "smoke"
    assert alice["epochs"] == str(recorded["epochs"]) and alice["reproduced"] == "-"


def test_an_edited_check_cell_is_flagged_by_name(graded):
    rows, out, _, (check, _) = graded
    bob = rows[("bob", f"{LAB}.ipynb")]
    assert bob["ran_top_to_bottom"] == "yes" and int(bob["checks_passed"]) == int(bob["checks_total"]) - 1
    assert bob["edited_checks"].startswith(f"cell {check} (")
    assert "no results file" in bob["problems"]
    page = (out / "bob.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "edited check cell" in page and "+assert 1 &lt; 5  # &lt;script&gt;" in page


def test_out_of_order_and_error_submissions(graded):
    rows, _, _, (check, later) = graded
    carol = rows[("carol", f"{LAB}.ipynb")]
    assert carol["ran_top_to_bottom"] == "no" and "out of order" in carol["problems"]
    assert f"cell {check + 1} (" in carol["problems"] or f"cell {later} (" in carol["problems"]
    dave = rows[("dave", f"{LAB}.ipynb")]
    assert dave["ran_top_to_bottom"] == "no" and f"cell {later} (" in dave["failed_checks"]
    assert "raised AssertionError: too low" in dave["problems"] and "not run" in dave["problems"]
    assert int(dave["checks_passed"]) < int(dave["checks_total"])


def test_corrupt_files_and_unknown_labs_are_reported_not_fatal(graded):
    rows, out, _, _ = graded
    eve = rows[("eve", f"{LAB}.ipynb")]
    assert eve["status"] == "corrupt" and "not valid JSON" in eve["problems"]
    assert rows[("eve", "notes.txt")]["status"] == "not a notebook"
    frank = rows[("frank", "99_extra.ipynb")]
    assert frank["status"] == "unknown lab" and frank["ran_top_to_bottom"] == "yes" and frank["checks_total"] == "0"
    students = ("alice", "bob", "carol", "dave", "eve", "frank")
    assert {p.name for p in out.glob("*.html")} == {f"{s}.html" for s in students}
    assert "corrupt" in (out / "eve.html").read_text()


def test_grade_reproduce_reruns_each_notebook(tmp_path):
    labs = tmp_path / "labs"
    labs.mkdir()
    lab = nbformat.v4.new_notebook()
    lab.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell("seed = 0\nresults_dir = None")
    params.metadata["tags"] = ["parameters"]
    lab.cells = [params] + [
        nbformat.v4.new_code_cell(s)
        for s in (
            "import random\nrandom.seed(seed)\n### BEGIN SOLUTION\nx = random.random()\n### END SOLUTION",
            "# NBVAL_CHECK_OUTPUT\nprint(f'x = {x:.6f}')",
            "assert 0 <= x < 1, 'x is a fraction'",
        )
    ]
    nbformat.write(lab, labs / "01_tiny.ipynb")
    for student in ("honest", "forger"):
        (tmp_path / "subs" / student).mkdir(parents=True)
        papermill.execute_notebook(
            str(labs / "01_tiny.ipynb"),
            str(tmp_path / "subs" / student / "01_tiny.ipynb"),
            parameters={"seed": 3},
            kernel_name="python3",
            progress_bar=False,
        )
    forged = nbformat.read(tmp_path / "subs" / "forger" / "01_tiny.ipynb", as_version=4)
    forged.cells[3].outputs[0].text = "x = 0.999999\n"
    nbformat.write(forged, tmp_path / "subs" / "forger" / "01_tiny.ipynb")
    proc = cli("grade", str(tmp_path / "subs"), "--reproduce", "--labs", str(labs))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(tmp_path / "subs-grades" / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["honest"]["reproduced"] == "yes" and rows["forger"]["reproduced"] == "no"
    assert rows["forger"]["checks_passed"] == "1", "the outputs were forged, the checks still passed"
    page = (tmp_path / "subs-grades" / "forger.html").read_text()
    assert "expected: x = 0.999999" in page and "got:      x = 0.23796" in page


def test_grade_a_missing_folder_is_a_clear_error(tmp_path):
    proc = cli("grade", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "is not a folder" in proc.stderr and "Traceback" not in proc.stderr
