"""The repository itself: pins in one place, clean notebooks with parameters, lint."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "labs").glob("*.ipynb")) + sorted((REPO / "notebooks").glob("*.ipynb"))
REQUIRED = [
    "torch",
    "torchvision",
    "jupyterlab",
    "ipykernel",
    "papermill",
    "nbval",
    "matplotlib",
    "seaborn",
    "ipywidgets",
    "tqdm",
    "scikit-learn",
    "pytest",
    "ruff",
]


def pins() -> dict[str, str]:
    lines = (REPO / "requirements.txt").read_text().splitlines()
    entries = [line.split("#")[0].strip() for line in lines]
    return dict(e.split("==", 1) for e in entries if e)


def test_requirements_pin_exact_versions():
    found = pins()
    for line in (REPO / "requirements.txt").read_text().splitlines():
        entry = line.split("#")[0].strip()
        assert not entry or re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][A-Za-z0-9.+]*", entry), f"not an exact pin: {line}"
    assert set(REQUIRED) <= set(found), f"missing: {set(REQUIRED) - set(found)}"
    assert (found["torch"], found["torchvision"]) == ("2.14.1", "0.29.1")


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    drift = {name: (pin, version(name)) for name, pin in pins().items() if version(name).split("+")[0] != pin}
    assert not drift, f"installed versions differ from requirements.txt: {drift}"


def test_environment_yml_installs_requirements_txt():
    text = (REPO / "environment.yml").read_text()
    assert "python=3.11" in text and "-r requirements.txt" in text
    assert not re.search(r"^\s*-\s*(torch|torchvision|papermill)\b", text, re.M), "pins belong in requirements.txt"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebooks_hold_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [c for c in code if c.outputs or c.execution_count], "clear outputs before committing"


@pytest.mark.parametrize("path", sorted((REPO / "labs").glob("*.ipynb")), ids=lambda p: p.name)
def test_labs_have_a_parameters_cell_with_the_standard_names(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    for name in ("profile", "dataset", "epochs", "seed", "device", "data_dir", "results_dir"):
        assert re.search(rf"^{name} = ", cells[0].source, re.M), f"parameters cell lacks {name}"


def test_ruff_lint_and_format():
    ruff = shutil.which("ruff") or str(Path(__import__("sys").executable).parent / "ruff")
    check = subprocess.run([ruff, "check", "."], cwd=REPO, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    fmt = subprocess.run([ruff, "format", "--check", "."], cwd=REPO, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout


@pytest.mark.parametrize("path", sorted((REPO / "labs").glob("*.ipynb")), ids=lambda p: p.name)
def test_every_check_is_graded_or_a_demonstration_and_every_lab_asks_questions(path):
    from helpers.course import cells

    nb = cells.read_notebook(path)
    checks = [(i, c) for i, c in enumerate(nb.cells) if cells.is_check_cell(c)]
    unmarked = [i for i, c in checks if not (cells.is_graded_check(c) or cells.is_demonstration(c))]
    assert not unmarked, f"check cells {unmarked}: give them points (nbgrader metadata) or the demonstration tag"
    both = [i for i, c in checks if cells.is_graded_check(c) and cells.is_demonstration(c)]
    assert not both, f"check cells {both} are both graded and demonstrations"
    questions = [c for c in nb.cells if cells.is_written_answer(c)]
    assert 2 <= len(questions) <= 4, f"{len(questions)} written questions; each lab asks 2-4"
    for cell in questions:
        assert "Model answer" in cell.source and "Rubric" in cell.source, "needs a model answer and a rubric"


# pinned, used without an import statement in the repository: what uses each
TOOLS = {
    "jupyterlab": "opens the labs",
    "ipykernel": "runs the notebooks' kernel",
    "ruff": "lint (make lint)",
    "sphinx": "builds the site (make site runs python -m sphinx)",
    "myst-nb": "the site's notebook reader (docs/conf.py's extension)",
    "sphinx-book-theme": "the site's theme (docs/conf.py)",
    "playwright": "drives Chromium in the site's browser test",
    "psycopg-binary": "psycopg's compiled part",
}


def test_every_pinned_package_is_used():
    """A pin earns its place: imported by the package, a lab, a test or a benchmark, or a named tool."""
    from importlib.metadata import packages_distributions

    sources = [
        p.read_text(encoding="utf-8") for d in ("helpers", "tests", "benchmarks") for p in (REPO / d).rglob("*.py")
    ]
    sources += [p.read_text(encoding="utf-8") for p in NOTEBOOKS]
    # a line of code, or of a notebook's JSON source ("import x\n", "from x.y import z")
    imported = {m for text in sources for m in re.findall(r'^\s*"?\s*(?:import|from) ([A-Za-z_]\w*)', text, re.M)}
    modules_of = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            modules_of.setdefault(dist.lower().replace("_", "-"), set()).add(module)
    unused = [name for name in pins() if name not in TOOLS and not modules_of.get(name.lower(), set()) & imported]
    assert not unused, f"pinned but never imported and not a named tool: {unused}"


def test_make_help_lists_every_target():
    text = (REPO / "Makefile").read_text()
    targets = re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split()
    helped = set(re.findall(r"^## make ([\w-]+)", text, re.M))
    assert set(targets) - {"help", "format"} <= helped, "every target gets a `## make TARGET  what it does` line"


def test_the_formatter_decides_the_layout():
    """One formatting policy: ruff format at line length 120, with no `fmt: skip` fighting it."""
    skips = subprocess.run(
        [
            "git",
            "grep",
            "-n",
            "fmt: skip",
            "--",
            "helpers",
            "tests",
            "benchmarks",
            "labs",
            "notebooks",
            ":!tests/test_project.py",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert len(skips) <= 10 and all("fmt: skip (" in line for line in skips), "\n".join(skips)


# Imported inside a function on purpose: heavy or optional, and needed by a few functions only.
LAZY = {"matplotlib", "pandas", "seaborn", "ipywidgets", "captum", "torchvision", "PIL", "papermill", "nbval"}
LAZY |= {"IPython", "tqdm", "torch.utils.tensorboard"}


def _package_imports():
    """(module, line, imported module, names, inside a function?) for every import in helpers/."""
    import ast

    for path in sorted((REPO / "helpers").rglob("*.py")):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        tree, lines = ast.parse(path.read_text()), path.read_text().splitlines()
        local = {
            id(node)
            for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for node in ast.walk(f)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [a.name for a in node.names]
                yield module, lines[node.lineno - 1], node.module, names, id(node) in local
            elif isinstance(node, ast.Import):
                for a in node.names:
                    yield module, lines[node.lineno - 1], a.name, [], id(node) in local


def test_the_import_graph_has_no_cycle_and_no_borrowed_private_names():
    modules = {m for m, *_ in _package_imports()}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, _line, target, names, _ in _package_imports():
        if not target.startswith("helpers"):
            continue
        for name in names or [""]:
            full = f"{target}.{name}" if f"{target}.{name}" in modules else target
            if full in modules and full != module:
                graph[module].add(full)
        private = [n for n in names if n.startswith("_") and target != module]
        assert not private, f"{module} imports {target}'s private {private}: make it public or move it"

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    cycles = sorted(m for m in modules if m in reach(m))
    assert not cycles, f"modules in an import cycle (counting imports inside functions): {cycles}"


def test_imports_inside_functions_are_only_for_heavy_or_optional_packages():
    """The package's own modules and the standard library are imported at the top; a function-local
    import is a heavy or optional package (LAZY), the command line's per-command imports, or says why."""
    odd = [
        f"{module}: {line.strip()}"
        for module, line, target, _, inside in _package_imports()
        if inside
        and module != "helpers.course.cli"
        and not any(target == lazy or target.startswith(lazy + ".") for lazy in LAZY)
        and "#" not in line
    ]
    assert not odd, "function-local imports with no reason given:\n" + "\n".join(odd)


def test_the_wheel_lists_every_package_and_carries_the_references():
    """pyproject.toml names the packages (to map reference/ into the wheel): none may be left out."""
    tomllib = pytest.importorskip("tomllib", reason="Python 3.11+ reads pyproject.toml")
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = sorted(".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "helpers").rglob("__init__.py"))
    assert sorted(setuptools["packages"]) == sorted([*found, "helpers.reference_runs"]), (
        "add the new package to [tool.setuptools] packages in pyproject.toml"
    )
    assert setuptools["package-dir"] == {"helpers.reference_runs": "reference"}
    assert list((REPO / "reference").glob(setuptools["package-data"]["helpers.reference_runs"][0])), "no reference file"
