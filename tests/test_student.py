"""Student versions: solutions stripped, checks kept, and each stops at its first exercise.

The execution test runs every lab in labs/ (more are added over time) in the smoke profile.
"""

from __future__ import annotations

import csv
import shutil

import nbformat
import papermill
import pytest
from lab_run import REPO, cli, lab01_output, smoke_output

from helpers.course import cells, grading, student
from helpers.course.runner import list_labs
from helpers.course.student import strip_solutions, student_version
from helpers.errors import LabError

LABS = list_labs()


def test_strip_solutions_keeps_the_markers_indentation():
    source = "x = 1\nwith ctx:\n    ### BEGIN SOLUTION\n    y = f(x)\n    z = y\n    ### END SOLUTION\nprint(z)\n"
    assert strip_solutions(source) == (
        "x = 1\nwith ctx:\n    # YOUR CODE HERE\n    raise NotImplementedError\nprint(z)\n"
    )
    two = "### BEGIN SOLUTION\na = 1\n### END SOLUTION\nb = a\n  ### BEGIN SOLUTION\n  c = 2\n  ### END SOLUTION"
    assert strip_solutions(two) == (
        "# YOUR CODE HERE\nraise NotImplementedError\nb = a\n  # YOUR CODE HERE\n  raise NotImplementedError"
    )
    assert strip_solutions("### BEGIN SOLUTION\nThe answer.\n### END SOLUTION", "markdown") == "YOUR ANSWER HERE"
    assert strip_solutions("no markers\n") == "no markers\n"


@pytest.mark.parametrize(
    "source, why",
    [
        ("### BEGIN SOLUTION\nx = 1", "line 1: ### BEGIN SOLUTION is never closed"),
        ("x = 1\n### END SOLUTION", "line 2: ### END SOLUTION without a ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "line 2: ### BEGIN SOLUTION inside"),
    ],
)
def test_unbalanced_markers_name_the_notebook_and_cell(tmp_path, source, why):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell(source)])
    with pytest.raises(LabError, match="99_bad.ipynb, cell 1 ") as err:
        student_version(nb, "99_bad.ipynb")
    assert why in str(err.value)
    if "never closed" not in why:
        return  # the command line is checked once: it takes seconds to start
    path = tmp_path / "99_bad.ipynb"
    nbformat.write(nb, path)
    proc = cli("student", "--out", str(tmp_path / "out"), str(path))
    assert proc.returncode == 2 and "99_bad.ipynb, cell 1" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists(), "nothing is written when a lab is broken"


@pytest.mark.parametrize(
    "marker",
    ["###BEGIN SOLUTION", "### Begin Solution", "## BEGIN SOLUTION", "    ### end solution", "#### END SOLUTION"],
)
def test_near_miss_markers_are_errors_naming_the_notebook_and_cell(marker):
    source = f"x = 1\n{marker}\nsecret = 42\n### END SOLUTION"
    if "END" in marker.upper():
        source = f"### BEGIN SOLUTION\nsecret = 42\n{marker}"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell(source)])
    with pytest.raises(LabError, match="99_bad.ipynb, cell 1 ") as err:
        student_version(nb, "99_bad.ipynb")
    assert f"`{marker.strip()}` looks like a solution marker" in str(err.value)


