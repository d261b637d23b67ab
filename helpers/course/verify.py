"""Verifying an executed notebook by running it again: `python -m helpers verify PATH ...`.

An executed notebook (from the runner, or saved by a student) claims outputs. `verify` copies
it to a scratch folder, points its `results_dir` at the scratch folder (so the graded results
next to it are never overwritten), and has nbval re-execute the copy in this environment with
the notebook's own injected parameters:

    pytest --nbval-lax --nbval-current-env --nbval-sanitize-with helpers/course/nbval_sanitize.cfg COPY

nbval compares the outputs of the cells marked `# NBVAL_CHECK_OUTPUT` with the stored ones,
after the sanitize rules blank out what may differ (addresses, timings, devices, paths,
progress bars), and fails on any cell that raises. The report names each cell that differs and
shows the expected and the re-computed lines.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from helpers.course import cells
from helpers.course.nbval_report import INDEX_KEY
from helpers.course.runner import LABS_DIR
from helpers.errors import LabError

SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")
MAX_LINES = 12  # differing lines shown per output
_SKIP_MIME = ("image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json")


@dataclass
class CellProblem:
    """One cell that did not reproduce: which cell, what went wrong, and the differing lines."""

    label: str
    problem: str
    lines: list[str] = field(default_factory=list)


@dataclass
class Verification:
    """The outcome of verifying one notebook."""

    notebook: Path
    checked: int = 0  # cells marked # NBVAL_CHECK_OUTPUT whose output matched
    problems: list[CellProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""  # the verification itself could not run

    @property
    def ok(self) -> bool:
        return not self.problems and not self.error

    def format(self) -> str:
        if self.error:
            lines = [f"{self.notebook}: ERROR {self.error}"]
        elif self.ok:
            what = (
                f"{self.checked} checked cells reproduced" if self.checked else f"no cells marked {cells.CHECK_OUTPUT}"
            )
            lines = [f"{self.notebook}: OK ({what}; every cell ran without error)"]
        else:
            lines = [f"{self.notebook}: MISMATCH"]
            for p in self.problems:
                lines.append(f"  {p.label} {p.problem}")
                lines += [f"    {line}" for line in p.lines]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def sanitize_patterns(path: Path = SANITIZE) -> list[tuple[str, str]]:
    """The (regex, replacement) rules of a sanitize file, in nbval's format."""
    from nbval.plugin import get_sanitize_patterns

    return get_sanitize_patterns(Path(path).read_text())


def sanitize(text: str, patterns: list[tuple[str, str]]) -> str:
    """Apply the rules the way nbval does before comparing outputs."""
    for regex, replace in patterns:
        text = re.sub(regex, replace, text)
    return text


def _setup_source(lab_dir: Path, scratch: Path, overrides: dict) -> str:
    lines = [
        "# inserted by `python -m helpers verify`: run where the lab runs; results go to a scratch folder",
        "import os as _os",
        f"_os.chdir({str(lab_dir)!r})",
        f"_os.environ['LABS_RESULTS_DIR'] = {str(scratch)!r}",
        f"results_dir = {str(scratch)!r}",
    ]
    lines += [f"{name} = {value!r}" for name, value in overrides.items()]
    return "\n".join(lines)


def prepare_copy(nb, lab_dir: Path, work: Path, params: dict | None = None) -> tuple[Path, list[str]]:
    """Write the copy nbval runs: each cell numbered, a setup cell after the parameters."""
    notes, overrides = [], dict(params or {})
    injected = nb.metadata.get("papermill", {}).get("parameters") or {}
    data_dir = injected.get("data_dir")
    if isinstance(data_dir, str) and "data_dir" not in overrides and not Path(data_dir).is_dir():
        overrides["data_dir"] = None
        notes.append(f"its data_dir {data_dir!r} does not exist here; re-ran with this machine's data folder")
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    injected = [i for i, t in enumerate(tags) if cells.INJECTED_TAG in t]
    where = injected or [i for i, t in enumerate(tags) if "parameters" in t]
    if not injected:
        notes.append(
            "no injected parameters (not run by papermill): re-ran with its parameters cell as saved"
            + (f" and {overrides}" if overrides else "")
        )
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    for i, cell in enumerate(copy.cells):
        cell.metadata[INDEX_KEY] = i
    scratch = work / "results"
    scratch.mkdir(parents=True, exist_ok=True)
    setup = nbformat.v4.new_code_cell(_setup_source(lab_dir, scratch, overrides))
    copy.cells.insert(where[-1] + 1 if where else 0, setup)
    path = work / "notebook.ipynb"
    nbformat.write(copy, path)
    return path, notes


