"""The way into the course, made from two sources so nothing is typed twice.

The repository's address (pyproject.toml, `[project.urls] Repository`) gives every link that opens
a lab — the website, Colab, Kaggle, a JupyterHub through nbgitpuller — and the package a hosted
notebook installs; `helpers.catalog` gives each lab's topic, exercise and running times. From them:

- the hosted-setup cell of every lab (the install cell Colab and Kaggle run, identical in all labs);
- the running-time line of every lab's title cell;
- the README's lab table (between its `labs-table` markers);
- the student versions in `student/`, the blank labs a student opens first.

`python -m helpers frontdoor` writes what is stale; `--check` only lists it (a test runs it, so
none of these can drift from the labs or from each other).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import nbformat

from helpers import catalog
from helpers.course import cells, student
from helpers.course.untrusted import atomic_write_text
from helpers.errors import LabError

ROOT = Path(__file__).resolve().parents[2]
DISTRIBUTION = "image-classification-labs"
STUDENT_DIR = "student"  # the blank labs, committed so that Colab and Kaggle can open them from the repository
TABLE = re.compile(r"(<!-- labs-table:start -->\n).*?(<!-- labs-table:end -->)", re.S)
TIME_LINE = re.compile(r"^\*\*Running time\*\*.*$", re.M)


def repository(root: Path = ROOT) -> str:
    """The course's GitHub address, from pyproject.toml."""
    try:
        text = (root / "pyproject.toml").read_text()
    except OSError:
        raise LabError(f"No pyproject.toml in {root}: run this from a clone of the course's repository.") from None
    found = re.search(r'^Repository = "(https://github\.com/[\w.-]+/[\w.-]+)"$', text, re.M)
    if not found:
        raise LabError('pyproject.toml has no `Repository = "https://github.com/OWNER/NAME"` under [project.urls].')
    return found.group(1)


def package_spec(repo: str) -> str:
    """What a hosted notebook pip-installs: the package from the repository's main branch."""
    return f"{DISTRIBUTION} @ git+{repo}@main"


def site_url(repo: str) -> str:
    """The GitHub Pages address of the course's website."""
    owner, name = repo.removeprefix("https://github.com/").split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def launch_links(lab: str, repo: str) -> dict[str, str]:
    """Where a lab opens: its page on the site (solved, executed) and its blank version on Colab, Kaggle, a hub."""
    blob = f"{repo}/blob/main/{STUDENT_DIR}/{lab}.ipynb"
    name = repo.rstrip("/").split("/")[-1]
    pull = f"repo={quote(repo, safe='')}&branch=main&urlpath={quote(f'lab/tree/{name}/{STUDENT_DIR}/{lab}.ipynb')}"
    return {
        "site": f"{site_url(repo)}labs/{lab}.html",
        "colab": f"https://colab.research.google.com/github/{repo.removeprefix('https://github.com/')}"
        f"/blob/main/{STUDENT_DIR}/{lab}.ipynb",
        "kaggle": f"https://kaggle.com/kernels/welcome?src={blob}",
        "jupyterhub": f"https://YOUR-HUB/hub/user-redirect/git-pull?{pull}",
    }


HOSTED_CELL = """\
# On Colab or Kaggle: install the labs' package, keeping the platform's own torch. Elsewhere: nothing to do.
PACKAGE = SPEC
import importlib.metadata, importlib.util, os, subprocess, sys  # noqa: E401, I001

hosted = "google.colab" in sys.modules or "KAGGLE_KERNEL_RUN_TYPE" in os.environ
if hosted and importlib.util.find_spec("helpers") is None:
    keep = [f"{n}=={importlib.metadata.version(n)}" for n in ("torch", "torchvision") if importlib.util.find_spec(n)]
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE, *keep], capture_output=True, text=True)
    if pip.returncode:
        raise RuntimeError(f"pip could not install {PACKAGE} beside {keep}:\\n{pip.stderr[-2000:]}")
    importlib.invalidate_caches()"""


