"""Reading and writing what a submission holds without trusting it (`python -m helpers grade`).

- files are opened without following symbolic links, only when they are regular files, and only
  up to a size limit (a FIFO or /dev/zero never hangs the grader);
- a notebook is checked field by field for the types the grader reads (a cell without
  `cell_type`, `source: 5`, `execution_count: "7"` ...), so a malformed file is one `corrupt`
  row that says what is wrong, never a traceback;
- text written to a CSV file cannot become a spreadsheet formula, and every output is written
  atomically as UTF-8.
"""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import tempfile
from pathlib import Path

import nbformat

from helpers.errors import LabError

MAX_NOTEBOOK_BYTES = 256 * 2**20  # an executed notebook with plots is a few MB
MAX_RESULTS_BYTES = 16 * 2**20
CELL_TYPES = ("code", "markdown", "raw")
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")
MAX_SHOWN = 5  # structural problems named per file


def clip(text, width: int = 300) -> str:
    """Untrusted text, shortened for a table or a message."""
    text = str(text)
    return text if len(text) <= width else text[: width - 3] + "..."


def read_regular_file(path: str | Path, limit: int) -> bytes:
    """The bytes of a regular file that is not a symbolic link; LabError otherwise."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as err:
        if Path(path).is_symlink():
            raise LabError("a symbolic link: links are refused, never followed") from None
        raise LabError(f"cannot read the file ({err.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise LabError("not a regular file (a device, pipe or socket); not read")
        if info.st_size > limit:
            raise LabError(f"{info.st_size / 2**20:.0f} MiB, over the {limit / 2**20:.0f} MiB limit; not read")
        return f.read(limit + 1)[:limit]


def _is_text(value) -> bool:
    """nbformat's multiline text: a string, or a list of strings (as saved on disk)."""
    return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _output_problems(where: str, out) -> list[str]:
    if not isinstance(out, dict):
        return [f"{where} is a {type(out).__name__}, not an object"]
    kind = out.get("output_type")
    if kind not in OUTPUT_TYPES:
        return [f"{where} has output_type {clip(repr(kind), 40)}"]
    expected = {
        "stream": {"name": str, "text": "text"},
        "error": {"ename": str, "evalue": str, "traceback": list},
        "execute_result": {"data": dict},
        "display_data": {"data": dict},
    }[kind]
    problems = [
        f"{where} ({kind}) has {key} of type {type(out.get(key)).__name__}, not {getattr(t, '__name__', t)}"
        for key, t in expected.items()
        if not (_is_text(out.get(key)) if t == "text" else isinstance(out.get(key), t))
    ]
    lines = out.get("traceback")
    if kind == "error" and isinstance(lines, list) and not all(isinstance(t, str) for t in lines):
        problems.append(f"{where} (error) has a traceback that is not lines of text")
    if isinstance(out.get("data"), dict):
        problems += [
            f"{where} has {clip(mime, 40)} data that is not text"
            for mime, value in out["data"].items()
            if not str(mime).endswith("json") and not _is_text(value)
        ]
    if "metadata" in out and not isinstance(out["metadata"], dict):
        problems.append(f"{where} has metadata that is not an object")
    count = out.get("execution_count")
    if kind == "execute_result" and count is not None and not _is_int(count):
        problems.append(f"{where} has execution_count {clip(repr(count), 40)}, not a number")
    return problems


def _cell_problems(i: int, cell) -> list[str]:
    where = f"cell {i}"
    if not isinstance(cell, dict):
        return [f"{where} is a {type(cell).__name__}, not an object"]
    problems = []
    kind = cell.get("cell_type")
    if kind not in CELL_TYPES:
        what = "no cell_type" if kind is None else f"cell_type {clip(repr(kind), 40)}"
        problems.append(f"{where} has {what}")
    if not _is_text(cell.get("source")):
        problems.append(f"{where} has source of type {type(cell.get('source')).__name__}, not text")
    meta = cell.get("metadata", {})
    if not isinstance(meta, dict):
        problems.append(f"{where} has metadata that is not an object")
    elif "tags" in meta and not (isinstance(meta["tags"], list) and all(isinstance(t, str) for t in meta["tags"])):
        problems.append(f"{where} has tags that are not a list of text")
    if "id" in cell and not isinstance(cell["id"], str):
        problems.append(f"{where} has an id that is not text")
    if kind == "code":
        count = cell.get("execution_count")
        if count is not None and not _is_int(count):
            problems.append(f"{where} has execution_count {clip(repr(count), 40)}, not a number")
        outputs = cell.get("outputs", [])
        if not isinstance(outputs, list):
            problems.append(f"{where} has outputs that are not a list")
        else:
            for n, out in enumerate(outputs):
                problems += _output_problems(f"{where} output {n}", out)
    return problems


