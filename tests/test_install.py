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


@pytest.mark.skipif(not DATA.exists(), reason="needs data/fashion-mnist.pt (make data)")
def test_wheel_runs_lab01_outside_the_repository_with_read_only_data(tmp_path):
    src, wheels = tmp_path / "src", tmp_path / "wheels"  # built from a copy: the build leaves nothing in the checkout
    shutil.copytree(REPO / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, src)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(src)])
    (wheel,) = wheels.glob("image_classification_labs-*.whl")
    env_dir = tmp_path / "env"
    run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(env_dir)])
    python = env_dir / "bin" / "python"
    purelib = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    ours = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    Path(purelib, "deps-from-the-test-environment.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")
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
    proc = run([str(env_dir / "bin" / "labs"), "run", "01", "--profile", "smoke", "--out", "executed"], cwd=course,
               env=env, timeout=900)  # fmt: skip
    assert any(line.split()[:2] == ["01_sanity_checks", "ok"] for line in proc.stdout.splitlines()), proc.stdout
    result = json.loads((course / "executed" / "01_sanity_checks.json").read_text())
    assert result["metrics"]["val_top1"] > 0.5, "10 classes: chance is 0.10"
    assert sorted(p.name for p in shared.iterdir()) == before, "nothing written into the read-only data folder"
    code = "from helpers.config import default_dir; print(default_dir('LABS_RESULTS_DIR', 'results'))"
    results = run([str(python), "-c", code], cwd=course, env=env).stdout.strip()
    assert results == str(home / ".local/share/image-classification-labs/results"), "per user, not site-packages"
