"""`grade --reproduce`: re-running submissions in isolation with the lab's check cells restored.

On the tiny lab (tests/tiny_lab.py): honest, wrong, forged and malicious submissions, two
workers. Where bubblewrap works, the malicious one must leave every file outside its throwaway
folder byte-for-byte unchanged; everywhere, it cannot change anyone's grade.
"""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import tiny_lab

from helpers.course import grading, reproduce

OPTIONS = {"cell_timeout": 60, "notebook_timeout": 180}


def snapshot(folder):
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_honest_wrong_forged_and_malicious_submissions(tmp_path):
    labs = tmp_path / "labs"
    shutil.copytree(tiny_lab.executed() / "labs", labs)
    nb, results = tiny_lab.run_json()
    subs = tmp_path / "subs"
    tiny_lab.submit(subs, "honest")
    wrong = json.loads(json.dumps(nb))
    wrong["cells"][3]["source"] = "def mean(xs):\n    return 0.5"  # outputs left as the honest run's
    tiny_lab.submit(subs, "wrong", wrong)
    forged = json.loads(json.dumps(nb))
    forged["cells"][6]["outputs"][0]["text"] = "val top-1 0.9900\n"
    tiny_lab.submit(subs, "forger", forged, results={**results, "metrics": {**results["metrics"], "val_top1": 0.99}})
    unmarked = json.loads(json.dumps(forged))
    unmarked["cells"][6]["source"] = unmarked["cells"][6]["source"].replace("# NBVAL_CHECK_OUTPUT\n", "")
    tiny_lab.submit(subs, "unmarked", unmarked)
    tagger = json.loads(json.dumps(wrong))
    tagger["cells"][4]["metadata"]["tags"] = ["raises-exception", "skip-execution"]
    tiny_lab.submit(subs, "tagger", tagger)
    payload = (
        "import os, pathlib, socket\n"
        f"for p in pathlib.Path({str(labs)!r}).glob('*.ipynb'):\n"
        "    try: p.write_text('{}')\n    except OSError: pass\n"
        f"for p in pathlib.Path({str(subs)!r}).rglob('*'):\n"
        "    try: p.write_text('{}') if p.is_file() else None\n    except OSError: pass\n"
        "pathlib.Path(os.path.expanduser('~/.pwned')).write_text('x')\n"
        "try:\n    socket.create_connection(('127.0.0.1', 22), timeout=2); print('network: open')\n"
        "except OSError:\n    print('network: closed')\n"
        "print('cwd', os.getcwd() == os.environ['HOME'])"
    )
    malicious = json.loads(json.dumps(nb))
    malicious["cells"].insert(
        3,
        {"cell_type": "code", "execution_count": 3, "id": "payload", "metadata": {}, "outputs": [], "source": payload},
    )
    tiny_lab.submit(subs, "mallory", malicious)
    before = snapshot(subs) | snapshot(labs)

    grades, out = grading.grade_folder(
        subs, tmp_path / "grades", labs_dir=labs, reproduce=True, workers=2, options=OPTIONS
    )
    with open(out / "grades.csv", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    isolation = reproduce.isolation_name()
    honest = rows["honest"]
    assert honest["reproduced"] == "yes" and honest["score"] == honest["max_score"] == "2", honest
    for who in ("wrong", "tagger"):  # the lab's check cell, run again, fails the wrong exercise
        assert rows[who]["reproduced"] == "no" and rows[who]["score"] == "0", rows[who]
        assert "failed when re-run" in (out / f"{who}.html").read_text()
    for who in ("forger", "unmarked"):  # printed numbers forged: named, though the checks pass
        assert rows[who]["reproduced"] == "no" and rows[who]["score"] == "2", rows[who]
        assert "val_top1: the notebook printed 0.99, the re-run printed" in rows[who]["problems"]
    page = (out / "unmarked.html").read_text()
    assert "expected: val top-1 0.9900" in page and f"isolation: {isolation}" in page
    assert rows["mallory"]["score"] == "2", "the payload is flagged as an added cell, not graded down"
    assert "added cell 3" in rows["mallory"]["problems"]
    if isolation == "bubblewrap":
        assert snapshot(subs) | snapshot(labs) == before, "the sandbox leaves every file unchanged"
        assert rows["mallory"]["reproduced"] == "yes", rows["mallory"]


def test_memory_and_time_limits_stop_a_runaway_notebook():
    lab = json.loads((tiny_lab.executed() / "labs" / "01_tiny.ipynb").read_text())
    nb, _ = tiny_lab.run_json()
    hog = json.loads(json.dumps(nb))
    hog["cells"].insert(
        3,
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "hog",
            "metadata": {},
            "outputs": [],
            "source": "x = bytearray(4 * 2**30)",
        },
    )
    result = reproduce.reproduce(hog, lab, cell_timeout=60, notebook_timeout=240, memory=2 * 2**30)
    problems = "\n".join(result["problems"])
    assert "raised MemoryError" in problems and "x = bytearray" in problems, problems
    assert result["checks"] == {4: "passed", 7: "passed"}, "check cells are keyed by their index in the lab"
    hog["cells"][3]["source"] = "import time\ntime.sleep(600)"
    result = reproduce.reproduce(hog, lab, cell_timeout=600, notebook_timeout=30)
    assert any("notebook time limit" in p for p in result["problems"]), result
    result = reproduce.reproduce(hog, lab, cell_timeout=5, notebook_timeout=300)  # the cell's limit, not the notebook's
    assert any("CellTimeoutError" in p for p in result["problems"]), result
    assert result["checks"][7] == "not run", "the cell limit stops the run"


