"""One smoke run of every lab, shared by the test modules, once per session.

`python -m helpers run 01 --profile smoke --out TMP` takes tens of seconds on 2 cores, so the
verify, grading, report and solution tests read one run instead of making their own;
tests/test_labs.py and tests/test_devices.py read one run of every lab. The runs are memoized here rather than in
fixtures, because a session fixture defined in a test module runs once per module that uses it.

What runs is what a student who solved every lab hands in: each lab's student version (`labs student`)
with its exercises and written answers filled in from the lab's solutions. The code is the lab's, so the
results are the lab's; and one run proves both that the labs work and that their handouts, solved, run.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest

from helpers.course import cells, student
from helpers.course.runner import list_labs

REPO = Path(__file__).resolve().parent.parent
LAB = "01_sanity_checks"


def filled_in(handout, lab):
    """A student version (`handout`) with every exercise and written answer filled in from the lab's solutions."""
    solutions = {c.get("id"): c for c in lab.cells if cells.has_solution(c)}
    for cell in handout.cells:
        source = solutions.get(cell.get("id"))
        if source is None:
            continue
        if cell.cell_type == "markdown":  # a student writes the answer, not the markers
            lines = source.source.splitlines()
            cell.source = "\n".join(line for line in lines if not line.strip().startswith(("### BEGIN", "### END")))
        else:
            cell.source = source.source
    return handout


def solved_handouts(folder: Path) -> list[Path]:
    """folder/<lab>.ipynb for every lab: its student version, filled in with the lab's solutions."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in list_labs():
        lab = cells.read_notebook(path)
        nbformat.write(filled_in(student.student_version(lab, path.name), lab), folder / path.name)
        paths.append(folder / path.name)
    return paths


def _smoke_run() -> tuple[Path, subprocess.CompletedProcess]:
    """`python -m helpers run HANDOUTS --profile smoke -p device=cpu-strict` into a temporary folder, removed at
    exit, where HANDOUTS are the solved student versions of every lab (`solved_handouts`).

    The strict device (tests/test_devices.py) runs the labs on the CPU as a GPU would check them,
    so this one run serves both: the labs' results and the proof that they run on any device.
    """
    out = Path(tempfile.mkdtemp(prefix="labs-smoke-"))
    atexit.register(shutil.rmtree, out, True)
    handouts = solved_handouts(Path(tempfile.mkdtemp(prefix="labs-handouts-")))
    atexit.register(shutil.rmtree, handouts[0].parent, True)
    cmd = [
        sys.executable,
        "-m",
        "helpers",
        "run",
        *map(str, handouts),
        "--profile",
        "smoke",
        "-p",
        "device=cpu-strict",
        "--out",
        str(out),
    ]
    # the kernels draw with Jupyter's inline backend, as in `make labs`, so the executed labs hold their figures
    # (the site test reads them); conftest's MPLBACKEND=Agg is for plots drawn in the test process itself
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return out, subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=env)


@functools.cache
def smoke_output() -> tuple[Path, subprocess.CompletedProcess]:
    """(the output folder, the finished process) of one smoke run of every lab (tests/test_labs.py)."""
    if os.environ.get("LABS_TEST_TIER") == "fast":  # the run would be refused anyway: skip before writing handouts
        pytest.skip("executes every lab: left to `make test` (the fast tier runs no notebook)")
    return _smoke_run()


def lab01_smoke() -> tuple[Path, subprocess.CompletedProcess]:
    """Lab 01's smoke run: part of the one run of every lab."""
    return smoke_output()


def lab01_output() -> Path:
    """The output folder holding a successful lab 01 run, or a test failure that shows why it failed."""
    out, proc = smoke_output()
    assert status(proc, LAB) == "ok", f"the lab 01 smoke run failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def status(proc: subprocess.CompletedProcess, lab: str) -> str:
    """A lab's status (ok, failed, timeout) in the runner's summary table; '' if it is not there."""
    rows = [line.split() for line in proc.stdout.splitlines()]
    return next((row[1] for row in rows if len(row) > 1 and row[0] == lab), "")


def cli(*args, cwd=REPO) -> subprocess.CompletedProcess:
    """`python -m helpers ARGS...`, captured."""
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd, capture_output=True, text=True)
