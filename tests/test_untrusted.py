"""`python -m helpers grade` on hostile and malformed submissions: every file a row, nothing leaks.

Graded in-process on a tiny lab (tests/tiny_lab.py): no smoke run of the real labs, no kernel
after the tiny lab's one run.
"""

from __future__ import annotations

import csv
import os

import pytest
import tiny_lab
from lab_run import cli

from helpers.course import grading, untrusted
from helpers.errors import LabError


def grade(root, **kwargs):
    """Grade root in-process; the rows of grades.csv by (student, file), and the output folder."""
    _, out = grading.grade_folder(root, labs_dir=tiny_lab.executed() / "labs", **kwargs)
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        return {(r["student"], r["file"]): r for r in csv.DictReader(f)}, out


def malformed(change):
    nb, _ = tiny_lab.run_json()
    change(nb)
    return nb


def _code(nb, n=0):
    """The n-th code cell that has an output."""
    return [c for c in nb["cells"] if c["cell_type"] == "code" and c["outputs"]][n]


def _error_output(nb):
    _code(nb)["outputs"] = [{"output_type": "error", "ename": "ValueError", "evalue": 5, "traceback": []}]


MALFORMED = {
    "no cell_type": (lambda nb: nb["cells"][2].pop("cell_type"), "cell 2 has no cell_type"),
    "source 5": (lambda nb: nb["cells"][2].update(source=5), "cell 2 has source of type int"),
    "execution_count '7'": (lambda nb: nb["cells"][2].update(execution_count="7"), "execution_count '7'"),
    "error evalue 5": (_error_output, "(error) has evalue of type int"),
    "stream text 5": (lambda nb: _code(nb)["outputs"][0].update(text=5), "(stream) has text of type int"),
    "papermill 'x'": (lambda nb: nb["metadata"].update(papermill="x"), "metadata.papermill is a str"),
    "cells a dict": (lambda nb: nb.update(cells={}), "not a valid notebook"),
    "tags a string": (lambda nb: nb["cells"][1]["metadata"].update(tags="parameters"), "tags that are not a list"),
    "outputs None": (lambda nb: nb["cells"][2].update(outputs=None), "outputs that are not a list"),
}


@pytest.mark.parametrize("case", MALFORMED, ids=list(MALFORMED))
def test_a_malformed_notebook_is_one_corrupt_row_and_the_run_goes_on(tmp_path, case):
    change, why = MALFORMED[case]
    tiny_lab.submit(tmp_path / "subs", "alice")
    tiny_lab.submit(tmp_path / "subs", "mallory", malformed(change))
    rows, _ = grade(tmp_path / "subs")
    assert rows[("alice", "01_tiny.ipynb")]["score"] == "2" and rows[("alice", "01_tiny.ipynb")]["status"] == "graded"
    bad = rows[("mallory", "01_tiny.ipynb")]
    assert bad["status"] == "corrupt" and why in bad["problems"], bad


def test_a_results_file_whose_metrics_are_a_list_is_a_note_not_a_crash(tmp_path):
    _, results = tiny_lab.run_json()
    tiny_lab.submit(tmp_path / "subs", "bob", results={**results, "metrics": [0.99]})
    tiny_lab.submit(tmp_path / "subs", "carol", results="[1, 2]")
    rows, _ = grade(tmp_path / "subs")
    bob, carol = rows[("bob", "01_tiny.ipynb")], rows[("carol", "01_tiny.ipynb")]
    assert bob["status"] == "graded" and bob["score"] == "2" and "metrics are a list" in bob["problems"]
    assert carol["status"] == "graded" and "a JSON list, not an object" in carol["problems"]


def test_the_per_file_guard_turns_a_grader_error_into_a_row(tmp_path, monkeypatch):
    tiny_lab.submit(tmp_path / "subs", "alice")
    tiny_lab.submit(tmp_path / "subs", "bob")
    calls = []

    def fails_the_second_time(lab_nb, sub_nb):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return []

    monkeypatch.setattr(grading, "written_answers", fails_the_second_time)
    rows, _ = grade(tmp_path / "subs")
    assert rows[("alice", "01_tiny.ipynb")]["status"] == "graded"
    bob = rows[("bob", "01_tiny.ipynb")]
    assert bob["status"] == "corrupt" and "RuntimeError: boom" in bob["problems"]


