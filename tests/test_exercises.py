"""Every exercise's checks catch wrong answers: the student's code is what they test.

For each lab, one kernel runs the lab's cells in order in the smoke profile. At each exercise
(a code cell with solution markers) it runs, in place of the solution:

- the student version's stub (the exercise left undone),
- each planted wrong answer of tests/planted/labNN.py (realistic mistakes),

each followed by the exercise's graded check cells (the code cells right after it that carry
points), and asserts that at least one of them raises. Then it runs the real solution, asserts
that every one of its checks passes, and goes on. It stops after the last exercise's checks, so
the part of a lab after its exercises costs nothing here (the smoke run of every lab runs it).

Checks must therefore re-test the student's function on inputs of their own and leave the
lab's state alone: a check that reads a result the helpers computed, or that a constant can
satisfy, fails this test.
"""

from __future__ import annotations

import os
from queue import Empty

import pytest
from jupyter_client.manager import start_new_kernel
from lab_run import REPO
from planted import for_lab

from helpers.course import cells
from helpers.course.runner import list_labs
from helpers.course.student import strip_solutions

LABS = list_labs()
CELL_TIMEOUT = 600  # seconds: a smoke training run takes seconds; a hang is a failure, not a wait


class Kernel:
    """A Python kernel in labs/, running code and reporting (status, 'ename: evalue')."""

    def __init__(self, cwd, env):
        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(cwd), env=env)

    def run(self, code: str) -> tuple[bool, str]:
        try:
            reply = self.kc.execute_interactive(code, timeout=CELL_TIMEOUT, output_hook=lambda msg: None)
        except (TimeoutError, Empty):
            return False, f"timed out after {CELL_TIMEOUT} s"
        content = reply["content"]
        return content["status"] == "ok", f"{content.get('ename', '')}: {content.get('evalue', '')}"[:300]

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def exercises(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and cells.has_solution(c)]


@pytest.fixture
def kernel(tmp_path):
    env = {**os.environ, "LABS_HEADLESS": "1", "MPLBACKEND": "Agg", "LABS_RESULTS_DIR": str(tmp_path)}
    k = Kernel(REPO / "labs", env)
    yield k
    k.close()


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_every_exercise_has_graded_checks_and_planted_answers(lab):
    nb, planted = cells.read_notebook(lab), for_lab(lab.stem)
    for i in exercises(nb):
        cell_id = nb.cells[i].get("id")
        assert cells.exercise_checks(nb, i), f"{lab.stem} cell {i} ({cell_id}): no graded check cell right after it"
        assert len(planted.get(cell_id, [])) >= 2, (
            f"{lab.stem} cell {i} ({cell_id}): tests/planted/lab{lab.stem[:2]}.py needs at least two planted answers"
        )
    stale = set(planted) - {nb.cells[i].get("id") for i in exercises(nb)}
    assert not stale, f"{lab.stem}: planted answers for cells that are not exercises: {sorted(stale)}"


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_checks_fail_for_undone_and_planted_answers_and_pass_for_the_solution(lab, kernel, tmp_path):
    nb, planted = cells.read_notebook(lab), for_lab(lab.stem)
    todo = exercises(nb)
    if not todo:
        pytest.skip(f"{lab.stem} has no exercises")
    params = f'profile = "smoke"\nresults_dir = {str(tmp_path)!r}\n'
    last = max([todo[-1], *cells.exercise_checks(nb, todo[-1])])
    missed, done = [], set()
    for i, cell in enumerate(nb.cells[: last + 1]):
        if cell.cell_type != "code" or i in done:
            continue
        if "parameters" in cell.metadata.get("tags", []):
            ok, err = kernel.run(cell.source + "\n" + params)
            assert ok, f"{lab.stem} parameters cell: {err}"
            continue
        if i not in todo:
            ok, err = kernel.run(cell.source)
            assert ok, f"{lab.stem} cell {i} (`{cells.snippet(cell.source)}`) failed before the exercises: {err}"
            continue
        checks = cells.exercise_checks(nb, i)
        variants = [("left undone", strip_solutions(cell.source))]
        variants += [(p.why, p.apply(cell.source)) for p in planted.get(cell.get("id"), [])]
        for why, source in variants:
            kernel.run(source)
            outcomes = [kernel.run(nb.cells[j].source) for j in checks]
            if all(ok for ok, _ in outcomes):
                missed.append(f"cell {i} ({cell.get('id')}), {why}: every check passed")
        ok, err = kernel.run(cell.source)
        assert ok, f"{lab.stem} cell {i}: the solution itself fails: {err}"
        for j in checks:
            ok, err = kernel.run(nb.cells[j].source)
            assert ok, f"{lab.stem} cell {j}: the solution fails its own check: {err}"
        done.update(checks)
    assert not missed, f"{lab.stem}: wrong answers the checks let through:\n" + "\n".join(missed)
