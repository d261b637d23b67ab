"""`python -m helpers verify`: re-execution with nbval, the sanitize rules, and what a mismatch says."""

from __future__ import annotations

import nbformat
import papermill
import pytest
from lab_run import LAB, cli, lab01_output

from helpers.course.verify import sanitize, sanitize_patterns


@pytest.mark.parametrize(
    "a, b",
    [
        ("<Figure size 640x480 at 0x7f3a2c1d0e50>", "<Figure size 640x480 at 0x55d1e2f3a4b0>"),
        ("6.2 s of training", "11.87 s of training"),
        ("epoch took 300 ms", "epoch took 12 ms"),
        ("peak 952.3 MiB", "peak 1210.0 MiB"),
        ("device cpu: CPU x86_64 x2 (2 threads)", "device cuda: NVIDIA H100 80GB HBM3"),
        ("model on cpu, batch on cpu", "model on cuda:0, batch on cuda:0"),
        ("results written to /home/ada/labs/results/01.json", "results written to /tmp/x/01.json"),
        ("data in C:\\Users\\ada\\labs\\data", "data in /srv/labs/data"),
        ("a\n 10%|#    | 1/10 [00:01<00:09, 1.0it/s]\n 90%|#########| 9/10 [00:09<00:01]\nb", "a\n100%|##| 3/3\nb"),
    ],
)
def test_sanitize_rules_blank_what_may_differ(a, b):
    patterns = sanitize_patterns()
    assert a != b and sanitize(a, patterns) == sanitize(b, patterns)


@pytest.mark.parametrize(
    "a, b",
    [
        ("initial loss 2.303; ln(10) = 2.303", "initial loss 2.299; ln(10) = 2.303"),
        ("total    81,630", "total    81,631"),
        ("splits: 4000 train / 1000 val / 1000 test", "splits: 4000 train / 999 val / 1000 test"),
        ("classes: T-shirt/top, Trouser", "classes: T-shirt/bottom, Trouser"),
        ("fashion-mnist: 60000 train, 1x32x32", "fashion-mnist: 60000 train, 3x32x32"),
        ("val top-1 0.7920 after 3 epochs", "val top-1 0.7921 after 3 epochs"),
    ],
)
def test_sanitize_rules_keep_what_must_match(a, b):
    patterns = sanitize_patterns()
    assert sanitize(a, patterns) != sanitize(b, patterns)


def test_lab01_reproduces_and_a_tampered_number_is_named(tmp_path):
    out = lab01_output()
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    nb = nbformat.read(out / f"{LAB}.ipynb", as_version=4)
    checked = [i for i, c in enumerate(nb.cells) if "# NBVAL_CHECK_OUTPUT" in c.source]
    table = next(i for i in checked if "81,630" in "".join(o.get("text", "") for o in nb.cells[i].outputs))
    nb.cells[table].outputs[0].text = nb.cells[table].outputs[0].text.replace("81,630", "81,631")
    # cells after the last checked one only cost time here: the tampered copy stops there
    nb.cells = nb.cells[: checked[-1] + 1]
    (tmp_path / "tampered").mkdir()
    tampered = tmp_path / "tampered" / f"{LAB}.ipynb"
    nbformat.write(nb, tampered)

    proc = cli("verify", str(out / f"{LAB}.ipynb"), str(tampered))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # the same seed on the same machine: the untouched run's checked cells all match
    assert f"{out / LAB}.ipynb: OK ({len(checked)} checked cells reproduced" in proc.stdout, proc.stdout
    mismatch = proc.stdout.split(f"{tampered}: MISMATCH", 1)[1]
    assert f"cell {table} (" in mismatch and "differs:" in mismatch
    assert "expected: total                             81,631" in mismatch
    assert "got:      total                             81,630" in mismatch
    assert mismatch.count("differs:") == 1, "only the tampered cell differs"
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before, "verify must not touch the results"


def tiny_notebook(path, *sources, params='results_dir = None\nprofile = "auto"'):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    cell = nbformat.v4.new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell] + [nbformat.v4.new_code_cell(s) for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


TINY = (
    "# NBVAL_CHECK_OUTPUT\nprint('sum', 1 + 1)",
    "# NBVAL_CHECK_OUTPUT\nimport os\nprint('cwd', os.path.basename(os.getcwd()))",
    "# NBVAL_CHECK_OUTPUT\nimport time\nprint(f'took {time.perf_counter() % 7:.2f} s', object())",
    "from pathlib import Path\nPath(results_dir).mkdir(exist_ok=True)\n"
    "Path(results_dir, 'r.json').write_text(str(time.time()))",
)


def test_verify_points_results_elsewhere_and_reports_mismatch_and_errors(tmp_path):
    graded = tmp_path / "graded"
    source = tiny_notebook(tmp_path / "src" / "tiny.ipynb", *TINY)
    paths = {}
    for name in ("ok", "tampered", "edited"):
        paths[name] = tmp_path / name / "tiny.ipynb"
        paths[name].parent.mkdir()
        papermill.execute_notebook(
            str(source),
            str(paths[name]),
            parameters={"results_dir": str(graded)},
            kernel_name="python3",
            cwd=str(paths[name].parent),
            progress_bar=False,
        )
    stamp = (graded / "r.json").read_text()
    nb = nbformat.read(paths["tampered"], as_version=4)
    nb.cells[2].outputs[0].text = "sum 3\n"
    nbformat.write(nb, paths["tampered"])
    nb = nbformat.read(paths["edited"], as_version=4)
    nb.cells[4].source = "raise ValueError('edited after the run')"
    nbformat.write(nb, paths["edited"])

    proc = cli("verify", *map(str, paths.values()))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout
    assert f"{paths['ok']}: OK (3 checked cells reproduced" in lines, lines
    assert f"{paths['tampered']}: MISMATCH\n  cell 2 (In [3], `print('sum', 1 + 1)`) differs:" in lines
    assert "expected: sum 3\n      got:      sum 2" in lines
    assert f"{paths['edited']}: MISMATCH\n  cell 4 (In [5], " in lines
    assert "raised ValueError: edited after the run when run again" in lines
    assert "1 of 3 notebooks reproduced" in lines
    assert (graded / "r.json").read_text() == stamp, "verify must write results to a scratch folder"


def test_verify_a_notebook_saved_without_papermill_with_a_parameter(tmp_path):
    path = tiny_notebook(tmp_path / "saved.ipynb", "# NBVAL_CHECK_OUTPUT\nprint('profile', profile)")
    nb = nbformat.read(path, as_version=4)
    for count, cell in enumerate(nb.cells, 1):
        cell.execution_count = count
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="profile smoke\n")]
    nbformat.write(nb, path)
    proc = cli("verify", str(path), "-p", "profile=smoke")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK (1 checked cells reproduced" in proc.stdout and "no injected parameters" in proc.stdout


def test_verify_reports_a_file_that_is_not_a_notebook(tmp_path):
    bad = tmp_path / "01_sanity_checks.ipynb"
    bad.write_text("{ not json")
    proc = cli("verify", str(bad), str(tmp_path / "missing.ipynb"))
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert f"{bad}: ERROR not a notebook (not valid JSON" in proc.stdout
    assert f"{tmp_path / 'missing.ipynb'}: ERROR" in proc.stdout and "cannot read the file" in proc.stdout
