"""Checks that student code cannot silence: a tamper suite of real, executed submissions.

Each tampered submission is lab 01 with `optimizer.step()` deleted from `train_one_epoch` (the model
never learns) plus a few lines that make the graded checks pass in the student's own kernel: an
input transformer, an AST transformer, a patched builtin, a patched torch function, a trace
function, an IPython event hook, and a patch made from inside the exercise function on its first
call. Each is run top to bottom with papermill in smoke (so its outputs are what that code
printed), then graded with `grade --reproduce`: every one must score below full marks and carry a
named tampering problem. Honest solutions of labs 01, 02 and 09, written into the exercise cells
as a student would (no solution markers), must grade clean.
"""

from __future__ import annotations

import csv
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from planted.tamper import KINDS, LAB, student_copy, tampered

from helpers.course import cells, cleanroom, grading, runner, tamper

HONEST = ("01_sanity_checks", "02_lr_schedules", "09_convolution")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """(grades.csv rows by student, output folder): every submission executed once, graded once."""
    root = tmp_path_factory.mktemp("tamper")
    src, subs = root / "src", root / "subs"
    labs = grading.load_labs()
    by_stem = {p.stem: nb for p, nb in labs.items()}
    made = {f"honest-{name[:2]}": (name, student_copy(by_stem[name])) for name in HONEST}
    made |= {kind: (LAB, tampered(by_stem[LAB], kind)) for kind in KINDS}
    threads = runner.threads_per_job(2)  # as the grader's two workers will re-run them

    def execute(item):
        who, (name, nb) = item
        (src / who).mkdir(parents=True)
        (src / who / f"{name}.ipynb").write_text(json.dumps(nb, indent=1), encoding="utf-8")
        params = {"profile": "smoke", "results_dir": str(subs / who)}
        return who, runner.run_notebook(src / who / f"{name}.ipynb", subs / who, params, 900, threads=threads)

    with ThreadPoolExecutor(max_workers=2) as pool:
        ran = dict(pool.map(execute, made.items()))
    for who in (w for w in made if w.startswith("honest")):
        assert ran[who].status == "ok", f"{who} did not run: {ran[who].error}"
    _, out = grading.grade_folder(
        subs,
        root / "grades",
        reproduce=True,
        workers=2,
        fresh=True,
        options={"cell_timeout": 300, "notebook_timeout": 900},
    )
    with open(out / "grades.csv", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}, out


@pytest.mark.parametrize("kind", KINDS)
def test_a_tampered_submission_scores_below_full_marks_and_is_named(graded, kind):
    rows, out = graded
    row = rows[kind]
    assert float(row["score"]) < float(row["max_score"]), row
    assert "tampering: cell" in row["problems"], row["problems"]
    assert "tampering:" in (out / f"{kind}.html").read_text(encoding="utf-8")


def test_the_input_transformer_passes_in_its_own_kernel_and_fails_with_definitions_only(graded):
    rows, out = graded
    row = rows["input-transformer"]
    assert row["ran_top_to_bottom"] == "yes", "the transformer hid every failure in the student's run"
    assert "passed only in the student's kernel" in row["problems"], row["problems"]
    assert "checks tampered" in row["problems"], "the probe that must fail passed in the re-run"
    page = (out / "input-transformer.html").read_text(encoding="utf-8")
    assert "dropped cell" in page and "input_transformers_post.append" in page


def test_tampering_from_inside_the_exercise_is_caught_by_the_probes(graded):
    row = graded[0]["in-body"]
    assert "checks tampered" in row["problems"] and "builtin `max` replaced" in row["problems"], row["problems"]
    assert row["score"] == "0", "checks tampered: every graded check is withheld pending review"


@pytest.mark.parametrize("name", HONEST)
def test_honest_solutions_grade_clean(graded, name):
    row = graded[0][f"honest-{name[:2]}"]
    assert row["score"] == row["max_score"] and row["reproduced"] == "yes", row
    assert row["problems"] == "", row["problems"]


