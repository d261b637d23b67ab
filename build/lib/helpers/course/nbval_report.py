"""A pytest plugin that records what nbval saw, cell by cell, as JSON.

`python -m helpers verify` runs `pytest --nbval-lax -p helpers.course.nbval_report --labs-verify-report
FILE` and reads FILE back: for every code cell nbval executed, its position in the notebook,
whether its output was compared, the outcome, and the outputs the re-run produced (sanitized as
nbval compared them). That is all `verify` needs to say *which* cell differs and *how*, without
parsing nbval's terminal output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

INDEX_KEY = "labs_verify_index"  # cell metadata `verify` sets: the cell's index in the original notebook
_SKIP_MIME = ("image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json")


def pytest_addoption(parser):
    """The option naming the JSON file to write (`python -m helpers verify`)."""
    parser.addoption("--labs-verify-report", default=None, help="write nbval's per-cell results to this JSON file")


def pytest_configure(config):
    """Start an empty list of per-cell records for this session (`verify`)."""
    config._labs_verify_records = []


def _plain(outputs, sanitize) -> list[dict]:
    """Outputs as JSON-able dicts, images dropped, text sanitized the way nbval compares it."""
    plain = []
    for out in outputs or []:
        kind = out.get("output_type")
        if kind == "stream":
            plain.append({"output_type": kind, "name": out.get("name"), "text": sanitize(out.get("text", ""))})
        elif kind == "error":
            plain.append({"output_type": kind, "ename": out.get("ename"), "evalue": sanitize(out.get("evalue", ""))})
        elif "data" in out:
            data = {k: sanitize(v) for k, v in out["data"].items() if k not in _SKIP_MIME and isinstance(v, str)}
            plain.append({"output_type": kind, "data": data})
    return plain


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Record each nbval cell's outcome and re-computed outputs (`verify`)."""
    report = yield
    cell = getattr(item, "cell", None)
    if cell is None or report.when != "call":
        return report
    sanitize = item.sanitize
    message = str(call.excinfo.value) if call.excinfo is not None else ""
    item.config._labs_verify_records.append(
        {
            "index": cell.metadata.get(INDEX_KEY),
            "checked": bool(item.options.get("check")),
            "outcome": report.outcome,  # passed, failed, skipped
            "message": message,  # nbval's: "Cell outputs differ", "Cell execution caused an exception", ...
            "outputs": _plain(item.test_outputs, sanitize),
        }
    )
    return report


def pytest_sessionfinish(session, exitstatus):
    """Write the records to the `--labs-verify-report` file (`verify`)."""
    path = session.config.getoption("--labs-verify-report")
    if path:
        Path(path).write_text(json.dumps(session.config._labs_verify_records, indent=1))
