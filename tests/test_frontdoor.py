"""The way in: a one-screen README, blank labs that cannot go stale, links from one address, and the
line every lab prints about its profile and running time."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import nbformat

from helpers import catalog
from helpers.course import cells, frontdoor

REPO = Path(__file__).resolve().parent.parent


def test_nothing_the_front_door_makes_is_stale():
    """student/, every lab's install cell and time line, and the README's table match labs/ and catalog.py."""
    proc = subprocess.run(
        [sys.executable, "-m", "helpers", "frontdoor", "--check"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"stale (run `make student`):\n{proc.stdout}{proc.stderr}"


def test_a_changed_lab_makes_its_blank_version_stale(tmp_path):
    """The check can fail: an edited lab without a regenerated student/ copy is named."""
    root = tmp_path / "repo"
    for name in ("labs", "student"):
        (root / name).mkdir(parents=True)
        for path in (REPO / name).glob("*.ipynb"):
            (root / name / path.name).write_bytes(path.read_bytes())
    for name in ("pyproject.toml", "README.md"):
        (root / name).write_bytes((REPO / name).read_bytes())
    assert frontdoor.stale(root) == {}
    lab = root / "labs" / "03_augmentation.ipynb"
    nb = nbformat.read(lab, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new closing remark."))
    nbformat.write(nb, lab)
    assert set(frontdoor.stale(root)) == {root / "student" / "03_augmentation.ipynb"}
    frontdoor.write(root)
    assert frontdoor.stale(root) == {}
    blank = (root / "student" / "03_augmentation.ipynb").read_text()
    assert "A new closing remark." in blank and "### BEGIN SOLUTION" not in blank


def test_readme_is_one_screen_with_the_two_commands_and_every_lab():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 150
    assert "make labs" in text and "make test" in text
    assert "make test" in (REPO / ".ci" / "run").read_text(), ".ci/run calls the README's test command"
    for entry in catalog.LABS:
        links = frontdoor.launch_links(entry.name, frontdoor.repository())
        assert links["colab"] in text and links["kaggle"] in text, f"{entry.name}: no Colab/Kaggle link"
    assert "student/01_sanity_checks.ipynb" in text.split("## Start")[1].split("##")[0], "the blank lab, first"


def test_student_versions_are_blank_and_open_from_the_links():
    repo = frontdoor.repository()
    for entry in catalog.LABS:
        blank = cells.read_notebook(REPO / "student" / f"{entry.name}.ipynb")
        assert not any(cells.has_solution(c) for c in blank.cells), f"{entry.name}: a solution in the blank lab"
        assert any("raise NotImplementedError" in c.source for c in blank.cells), f"{entry.name}: no exercise left"
        assert frontdoor.launch_links(entry.name, repo)["colab"].endswith(f"/blob/main/student/{entry.name}.ipynb")


def test_the_install_cell_names_the_repository_and_is_short():
    spec = frontdoor.package_spec(frontdoor.repository())
    for path in sorted((REPO / "labs").glob("*.ipynb")):
        nb = cells.read_notebook(path)
        (cell,) = [c for c in nb.cells if cells.HOSTED_TAG in c.metadata.get("tags", [])]
        assert f'PACKAGE = "{spec}"' in cell.source, f"{path.name}: the install cell installs something else"
        assert len(cell.source.splitlines()) <= 11, f"{path.name}: the install cell should read at a glance"


def test_every_title_cell_states_its_measured_times():
    for entry in catalog.LABS:
        nb = cells.read_notebook(REPO / "labs" / f"{entry.name}.ipynb")
        line = re.search(r"^\*\*Running time\*\*.*$", nb.cells[0].source, re.M)
        assert line, f"{entry.name}: the title cell does not say how long the lab runs"
        assert f"`quick` {'at most' if entry.quick_shared else 'about'} {catalog.minutes(entry.quick_cpu_min)} min" in (
            line.group(0)
        )


def test_auto_says_so_before_a_long_run_and_how_to_pick_quick(monkeypatch):
    long_gpu = catalog.banner("07_vit", "auto", "full", "cuda")  # not timed on a GPU: may take hours
    assert long_gpu.startswith("LONG RUN") and 'profile = "quick"' in long_gpu and "LABS_PROFILE=quick" in long_gpu
    timed = catalog.banner("06_resnet20", "auto", "full", "cuda")  # 33 min measured: over the 30-minute line
    assert timed.startswith("LONG RUN") and "33 min" in timed
    asked = catalog.banner("07_vit", "full", "full", "cuda")  # the student chose full: no warning
    assert not asked.startswith("LONG RUN") and "profile full on cuda" in asked
    quick = catalog.banner("03_augmentation", "auto", "quick", "cpu")  # timed alone: "about"
    assert (
        quick == "03_augmentation: profile quick (chosen by auto) on cpu, expected time: about 8 min on a 2-core CPU."
    )
    # a lab timed beside other runs (none is today): "at most"
    monkeypatch.setattr(
        catalog,
        "LABS",
        tuple(replace(e, quick_cpu_min=2, quick_shared=True) if e.number == "01" else e for e in catalog.LABS),
    )
    shared = catalog.banner("01_sanity_checks", "auto", "quick", "cpu")
    assert shared.endswith("expected time: at most 2 min on a 2-core CPU.")


def test_setup_prints_the_profile_and_time_first(capsys):
    from helpers.config import setup

    setup("10_evaluation", "smoke", device="cpu")
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "10_evaluation: profile smoke on cpu, expected time: seconds to a minute."


def test_the_citation_names_the_same_repository_and_site():
    text = (REPO / "CITATION.cff").read_text()
    repo = frontdoor.repository()
    assert f'repository-code: "{repo}"' in text and f'url: "{frontdoor.site_url(repo)}"' in text