def flatten_outputs(outputs: list[dict], patterns) -> dict[str, str]:
    """Outputs as {stdout: text, stderr: text, text/plain: text, error: 'Name: value'}, sanitized."""
    flat: dict[str, str] = {}
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            flat[out.get("name", "stdout")] = flat.get(out.get("name", "stdout"), "") + out.get("text", "")
        elif kind == "error":
            flat["error"] = f"{out.get('ename')}: {out.get('evalue')}"
        else:
            for mime, value in (out.get("data") or {}).items():
                if mime not in _SKIP_MIME:
                    text = value if isinstance(value, str) else "".join(value)
                    flat[mime] = flat.get(mime, "") + text
    # nbval drops everything up to a carriage return on the same line, as a terminal would
    return {k: sanitize(re.sub(r"(?m)^.*\r(?=[^\n])", "", v), patterns) for k, v in flat.items()}


def describe_difference(expected: dict[str, str], got: dict[str, str]) -> list[str]:
    """Expected and re-computed lines of each output that differs."""
    lines = []
    for key in sorted(set(expected) | set(got)):
        want, have = expected.get(key, "").splitlines(), got.get(key, "").splitlines()
        if want == have:
            continue
        lines.append(f"{key}:")
        shown = []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, want, have, autojunk=False).get_opcodes():
            if tag != "equal":
                shown += [f"  expected: {line}" for line in want[i1:i2]] or ["  expected: (nothing)"]
                shown += [f"  got:      {line}" for line in have[j1:j2]] or ["  got:      (nothing)"]
        lines += shown[:MAX_LINES] + ([f"  ... {len(shown) - MAX_LINES} more lines"] if len(shown) > MAX_LINES else [])
    return lines


def _problems(nb, records: list[dict], patterns) -> tuple[int, list[CellProblem]]:
    checked, problems = 0, []
    for rec in records:
        index = rec.get("index")
        cell = nb.cells[index] if isinstance(index, int) and index < len(nb.cells) else {"source": ""}
        label = cells.describe_cell(index, cell) if isinstance(index, int) else "the cell verify inserted"
        if rec["outcome"] == "passed":
            checked += rec["checked"]
            continue
        got = flatten_outputs(rec["outputs"], patterns)
        if "error" in got:
            problems.append(CellProblem(label, f"raised {got['error']} when run again"))
        elif rec["outcome"] == "failed" and "differ" in rec["message"]:
            lines = describe_difference(flatten_outputs(cell.get("outputs", []), patterns), got)
            problems.append(CellProblem(label, "differs:", lines or ["(nbval: outputs differ in a field not shown)"]))
        else:
            problems.append(CellProblem(label, f"{rec['outcome']}: {rec['message'].strip()[:300]}"))
    return checked, problems


def verify_notebook(
    path: str | Path, *, labs_dir: Path = LABS_DIR, params: dict | None = None, timeout: float = 1800
) -> Verification:
    """Re-execute one executed notebook with nbval and compare its checked cells."""
    path = Path(path)
    result = Verification(path)
    try:
        nb = cells.read_notebook(path)
    except LabError as err:
        result.error = str(err).removeprefix(f"{path}: ")
        return result
    lab = Path(labs_dir) / path.name
    lab_dir = lab.parent if lab.exists() else path.resolve().parent
    patterns = sanitize_patterns()
    with tempfile.TemporaryDirectory(prefix="labs-verify-") as tmp:
        work = Path(tmp)
        copy, result.notes = prepare_copy(nb, lab_dir.resolve(), work, params)
        report, ini = work / "nbval.json", work / "pytest.ini"
        ini.write_text("[pytest]\n")
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            str(copy),
            "--nbval-lax",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(SANITIZE),
            "--nbval-cell-timeout",
            str(timeout),
            "-p",
            "helpers.course.nbval_report",
            "--labs-verify-report",
            str(report),
            "-p",
            "no:cacheprovider",
            "-c",
            str(ini),
            "--rootdir",
            str(work),
            "-q",
            "--color=no",
        ]
        env = {**os.environ, "LABS_HEADLESS": "1", "LABS_RESULTS_DIR": str(work / "results")}
        proc = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True)
        if proc.returncode not in (0, 1) or not report.exists():
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
            result.error = f"nbval could not run (pytest exit {proc.returncode}):\n{tail}"
            return result
        records = json.loads(report.read_text())
    result.checked, result.problems = _problems(nb, records, patterns)
    return result


def verify(paths: list[str | Path], **kwargs) -> list[Verification]:
    """Verify each notebook in turn, printing each outcome as soon as it is known."""
    if not paths:
        raise LabError("Name at least one executed notebook, e.g. executed/01_sanity_checks.ipynb.")
    results = []
    for path in paths:
        print(f"verifying {path} ...", flush=True)
        results.append(verify_notebook(path, **kwargs))
        print(results[-1].format(), flush=True)
    return results
