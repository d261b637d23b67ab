"""The package installed as a user installs it: a wheel, not editable, run outside the repository.

The wheel is built from this checkout and installed with `--no-deps` into a fresh virtual
environment whose dependencies come from the test's own environment (a `.pth` line naming its
site-packages), so nothing is downloaded. Then, from a folder holding only a copied lab notebook
and with a data folder nobody may write, `labs run` executes lab 01 in smoke: it must import
`helpers` from the wheel, find the lab in the working folder, read the data without writing
there, and default its results to the per-user folder rather than site-packages.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import stat
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data" / "fashion-mnist.pt"


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The package's wheel, built from a copy: the build leaves nothing in the checkout."""
    tmp = tmp_path_factory.mktemp("wheel")
    src, wheels = tmp / "src", tmp / "wheels"
    shutil.copytree(REPO / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "reference", src / "reference")  # packaged as helpers/reference_runs
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)])
    (found,) = wheels.glob("image_classification_labs-*.whl")
    return found


def fresh_env(env_dir: Path, deps: list[str] | None = None) -> Path:
    """A new virtual environment without the package, whose dependencies (pip too) are the test environment's,
    or those of the site-packages folders in `deps`."""
    # without its own pip and setuptools: an old bundled setuptools would shadow the one torch requires
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(env_dir)])
    python = env_dir / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    ours = deps or [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    Path(purelib, "deps-from-the-test-environment.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")
    return python


@pytest.mark.full_tier("builds the wheel, installs it in a new environment and runs lab 01")
@pytest.mark.skipif(not DATA.exists(), reason="needs data/fashion-mnist.pt (make data)")
def test_wheel_runs_lab01_outside_the_repository_with_read_only_data(tmp_path, wheel):
    env_dir = tmp_path / "env"
    python = fresh_env(env_dir)
    run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)])

    course, home = tmp_path / "course", tmp_path / "home"
    course.mkdir(), home.mkdir()
    shutil.copy(REPO / "labs" / "01_sanity_checks.ipynb", course)
    shared = tmp_path / "shared-data"  # a class's read-only copy of the data
    shared.mkdir()
    shutil.copy(DATA, shared)
    for p in (shared / DATA.name, shared):
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    before = sorted(p.name for p in shared.iterdir())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABS_", "XDG_", "PYTHON"))}
    env.update(HOME=str(home), LABS_DATA_DIR=str(shared), LABS_HEADLESS="1", MPLBACKEND="Agg")

    where = run([str(python), "-c", "import helpers; print(helpers.__file__)"], cwd=course, env=env).stdout
    assert where.startswith(str(env_dir)), f"helpers came from {where}, not the installed wheel"
    code = "from helpers.references import find; print(find('01_sanity_checks', 'quick', 'fashion-mnist')['lab'])"
    assert run([str(python), "-c", code], cwd=course, env=env).stdout.strip() == "01_sanity_checks", (
        "the wheel carries the reference runs, so a hosted lab draws them under the student's curve"
    )
    proc = run(
        [str(env_dir / "bin" / "labs"), "run", "01", "--profile", "smoke", "--out", "executed"],
        cwd=course,
        env=env,
        timeout=900,
    )
    assert any(line.split()[:2] == ["01_sanity_checks", "ok"] for line in proc.stdout.splitlines()), proc.stdout
    result = json.loads((course / "executed" / "01_sanity_checks.json").read_text())
    assert result["metrics"]["val_top1"] > 0.5, "10 classes: chance is 0.10"
    assert sorted(p.name for p in shared.iterdir()) == before, "nothing written into the read-only data folder"
    code = "from helpers.config import default_dir; print(default_dir('LABS_RESULTS_DIR', 'results'))"
    results = run([str(python), "-c", code], cwd=course, env=env).stdout.strip()
    assert results == str(home / ".local/share/image-classification-labs/results"), "per user, not site-packages"


