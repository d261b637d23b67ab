"""Running lab notebooks headlessly with papermill, and collecting their results.

`python -m helpers run [LAB ...] --profile P --out DIR` executes each lab in a fresh kernel of
this Python (the venv's), with a wall-clock limit per notebook, and writes DIR/<lab>.ipynb
(the executed notebook) and DIR/<lab>.json (the results the lab recorded). A parameter the
notebook does not declare is refused, where papermill would only warn. `--jobs N` runs N labs at
once, each kernel with cores/N CPU threads: small models use a second thread poorly and gain, larger
ones lose (the README's Speed section has the measurements), so one at a time is the default.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from helpers import runtime
from helpers.config import IN_CHECKOUT, REPO, resolve_profile
from helpers.errors import LabError, did_you_mean


def _labs_dir() -> Path:
    """The checkout's labs/; an installed package looks in ./labs, then . (where the notebooks were copied)."""
    if IN_CHECKOUT:
        return REPO / "labs"
    return next((d for d in (Path("labs"), Path(".")) if any(d.glob("[0-9][0-9]_*.ipynb"))), Path("labs"))


LABS_DIR = _labs_dir()
INJECTED = ("profile", "results_dir")  # what the runner always sets


@dataclass
class RunResult:
    lab: str
    status: str  # ok, failed, timeout
    seconds: float
    notebook: Path
    results: dict | None = None
    error: str = ""

    @property
    def headline(self) -> str:
        metrics = (self.results or {}).get("metrics", {})
        for key in ("test_top1", "val_top1"):
            if key in metrics:
                return f"{metrics[key]:.4f} ({key})"
        return "-"


def list_labs(folder: Path = LABS_DIR) -> list[Path]:
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def find_labs(names: list[str], folder: Path = LABS_DIR) -> list[Path]:
    """Notebook paths for names like `01`, `01_sanity_checks` or a path; none: every lab."""
    labs = list_labs(folder)
    if not names:
        return labs
    found = []
    for name in names:
        path = Path(name)
        if path.suffix == ".ipynb" and path.exists():
            found.append(path)
            continue
        matches = [p for p in labs if p.stem == name or p.stem.startswith(f"{name}_")]
        if len(matches) != 1:
            stems = [p.stem for p in labs]
            raise LabError(f"No lab named {name!r}. Labs: {', '.join(stems)}." + did_you_mean(name, stems))
        found.append(matches[0])
    return found


def declared_parameters(notebook: Path) -> dict:
    """The names and defaults in the notebook's `parameters` cell."""
    import papermill

    try:
        params = papermill.inspect_notebook(str(notebook))
    except Exception as err:  # not JSON, not a notebook, no kernel named
        raise LabError(f"Cannot read the parameters of {notebook}: {err}") from None
    if not params:
        raise LabError(f"{notebook} has no cell tagged 'parameters'; papermill cannot set its parameters.")
    return params


def check_parameters(notebook: Path, params: dict) -> None:
    valid = declared_parameters(notebook)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise LabError(
            f"{notebook.stem} has no parameter {', '.join(map(repr, unknown))}. "
            f"Valid: {', '.join(valid)}." + did_you_mean(unknown[0], valid)
        )


# seconds per notebook when --timeout is not given: smoke runs take seconds, so a limit there catches
# a hung notebook in CI; quick and full runs take what they take (a full lab runs for hours on a CPU)
DEFAULT_TIMEOUT = {"smoke": 1800, "quick": None, "full": None}


def resolve_jobs(jobs: int | str) -> int:
    """How many labs to run at once: a positive number, or `auto` — one where a GPU is present
    (the labs would share it), else one per CPU core, at most 4."""
    if jobs == "auto":
        if runtime.available_devices()[0] != "cpu":
            return 1
        return max(1, min(4, os.cpu_count() or 1))
    try:
        n = int(jobs)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or str(jobs).strip() != str(n):
        raise LabError(f"--jobs {jobs}: give a whole number of labs to run at once (1, 2, ...) or auto.")
    return n


def threads_per_job(jobs: int) -> int | None:
    """CPU threads for each of `jobs` kernels running at once (None: torch's default, every core)."""
    return max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None