def hosted_cell(repo: str) -> str:
    """Every lab's first code cell: on Colab or Kaggle, install the package beside the platform's torch."""
    return HOSTED_CELL.replace("PACKAGE = SPEC", f"PACKAGE = {json.dumps(package_spec(repo))}")


def time_line(entry: catalog.Lab) -> str:
    """The running-time line of a lab's title cell."""
    quick = ("at most " if entry.quick_shared else "about ") + f"{catalog.minutes(entry.quick_cpu_min)} min"
    full = []
    if entry.full_gpu_min is not None:
        how = " (from its measured time per epoch)" if entry.full_gpu_per_epoch else ""
        full.append(f"about {catalog.minutes(entry.full_gpu_min)} min on an NVIDIA H200{how}")
    if entry.full_cpu_min is not None:
        full.append(f"about {catalog.minutes(entry.full_cpu_min)} min on a 2-core CPU")
    full_text = " or ".join(full) if full else "not timed yet (the published recipe: expect an hour or more)"
    return f"**Running time** (measured): `quick` {quick} on a 2-core CPU; `full` {full_text}; `smoke` under a minute."


def readme_table(repo: str) -> str:
    rows = ["| lab | the student writes | quick, 2-core CPU | full, GPU | open |", "|---|---|---|---|---|"]
    for entry in catalog.LABS:
        links = launch_links(entry.name, repo)
        quick = ("≤ " if entry.quick_shared else "") + f"{catalog.minutes(entry.quick_cpu_min)} min"
        gpu = f"{catalog.minutes(entry.full_gpu_min)} min" if entry.full_gpu_min is not None else "not timed"
        opens = f"[page]({links['site']}) · [Colab]({links['colab']}) · [Kaggle]({links['kaggle']})"
        rows.append(f"| {entry.number} {entry.title} | {entry.writes} | {quick} | {gpu} | {opens} |")
    return "\n".join(rows) + "\n"


def _lab_paths(root: Path) -> list[Path]:
    paths = sorted((root / "labs").glob("[0-9][0-9]_*.ipynb"))
    names = [p.stem for p in paths]
    if names != [entry.name for entry in catalog.LABS]:
        raise LabError(
            f"labs/ holds {names}, helpers/catalog.py lists {[e.name for e in catalog.LABS]}: make them agree."
        )
    return paths


def _updated_lab(nb, entry: catalog.Lab, repo: str) -> None:
    title = nb.cells[0]
    line = time_line(entry)
    title.source = TIME_LINE.sub(line, title.source) if TIME_LINE.search(title.source) else f"{title.source}\n\n{line}"
    (hosted,) = [c for c in nb.cells if cells.HOSTED_TAG in c.metadata.get("tags", [])]
    hosted.source = hosted_cell(repo)


def _text(nb) -> str:
    return nbformat.writes(nb) + "\n"


def stale(root: Path = ROOT) -> dict[Path, str]:
    """Every file the front door makes whose committed text differs from what it should be: {path: new text}."""
    repo = repository(root)
    wanted: dict[Path, str] = {}
    for path, entry in zip(_lab_paths(root), catalog.LABS, strict=True):
        nb = cells.read_notebook(path)
        _updated_lab(nb, entry, repo)
        wanted[path] = _text(nb)
        wanted[root / STUDENT_DIR / path.name] = _text(student.student_version(nb, path.name))
    readme = (root / "README.md").read_text()
    if not TABLE.search(readme):
        raise LabError("README.md has no <!-- labs-table:start --> ... <!-- labs-table:end --> markers.")
    wanted[root / "README.md"] = TABLE.sub(lambda m: m.group(1) + readme_table(repo) + m.group(2), readme)
    return {path: text for path, text in wanted.items() if not path.exists() or path.read_text() != text}


def write(root: Path = ROOT) -> list[Path]:
    """Bring every front-door file up to date; returns the files written."""
    changes = stale(root)
    for path, text in changes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, text)
    return list(changes)