def hosted_cell(package) -> str:
    """Lab 01's hosted-setup cell as `labs student --package` writes it."""
    from helpers.course import cells, student

    nb = cells.read_notebook(REPO / "labs" / "01_sanity_checks.ipynb")
    student.set_package(nb, package)
    (cell,) = [c for c in nb.cells if cells.HOSTED_TAG in c.metadata.get("tags", [])]
    return cell.source


LOWEST = REPO / ".venv-lowest"  # `make lowest`: every dependency at its floor, torch 2.11 among them
LOWEST_SITE = sorted(LOWEST.glob("lib/python3*/site-packages"))
PLATFORMS = {
    "pinned-torch": None,
    "lowest-torch": pytest.param(
        LOWEST_SITE,
        marks=pytest.mark.skipif(
            not LOWEST_SITE, reason="no .venv-lowest: `make lowest` installs the lowest allowed torch"
        ),
    ),
}


@pytest.mark.full_tier("builds the wheel and installs it in a new environment, as a hosted notebook would")
@pytest.mark.parametrize("deps", PLATFORMS.values(), ids=PLATFORMS.keys())
def test_hosted_setup_installs_the_package_and_keeps_the_platforms_torch(tmp_path, wheel, deps):
    """A Kaggle kernel (its environment variable) without the package: the first cell, as shipped in every lab,
    installs the wheel from the local file, offline, and the platform's torch and torchvision stay the ones already
    there, same files and versions — the pinned torch, and the oldest one the package allows. Outside a hosted
    notebook, or once the package is there, the cell does nothing."""
    python = fresh_env(tmp_path / "env", [str(p) for p in deps] if deps else None)
    torch_ = "torch.__file__, torch.__version__, torchvision.__version__"
    where = f"import helpers.config, torch, torchvision; print(helpers.config.__file__, {torch_})"
    probe = f"import importlib.util, torch, torchvision; print(importlib.util.find_spec('helpers'), {torch_})"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAGGLE_", "PYTHON", "PIP_"))}
    env.update(PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    platform = run([str(python), "-c", probe], cwd=tmp_path, env=env).stdout.split()
    assert platform[0] == "None", "the fresh environment must not have the package yet"

    cell = hosted_cell(str(wheel))
    run([str(python), "-c", cell], cwd=tmp_path, env=env)  # not hosted: nothing installed
    assert run([str(python), "-c", probe], cwd=tmp_path, env=env).stdout.split()[0] == "None"

    hosted = {**env, "KAGGLE_KERNEL_RUN_TYPE": "Interactive"}
    run([str(python), "-c", cell + "\n" + where], cwd=tmp_path, env=hosted)  # imports in the same process
    after = run([str(python), "-c", where], cwd=tmp_path, env=env).stdout.split()
    assert after[0].startswith(str(tmp_path / "env")), f"helpers came from {after[0]}, not the installed wheel"
    assert after[1:] == platform[1:], "the platform's torch and torchvision were replaced"

    again = hosted_cell(str(tmp_path / "no-such.whl"))  # installed now: the cell must not try again
    run([str(python), "-c", again], cwd=tmp_path, env=hosted)


def test_every_lab_has_the_same_hosted_setup_cell_before_its_parameters():
    from helpers.course import cells

    sources = {}
    for path in sorted((REPO / "labs").glob("*.ipynb")):
        nb = cells.read_notebook(path)
        tags = [c.metadata.get("tags", []) for c in nb.cells]
        hosted = [i for i, t in enumerate(tags) if cells.HOSTED_TAG in t]
        params = [i for i, t in enumerate(tags) if "parameters" in t]
        assert len(hosted) == 1 and hosted[0] < params[0], f"{path.name}: one hosted-setup cell, before the parameters"
        sources[path.name] = nb.cells[hosted[0]].source
    assert len(set(sources.values())) == 1, "the labs' hosted-setup cells differ: keep them identical"