def test_student_versions_never_overwrite_the_labs(tmp_path):
    lab = tmp_path / "labs" / LABS[0].name  # a copy: a regression must not strip the real solutions
    lab.parent.mkdir()
    lab.write_bytes(LABS[0].read_bytes())
    proc = cli("student", "--out", str(lab.parent), str(lab))
    assert proc.returncode == 2 and "would overwrite the solutions" in proc.stderr
    assert lab.read_bytes() == LABS[0].read_bytes()


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    proc = cli("student", "--out", str(out), *(str(lab) for lab in LABS))  # the labs collected, even if more appear
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out.iterdir()) == [p.name for p in LABS]
    return out


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_student_version_keeps_checks_and_drops_solutions(student_dir, lab):
    source, student = cells.read_notebook(lab), cells.read_notebook(student_dir / lab.name)
    assert len(source.cells) == len(student.cells)
    for a, b in zip(source.cells, student.cells, strict=True):
        assert cells.BEGIN not in b.source and cells.END not in b.source
        assert b.get("id") == a.get("id")
        if b.cell_type == "code":
            assert b.outputs == [] and b.execution_count is None
        if cells.is_check_cell(a):
            assert b.source == a.source and cells.CHECK_TAG in b.metadata["tags"]
        if cells.is_written_answer(a):  # the model answer and rubric go; the points stay
            assert b.source == "YOUR ANSWER HERE" and cells.points(b) == cells.points(a) > 0
        elif cells.has_solution(a):
            assert "raise NotImplementedError" in b.source and cells.EXERCISE_TAG in b.metadata["tags"]
    nbformat.validate(student)


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_student_version_stops_at_its_first_exercise(student_dir, lab, tmp_path, monkeypatch):
    monkeypatch.setenv("LABS_HEADLESS", "1")
    source = cells.read_notebook(lab)
    exercises = [i for i, c in enumerate(source.cells) if cells.has_solution(c)]
    executed = tmp_path / lab.name
    params = {"profile": "smoke", "results_dir": str(tmp_path / "results")}
    try:
        papermill.execute_notebook(
            str(student_dir / lab.name),
            str(executed),
            parameters=params,
            kernel_name="python3",
            cwd=str(lab.parent),
            progress_bar=False,
        )
        raised = None
    except papermill.PapermillExecutionError as err:
        raised = err.ename
    nb = nbformat.read(executed, as_version=4)
    failed = [i for i, c in enumerate(nb.cells) if cells.error_outputs(c)]
    if not exercises:
        assert raised is None and not failed, "a lab without exercises runs to the end"
        return
    assert raised == "NotImplementedError", f"expected the first exercise to stop it, got {raised}"
    # papermill inserts its injected-parameters cell (and an error banner): map back by cell id
    first_exercise_id = source.cells[exercises[0]].get("id")
    position = {c.get("id"): i for i, c in enumerate(nb.cells)}
    assert len(failed) == 1 and failed[0] >= position[first_exercise_id], "no error before the first exercise"


def test_the_solutions_run_to_the_end_and_pass_every_check():
    out = lab01_output()
    nb = cells.read_notebook(out / "01_sanity_checks.ipynb")
    assert grading.execution_problems(nb) == []
    checks = grading.grade_checks(cells.read_notebook(REPO / "labs" / "01_sanity_checks.ipynb"), nb)
    assert len(checks) >= 4 and {c.status for c in checks} == {"passed"}, checks


def test_student_versions_filled_in_with_the_solutions_run_and_grade_full_marks(student_dir, tmp_path):
    """The suite's one smoke run is of the solved handouts (tests/lab_run.py): graded, each gets full marks."""
    for lab in LABS:  # what `labs student` writes is what that run filled in
        written, made = cells.read_notebook(student_dir / lab.name), student.student_version(cells.read_notebook(lab))
        assert [c.source for c in written.cells] == [c.source for c in made.cells], lab.stem
    out, proc = smoke_output()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    subs = tmp_path / "submissions"
    shutil.copytree(out, subs / "ada")
    proc = cli("grade", str(subs), "--out", str(tmp_path / "grades"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(tmp_path / "grades" / "grades.csv", encoding="utf-8") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    for lab in LABS:
        row = rows[lab.name]
        source = cells.read_notebook(lab)
        total = sum(cells.points(c) for c in source.cells if cells.is_graded_check(c))
        assert row["status"] == "graded" and row["ran_top_to_bottom"] == "yes", row
        assert total > 0, f"{lab.stem}: no graded check cells"
        assert float(row["score"]) == float(row["max_score"]) == total, f"{lab.stem}: not full marks: {row}"
        questions = sum(cells.is_written_answer(c) for c in source.cells)
        assert row["written_answers"] == (f"{questions}/{questions} answered" if questions else "-"), row


def test_package_is_written_into_every_handouts_hosted_setup_cell(tmp_path):
    spec = "git+https://github.com/example-course/labs@v1"
    proc = cli("student", "--out", str(tmp_path / "out"), "--package", spec, "01", "02")
    assert proc.returncode == 0, proc.stderr
    for path in sorted((tmp_path / "out").iterdir()):
        nb = cells.read_notebook(path)
        (hosted,) = [c for c in nb.cells if cells.HOSTED_TAG in c.metadata.get("tags", [])]
        assert f"PACKAGE = {spec!r}" in hosted.source and "PACKAGE = None" not in hosted.source
    bad = cli("student", "--out", str(tmp_path / "bad"), "--package", "a\nb", "01")
    assert bad.returncode == 2 and "give one pip requirement" in bad.stderr
    assert not (tmp_path / "bad").exists(), "nothing is written when the spec is refused"
