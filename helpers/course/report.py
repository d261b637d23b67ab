"""The course report: every lab's results in one table (`python -m helpers report DIR`).

Reads every `DIR/<lab>.json` the labs recorded (schema: `helpers.results`) and writes
`DIR/report.html` (self-contained: the curves are embedded as base64 PNG) and `DIR/report.md`
(its curves beside it in `report_curves.png`):

1. one table of every lab: model, dataset, profile, top-1, top-5, epochs, parameters, peak
   memory and time, like Table 1 of a course report, for the whole course;
2. the training curves of every lab side by side;
3. the environment the numbers were measured in (versions, devices).

A file that is not valid JSON or not a lab's results, and a lab with no results, are listed
under "Problems"; they never stop the report. `notebooks/report.ipynb` shows the same table.
"""

from __future__ import annotations

import base64
import io
import math
import re
from html import escape
from pathlib import Path

from helpers.config import REPO
from helpers.course import compare, reference
from helpers.course.runner import first_error, list_labs
from helpers.course.untrusted import atomic_write_text, clip, read_results
from helpers.errors import LabError
from helpers.runtime import atomic_write

DEFAULT_DIR = REPO / "executed"  # where `make labs` writes
COLUMNS = (
    "lab",
    "model",
    "dataset",
    "profile",
    "top-1",
    "expected",
    "top-5",
    "split",
    "epochs",
    "params",
    "peak MiB",
    "seconds",
    "status",
)


def results_folder(folder: str | Path | None = None) -> Path:
    """The folder to read: `folder`, or the repository's executed/ for None."""
    path = Path(folder) if folder else DEFAULT_DIR
    if not path.is_dir():
        raise LabError(
            f"No results folder {path}: run the labs first (`make labs`, or `python -m helpers run --out {path}`)."
        )
    return path


def load_results(folder: str | Path | None = None) -> tuple[list[dict], list[str]]:
    """(every lab's results, problems found) in a folder of `<lab>.json` files."""
    folder = results_folder(folder)
    results, problems = [], []
    for path in sorted(folder.glob("*.json")):
        try:
            data = read_results(path)  # a regular file, never a link followed
        except LabError as err:
            problems.append(f"{path.name}: {err}; run its lab again to rewrite it")
            continue
        if not isinstance(data.get("metrics"), dict):
            problems.append(f"{path.name}: not a lab's results file (no 'metrics'); skipped")
            continue
        results.append({**data, "lab": clip(data.get("lab") or path.stem, 60)})
    have = {r["lab"] for r in results}
    for lab in list_labs():
        if lab.stem not in have:
            executed = folder / lab.name
            why = first_error(executed) if executed.exists() else ""
            problems.append(f"{lab.stem}: no results in {folder}" + (f" (it failed: {why})" if why else " (not run)"))
    return results, problems


def _num(value, digits: int = 4):
    """A finite number rounded, else None: results files are read, not trusted (10**400 is not a float)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        finite = math.isfinite(float(value))
    except OverflowError:
        return None
    return round(value, digits) if finite else None


def expected(result: dict, split: str) -> str | None:
    """The reference's top-1 on `split` for this lab, profile and dataset (`reference/`), as
    `mean% ± spread (n seeds)`; None where no reference was made."""

    try:
        ref = reference.find(str(result.get("lab")), str(result.get("profile")), str(result.get("dataset")))
        values = ref["metrics"][f"{split}_top1"] if ref else None
    except (LabError, OSError, ValueError, KeyError, TypeError):
        return None
    return f"{values['mean']:.1%} ± {values['spread'] * 100:.1f} ({len(values['values'])} seeds)" if values else None


def table_rows(results: list[dict]) -> list[dict]:
    """One row per lab, the columns of the course table; `expected` from the lab's reference run."""
    rows = []
    for r in results:
        metrics = r.get("metrics") or {}
        split = "test" if _num(metrics.get("test_top1")) is not None else "val"
        rows.append(
            {
                "lab": r["lab"],
                "model": str(r.get("model") or "-"),
                "dataset": str(r.get("dataset", "-")),
                "profile": str(r.get("profile", "-")),
                "top-1": _num(metrics.get(f"{split}_top1")),
                "expected": expected(r, split),
                "top-5": _num(metrics.get(f"{split}_top5")),
                "split": split,
                "epochs": _num(r.get("epochs"), 0),
                "params": _num(r.get("params"), 0),
                "peak MiB": _num(r.get("peak_memory_mib"), 1),
                "seconds": _num(r.get("total_seconds"), 1),
                "status": str(r.get("status", "-")),
            }
        )
    return rows


def results_table(folder: str | Path | None = None):
    """Every lab's results as a pandas DataFrame, one row per lab (notebooks/report.ipynb)."""
    import pandas as pd

    results, _ = load_results(folder)
    return pd.DataFrame(table_rows(results), columns=list(COLUMNS)).set_index("lab")


