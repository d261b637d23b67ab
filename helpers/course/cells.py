"""Reading lab notebooks cell by cell: solutions, check cells, checked outputs.

The course's conventions, in one place for the instructor tools (`python -m helpers student`,
`grade`, `verify`; issue 5):

- exercise code sits between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's markers);
- a *check cell* is a code cell outside solution markers with an `assert` statement: the
  autograder tests a student can read;
- a cell whose source holds `# NBVAL_CHECK_OUTPUT` has deterministic output that nbval compares.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from helpers.errors import LabError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_OUTPUT = "# NBVAL_CHECK_OUTPUT"
CHECK_TAG = "check"  # cell tag the student versions carry on check cells
EXERCISE_TAG = "exercise"  # ... and on cells whose solution was removed
INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it inserts
_ASSERT = re.compile(r"^\s*assert\b", re.M)


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """A notebook file as nbformat v4 (issue 5), or a LabError that says what is wrong with it."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, UnicodeDecodeError) as err:
        raise LabError(f"{path}: cannot read the file ({err}).") from None
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as err:
        raise LabError(f"{path}: not a notebook (not valid JSON: {str(err)[:120]}).") from None
    except Exception as err:  # nbformat's own validation and conversion errors
        raise LabError(f"{path}: not a valid notebook ({type(err).__name__}: {str(err)[:160]}).") from None
    if not isinstance(nb.get("cells"), list):
        raise LabError(f"{path}: not a valid notebook (no list of cells).")
    return nb


def marker_lines(source: str) -> list[tuple[int, str]]:
    """(line number, 'begin' or 'end') of each solution marker in a cell's source.

    Issue 5: `python -m helpers grade`, `student`, `verify`.
    """
    found = []
    for n, line in enumerate(source.splitlines()):
        text = line.strip()
        if text.startswith(BEGIN):
            found.append((n, "begin"))
        elif text.startswith(END):
            found.append((n, "end"))
    return found


def solution_regions(source: str) -> list[tuple[int, int]]:
    """(begin line, end line) pairs of a cell's solutions (issue 5); ValueError if unbalanced."""
    regions, start = [], None
    for n, kind in marker_lines(source):
        if kind == "begin":
            if start is not None:
                raise ValueError(f"line {n + 1}: {BEGIN} inside the solution opened on line {start + 1}")
            start = n
        else:
            if start is None:
                raise ValueError(f"line {n + 1}: {END} without a {BEGIN} before it")
            regions.append((start, n))
            start = None
    if start is not None:
        raise ValueError(f"line {start + 1}: {BEGIN} is never closed by {END}")
    return regions


def has_solution(cell) -> bool:
    """Whether a cell holds solution markers (an exercise cell).

    Issue 5: `python -m helpers grade`, `student`, `verify`.
    """
    return bool(marker_lines(cell.get("source", "")))


def is_check_cell(cell) -> bool:
    """A code cell outside solution markers that asserts something (issue 5's definition)."""
    source = cell.get("source", "")
    return cell.get("cell_type") == "code" and not has_solution(cell) and bool(_ASSERT.search(source))


def is_checked_output(cell) -> bool:
    """Whether nbval compares this cell's output (`# NBVAL_CHECK_OUTPUT` in its source).

    Issue 5: `python -m helpers grade`, `student`, `verify`.
    """
    return cell.get("cell_type") == "code" and CHECK_OUTPUT in cell.get("source", "")


def normalized(source: str) -> str:
    """A cell's source without trailing spaces and blank edges: what an edit must change.

    Issue 5: `python -m helpers grade`, `student`, `verify`.
    """
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def snippet(source: str, width: int = 60) -> str:
    """The first line of a cell that says what it does (skipping comments and blank lines).

    Issue 5: `python -m helpers grade`, `student`, `verify`.
    """
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    code = [line for line in lines if not line.startswith("#")] or lines or [""]
    text = code[0]
    return text if len(text) <= width else text[: width - 3] + "..."


def describe_cell(index: int, cell) -> str:
    """'cell 12 (In [11], `logits = model(x)`)': how a report names a cell.

    Issue 5: `python -m helpers grade`, `student`, `verify`.
    """
    count = cell.get("execution_count")
    run = f"In [{count}], " if count else ""
    return f"cell {index} ({run}`{snippet(cell.get('source', ''))}`)"


def error_outputs(cell) -> list[dict]:
    """The error outputs a code cell holds. Issue 5: `python -m helpers grade`, `student`, `verify`."""
    return [o for o in cell.get("outputs", []) or [] if o.get("output_type") == "error"]