def run_notebook(
    notebook: Path, out: Path, params: dict, timeout: float | None, verbose: bool = False, threads: int | None = None
) -> RunResult:
    """Execute one notebook with papermill in a subprocess; never raises for a failing lab.

    timeout: seconds, or None for no limit. threads: the kernel's CPU threads (None: every core);
    the results differ between thread counts as they would between seeds, so the lab records its count."""
    out.mkdir(parents=True, exist_ok=True)
    executed = out / notebook.name
    results_file = out / f"{notebook.stem}.json"
    results_file.unlink(missing_ok=True)  # a stale file must not pass for this run's results
    cmd = [
        sys.executable,
        "-m",
        "papermill",
        str(notebook),
        str(executed),
        "-k",
        "python3",
        "--cwd",
        str(notebook.parent),
        "-y",
        json.dumps(params),
        "--no-progress-bar",
    ]
    if verbose:
        cmd.append("--log-output")
    start = time.perf_counter()
    env = {**os.environ, "LABS_HEADLESS": "1"}  # plain-text progress bars in the log
    if threads:  # torch reads these when it starts; more threads than cores would spin-wait
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    for attempt in (1, 2):  # a kernel that dies before it answers (a port taken as it bound) gets one more start
        # its own process group: papermill and the kernel it starts end together (`stop`)
        proc = subprocess.Popen(
            cmd,
            stdout=None if verbose else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        status, log = _wait(proc, timeout)
        if not (status == "failed" and attempt == 1 and KERNEL_NEVER_STARTED in log):
            break
    seconds = time.perf_counter() - start
    result = RunResult(notebook.stem, status, seconds, executed)
    if results_file.exists():
        result.results = json.loads(results_file.read_text())
    if status != "ok":
        tail = log.strip().splitlines()[-1] if log.strip() else status
        result.error = first_error(executed) or tail
    return result


KERNEL_NEVER_STARTED = "Kernel died before replying to kernel_info"


def _wait(proc: subprocess.Popen, timeout: float | None) -> tuple[str, str]:
    """(status, log) of a papermill process, stopped at `timeout` seconds or when this process is interrupted."""
    RUNNING.add(proc)
    try:
        log = proc.communicate(timeout=timeout)[0] or ""
        status = "ok" if proc.returncode == 0 else "failed"
    except subprocess.TimeoutExpired:
        stop(proc)
        proc.communicate()
        status, log = (
            "timeout",
            (
                f"stopped after the {timeout:.0f} s limit; run it again with a larger "
                "--timeout SECONDS, or --timeout 0 for none"
            ),
        )
    except BaseException:  # Ctrl-C, or the command ending: the kernel must not run on
        stop(proc)
        raise
    finally:
        RUNNING.discard(proc)
    return status, log


RUNNING: set[subprocess.Popen] = set()  # the papermill processes started here and not yet finished


def stop(proc: subprocess.Popen) -> None:
    """End a papermill process and the kernel it started, which would otherwise run on, orphaned, and
    hold the cores (a timed-out lab, Ctrl-C, a terminated command)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the group `run_notebook` started it in
        else:  # Windows: no process groups here; the kernel ends when papermill's pipe closes
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass  # already gone


def stop_all() -> None:
    """`stop` every papermill process still running (the command line calls it on its way out)."""
    for proc in list(RUNNING):
        stop(proc)


def first_error(executed: Path) -> str:
    """`ename: evalue` of the first failing cell of an executed notebook, if any."""
    try:
        nb = json.loads(executed.read_text())
    except (OSError, ValueError):
        return ""
    for i, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"cell {i}: {output.get('ename')}: {output.get('evalue')}"
    return ""


def run(
    names: list[str],
    *,
    profile: str = "auto",
    out: str | Path = "executed",
    params: dict | None = None,
    timeout: float | None = None,
    verbose: bool = False,
    jobs: int | str = 1,
) -> list[RunResult]:
    """Run labs; check every notebook's parameters before executing any of them.

    timeout: seconds per notebook; 0 for none; None for the profile's default (DEFAULT_TIMEOUT).
    jobs: labs at once (`resolve_jobs`); the results come back in the order of `names`."""
    notebooks = find_labs(names)
    if not notebooks:
        raise LabError(f"No lab notebooks found in {LABS_DIR}.")
    out = Path(out).resolve()
    params = {**(params or {}), "profile": resolve_profile(profile), "results_dir": str(out)}
    if timeout is not None and timeout < 0:
        raise LabError(f"--timeout {timeout:g}: give seconds per notebook (> 0), or 0 for no limit.")
    timeout = DEFAULT_TIMEOUT[params["profile"]] if timeout is None else (timeout or None)
    jobs = resolve_jobs(jobs)
    for nb in notebooks:
        check_parameters(nb, params)
    threads = threads_per_job(jobs)
    if jobs > 1:
        print(f"running {len(notebooks)} labs, {jobs} at once, {threads} CPU thread(s) each", flush=True)

    def say(line: str) -> None:  # one write per line, so lines from labs running at once do not interleave
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def one(nb: Path) -> RunResult:
        say(f"running {nb.stem} ({params['profile']}) ...")
        result = run_notebook(nb, out, params, timeout, verbose and jobs == 1, threads)
        if jobs > 1:
            say(f"finished {nb.stem}: {result.status} in {result.seconds:.0f} s")
        return result

    if jobs == 1:
        return [one(nb) for nb in notebooks]
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # each thread waits on its own papermill process
        return list(pool.map(one, notebooks))


def summary_table(results: list[RunResult]) -> str:
    rows = [("lab", "status", "seconds", "headline metric")]
    rows += [(r.lab, r.status, f"{r.seconds:.1f}", r.headline) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    for r in results:
        if r.error:
            lines.append(f"{r.lab}: {r.error}  (see {r.notebook})")
    return "\n".join(lines)
