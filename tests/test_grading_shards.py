"""`grade --shard I/N` and `grade --merge`: a class graded in shards merges to the table of one run."""

from __future__ import annotations

import csv
import importlib.util
import json

import nbformat
import pytest
from lab_run import LAB, REPO, cli, lab01_output

from helpers.course import cells, grading, shards


def grade_class_module():
    spec = importlib.util.spec_from_file_location("grade_class", REPO / "benchmarks" / "grade_class.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class benchmark's 40 submissions, plus malformed entries, graded once whole and once as 2 shards."""
    bench, out = grade_class_module(), lab01_output()
    root = tmp_path_factory.mktemp("class")
    labs, subs = root / "labs", root / "submissions"
    labs.mkdir()
    (labs / f"{LAB}.ipynb").write_bytes((REPO / "labs" / f"{LAB}.ipynb").read_bytes())
    nb = cells.read_notebook(out / f"{LAB}.ipynb")
    results = json.loads((out / f"{LAB}.json").read_text(encoding="utf-8"))
    bench.write_class(bench.build(nb, results, labs, subs), subs)
    (subs / "zoe").mkdir()
    (subs / "zoe" / f"{LAB}.ipynb").write_text('{"cells": [')  # corrupt
    (subs / "zoe" / "notes.txt").write_text("see you")
    nbformat.write(nb, subs / "honest-00" / "99_extra.ipynb")  # a second notebook, of no lab
    (subs / "loose.ipynb").write_text("{}")  # files lying in the folder itself
    (subs / "readme.md").write_text("hi")
    (subs / ".hidden").mkdir()
    (subs / "empty-student").mkdir()
    (subs / "yan").mkdir()
    (subs / "yan" / "results.json").write_text("{")

    def grade(*args):
        proc = cli("grade", *args, "--labs", str(labs))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    grade(str(subs), "--out", str(root / "whole"))
    for i in (1, 2):
        grade(str(subs), "--shard", f"{i}/2", "--out", str(root / f"shard-{i}-of-2"))
    return root, subs


def rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def merge(root, *names, out="merged"):
    return cli("grade", "--merge", *(str(root / n) for n in names), "--out", str(root / out))


@pytest.mark.parametrize("names", [("shard-1-of-2", "shard-2-of-2"), ("shard-2-of-2", "shard-1-of-2")])
def test_shards_merge_to_the_table_of_one_run(graded, names):
    root, subs = graded
    out = f"merged-{names[0]}"
    proc = merge(root, *names, out=out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    whole, merged = root / "whole", root / out
    assert (merged / "grades.csv").read_bytes() == (whole / "grades.csv").read_bytes()
    assert (merged / "answers.csv").read_bytes() == (whole / "answers.csv").read_bytes()
    pages = sorted(p.name for p in whole.glob("*.html"))
    assert pages == sorted(p.name for p in merged.glob("*.html")) and len(pages) >= 45
    assert all((merged / p).read_bytes() == (whole / p).read_bytes() for p in pages)
    every = rows(whole / "grades.csv")
    assert len(every) == 40 + 8 and {"corrupt", "not a notebook", "hidden", "no notebooks", "unknown lab"} <= {
        r["status"] for r in every
    }
    # each shard graded a part of the class, every row in exactly one of them
    parts = [{(r["student"], r["file"]) for r in rows(root / n / "grades.csv")} for n in names]
    assert all(0 < len(p) < len(every) for p in parts) and sum(map(len, parts)) == len(every)
    assert set().union(*parts) == {(r["student"], r["file"]) for r in every}


def test_a_students_files_stay_in_one_shard(graded):
    root, _ = graded
    owners = {}
    for i in (1, 2):
        for r in rows(root / f"shard-{i}-of-2" / "grades.csv"):
            owners.setdefault(r["student"], set()).add(i)
    assert all(len(found) == 1 for found in owners.values()), owners
    sizes = [sum(i in found for found in owners.values()) for i in (1, 2)]
    assert max(sizes) - min(sizes) <= 1, sizes  # dealt out in turn: even shards


def test_merge_refuses_a_missing_or_repeated_shard(graded):
    root, _ = graded
    proc = merge(root, "shard-1-of-2", out="only-one")
    assert proc.returncode == 2 and "graded in no shard (shards 2/2 are not given)" in proc.stderr
    second = json.loads((root / "shard-2-of-2" / shards.MANIFEST).read_text())["graded"][0]
    assert proc.stderr.startswith(f"error: {second} ")  # names a file of the missing shard
    proc = merge(root, "shard-1-of-2", "shard-1-of-2", out="twice")
    first = json.loads((root / "shard-1-of-2" / shards.MANIFEST).read_text())["graded"][0]
    assert proc.returncode == 2 and f"{first} was graded in more than one shard" in proc.stderr
    proc = merge(root, "shard-1-of-2", "whole", out="unsharded")
    assert proc.returncode == 2 and "has no shard.json" in proc.stderr
    assert not any((root / n).exists() for n in ("only-one", "twice", "unsharded"))
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "change, says",
    [
        (
            lambda m: m["listing"].append("late/01_sanity_checks.ipynb"),  # graded after a late submission arrived
            "late/01_sanity_checks.ipynb is in one listing and not the other",
        ),
        (lambda m: m.update(shard="2/3"), "different numbers of shards"),
    ],
)
def test_merge_refuses_shards_of_another_folder_or_split(graded, tmp_path, change, says):
    root, _ = graded
    for i in (1, 2):
        (tmp_path / f"s{i}").mkdir()
        for f in (root / f"shard-{i}-of-2").iterdir():
            (tmp_path / f"s{i}" / f.name).write_bytes(f.read_bytes())
    manifest = json.loads((tmp_path / "s2" / shards.MANIFEST).read_text())
    change(manifest)
    (tmp_path / "s2" / shards.MANIFEST).write_text(json.dumps(manifest))
    proc = merge(tmp_path, "s1", "s2")
    assert proc.returncode == 2 and says in proc.stderr and not (tmp_path / "merged").exists()


BAD_SPECS = [
    ("0/2", "I is one of 1..2"),
    ("3/2", "I is one of 1..2"),
    ("1/0", "N must be at least 1"),
    ("x", "takes I/N"),
    ("1-2", "takes I/N"),
]


@pytest.mark.parametrize("spec, says", BAD_SPECS)
def test_a_bad_shard_is_a_one_line_error(tmp_path, spec, says):
    (tmp_path / "subs" / "alice").mkdir(parents=True)
    proc = cli("grade", str(tmp_path / "subs"), "--shard", spec)
    assert proc.returncode == 2 and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "1 <= I <= N" in proc.stderr and not (tmp_path / "subs-grades-shard-1-of-2").exists()


def test_merge_needs_out_and_no_submissions(tmp_path):
    proc = cli("grade", "--merge", str(tmp_path))
    assert proc.returncode == 2 and "--merge needs --out DIR" in proc.stderr
    proc = cli("grade", str(tmp_path), "--merge", str(tmp_path), "--out", str(tmp_path / "o"))
    assert proc.returncode == 2 and "--merge takes only the shards' output folders" in proc.stderr
    proc = cli("grade")
    assert proc.returncode == 2 and "grade needs a SUBMISSIONS folder" in proc.stderr


def test_select_deals_students_in_sorted_order(tmp_path):
    for who in ("dan", "ann", "cat", "bob"):
        (tmp_path / who).mkdir()
        (tmp_path / who / "01_x.ipynb").write_text("{}")
    (tmp_path / "loose.ipynb").write_text("{}")
    entries = grading.submissions(tmp_path)
    picked = [[s for s, _, _ in shards.select(entries, (i, 2))] for i in (1, 2)]
    # sorted page names: (no folder) -> no_folder.html sorts after the letters: ann bob cat dan no_folder
    assert picked == [["ann", "cat", grading.NO_FOLDER], ["bob", "dan"]]
