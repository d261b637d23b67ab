"""A course that grades with nbgrader can take the student versions as they are.

`labs student` writes nbgrader's cell metadata (solution, grade, locked, points, grade_id). Here
nbgrader itself, not our grader, does the whole round: the instructor's notebook (the student
version with the lab's solutions between the markers) goes into `source/`, `nbgrader
generate_assignment` makes the release and records the graded cells in its gradebook, a
submission is put in `submitted/`, and `nbgrader autograde` executes it and scores every test
cell. A submission filled in with the solutions scores full marks on every check, and the
written answers wait for manual grading; one left as handed out scores zero on the checks of its
exercise. Lab 01 runs in smoke (`LABS_PROFILE`); the tiny lab is the quick negative case.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import tiny_lab
from lab_run import filled_in

from helpers.course import cells, student

pytest.importorskip("nbgrader", reason="nbgrader is pinned in requirements.txt: make install")
from nbgrader.api import Gradebook  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.full_tier("nbgrader autograde executes the lab")
NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def instructor_version(lab) -> nbformat.NotebookNode:
    """The student version's metadata with the lab's solutions (markers included) back in place."""
    handout = student.student_version(lab)
    for ours, theirs in zip(lab.cells, handout.cells, strict=True):
        if cells.has_solution(ours):
            theirs.source = ours.source
    return handout


def autograde(root: Path, name: str, source, submissions: dict, env: dict) -> dict:
    """Run nbgrader's generate_assignment and autograde; {student: {grade_id: (score, max, manual)}}."""
    (root / "source" / "lab").mkdir(parents=True)
    nbformat.write(source, root / "source" / "lab" / f"{name}.ipynb")
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.course_id = 'labs'\nc.Execute.timeout = 900\n"
    )
    for who, nb in submissions.items():
        folder = root / "submitted" / who / "lab"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{name}.ipynb")

    def nbgrader(*args):
        proc = subprocess.run([NBGRADER, *args], cwd=root, env=env, capture_output=True, text=True, timeout=1200)
        assert proc.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"

    nbgrader("generate_assignment", "lab", "--force")
    nbgrader("autograde", "lab", "--force")
    scores = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for who in submissions:
            sub = gb.find_submission_notebook(name, "lab", who)
            scores[who] = {g.name: (g.score, g.max_score, g.needs_manual_grade) for g in sub.grades}
    return scores


@pytest.fixture
def env(tmp_path, monkeypatch):
    # nbgrader runs `alembic` (its database migrations) from PATH, here and in its commands
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABS_")}
    env.update(LABS_PROFILE="smoke", LABS_RESULTS_DIR=str(tmp_path / "results"), LABS_HEADLESS="1", MPLBACKEND="Agg")
    return env


def graded(nb) -> dict:
    return {cells.nbgrader(c)["grade_id"]: c for c in nb.cells if cells.nbgrader(c).get("grade")}


def test_nbgrader_autogrades_lab01s_student_version_filled_in_with_the_solutions(tmp_path, env):
    lab = cells.read_notebook(REPO / "labs" / "01_sanity_checks.ipynb")
    source = instructor_version(lab)
    scores = autograde(
        tmp_path / "course", "01_sanity_checks", source, {"alice": filled_in(student.student_version(lab), lab)}, env
    )["alice"]
    expected = graded(source)
    assert set(scores) == set(expected), "nbgrader must see exactly the lab's graded cells"
    for grade_id, cell in expected.items():
        score, most, manual = scores[grade_id]
        assert most == cells.points(cell), f"{grade_id}: nbgrader's points differ from the lab's"
        if cell.cell_type == "markdown":
            assert manual, f"{grade_id} is a written answer: graded by hand"
        else:
            assert score == most, f"{grade_id}: the solutions should pass this check"


def test_nbgrader_gives_no_points_to_an_exercise_left_as_handed_out(tmp_path, env):
    lab = tiny_lab.lab_notebook()
    source = instructor_version(lab)
    handed_out = student.student_version(lab)
    scores = autograde(
        tmp_path / "course",
        tiny_lab.NAME,
        source,
        {"bob": handed_out, "eve": filled_in(student.student_version(lab), lab)},
        env,
    )
    assert scores["bob"]["01-mean-check"][0] == 0 and scores["eve"]["01-mean-check"][0] == 2
