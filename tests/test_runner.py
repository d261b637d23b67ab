"""The runner and the command line, end to end: lab 01 in the smoke profile on real Fashion-MNIST."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import nbformat
import pytest
from lab_run import lab01_smoke, status

from helpers.course import runner
from helpers.results import SCHEMA

REPO = runner.REPO


def cli(*args, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "helpers", *args], cwd=cwd, capture_output=True, text=True)


@pytest.fixture(scope="module")
def lab01(fmnist):
    out, proc = lab01_smoke()  # one smoke run of every lab, shared with the other test modules
    return proc, out


def test_lab01_smoke_through_the_runner(lab01):
    proc, out = lab01
    assert status(proc, "01_sanity_checks") == "ok", proc.stdout + proc.stderr
    result = json.loads((out / "01_sanity_checks.json").read_text())
    assert set(SCHEMA) <= set(result)
    assert result["profile"] == "smoke" and result["dataset"] == "fashion-mnist"
    metrics = result["metrics"]
    assert metrics["val_top1"] > 0.6, "real Fashion-MNIST: chance is 0.10"
    assert metrics["test_top1"] > 0.6 and 0 <= metrics["val_top5"] <= 1
    assert result["params"] == 81_630  # SimpleNN with a 1-channel first conv
    assert result["epochs"] == len(result["history"]) > 0
    assert result["peak_memory_mib"] > 0 and result["train_seconds"] > 0


def test_executed_lab01_holds_outputs_and_no_errors(lab01):
    _, out = lab01
    nb = nbformat.read(out / "01_sanity_checks.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and not [o for o in outputs if o.output_type == "error"]
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'profile = "smoke"' in injected[0].source


def test_unknown_parameter_is_refused_with_the_valid_ones(tmp_path):
    proc = cli("run", "01", "--profile", "smoke", "--out", str(tmp_path), "-p", "epoch=2")
    assert proc.returncode == 2
    assert "has no parameter 'epoch'" in proc.stderr and "Valid: profile, dataset, epochs" in proc.stderr
    assert "Did you mean 'epochs'" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.iterdir())  # refused before running anything


def test_unknown_lab_and_profile(tmp_path):
    proc = cli("run", "99", "--out", str(tmp_path))
    assert proc.returncode == 2 and "No lab named '99'. Labs: 01_sanity_checks" in proc.stderr
    proc = cli("run", "01", "--profile", "fast", "--out", str(tmp_path))
    assert proc.returncode == 2 and "Unknown profile 'fast'" in proc.stderr


def notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    params = nbformat.v4.new_code_cell('profile = "auto"\nresults_dir = None')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)
    return path


def test_a_failing_notebook_fails_the_run_and_names_the_cell(tmp_path):
    path = notebook(tmp_path / "99_broken.ipynb", "x = 1", "raise ValueError('boom')")
    proc = cli("run", str(path), "--profile", "smoke", "--out", str(tmp_path / "out"))
    assert proc.returncode == 1
    assert "99_broken  failed" in proc.stdout and "ValueError: boom" in proc.stdout
    assert (tmp_path / "out" / "99_broken.ipynb").exists()


def slow_notebook(tmp_path):
    """A notebook whose kernel writes its process id, then sleeps a minute: (its path, the pid file)."""
    pid_file = tmp_path / "kernel.pid"
    code = f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    return notebook(tmp_path / "98_slow.ipynb", code), pid_file


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether process `pid` has ended (or is a zombie) within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.2)
    return False


def test_timeout_stops_a_notebook_and_its_kernel(tmp_path):
    path, pid_file = slow_notebook(tmp_path)
    proc = cli("run", str(path), "--profile", "smoke", "--out", str(tmp_path / "out"), "--timeout", "8")
    assert proc.returncode == 1 and "98_slow  timeout" in proc.stdout
    assert gone(int(pid_file.read_text())), "the timed-out lab's kernel runs on, holding the cores"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_terminated_run_stops_its_kernel(tmp_path):
    """SIGTERM (a cancelled CI job, `kill`) ends the command and the kernel of the lab it was running."""
    path, pid_file = slow_notebook(tmp_path)
    cmd = [sys.executable, "-m", "helpers", "run", str(path), "--profile", "smoke", "--out", str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.terminate()
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert gone(int(pid_file.read_text())), "the kernel outlived the terminated command"


def test_only_smoke_has_a_time_limit_unless_one_is_given(tmp_path, monkeypatch):
    """A full lab runs for an hour or more on a CPU (lab 03: 9 runs of 7 minutes): the old 1800 s
    default stopped it and lost the runs. Smoke keeps a limit, to catch a hung notebook in CI."""
    path = notebook(tmp_path / "96_quick.ipynb", "x = 1")
    seen = []
    monkeypatch.setattr(runner, "run_notebook", lambda nb, out, params, timeout, *rest: seen.append(timeout))
    for profile, given in (("smoke", None), ("quick", None), ("full", None), ("full", 60), ("smoke", 0)):
        runner.run([str(path)], profile=profile, out=tmp_path / "out", timeout=given)
    assert seen == [1800, None, None, 60, None]
    with pytest.raises(runner.LabError, match="or 0 for no limit"):
        runner.run([str(path)], profile="smoke", out=tmp_path / "out", timeout=-1)


def test_jobs_run_labs_at_once_on_shared_cores(tmp_path):
    """--jobs 2: each notebook waits for the other to start, which only works if both run at once;
    each kernel gets half the cores as its threads, and the table keeps the labs' order."""
    wait = (
        "import os, time\n"
        "from pathlib import Path\n"
        "folder = Path({folder!r})\n"
        "(folder / '{me}').write_text(os.environ.get('OMP_NUM_THREADS', 'unset'))\n"
        "deadline = time.time() + 120\n"
        "while not (folder / '{other}').exists() and time.time() < deadline:\n"
        "    time.sleep(0.2)\n"
        "assert (folder / '{other}').exists(), 'the other notebook never started'"
    )
    a = notebook(tmp_path / "94_a.ipynb", wait.format(folder=str(tmp_path), me="a.started", other="b.started"))
    b = notebook(tmp_path / "95_b.ipynb", wait.format(folder=str(tmp_path), me="b.started", other="a.started"))
    proc = cli("run", str(b), str(a), "--profile", "smoke", "--out", str(tmp_path / "out"), "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    threads = str(max(1, (os.cpu_count() or 1) // 2))
    assert (tmp_path / "a.started").read_text() == (tmp_path / "b.started").read_text() == threads
    table = proc.stdout[proc.stdout.index("lab ") :]
    assert table.index("95_b") < table.index("94_a"), "results come back in the order asked for"
    proc = cli("run", str(a), "--profile", "smoke", "--out", str(tmp_path / "out"), "--jobs", "two")
    assert proc.returncode == 2 and "--jobs two: give a whole number" in proc.stderr and "Traceback" not in proc.stderr
    assert runner.resolve_jobs("auto") >= 1 and runner.threads_per_job(1) is None


def test_a_corrupt_notebook_is_a_clear_error(tmp_path):
    path = tmp_path / "97_corrupt.ipynb"
    path.write_text("{ not json")
    proc = cli("run", str(path), "--profile", "smoke", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "Cannot read the parameters" in proc.stderr and "Traceback" not in proc.stderr


def test_data_cli_info_and_import(tmp_path):
    from conftest import write_image_folder

    tree = write_image_folder(tmp_path / "tree")
    proc = cli("data", "import", "pets", str(tree), "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 0, proc.stderr
    proc = cli("data", "info", "pets", "--data-dir", str(tmp_path / "d"))
    assert "pets: 12 train + 12 test images, 3x32x32, 3 classes" in proc.stdout and str(tree) in proc.stdout
    proc = cli("data", "import", "cifar10", str(tree), "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 2 and "import it under another name" in proc.stderr
    proc = cli("data", "info", "imagenet", "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 2 and "Unknown dataset 'imagenet'" in proc.stderr and "Traceback" not in proc.stderr


def test_a_kernel_that_dies_before_it_starts_gets_one_more_start(tmp_path, monkeypatch):
    """Two kernels starting at once can race for a port, and one dies before it answers: the runner starts
    that lab once more rather than fail it (a failing lab, or a second such death, is reported as it is)."""
    logs = iter([(1, "RuntimeError: Kernel died before replying to kernel_info\n"), (0, ""), (1, "ValueError: boom\n")])
    started = []

    class FakePapermill:
        pid = -1

        def __init__(self, cmd, **kwargs):
            started.append(cmd)
            self.returncode, self.log = next(logs)

        def communicate(self, timeout=None):
            return self.log, None

        def poll(self):
            return self.returncode

    monkeypatch.setattr(runner.subprocess, "Popen", FakePapermill)
    path = notebook(tmp_path / "97_flaky.ipynb", "x = 1")
    assert runner.run_notebook(path, tmp_path / "out", {}, None).status == "ok" and len(started) == 2
    failed = runner.run_notebook(path, tmp_path / "out", {}, None)
    assert failed.status == "failed" and "boom" in failed.error and len(started) == 3, "a real failure: no retry"
