"""One smoke run of every lab, shared by the test modules, once per session.

`python -m helpers run 01 --profile smoke --out TMP` takes tens of seconds on 2 cores, so the
verify, grading, report and solution tests read one run instead of making their own;
tests/test_labs.py and tests/test_devices.py read one run of every lab. The runs are memoized here rather than in
fixtures, because a session fixture defined in a test module runs once per module that uses it.
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

REPO = Path(__file__).resolve().parent.parent
LAB = "01_sanity_checks"


def _smoke_run(*labs: str) -> tuple[Path, subprocess.CompletedProcess]:
    """`python -m helpers run LABS --profile smoke -p device=cpu-strict` into a temporary folder, removed at exit.

    The strict device (tests/test_devices.py) runs the labs on the CPU as a GPU would check them,
    so this one run serves both: the labs' results and the proof that they run on any device.
    """
    out = Path(tempfile.mkdtemp(prefix="labs-smoke-"))
    atexit.register(shutil.rmtree, out, True)
    cmd = [
        sys.executable,
        "-m",
        "helpers",
        "run",
        *labs,
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
