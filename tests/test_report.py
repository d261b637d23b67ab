"""The course report (`python -m helpers report`, notebooks/report.ipynb) and notebooks/00_setup.ipynb."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib.metadata import PackageNotFoundError

import nbformat
import papermill
import pytest
from lab_run import LAB, REPO, cli, lab01_output

from helpers.course import report, setup_check
from helpers.errors import LabError


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The smoke run's results, a second lab's (a copy, renamed), and one malformed file."""
    folder = tmp_path_factory.mktemp("results")
    for path in lab01_output().glob(f"{LAB}.*"):  # lab 01's notebook and results, not the other labs'
        shutil.copy(path, folder)
    data = json.loads((folder / f"{LAB}.json").read_text())
    (folder / "98_copy.json").write_text(json.dumps({**data, "lab": "98_copy", "model": "SimpleNN <b>"}))
    (folder / "99_broken.json").write_text('{"lab": "99_broken", "metrics": ')
    return folder, data


def test_report_writes_a_row_per_lab_and_lists_problems(results):
    folder, data = results
    proc = cli("report", str(folder))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    md = (folder / "report.md").read_text()
    table = md.split("## Results of every lab")[1].split("##")[0]
    rows = [line for line in table.splitlines() if line.startswith(f"| {LAB} |") or line.startswith("| 98_copy |")]
    top1 = f"{data['metrics']['test_top1']:.1%}"
    assert rows[0].startswith(f"| {LAB} | SimpleNN | fashion-mnist | smoke | {top1} |") and "| 81,630 |" in rows[0]
    assert rows[1].startswith("| 98_copy | SimpleNN &lt;b&gt; | fashion-mnist |") and len(rows) == 2
    assert "99_broken.json: not valid JSON" in md and "99_broken.json: not valid JSON" in proc.stdout
    html = (folder / "report.html").read_text()
    assert "<td>SimpleNN &lt;b&gt;</td>" in html and '<img alt="training curves" src="data:image/png;base64,' in html
    assert f"<td>{data['versions']['torch']}</td>" in html and "99_broken.json" in html
    assert (folder / "report_curves.png").read_bytes()[:4] == b"\x89PNG"


def test_results_table_is_a_dataframe_with_one_row_per_lab(results):
    folder, data = results
    table = report.results_table(folder)
    assert list(table.index) == [LAB, "98_copy"]
    assert table.loc[LAB, "top-1"] == round(data["metrics"]["test_top1"], 4) and table.loc[LAB, "split"] == "test"
    assert table.loc[LAB, "params"] == 81_630 and table.loc[LAB, "epochs"] == data["epochs"]


def test_a_missing_results_folder_is_a_clear_error(tmp_path):
    with pytest.raises(LabError, match="run the labs first"):
        report.results_table(tmp_path / "nowhere")
    proc = cli("report", str(tmp_path / "nowhere"))
    assert proc.returncode == 2 and "run the labs first" in proc.stderr and "Traceback" not in proc.stderr


def execute(name: str, out, **parameters):
    notebooks = REPO / "notebooks"
    papermill.execute_notebook(
        str(notebooks / name),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(notebooks),
        progress_bar=False,
    )


def test_report_notebook_executes(results, tmp_path):
    folder, _ = results
    out = tmp_path / "report.ipynb"
    execute("report.ipynb", out, results_dir=str(folder))
    nb = nbformat.read(out, as_version=4)
    shown = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    html = "".join(o.get("data", {}).get("text/html", "") for o in shown)
    assert LAB in html and "98_copy" in html, "the table is displayed"
    assert any("image/png" in o.get("data", {}) for o in shown), "the curves are displayed"


def test_setup_notebook_executes_and_reports_each_check(tmp_path):
    out = tmp_path / "00_setup.ipynb"
    execute("00_setup.ipynb", out)
    text = "".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", []))
    assert "OK    torch: 2.14.1" in text and "device: torch" in text
    assert "dataset fashion-mnist: fashion-mnist: 60000 train + 10000 test images" in text
    assert "dataset cifar10" in text and "checks OK" in text


def test_setup_checks_say_what_to_do(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# pins\ntorch==0.0.1\nnumpy==2.0.0\nno-such-package-here==1.0\npytest==9.2.0  # tests\n"
        "ruff==0.0.1\nhypothesis==1.0\n"
    )
    monkeypatch.setattr(setup_check, "INSTRUCTOR_TOOLS", {"hypothesis", "ruff", "pytest"})
    real = setup_check.version
    monkeypatch.setattr(
        setup_check,
        "version",
        lambda n: (_ for _ in ()).throw(PackageNotFoundError(n)) if n == "hypothesis" else real(n),
    )
    checks = {c.name: c for c in setup_check.check_versions(requirements)}
    assert not checks["torch"].ok and "another major version" in checks["torch"].detail  # 2.x against 0.x
    assert checks["numpy"].ok and checks["numpy"].warn and checks["numpy"].line().startswith("WARN  numpy: 2.")
    assert not checks["no-such-package-here"].ok and "make install" in checks["no-such-package-here"].line()
    assert checks["pytest"].ok and checks["pytest"].line() == "OK    pytest: 9.2.0"
    tool = checks["hypothesis"]
    assert tool.ok and tool.warn and "labs run without it" in tool.detail
    assert not checks["ruff"].ok, "an instructor tool of another major version still fails"
    missing = setup_check.check_datasets(tmp_path / "empty", ["cifar10"])[0]
    assert not missing.ok and "python -m helpers data fetch cifar10" in missing.line()
    assert not setup_check.check_device("tpu").ok


def test_make_labs_writes_the_report_even_when_a_lab_fails(tmp_path):
    log, fake = tmp_path / "calls.log", tmp_path / "python"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\ncase "$*" in *" run "*) exit 3;; esac\n')
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    proc = subprocess.run(
        ["make", "-o", "data", "labs", f"PY={fake}", f"OUT={tmp_path / 'out'}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode != 0, "a failed run still fails make"
    calls = log.read_text().splitlines()
    assert calls[0].startswith("-m helpers run") and calls[1] == f"-m helpers report {tmp_path / 'out'}"


def test_report_survives_hostile_results_and_escapes_its_problem_list(tmp_path):
    good = {
        "lab": "97_huge",
        "model": "M",
        "dataset": "d",
        "profile": "smoke",
        "metrics": {"val_top1": 0.5},
        "epochs": 10**400,
        "params": 10**400,
        "total_seconds": float("inf"),
        "history": [
            "row",
            {"epoch": "one", "val_loss": "x", "train_top1": None},
            {"epoch": 10**400, "val_loss": 1.0},
            {"epoch": 3, "val_loss": 0.9},
        ],
    }
    (tmp_path / "97_huge.json").write_text(json.dumps(good))
    (tmp_path / "[x](javascript:alert(1)) <b>.json").write_text("{")
    (tmp_path / "96_link.json").symlink_to(tmp_path / "97_huge.json")
    html, md, problems = report.write_report(tmp_path)
    text = md.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if line.startswith("| 97_huge |"))
    assert "| 50.0% |" in row and row.count("| - |") >= 3, row
    assert "\\[x\\](javascript:alert(1)) &lt;b&gt;.json: not valid JSON" in text and "<b>" not in text
    assert "96_link.json: a symbolic link" in text and "&lt;b&gt;" in html.read_text()
    assert (tmp_path / "report_curves.png").read_bytes()[:4] == b"\x89PNG"