def notebook_problems(nb) -> list[str]:
    """What in a notebook's fields is not of the type nbformat says: [] for a sound notebook."""
    if not isinstance(nb, dict):
        return [f"the file holds a JSON {type(nb).__name__}, not a notebook"]
    problems = []
    meta = nb.get("metadata", {})
    if not isinstance(meta, dict):
        problems.append("the notebook's metadata is not an object")
        meta = {}
    for key in ("papermill", "kernelspec", "language_info"):
        if key in meta and not isinstance(meta[key], dict):
            problems.append(f"metadata.{key} is a {type(meta[key]).__name__}, not an object")
    papermill = meta.get("papermill") if isinstance(meta.get("papermill"), dict) else {}
    if "parameters" in papermill and not isinstance(papermill["parameters"], dict):
        problems.append("metadata.papermill.parameters is not an object")
    if papermill.get("duration") is not None and not _is_number(papermill["duration"]):
        problems.append("metadata.papermill.duration is not a number")
    if not isinstance(nb.get("cells"), list):
        return problems + ["no list of cells"]
    for i, cell in enumerate(nb["cells"]):
        problems += _cell_problems(i, cell)
    return problems


def read_submission(path: str | Path) -> nbformat.NotebookNode:
    """A submitted notebook, checked field by field; LabError saying what is wrong with it."""
    raw = read_regular_file(path, MAX_NOTEBOOK_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise LabError(f"not a notebook (not UTF-8 text: {err.reason} at byte {err.start})") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise LabError(f"not a notebook (not valid JSON: {clip(err, 120)})") from None
    if not isinstance(data, dict) or not _is_int(data.get("nbformat")):
        raise LabError("not a notebook (no nbformat version)")
    problems = notebook_problems(data) if data["nbformat"] == 4 else []  # older formats: checked once converted
    if not problems:
        try:
            nb = nbformat.convert(nbformat.reader.reads(text), 4)
        except Exception as err:  # nbformat's own conversion errors, on a malformed file
            raise LabError(f"not a valid notebook ({type(err).__name__}: {clip(err, 160)})") from None
        problems = notebook_problems(nb)
    if problems:
        more = f" and {len(problems) - MAX_SHOWN} more" if len(problems) > MAX_SHOWN else ""
        raise LabError(f"not a valid notebook: {'; '.join(problems[:MAX_SHOWN])}{more}")
    return nb


def read_results(path: Path) -> dict:
    """A results file as a dict; LabError saying why it cannot be used."""
    raw = read_regular_file(path, MAX_RESULTS_BYTES)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise LabError(f"not valid JSON ({clip(err, 100)})") from None
    if not isinstance(data, dict):
        raise LabError(f"a JSON {type(data).__name__}, not an object of results")
    return data


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value):
    """A CSV cell a spreadsheet shows as text: a leading = + - @ tab or CR gets a quote before it (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and value != "-":
        return "'" + value
    return value


def atomic_write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text to `path` through a temporary file renamed onto it: never half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def write_csv(path: Path, columns, rows) -> Path:
    """A CSV file of rows (dicts), every text cell neutralised, written atomically as UTF-8."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows({k: neutral(v) for k, v in row.items()} for row in rows)
    return atomic_write_text(path, buffer.getvalue())


def printable(text) -> str:
    """Untrusted text for a terminal: control characters (escape sequences) shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in clip(text, 200))
