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

import ast
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


# The lab's state as its checks should leave it: every name the lab's own cells bound (by identity, and a
# checksum of tensors and models, which a check could change in place) and the global random generators.
# Names only checks bind (chk_*, got, ...) are theirs to reuse, and so are names the lab binds only later.
SNAPSHOT = """
def __state(watch):
    import random as _random

    import numpy as _np
    import torch as _torch

    def _tensor_sum(t):
        return float(_torch.nan_to_num(t.detach().double()).sum()) if t.numel() < 10_000_000 else None

    def _sum(v):
        if isinstance(v, _torch.Tensor):
            return _tensor_sum(v)
        if isinstance(v, _torch.nn.Module):
            return [_tensor_sum(p) for p in v.state_dict().values() if p.is_floating_point()]
        return None

    names = {k: (id(v), _sum(v)) for k, v in globals().items() if k in watch}
    return names, (_torch.random.get_rng_state(), _np.random.get_state()[1].copy(), _random.getstate())


__watch = {watch!r}
__before = __state(__watch)
"""
COMPARE = """
__after = __state(__watch)
__moved = sorted(k for k, v in __before[0].items() if __after[0].get(k) != v)
__rng = [name for name, a, b, same in zip(("torch", "numpy", "random"), __before[1], __after[1],
         (lambda a, b: bool((a == b).all()),) * 2 + (lambda a, b: a == b,)) if not same(a, b)]
assert not __moved and not __rng, (
    f"names rebound or changed: {__moved}; global random generators reseeded or drawn from: {__rng}"
)
"""


def lab_names(nb, upto: int) -> set[str]:
    """The module-level names the lab's own cells up to cell `upto` bind (not its checks', nor IPython's
    `_`-names), which the checks that follow must leave alone."""
    checks = {j for i in exercises(nb) for j in cells.exercise_checks(nb, i)}
    found = set()
    for i, cell in enumerate(nb.cells[: upto + 1]):
        if cell.cell_type != "code" or i in checks:
            continue
        for node in ast.parse(strip_magics(cell.source)).body:
            found |= bound(node)
    return {name for name in found if not name.startswith("_")}


def bound(node: ast.AST) -> set[str]:
    """Names a module-level statement binds (not those inside functions, classes or comprehensions)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif not isinstance(
            child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.comprehension)
        ):
            names |= bound(child)
    return names


def strip_magics(source: str) -> str:
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


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
    missed, untidy, done = [], [], set()
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
        assert kernel.run(SNAPSHOT.replace("{watch!r}", repr(lab_names(nb, i))))[0]
        for j in checks:
            ok, err = kernel.run(nb.cells[j].source)
            assert ok, f"{lab.stem} cell {j}: the solution fails its own check: {err}"
        ok, err = kernel.run(COMPARE)
        if not ok:
            untidy.append(f"the checks of cell {i} ({cell.get('id')}) left the lab changed: {err}")
        done.update(checks)
    assert not missed, f"{lab.stem}: wrong answers the checks let through:\n" + "\n".join(missed)
    assert not untidy, (
        f"{lab.stem}: checks must leave the lab as they found it (use chk_ names, torch.random.fork_rng):\n"
        + "\n".join(untidy)
    )