def test_symlinks_are_refused_never_followed(tmp_path):
    subs = tmp_path / "subs"
    alice = tiny_lab.submit(subs, "alice")
    (subs / "mallory").mkdir()
    (subs / "mallory" / "01_tiny.ipynb").symlink_to("/etc/passwd")
    (subs / "trudy").mkdir()
    (subs / "trudy" / "01_tiny.ipynb").symlink_to(alice)
    (subs / "oscar").symlink_to(subs / "alice", target_is_directory=True)
    tiny_lab.submit(subs, "eve", results=None)
    (subs / "eve" / "01_tiny.json").symlink_to(alice.with_suffix(".json"))
    rows, out = grade(subs)
    for who in ("mallory", "trudy"):
        assert (
            rows[(who, "01_tiny.ipynb")]["status"] == "refused"
            and "symbolic link" in rows[(who, "01_tiny.ipynb")]["problems"]
        )
    assert rows[("oscar", "oscar")]["status"] == "refused"
    assert (
        rows[("eve", "01_tiny.ipynb")]["val_top1"] == "-"
        and "symbolic link" in rows[("eve", "01_tiny.ipynb")]["problems"]
    )
    pages = "".join(p.read_text() for p in out.glob("*.html"))
    assert "root:" not in pages and "root:" not in (out / "grades.csv").read_text()


def test_a_pipe_is_refused_without_hanging(tmp_path):
    (tmp_path / "subs" / "pat").mkdir(parents=True)
    os.mkfifo(tmp_path / "subs" / "pat" / "01_tiny.ipynb")
    rows, _ = grade(tmp_path / "subs")
    assert rows[("pat", "01_tiny.ipynb")]["status"] == "refused"


def test_hidden_and_checkpoint_only_folders_get_a_row(tmp_path):
    subs = tmp_path / "subs"
    tiny_lab.submit(subs, ".zoe")
    (subs / "yan" / ".ipynb_checkpoints").mkdir(parents=True)
    (subs / "yan" / ".ipynb_checkpoints" / "01_tiny-checkpoint.ipynb").write_text("{}")
    (subs / "xia").mkdir()
    tiny_lab.submit(subs, "wes")
    (subs / "wes" / ".ipynb_checkpoints").mkdir()  # beside a notebook: not a row of its own
    rows, _ = grade(subs)
    assert rows[(".zoe", ".zoe")]["status"] == "hidden"
    assert rows[("yan", "yan")]["status"] == "no notebooks" and "only hidden files" in rows[("yan", "yan")]["problems"]
    assert rows[("xia", "xia")]["problems"] == "the folder is empty"
    assert [k for k in rows if k[0] == "wes"] == [("wes", "01_tiny.ipynb")]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    subs = tmp_path / "subs"
    _, results = tiny_lab.run_json()
    tiny_lab.submit(subs, '=HYPERLINK("evil.example","y")', results={**results, "profile": "@SUM(1)"})
    tiny_lab.submit(subs, "+1", results={**results, "profile": "\t=1"})
    tiny_lab.submit(subs, "Zoë 🙂")
    rows, out = grade(subs)
    text = (out / "grades.csv").read_bytes().decode("utf-8")
    for row in rows.values():
        for value in row.values():
            assert not value.startswith(untrusted.FORMULA_START) or value == "-", value
    assert ('\'=HYPERLINK("evil.example","y")', "01_tiny.ipynb") in rows and "'@SUM(1)" in text
    assert ("Zoë 🙂", "01_tiny.ipynb") in rows
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == [], "written atomically"
    assert untrusted.neutral("-") == "-" and untrusted.neutral("-1+1") == "'-1+1" and untrusted.neutral(3) == 3


def test_out_is_never_silently_overwritten(tmp_path):
    subs = tmp_path / "subs"
    tiny_lab.submit(subs, "alice")
    _, first = grade(subs)
    _, second = grade(subs)
    assert first.name == "subs-grades" and second.name == "subs-grades-2", "a new run folder each time"
    before = (first / "grades.csv").read_bytes()
    with pytest.raises(LabError, match="already holds files"):
        grade(subs, out=first)
    assert (first / "grades.csv").read_bytes() == before
    grade(subs, out=first, force=True)


@pytest.mark.parametrize("where", ["inside", "itself", "file", "labs"])
def test_bad_folders_are_errors_before_anything_runs(tmp_path, where):
    subs = tmp_path / "subs"
    tiny_lab.submit(subs, "alice")
    (tmp_path / "a-file").write_text("x")
    args = {
        "inside": ["--out", str(subs / "grades")],
        "itself": ["--out", str(subs)],
        "file": ["--out", str(tmp_path / "a-file")],
        "labs": ["--labs", str(tmp_path / "lasb")],
    }[where]
    proc = cli("grade", str(subs), *args)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "grading" not in proc.stdout and sorted(p.name for p in subs.iterdir()) == ["alice"]
    assert not (tmp_path / "subs-grades").exists()
    why = {
        "inside": "inside the submissions",
        "itself": "inside the submissions",
        "file": "is a file",
        "labs": "No lab notebooks",
    }[where]
    assert why in proc.stderr