# ---------------------------------------------------------------- the parts, without a kernel


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("get_ipython().input_transformers_post.append(f)", "input transformer"),
        ("ip.ast_transformers.append(T())", "AST transformer"),
        ("import builtins\nbuiltins.abs = f", "assigns `builtins.abs`"),
        ("__builtins__.abs = f", "__builtins__"),
        ("abs = lambda x: 0", "rebinds the builtin `abs`"),
        ("torch.allclose = lambda *a, **k: True", "assigns `torch.allclose`"),
        ("setattr(F, 'cross_entropy', f)", "setattr"),
        ("import sys\nsys.settrace(f)", "trace function"),
        ("import sys\nsys.modules['torch'] = m", "sys.modules"),
        ("exec('x = 1')", "exec"),
        ("import importlib", "importlib"),
        ("import ctypes", "ctypes"),
        ("import sys\nf = sys._getframe(1)", "call stack"),
        ("def f():\n    import inspect\n    return inspect.currentframe().f_back", "call stack"),
        ("%load_ext something", "magic %load_ext"),
    ],
)
def test_the_scan_names_what_changes_other_code(code, said):
    found = tamper.scan_source(code, {"torch", "F"})
    assert any(said in what for _, what in found), found


def test_the_scan_leaves_every_lab_solution_alone():
    for path, nb in grading.load_labs().items():
        imported = tamper.lab_imports(nb)
        for cell in nb.cells:
            if cell.cell_type == "code" and cells.has_solution(cell):
                assert tamper.scan_source(cell.source, imported) == [], f"{path.name}: {cell.source[:80]}"


def test_definitions_only_keeps_definitions_and_the_labs_own_statements():
    student = "import math\nEPS = 1e-8\nget_ipython().x = 1\n@staticmethod\ndef f(x):\n    return x\nprint(f(2))"
    lab = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\n\ny = f(1)\nprint(y)"
    code, dropped = cleanroom.split_definitions(student, lab)
    assert "import math" in code and "EPS = 1e-8" in code and "@staticmethod\ndef f" in code
    assert code.index("def f") < code.index("y = f(1)") < code.index("print(y)") and "BEGIN SOLUTION" not in code
    assert [n for n, _ in dropped] == [3, 7], dropped


def test_probes_differ_every_time():
    import random

    rng = random.Random(0)
    assert len({cleanroom.must_fail(rng) for _ in range(20)}) > 10
    assert len({cleanroom.state_probe(rng)[0] for _ in range(5)}) == 5


def test_a_model_at_chance_with_every_check_passed_is_flagged():
    data = {"dataset": "fashion-mnist", "metrics": {"val_top1": 0.11, "test_top1": 0.099}}
    assert "at chance" in tamper.contradicting_results(data, True)[0]
    assert tamper.contradicting_results(data, False) == []
    assert tamper.contradicting_results({**data, "metrics": {"test_top1": 0.8}}, True) == []


def test_a_top_level_exercise_is_kept_whole():
    lab = "import random\n### BEGIN SOLUTION\nx = random.random()\n### END SOLUTION"
    assert cleanroom.split_definitions("import random\nx = 0.25", lab) == ("import random\nx = 0.25", [])


def test_callbacks_from_any_installed_packages_folder_are_the_librarys(monkeypatch):
    """A venv may take its packages from a folder outside its prefix (a .pth line, a shared course install):
    matplotlib's callback from there is the library's, a callback written in a cell is not."""
    monkeypatch.setattr(cleanroom.sys, "path", [*cleanroom.sys.path, "/opt/course-env/lib/python3.11/site-packages"])
    library = (
        "matplotlib.pyplot._draw_all_if_interactive@/opt/course-env/lib/python3.11/site-packages/matplotlib/pyplot.py"
    )
    written = "_before@/tmp/ipykernel_123/456.py"
    assert cleanroom._not_library([library, written]) == [written]
    base = {"builtins": {}, "events": {"post_execute": []}}
    assert cleanroom._changes(base, {"builtins": {}, "events": {"post_execute": [library]}}) == []
    assert cleanroom._changes(base, {"builtins": {}, "events": {"post_execute": [written]}}) != []
