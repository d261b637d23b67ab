"""Reading lab notebooks cell by cell: solutions, check cells, checked outputs.

The course's conventions, in one place for the instructor tools (`python -m helpers student`,
`grade`, `verify`):

- exercise code sits between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's markers);
- a *check cell* is a code cell outside solution markers with an `assert` statement: the
  autograder tests a student can read;
- a cell whose source holds `# NBVAL_CHECK_OUTPUT` has deterministic output that nbval compares;
- a *graded* check cell carries its points in nbgrader's metadata
  (`{"nbgrader": {"grade": true, "points": 2, ...}}`) and tests the exercise right above it; a check
  cell tagged `demonstration` checks what the helpers produced and earns no points;
- a *written answer* is a markdown cell with solution markers and points: the model answer and
  rubric in the lab, `YOUR ANSWER HERE` in the student version, graded by hand.
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import nbformat

from helpers.errors import LabError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_OUTPUT = "# NBVAL_CHECK_OUTPUT"
CHECK_TAG = "check"  # cell tag the student versions carry on check cells
EXERCISE_TAG = "exercise"  # ... and on cells whose solution was removed
DEMO_TAG = "demonstration"  # a check of the helpers' results: shown, never counted
INJECTED_TAG = "injected-parameters"  # papermill's tag on the cell it inserts
HOSTED_TAG = "hosted-setup"  # the cell that installs the package on Colab or Kaggle
_ASSERT = re.compile(r"^\s*assert\b", re.M)
_LIKE_A_MARKER = re.compile(r"^\s*#*\s*(BEGIN|END)[\s_-]*SOLUTION\b", re.I)  # what a marker looks like, loosely


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """A notebook file as nbformat v4, or a LabError that says what is wrong with it."""
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
    """(line number, 'begin' or 'end') of each solution marker in a cell's source."""
    found = []
    for n, line in enumerate(source.splitlines()):
        text = line.strip()
        if text.startswith(BEGIN):
            found.append((n, "begin"))
        elif text.startswith(END):
            found.append((n, "end"))
    return found


def near_miss_markers(source: str) -> list[tuple[int, str]]:
    """(line number, line) of each line that looks like a solution marker but is not exactly one:
    `###BEGIN SOLUTION`, `### Begin Solution`, `## BEGIN SOLUTION` would leave a solution in the handout."""
    found = []
    for n, line in enumerate(source.splitlines()):
        text = line.strip()
        if _LIKE_A_MARKER.match(text) and not text.startswith((BEGIN, END)):
            found.append((n, text))
    return found


def solution_regions(source: str) -> list[tuple[int, int]]:
    """(begin line, end line) pairs of a cell's solutions; ValueError if unbalanced."""
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
    """Whether a cell holds solution markers (an exercise cell)."""
    return bool(marker_lines(cell.get("source", "")))


def is_check_cell(cell) -> bool:
    """A code cell outside solution markers that asserts something."""
    source = cell.get("source", "")
    return cell.get("cell_type") == "code" and not has_solution(cell) and bool(_ASSERT.search(source))


def nbgrader(cell) -> dict:
    """A cell's nbgrader metadata ({} when it has none, or when it is not a dict)."""
    meta = cell.get("metadata")
    found = meta.get("nbgrader") if isinstance(meta, dict) else None
    return found if isinstance(found, dict) else {}


def points(cell) -> float:
    """The points a cell is worth (nbgrader's `points`); 0 when it is not graded."""
    meta = nbgrader(cell)
    value = meta.get("points", 0) if meta.get("grade") else 0
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else 0.0


def is_demonstration(cell) -> bool:
    """A check cell tagged `demonstration`: it checks what the helpers produced, for no points."""
    meta = cell.get("metadata")
    tags = meta.get("tags", []) if isinstance(meta, dict) else []
    return isinstance(tags, list) and DEMO_TAG in tags


def is_graded_check(cell) -> bool:
    """A check cell that carries points: an autograder test of the student's code."""
    return is_check_cell(cell) and points(cell) > 0


def is_written_answer(cell) -> bool:
    """A markdown answer cell (solution markers and points), graded by hand."""
    return cell.get("cell_type") == "markdown" and has_solution(cell) and points(cell) > 0


def exercise_checks(nb, index: int) -> list[int]:
    """The graded check cells of the exercise at `index`: the code cells right after it that carry
    points (markdown cells may sit between), up to the first code cell that does not."""
    found = []
    for j in range(index + 1, len(nb.cells)):
        cell = nb.cells[j]
        if cell.get("cell_type") != "code":
            continue
        if not is_graded_check(cell):
            break
        found.append(j)
    return found


def is_checked_output(cell) -> bool:
    """Whether nbval compares this cell's output (`# NBVAL_CHECK_OUTPUT` in its source)."""
    return cell.get("cell_type") == "code" and CHECK_OUTPUT in cell.get("source", "")


def normalized(source: str) -> str:
    """A cell's source without trailing spaces and blank edges: what an edit must change."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def snippet(source: str, width: int = 60) -> str:
    """The first line of a cell that says what it does (skipping comments and blank lines)."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    code = [line for line in lines if not line.startswith("#")] or lines or [""]
    text = code[0]
    return text if len(text) <= width else text[: width - 3] + "..."


def describe_cell(index: int, cell) -> str:
    """'cell 12 (In [11], `logits = model(x)`)': how a report names a cell."""
    count = cell.get("execution_count")
    run = f"In [{count}], " if count else ""
    return f"cell {index} ({run}`{snippet(cell.get('source', ''))}`)"


def error_outputs(cell) -> list[dict]:
    """The error outputs a code cell holds."""
    return [o for o in cell.get("outputs", []) or [] if o.get("output_type") == "error"]


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def match_cells(lab_nb, sub_nb) -> dict[int, int]:
    """Lab cell index -> submission cell index for the code cells, aligned by their sources."""
    lab = [(i, c) for i, c in enumerate(lab_nb.cells) if c.cell_type == "code"]
    sub = [
        (j, c)
        for j, c in enumerate(sub_nb.cells)
        if c.cell_type == "code" and INJECTED_TAG not in c.metadata.get("tags", [])
    ]
    a, b = [normalized(c.source) for _, c in lab], [normalized(c.source) for _, c in sub]
    pairs: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            pairs.update({i1 + k: j1 + k for k in range(i2 - i1)})
        elif tag == "replace":  # pair each lab cell with the most similar unpaired cell of the block
            free = list(range(j1, j2))
            for i in range(i1, i2):
                best = max(free, key=lambda j, i=i: _similarity(a[i], b[j]), default=None)
                if best is not None and _similarity(a[i], b[best]) >= 0.5:
                    pairs[i] = best
                    free.remove(best)
    ids = {c.get("id"): j for j, (_, c) in enumerate(sub) if c.get("id")}
    for i, (_, c) in enumerate(lab):  # same cell id: the same cell, however much it was edited
        if i not in pairs and c.get("id") in ids and ids[c.get("id")] not in pairs.values():
            pairs[i] = ids[c.get("id")]
    return {lab[i][0]: sub[j][0] for i, j in pairs.items()}