@pytest.mark.skipif(reproduce.isolation_name() != "bubblewrap", reason="bubblewrap is not installed or cannot run")
def test_bubblewrap_is_read_only_and_offline(tmp_path):
    lab = json.loads((tiny_lab.executed() / "labs" / "01_tiny.ipynb").read_text())
    nb, _ = tiny_lab.run_json()
    target = tmp_path / "outside.txt"
    probe = json.loads(json.dumps(nb))
    probe["cells"][2]["source"] += (
        f"\nimport socket\nopen({str(target)!r}, 'w').write('x')\nsocket.create_connection(('1.1.1.1', 53), timeout=2)"
    )
    result = reproduce.reproduce(probe, lab, **OPTIONS)
    assert result["isolation"] == "bubblewrap" and not target.exists()
    assert any("Read-only file system" in p or "No such file" in p for p in result["problems"]), result


def test_a_rerun_reproduces_only_what_changed(tmp_path, monkeypatch):
    labs = tmp_path / "labs"
    shutil.copytree(tiny_lab.executed() / "labs", labs)
    nb, _ = tiny_lab.run_json()
    subs = tmp_path / "subs"
    tiny_lab.submit(subs, "ada")
    wrong = json.loads(json.dumps(nb))
    wrong["cells"][3]["source"] = "def mean(xs):\n    return 0.5"
    tiny_lab.submit(subs, "bob", wrong)
    ran, real = [], reproduce.reproduce

    def counting(sub, lab, **options):
        ran.append(sub["cells"][3]["source"])
        return real(sub, lab, **options)

    monkeypatch.setattr(reproduce, "reproduce", counting)
    first, _ = grading.grade_folder(subs, tmp_path / "g1", labs_dir=labs, reproduce=True, options=OPTIONS)
    assert len(ran) == 2 and {g.student: g.reproduced for g in first} == {"ada": "yes", "bob": "no"}
    assert len(list((tmp_path / ".subs-reproduced").glob("*.json"))) == 2

    fixed = json.loads(json.dumps(nb))
    fixed["cells"][3]["source"] = "def mean(xs):\n    return sum(xs) / len(xs)  # fixed"
    shutil.rmtree(subs / "bob")
    tiny_lab.submit(subs, "bob", fixed)  # bob resubmits, corrected; ada's files are unchanged
    ran.clear()
    second, out = grading.grade_folder(subs, tmp_path / "g2", labs_dir=labs, reproduce=True, options=OPTIONS)
    assert len(ran) == 1 and "0.5" not in ran[0], "only the changed notebook runs again"
    assert {g.student: g.reproduced for g in second} == {"ada": "yes", "bob": "yes"}
    assert "reused: these files" in (out / "ada.html").read_text() and "reused" not in (out / "bob.html").read_text()
    ran.clear()
    grading.grade_folder(subs, tmp_path / "g3", labs_dir=labs, reproduce=True, options=OPTIONS, fresh=True)
    assert len(ran) == 2, "--fresh runs every notebook again"