def curves_png(results: list[dict]) -> bytes | None:
    """Loss and top-1 curves of every lab with a history, side by side, as PNG bytes (headless)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labs = [r for r in results if isinstance(r.get("history"), list) and r["history"]]
    if not labs:
        return None
    ncols = min(len(labs), 4)
    nrows = 2 * math.ceil(len(labs) / ncols)
    fig = Figure(figsize=(3.6 * ncols, 2.6 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for n, r in enumerate(labs):
        rows = [h for h in r["history"] if isinstance(h, dict)]
        epochs = [_num(h.get("epoch"), 0) or i + 1 for i, h in enumerate(rows)]  # a row may hold anything
        for row, kind in enumerate(("loss", "top1")):
            ax = axes[2 * (n // ncols) + row, n % ncols]
            ax.set_visible(True)
            for split, style in (("train", "--"), ("val", "-")):
                values = [_num(h.get(f"{split}_{kind}")) for h in rows]
                ax.plot(epochs, [math.nan if v is None else v for v in values], style, marker=".", label=split)
            ax.set_title(f"{r['lab']}: {'loss' if kind == 'loss' else 'top-1'}", fontsize=9)
            ax.set_xlabel("epoch", fontsize=8)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=7)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


def environment(results: list[dict]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(package, version or 'a (lab), b (lab)')], [(lab, device)]) of the labs' runs."""
    seen: dict[str, dict[str, list[str]]] = {}
    for r in results:
        versions = r.get("versions") if isinstance(r.get("versions"), dict) else {}
        for name, version in versions.items():
            seen.setdefault(str(name), {}).setdefault(str(version), []).append(r["lab"])
    per_lab = lambda vs: ", ".join(f"{v} ({', '.join(labs)})" for v, labs in vs.items())
    packages = [(name, per_lab(vs) if len(vs) > 1 else next(iter(vs))) for name, vs in seen.items()]
    return packages, [(r["lab"], str(r.get("device", "-"))) for r in results]


def _cell(value) -> str:
    return "-" if value is None else f"{value:.1%}" if isinstance(value, float) and value <= 1 else str(value)


def _fmt_row(row: dict) -> list[str]:
    shown = {**row, "top-1": _cell(row["top-1"]), "top-5": _cell(row["top-5"])}
    if row["params"] is not None:
        shown["params"] = f"{row['params']:,.0f}"
    return ["-" if shown[c] is None else str(shown[c]) for c in COLUMNS]


def _html_table(header, rows) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _md(value) -> str:
    """Text for markdown: HTML escaped, table pipes and line breaks neutralised, markdown links disarmed."""
    text = escape(str(value), quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return re.sub(r"([\[\]`])", r"\\\1", text)


def _md_table(header, rows) -> str:
    clean = _md
    lines = ["| " + " | ".join(map(clean, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(clean, row)) + " |" for row in rows])


def beside_references(folder: Path) -> list[str]:
    """What `helpers compare` flags in this folder: metrics beyond the references' spread, lessons reversed."""

    try:
        return [f.message for f in compare.compare(folder).flags]
    except LabError:  # no lab results to compare
        return []


def write_report(folder: str | Path | None = None) -> tuple[Path, Path, list[str]]:
    """Write report.html and report.md into the results folder.

    Returns their paths and the problems found (also listed in both files).
    """
    folder = results_folder(folder)
    results, problems = load_results(folder)
    rows = [_fmt_row(r) for r in table_rows(results)]
    packages, devices = environment(results)
    png = curves_png(results)
    title = f"Course report: {len(results)} lab{'s' * (len(results) != 1)} in {folder.name}/"
    css = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}img{max-width:100%}"
    )
    html = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{css}</style></head><body><h1>{escape(title)}</h1><h2>Results of every lab</h2>",
        _html_table(COLUMNS, rows) if rows else "<p>No results files.</p>",
    ]
    md = [
        f"# {_md(title)}",
        "",
        "## Results of every lab",
        "",
        _md_table(COLUMNS, rows) if rows else "No results files.",
    ]
    if problems:
        html.append("<h2>Problems</h2><ul>" + "".join(f"<li>{escape(p)}</li>" for p in problems) + "</ul>")
        md += ["", "## Problems", "", *[f"- {_md(p)}" for p in problems]]
    moved = beside_references(folder)
    if moved:
        items = "".join(f"<li>{escape(m)}</li>" for m in moved)
        html.append(f"<h2>Beside the reference runs</h2><ul>{items}</ul>")
        md += ["", "## Beside the reference runs", "", *[f"- {_md(m)}" for m in moved]]
    (folder / "report_curves.png").unlink(missing_ok=True)
    if png:
        atomic_write(folder / "report_curves.png", lambda tmp: Path(tmp).write_bytes(png))
        data = base64.b64encode(png).decode()
        html.append(f'<h2>Training curves</h2><img alt="training curves" src="data:image/png;base64,{data}">')
        md += ["", "## Training curves", "", "![training curves](report_curves.png)"]
    header = (("package", "version"), ("lab", "device"))
    html += ["<h2>Environment</h2>", _html_table(header[0], packages), _html_table(header[1], devices)]
    md += ["", "## Environment", "", _md_table(header[0], packages), "", _md_table(header[1], devices)]
    atomic_write_text(folder / "report.html", "\n".join(html) + "\n</body></html>\n")
    atomic_write_text(folder / "report.md", "\n".join(md) + "\n")
    return folder / "report.html", folder / "report.md", problems
