"""Reproducing a submission in isolation: `python -m helpers grade --reproduce [--workers N]`.

Reproduction runs student code. What this module does about it:

- the lab's sources and check cells are read by the grader before any student code runs and are
  passed in memory; the submission is passed in memory too (the kernel never sees the
  submissions folder's path);
- the notebook runs with nbclient in a throwaway folder (its cwd and HOME; results go there),
  with the lab's check cells put back in place of the student's (nbgrader's autograde
  semantics), missing check cells re-inserted, and the tags that disable a cell
  (`raises-exception`, `skip-execution`) removed from them;
- per-cell and per-notebook time limits, and a memory limit (RLIMIT_AS, set by a small wrapper
  that then execs the kernel);
- outcomes come from the executing client (each cell's execute reply and the outputs it
  received), never from a file the student's code could write;
- where `bwrap` (bubblewrap) works, the kernel runs inside it: the whole file system read-only
  except the throwaway folder, a private /tmp, no network, its own process namespace. Elsewhere
  the kernel is an ordinary process of the instructor's user ("process" isolation): it cannot
  change the grade it is given, but it *can* read and write any file the instructor can.

Student code runs in the same kernel as the check cells, so it can still subvert them from
inside (redefine `AssertionError`, patch the kernel); the edited-check and printed-number
evidence is there for that, and the feedback says which isolation was used.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import torch
from jupyter_client import AsyncKernelManager  # nbclient's per-cell timeout never fires with a blocking one
from jupyter_client.kernelspec import KernelSpec
from nbclient import NotebookClient
from tqdm.auto import tqdm

from helpers import runtime
from helpers.config import REPO, default_dir
from helpers.course import cells, cleanroom, evidence
from helpers.course.runner import threads_per_job
from helpers.course.verify import describe_difference, flatten_outputs, sanitize_patterns

DISABLING_TAGS = ("raises-exception", "skip-execution")
KEY = "labs_reproduce"  # cell metadata: {"sub": index in the submission, "check": lab index, "compare": bool}
MEMORY_BYTES = 6 * 2**30  # address space for the kernel: torch on a CPU reserves a few GiB of it


@dataclass
class Reproduction:
    """What re-running one submission showed."""

    isolation: str
    ok: bool = False
    checks: dict[int, str] = field(default_factory=dict)  # lab check-cell index -> passed, failed, not run
    problems: list[str] = field(default_factory=list)
    tampered: list[str] = field(default_factory=list)  # what the probes showed (helpers.course.cleanroom)
    definitions: dict = field(default_factory=dict)  # the definitions-only run: checks, dropped, errors, stopped
    kernel_runs: int = 1

    def to_dict(self) -> dict:
        return {
            "isolation": self.isolation,
            "ok": self.ok and not self.tampered,
            "checks": self.checks,
            "problems": self.problems,
            "tampered": self.tampered,
            "definitions": self.definitions,
            "kernel_runs": self.kernel_runs,
        }


@functools.cache
def bwrap_command() -> tuple[str, ...] | None:
    """bubblewrap's options, or None where `bwrap` is missing or cannot make a sandbox here."""
    exe = shutil.which("bwrap")
    if not exe:
        return None
    cmd = (
        exe,
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--unshare-all",
        "--die-with-parent",
    )  # the kernel is already a new session
    cmd += tuple(_rebound_under_tmp())
    try:
        ok = subprocess.run([*cmd, "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return cmd if ok else None


def _rebound_under_tmp() -> list[str]:
    """The sandbox's /tmp is private; where the environment, the checkout or the data live under
    /tmp (a clone made there), bind them back in, read-only, or the kernel could not start."""

    needed = {Path(sys.prefix).resolve(), REPO.resolve(), default_dir("LABS_DATA_DIR", "data").resolve()}
    under = sorted(p for p in needed if p.exists() and Path("/tmp") in p.parents)
    return [arg for p in under for arg in ("--ro-bind", str(p), str(p))]


def isolation_name(use_bwrap: bool | None = None) -> str:
    """'bubblewrap' where it works (and is not turned off), else 'process'."""
    return "bubblewrap" if (use_bwrap is not False and bwrap_command()) else "process"


ISOLATION_SAYS = {
    "bubblewrap": "bubblewrap: read-only file system except a throwaway folder, no network, memory and time limits",
    "process": "process only: a throwaway folder as cwd and HOME, memory and time limits; the code could still "
    "read and write the instructor's files (install bubblewrap for a sandbox)",
}


def prepare(sub_nb: dict, lab_nb: dict, pairs: dict[int, int], work: Path, params: dict | None = None) -> dict:
    """The notebook to run: the submission with the lab's check cells restored, outputs cleared,
    and a setup cell after the parameters pointing results and HOME at the throwaway folder."""

    nb = nbformat.from_dict(json.loads(json.dumps(sub_nb)))
    lab = nbformat.from_dict(json.loads(json.dumps(lab_nb)))
    for j, cell in enumerate(nb.cells):
        cell.metadata[KEY] = {"sub": j}
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    inverse = {j: i for i, j in pairs.items()}
    for j, cell in enumerate(nb.cells):
        i = inverse.get(j)
        if i is not None and cells.is_checked_output(lab.cells[i]):
            cell.metadata[KEY]["compare"] = True  # the lab's flag: deleting the comment does not skip it
    inserts = []
    for i, lab_cell in enumerate(lab.cells):
        if not cells.is_check_cell(lab_cell):
            continue
        restored = nbformat.v4.new_code_cell(lab_cell.source)
        restored.metadata[KEY] = {"check": i}
        if i in pairs:
            cell = nb.cells[pairs[i]]
            cell.source = lab_cell.source
            tags = [t for t in cell.metadata.get("tags", []) if t not in DISABLING_TAGS]
            cell.metadata["tags"] = tags
            cell.metadata[KEY]["check"] = i
        else:  # deleted: put it back after the cell that matches the lab cell before it
            before = [pairs[k] for k in pairs if k < i]
            inserts.append((max(before) + 1 if before else len(nb.cells), restored))
    for position, cell in sorted(inserts, key=lambda p: -p[0]):
        nb.cells.insert(position, cell)
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    where = [i for i, t in enumerate(tags) if cells.INJECTED_TAG in t] or [
        i for i, t in enumerate(tags) if "parameters" in t
    ]
    results = work / "results"
    results.mkdir(parents=True, exist_ok=True)
    lines = [
        "# inserted by the grader: results go to the throwaway folder",
        "import os as _os",
        f"_os.environ['LABS_RESULTS_DIR'] = {str(results)!r}",
        f"results_dir = {str(results)!r}",
    ]
    injected = nb.metadata.get("papermill", {}).get("parameters") or {}
    if isinstance(injected.get("data_dir"), str) and not Path(injected["data_dir"]).is_dir():
        lines.append("data_dir = None")
    lines += [f"{name} = {value!r}" for name, value in (params or {}).items()]
    setup = nbformat.v4.new_code_cell("\n".join(lines))
    setup.metadata[KEY] = {"setup": True}
    nb.cells.insert(where[-1] + 1 if where else 0, setup)
    return nb


def _kernel_manager(work: Path, memory: int, use_bwrap: bool | None):
    """A KernelManager whose kernel is started by the memory-limit wrapper, inside bubblewrap if it works."""

    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    box = bwrap_command() if use_bwrap is not False else None
    if box:
        # in its own pid namespace the kernel's parent is pid 1, which ipykernel takes for "my parent died"
        box = [
            *box,
            "--bind",
            str(work),
            str(work),
            "--chdir",
            str(work),
            "--setenv",
            "HOME",
            str(work),
            "--unsetenv",
            "JPY_PARENT_PID",
            "--",
        ]
    argv = [sys.executable, "-m", "helpers.course.reproduce", "--memory", str(memory), "--", *(box or []), *kernel]
    km = AsyncKernelManager(
        kernel_name="python3", transport="ipc", ip=str(work / "kernel-ipc"), connection_file=str(work / "kernel.json")
    )
    km._kernel_spec = KernelSpec(
        argv=argv, display_name="reproduction", language="python", env={}, interrupt_mode="message"
    )  # a signal would stop bwrap, not the cell
    return km


def _execute_here(
    nb, work: Path, cell_timeout: float, memory: int, use_bwrap: bool | None, conn, threads: int | None = None
) -> None:
    """Run `nb` with nbclient in this (child) process; send (the executed notebook, replies, why it stopped)."""

    replies: dict[int, str] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = (execute_reply or {}).get("content", {}).get("status", "error")

    env = {
        "HOME": str(work),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LABS_HEADLESS": "1",
        "MPLBACKEND": "Agg",
        "LABS_RESULTS_DIR": str(work / "results"),
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        "LABS_DATA_DIR": os.environ.get("LABS_DATA_DIR", ""),
    }
    if threads:  # N kernels at once share the cores: torch's threads spin-wait, so oversubscribing costs 10x or more
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    env = {k: v for k, v in env.items() if v}
    km = _kernel_manager(work, memory, use_bwrap)
    client = NotebookClient(
        nb,
        km=km,
        timeout=cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=False,
        skip_cells_with_tag="labs-never-skip",
        resources={"metadata": {"path": str(work)}},
        on_cell_executed=on_cell_executed,
    )
    stopped = ""
    try:
        client.execute(env=env)
    except Exception as err:  # noqa: BLE001 - a dead kernel (memory limit), a failed start ...
        first = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
        stopped = f"stopped: {type(err).__name__}: {first}"
    conn.send((json.loads(json.dumps(nb)), replies, stopped))
    conn.close()


def execute(
    nb,
    work: Path,
    *,
    cell_timeout: float,
    notebook_timeout: float,
    memory: int = MEMORY_BYTES,
    use_bwrap: bool | None = None,
    threads: int | None = None,
) -> tuple[object, dict[int, str], str]:
    """Run `nb` in a child process that is killed at the notebook's time limit (its kernel dies with it).

    Returns (the executed notebook, execute-reply status of each cell that ran, why it stopped early or '').
    """

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_execute_here, args=(nb, work, cell_timeout, memory, use_bwrap, there, threads))
    child.start()
    there.close()
    try:
        if here.poll(notebook_timeout):
            executed, replies, stopped = here.recv()
            return nbformat.from_dict(executed), {int(k): v for k, v in replies.items()}, stopped
        return nb, {}, f"stopped after the notebook time limit ({notebook_timeout:.0f} s)"
    except EOFError:
        return nb, {}, "stopped: the reproduction process died"
    finally:
        if child.is_alive():
            child.kill()
        child.join(10)


def compare(sub_nb, run_nb, lab_nb, replies: dict[int, str], stopped: str, isolation: str) -> Reproduction:
    """What the re-run showed against what the submission claims."""

    result, patterns = Reproduction(isolation), sanitize_patterns()
    if stopped:
        result.problems.append(stopped)
    for k, cell in enumerate(run_nb.cells):
        meta = cell.metadata.get(KEY, {})
        if cell.cell_type != "code" or meta.get("setup") or meta.get("probe"):
            continue
        j, status = meta.get("sub"), replies.get(k)
        label = (
            cells.describe_cell(j, sub_nb.cells[j]) if j is not None else f"the lab's check cell {meta.get('check')}"
        )
        errors = cells.error_outputs(cell)
        if "check" in meta:
            outcome = "not run" if status is None else "passed" if status == "ok" and not errors else "failed"
            result.checks[meta["check"]] = outcome
            if outcome != "passed":
                why = f": {errors[0].get('ename')}: {str(errors[0].get('evalue'))[:200]}" if errors else ""
                result.problems.append(f"check {label} {outcome} when run again{why}")
        elif status not in (None, "ok") or errors:
            why = f"{errors[0].get('ename')}: {str(errors[0].get('evalue'))[:200]}" if errors else "an error"
            result.problems.append(f"{label} raised {why} when run again")
        if meta.get("compare") and status is not None and j is not None:
            lines = describe_difference(
                flatten_outputs(sub_nb.cells[j].get("outputs", []), patterns), flatten_outputs(cell.outputs, patterns)
            )
            if lines:
                result.problems.append(f"{label} differs:\n" + "\n".join(f"    {line}" for line in lines))
    tolerance = lab_nb.metadata.get("labs", {}).get("tolerance", {}) if isinstance(lab_nb.metadata, dict) else {}
    for name, _cell, claimed, _ in _printed(sub_nb):
        seen = evidence.printed_values(name, run_nb)
        if seen and abs(seen[-1][1] - claimed) > seen[-1][2] + float(tolerance.get(name, 0) or 0):
            result.problems.append(f"{name}: the notebook printed {claimed:g}, the re-run printed {seen[-1][1]:g}")
    result.ok = not result.problems
    return result


def _printed(nb) -> list[tuple[str, int, float, float]]:
    """(metric name, cell, value, tolerance) of the last printed value of each common metric."""

    found = []
    for name in ("val_top1", "test_top1", "best_val_top1"):
        seen = evidence.printed_values(name, nb)
        if seen:
            found.append((name, *seen[-1]))
    return found


def reproduce(
    sub_nb: dict,
    lab_nb: dict,
    *,
    params: dict | None = None,
    cell_timeout: float = 600,
    notebook_timeout: float = 1800,
    memory: int = MEMORY_BYTES,
    use_bwrap: bool | None = None,
    threads: int | None = None,
) -> dict:
    """Re-run one submission (held in memory, as is its lab) in a throwaway folder; a Reproduction as a dict.

    A plain function of plain data, so `--workers N` can run it in worker processes. `threads`: the
    kernel's CPU threads (None: torch's default, every core).
    """
    sub, lab = (nbformat.convert(nbformat.reader.reads(json.dumps(nb)), 4) for nb in (sub_nb, lab_nb))
    isolation = isolation_name(use_bwrap)
    limits = {
        "cell_timeout": cell_timeout,
        "notebook_timeout": notebook_timeout,
        "memory": memory,
        "use_bwrap": use_bwrap,
        "threads": threads,
    }
    graded = {i for i, c in enumerate(lab.cells) if cells.is_graded_check(c)}
    works = []
    try:
        works.append(Path(tempfile.mkdtemp(prefix="labs-reproduce-")))
        pairs = cells.match_cells(lab, sub)
        run_nb = prepare(sub, lab, pairs, works[-1], params)
        cleanroom.add_probes(run_nb, graded)
        run_nb, replies, stopped = execute(run_nb, works[-1], **limits)
        result = compare(sub, run_nb, lab, replies, stopped, isolation)
        result.tampered = cleanroom.read_probes(run_nb, replies, "the re-run")
        if graded:  # a second fresh kernel, in its own folder: the first one could write into its HOME
            works.append(Path(tempfile.mkdtemp(prefix="labs-definitions-")))
            clean, position, dropped = cleanroom.definitions_notebook(sub, lab, pairs)
            head = nbformat.from_dict({**json.loads(json.dumps(lab)), "cells": lab.cells[: max(graded) + 1]})
            clean_nb = prepare(clean, head, position, works[-1], params)
            cleanroom.add_probes(clean_nb, graded)
            clean_nb, clean_replies, clean_stopped = execute(clean_nb, works[-1], **limits)
            checks, errors = cleanroom.graded_outcomes(clean_nb, clean_replies, graded)
            result.definitions = {"checks": checks, "dropped": dropped, "errors": errors, "stopped": clean_stopped}
            result.tampered += cleanroom.read_probes(clean_nb, clean_replies, "the definitions-only run")
            result.kernel_runs = 2
        return result.to_dict()
    except Exception as err:  # noqa: BLE001 - one submission never stops the class
        return Reproduction(
            isolation, problems=[f"could not re-run it: {type(err).__name__}: {str(err)[:200]}"]
        ).to_dict()
    finally:
        for work in works:
            shutil.rmtree(work, ignore_errors=True)


def apply(grade, result: dict) -> None:
    """Put a reproduction's outcome into a Grade: reproduced yes/no, why, and checks that failed when re-run."""
    grade.isolation = result["isolation"]
    grade.reproduced = "yes" if result["ok"] else "no"
    grade.reproduce_detail = [f"isolation: {ISOLATION_SAYS[result['isolation']]}", *result["problems"]]
    for check in grade.checks:
        outcome = result["checks"].get(check.lab_index, result["checks"].get(str(check.lab_index)))
        if outcome and outcome != "passed" and check.status == "passed":
            check.status = "failed"
            check.detail.append(f"passed in the submitted file, {outcome} when re-run with the lab's check cell")
    if not result["ok"] and result["problems"]:
        grade.notes.append("not reproduced: " + "; ".join(p.splitlines()[0] for p in result["problems"])[:400])
    _apply_definitions(grade, result.get("definitions") or {})
    _apply_probes(grade, result.get("tampered") or [])


def _apply_definitions(grade, run: dict) -> None:
    """A graded check scores only if it also passed where the lab's cells ran with the student's definitions alone."""
    if not run:
        return
    dropped, failed = run.get("dropped", []), []
    for check in grade.graded_checks:
        outcome = run.get("checks", {}).get(check.lab_index, run.get("checks", {}).get(str(check.lab_index)))
        if check.status == "passed" and outcome != "passed":
            check.status = "failed"
            check.detail.append(
                f"passed in your kernel but {outcome or 'not run'} in a fresh one that ran the lab's "
                "own cells with only your definitions in place of your exercise cells"
            )
            failed.append(check.label)
    said = [*(f"dropped {d}" for d in dropped), *(f"raised {e}" for e in run.get("errors", [])[:5])]
    said += [run["stopped"]] if run.get("stopped") else []
    grade.reproduce_detail.append(
        "definitions only (the lab's cells, your functions, classes and imports; other "
        "statements of your exercise cells dropped): " + ("; ".join(said) or "as submitted")
    )
    if failed:
        why = f" (dropped: {'; '.join(dropped)[:300]})" if dropped else ""
        grade.notes.append(f"passed only in the student's kernel: {'; '.join(failed)}{why}")


def _apply_probes(grade, tampered: list[str]) -> None:
    """A probe came out wrong: every graded check scores 0 until a person has read the notebook."""
    if not tampered:
        return
    for check in grade.graded_checks:
        if check.status == "passed":
            check.status = "withheld"
            check.detail.append("checks tampered: scores 0 pending a person's review")
    grade.reproduce_detail += [f"probe: {t}" for t in tampered]
    grade.notes.append("checks tampered (graded checks score 0 pending review): " + "; ".join(tampered)[:500])


@functools.cache
def _code_fingerprint() -> str:
    """What else decides a re-run's outcome: the helpers' source, torch's version, the isolation."""

    digest = hashlib.sha256(f"{torch.__version__} {isolation_name()}".encode())
    for path in sorted(Path(__file__).resolve().parent.parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(sub: dict, lab: dict, options: dict) -> str:
    """The same submission, lab, limits and code give the same key: a re-run would say the same."""

    text = json.dumps([sub, lab, sorted(options.items()), _code_fingerprint()], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _cached(cache: Path | None, key: str) -> dict | None:
    if cache is None:
        return None
    try:
        result = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
        return result if isinstance(result, dict) and {"ok", "isolation", "problems", "checks"} <= set(result) else None
    except (OSError, ValueError):
        return None


def _store(cache: Path | None, key: str, result: dict) -> None:
    """Keep an outcome for the next run; not one the grader's own trouble decided (a failed start)."""
    if cache is None or any(
        p.startswith(("could not re-run it", "stopped: the reproduction process died")) for p in result["problems"]
    ):
        return

    text = json.dumps(result)
    runtime.atomic_write(cache / f"{key}.json", lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def reproduce_all(grades: list, workers: int = 1, cache: Path | None = None, **options) -> None:
    """Re-run every graded notebook, `workers` processes at a time, with a progress bar; results into the grades.

    With `cache` (a folder), a notebook whose submission, lab, limits (threads included) and helpers code are those of
    an earlier run is not run again: that run's outcome is reused and the feedback says so.
    """

    # N kernels at once get the cores shared out as their threads, never oversubscribed; the thread count can
    # change a CPU run's last digits, so it is part of the cache key like the other limits
    options = {**options, "threads": threads_per_job(workers)}
    jobs = []
    for g in grades:
        sub, lab = json.loads(json.dumps(g.sources[0])), json.loads(json.dumps(g.sources[1]))
        key = cache_key(sub, lab, options)
        earlier = _cached(cache, key)
        if earlier is not None:
            apply(g, earlier)
            g.reproduce_detail.append(
                "reused: these files, this lab and these limits were re-run by an earlier "
                "grading run (grade --fresh runs them again)"
            )
        else:
            jobs.append((g, sub, lab, key))
    if cache is not None and len(jobs) < len(grades):
        print(f"reproducing {len(jobs)} of {len(grades)} notebooks: the others are unchanged since an earlier run")
    bar = tqdm(total=len(jobs), desc="reproducing", unit="notebook", file=sys.stderr, disable=not jobs)
    if workers <= 1:
        for grade, sub, lab, key in jobs:
            result = reproduce(sub, lab, **options)
            _store(cache, key, result)
            apply(grade, result)
            bar.update()
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
            running = {pool.submit(reproduce, sub, lab, **options): (grade, key) for grade, sub, lab, key in jobs}
            for done in concurrent.futures.as_completed(running):
                grade, key = running[done]
                _store(cache, key, done.result())
                apply(grade, done.result())
                bar.update()
    bar.close()


def _limit_and_exec(argv: list[str]) -> None:
    """`python -m helpers.course.reproduce --memory BYTES -- CMD ...`: set the limits, then become CMD."""
    import resource  # POSIX only: imported where the limit is set, so the rest works on Windows

    memory = int(argv[argv.index("--memory") + 1])
    cmd = argv[argv.index("--") + 1 :]
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    quiet = os.open(os.devnull, os.O_WRONLY)  # the kernel never writes to the grader's terminal
    os.dup2(quiet, 1)
    os.dup2(quiet, 2)
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])  # jupyter_client passes the grader's fds on
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    _limit_and_exec(sys.argv)
