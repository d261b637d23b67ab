"""Student versions of the labs: `python -m helpers student --out DIR [LAB ...]`.

Every lab is written with its solutions in place, between nbgrader's markers:

    ### BEGIN SOLUTION
    logits = model(x)
    ### END SOLUTION

A student version replaces each such region, markers included, by

    # YOUR CODE HERE
    raise NotImplementedError

at the indentation of the `### BEGIN SOLUTION` line (in markdown: `YOUR ANSWER HERE`). Outputs
and execution counts are cleared; check cells are kept word for word and tagged `check` (and
exercise cells `exercise`) so a grader can find them. Cell ids are kept, too.

`--package SPEC` writes where a hosted notebook (Colab, Kaggle) installs the labs' package from
into each lab's `hosted-setup` cell: the course's git repository (`git+https://…`) or a wheel's
URL. Without it, a hosted notebook asks the student to write it in.

Cells carry nbgrader's metadata (`solution`, `grade`, `locked`, `points`, `grade_id`), as
nbgrader's own student versions do: exercise cells are solutions, graded check cells are locked
tests with their points, written answers are solutions graded by hand.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from helpers.course import cells
from helpers.course.runner import LABS_DIR, find_labs
from helpers.course.untrusted import atomic_write_text
from helpers.errors import LabError

CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)


def strip_solutions(source: str, cell_type: str = "code") -> str:
    """A cell's source with every solution region replaced by the stub.

    Raises ValueError, naming the line, when the markers do not pair up.
    """
    regions = cells.solution_regions(source)
    if not regions:
        return source
    lines = source.splitlines()
    stub = CODE_STUB if cell_type == "code" else MARKDOWN_STUB
    out, pos = [], 0
    for begin, end in regions:
        indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
        out += lines[pos:begin] + [indent + line for line in stub]
        pos = end + 1
    out += lines[pos:]
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def _add_tag(cell, tag: str) -> None:
    tags = list(cell.metadata.get("tags", []))
    if tag not in tags:
        cell.metadata["tags"] = tags + [tag]


def _nbgrader(cell, index: int, **values) -> None:
    """Fill in a cell's nbgrader metadata, keeping what the lab already says."""
    meta = dict(cells.nbgrader(cell))
    meta.setdefault("grade_id", f"cell-{cell.get('id') or index}")
    meta.setdefault("schema_version", 3)
    for key, value in values.items():
        meta.setdefault(key, value)
    cell.metadata["nbgrader"] = meta


PACKAGE_LINE = re.compile(r"^PACKAGE = .*$", re.M)


def set_package(nb, spec: str, name: str = "notebook") -> None:
    """Point the lab's hosted-setup cell at `spec`; raises LabError when the lab has no such cell."""
    if not spec.strip() or any(c in spec for c in "\n\r"):
        raise LabError(f"--package {spec!r}: give one pip requirement, e.g. git+https://github.com/ORG/REPO@v1.")
    hosted = [c for c in nb.cells if cells.HOSTED_TAG in c.metadata.get("tags", [])]
    if len(hosted) != 1 or not PACKAGE_LINE.search(hosted[0].source):
        raise LabError(f"{name} has no cell tagged {cells.HOSTED_TAG!r} with a `PACKAGE = ...` line to set.")
    hosted[0].source = PACKAGE_LINE.sub(lambda _: f"PACKAGE = {spec!r}", hosted[0].source, count=1)


def student_version(nb, name: str = "notebook", package: str | None = None):
    """A copy of a lab notebook without its solutions or outputs.

    Raises LabError naming the notebook and the cell when solution markers are unbalanced.
    """
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb.cells):
        for n, line in cells.near_miss_markers(cell.source):
            raise LabError(
                f"{name}, cell {i} (`{cells.snippet(cell.source)}`): line {n + 1} `{line}` looks like a solution "
                f"marker but is not one; write exactly `{cells.BEGIN}` and `{cells.END}` (three #, one space, "
                "capitals), or the solution would be copied into the student version."
            )
        if cells.is_check_cell(cell):  # decided on the lab's source: an exercise cell is never a check cell
            _add_tag(cell, cells.CHECK_TAG)
            if cells.is_graded_check(cell):
                _nbgrader(cell, i, grade=True, solution=False, locked=True)
        elif cells.has_solution(cell):
            written = cells.is_written_answer(cell)
            _nbgrader(cell, i, solution=True, grade=written, locked=False)
        try:
            stripped = strip_solutions(cell.source, cell.cell_type)
        except ValueError as err:
            raise LabError(
                f"{name}, cell {i} (`{cells.snippet(cell.source)}`): unbalanced solution markers: {err}. "
                f"Every {cells.BEGIN} needs its own {cells.END} in the same cell."
            ) from None
        if stripped != cell.source:
            cell.source = stripped
            _add_tag(cell, cells.EXERCISE_TAG)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    if package is not None:
        set_package(nb, package, name)
    return nb


def write_student_versions(
    names: list[str], out: str | Path, labs_dir: Path = LABS_DIR, package: str | None = None
) -> list[Path]:
    """Write `out/<lab>.ipynb` for each lab named (none: every lab); checks all before writing any.

    `package`: the pip requirement a hosted notebook installs (see `set_package`)."""
    out = Path(out)
    notebooks = find_labs(names, labs_dir)
    if not notebooks:
        raise LabError(f"No lab notebooks found in {labs_dir}.")
    if out.resolve() in {nb.resolve().parent for nb in notebooks}:
        raise LabError(f"--out {out} is the labs folder itself; the student versions would overwrite the solutions.")
    versions = [(nb, student_version(cells.read_notebook(nb), nb.name, package)) for nb in notebooks]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path, nb in versions:
        target = out / path.name
        atomic_write_text(target, nbformat.writes(nb) + "\n")
        written.append(target)
    return written
