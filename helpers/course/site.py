"""The course as a website: `python -m helpers site` (or `make site`).

Sphinx with myst-nb renders the pages in docs/ and every lab executed in a profile (`quick` by
default), plots and printed results included. Sphinx + myst-nb rather than Jupyter Book 2: it
builds offline (Jupyter Book 2's theme is fetched from the web on first build), it is a pip
package like the rest of the course, and myst-nb reads executed notebooks as they are.

1. Execute: each lab runs through the course's runner into executed/site-<profile>/, and a lab
   whose notebook has not changed since its last successful run there is not run again (the
   notebook's SHA-256 is kept beside it). `executed=DIR` uses a folder of executed labs as it is.
2. Stage: docs/ and the executed labs are copied into a staging folder; each lab page gets its
   launch links (Colab, Kaggle, a JupyterHub through nbgitpuller) under its title, and its
   exercise cells folded, so a reader can try before looking.
3. Render: sphinx-build writes the HTML into `out`.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from helpers import catalog
from helpers.course import cells, frontdoor, runner
from helpers.errors import LabError

DOCS = frontdoor.ROOT / "docs"
LABS_MARKER = "<!-- labs -->"
FOLD_OPEN = "<details><summary>Model answer (click to show)</summary>\n"


def source_hash(notebook: Path) -> str:
    return hashlib.sha256(notebook.read_bytes()).hexdigest()


def execute(profile: str, folder: Path) -> list[str]:
    """Run every lab whose source changed since its last successful run in `folder`; returns the labs that failed."""
    failed = []
    for entry in catalog.LABS:
        notebook = runner.LABS_DIR / f"{entry.name}.ipynb"
        stamp = folder / f"{entry.name}.source-sha256"
        digest = source_hash(notebook)
        if (folder / notebook.name).exists() and stamp.exists() and stamp.read_text() == digest:
            print(f"{entry.name}: unchanged since its last run, not run again")
            continue
        stamp.unlink(missing_ok=True)
        (result,) = runner.run([entry.name], profile=profile, out=folder)
        if result.status == "ok":
            stamp.write_text(digest)
        else:
            failed.append(entry.name)
    return failed


def links_cell(lab: str, repo: str) -> nbformat.NotebookNode:
    links = frontdoor.launch_links(lab, repo)
    text = (
        f"**Open the blank lab** (you write the exercises): [Colab]({links['colab']}) · "
        f"[Kaggle]({links['kaggle']}) · on a JupyterHub, `{links['jupyterhub']}` with your hub's address · "
        f"or `student/{lab}.ipynb` in a clone. The solved lab is `labs/{lab}.ipynb`; below it is executed, "
        "its solutions folded (click to show)."
    )
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": ["launch-links"]})


def page_of(executed: Path, lab: str, repo: str) -> nbformat.NotebookNode:
    """A lab's page: the executed notebook with launch links under the title and its solutions folded."""
    nb = cells.read_notebook(executed)
    for cell in nb.cells:
        if not cells.has_solution(cell):
            continue
        if cell.cell_type == "code":  # myst-nb folds the cell's code behind a "show" toggle
            tags = cell.metadata.setdefault("tags", [])
            if "hide-input" not in tags:
                tags.append("hide-input")
        else:  # a written question's model answer: folded in HTML's own <details>
            cell.source = cell.source.replace(cells.BEGIN, FOLD_OPEN).replace(cells.END, "\n</details>")
    nb.cells.insert(1, links_cell(lab, repo))
    return nb


def labs_index(profile: str) -> str:
    rows = ["| lab | you write | quick, 2-core CPU |", "|---|---|---|"]
    for entry in catalog.LABS:
        quick = ("≤ " if entry.quick_shared else "") + f"{catalog.minutes(entry.quick_cpu_min)} min"
        rows.append(f"| [{entry.number} {entry.title}](labs/{entry.name}.ipynb) | {entry.writes} | {quick} |")
    toc = "\n".join(f"labs/{entry.name}" for entry in catalog.LABS)
    return (
        "\n".join(rows)
        + f"\n\nThe lab pages below were executed in the `{profile}` profile.\n\n"
        + f"```{{toctree}}\n:caption: Labs\n:maxdepth: 1\n:hidden:\n\n{toc}\n```\n"
    )


def stage(executed: Path, target: Path, profile: str) -> None:
    """docs/ and the executed labs, laid out for Sphinx in `target`."""
    missing = [e.name for e in catalog.LABS if not (executed / f"{e.name}.ipynb").exists()]
    if missing:
        raise LabError(f"{executed} lacks executed labs {', '.join(missing)}: execute them first (make site).")
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(DOCS, target)
    index = target / "index.md"
    index.write_text(index.read_text().replace(LABS_MARKER, labs_index(profile)))
    repo = frontdoor.repository()
    (target / "labs").mkdir()
    for entry in catalog.LABS:
        page = page_of(executed / f"{entry.name}.ipynb", entry.name, repo)
        nbformat.write(page, target / "labs" / f"{entry.name}.ipynb")


def render(source: Path, out: Path) -> Path:
    doctrees = out.parent / f"{out.name}-doctrees"
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-d", str(doctrees), str(source), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise LabError(f"sphinx-build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return out / "index.html"


def build(profile: str = "quick", executed: str | Path | None = None, out: str | Path = "_build/site") -> Path:
    """Execute (unless `executed` is given), stage and render the site; returns the home page's path."""
    out = Path(out).resolve()
    failed = []
    if executed is None:
        executed = frontdoor.ROOT / "executed" / f"site-{profile}"
        failed = execute(profile, Path(executed))
    executed = Path(executed)
    source = out.parent / f"{out.name}-source"
    stage(executed, source, profile)
    index = render(source, out)
    if failed:
        raise LabError(f"the site was built, but these labs failed; their pages show the failed run: {failed}")
    return index
