"""A tiny lab in the course's conventions, and a real executed copy of it, for the grader's tests.

The lab has what the grader reads in a real one: a parameters cell, an exercise between solution
markers, a graded check cell with points, a demonstration, a `# NBVAL_CHECK_OUTPUT` cell printing
its metrics, a written answer, and a cell that writes `<lab>.json` and prints where. It runs in a
second, so the grader's tests need no smoke run of the real labs.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from pathlib import Path

import nbformat

NAME = "01_tiny"
KERNEL = {"name": "python3", "language": "python", "display_name": "Python 3"}


def _cell(source, kind="code", nbgrader=None, tags=None):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, **nbgrader}
    if tags:
        cell.metadata["tags"] = tags
    return cell


def lab_notebook():
    """The lab's source, solutions in place."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = KERNEL
    nb.cells = [
        _cell("# Tiny lab", "markdown"),
        _cell('seed = 0\nresults_dir = "."', tags=["parameters"]),
        _cell("import json, os, random\nrandom.seed(seed)\ndata = [random.random() for _ in range(100)]"),
        _cell(
            "def mean(xs):\n    ### BEGIN SOLUTION\n    return sum(xs) / len(xs)\n    ### END SOLUTION",
            nbgrader={"grade": False, "grade_id": "01-mean", "locked": False, "solution": True},
        ),
        _cell(
            "assert abs(mean([1, 2, 6]) - 3) < 1e-9, 'mean([1, 2, 6]) should be 3'",
            nbgrader={"grade": True, "grade_id": "01-mean-check", "locked": True, "points": 2, "solution": False},
        ),
        _cell("val = mean(data)\ntest = mean(data[:50])\n"),
        _cell("# NBVAL_CHECK_OUTPUT\nprint(f'val top-1 {val:.4f}')\nprint(f'test top-1 {test:.4f}')"),
        _cell("assert 0 < val < 1, 'a mean of fractions is a fraction'", tags=["demonstration"]),
        _cell("Why is the mean of uniform draws near 0.5?", "markdown"),
        _cell(
            "### BEGIN SOLUTION\n**Model answer.** Symmetry.\n\n**Rubric (1 point).** Says symmetry.\n### END SOLUTION",
            "markdown",
            nbgrader={"grade": True, "grade_id": "01-q1", "locked": False, "points": 1, "solution": True},
        ),
        _cell(
            "path = os.path.join(results_dir, '01_tiny.json')\nwith open(path, 'w') as f:\n"
            "    json.dump({'lab': '01_tiny', 'profile': 'smoke', 'epochs': 1, 'total_seconds': 0.5,\n"
            "               'metrics': {'val_top1': val, 'test_top1': test}}, f)\n"
            "print(f'results written to {path}')"
        ),
    ]
    return nb


def execute(nb, folder: Path, name: str = NAME) -> Path:
    """Run a notebook with nbclient in `folder` (cwd and results there) and save it as folder/<name>.ipynb."""
    from nbclient import NotebookClient

    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells[1].source = f"seed = 0\nresults_dir = {str(folder)!r}"
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder / f"{name}.ipynb"


@functools.cache
def executed() -> Path:
    """A folder holding labs/01_tiny.ipynb and run/01_tiny.ipynb + run/01_tiny.json, made once per session."""
    import atexit

    root = Path(tempfile.mkdtemp(prefix="tiny-lab-"))
    atexit.register(shutil.rmtree, root, True)
    (root / "labs").mkdir()
    lab = lab_notebook()
    nbformat.write(lab, root / "labs" / f"{NAME}.ipynb")
    execute(lab, root / "run")  # the same cell ids as the lab's, as a real run has
    return root


def submit(root: Path, student: str, nb=None, results: dict | None | str = "same") -> Path:
    """root/<student>/01_tiny.ipynb (the executed run, or `nb`) and its results (the run's, `results`, or none)."""
    run = executed() / "run"
    folder = root / student
    folder.mkdir(parents=True)
    if nb is None:
        shutil.copy(run / f"{NAME}.ipynb", folder)
    else:
        (folder / f"{NAME}.ipynb").write_text(nb if isinstance(nb, str) else json.dumps(nb), encoding="utf-8")
    if results == "same":
        shutil.copy(run / f"{NAME}.json", folder)
    elif results is not None:
        (folder / f"{NAME}.json").write_text(results if isinstance(results, str) else json.dumps(results))
    return folder / f"{NAME}.ipynb"


def run_json() -> tuple[dict, dict]:
    """(the executed notebook, its results) as plain JSON (sources as one string), to mutate."""
    run = executed() / "run"
    nb = json.loads(json.dumps(nbformat.read(run / f"{NAME}.ipynb", as_version=4)))
    return nb, json.loads((run / f"{NAME}.json").read_text())
