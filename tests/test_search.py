"""Lab 13's search: Optuna studies in SQLite (resumable) and PostgreSQL (many workers), and bad input.

The PostgreSQL tests start a throwaway server: `initdb` and `pg_ctl` in a temporary folder, on a
free port on 127.0.0.1, as the `postgres` user when the tests run as root (initdb refuses root).
Where the server binaries are missing they are skipped with the reason; `make` installs Debian's
`postgresql` package where apt and root are available.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from lab_run import cli

from helpers import search
from helpers.errors import LabError

LAB = "01_sanity_checks"
RUNNING, FAIL = optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.FAIL


def _server_binary(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """The URL of a database on a throwaway PostgreSQL server, stopped and removed afterwards."""
    initdb, pg_ctl = _server_binary("initdb"), _server_binary("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip(
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed; `make` installs them "
            "(Debian: apt-get install postgresql)"
        )
    folder = Path(tempfile.mkdtemp(prefix="labs-pg-"))
    as_user = []
    if os.geteuid() == 0:  # initdb will not run as root
        try:
            shutil.chown(folder, "postgres")
        except LookupError:
            shutil.rmtree(folder)
            pytest.skip("running as root and there is no `postgres` user to run the throwaway server as")
        as_user = ["runuser", "-u", "postgres", "--"]
    port, data = _free_port(), folder / "data"
    run = lambda *cmd: subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=120)  # noqa: E731
    made = run(initdb, "-D", str(data), "-A", "trust", "-U", "labs", "--no-sync")
    assert made.returncode == 0, made.stdout + made.stderr
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    started = run(pg_ctl, "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start")
    assert started.returncode == 0, started.stdout + started.stderr + (folder / "log").read_text()
    try:
        import psycopg

        with psycopg.connect(f"postgresql://labs@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE studies")
        yield f"postgresql://labs@127.0.0.1:{port}/studies"
    finally:
        run(pg_ctl, "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _slow_objective(trial) -> float:
    search.suggest(trial, search.space_for(LAB))  # draws its parameters as a real trial does ...
    time.sleep(600)  # ... then is killed mid-trial, however fast this machine trains
    return 0.0


def _one_worker(storage: str, name: str) -> None:
    """A worker on the project's storage and loop whose trial outlasts its heartbeat: a real smoke
    trial can finish within one heartbeat on a fast machine, and then no trial is ever caught mid-run."""
    search.optimize(search.open_study(LAB, storage, name, "random"), _slow_objective, 100)


def test_two_workers_share_a_postgresql_study_and_a_killed_worker_loses_no_trial(postgres):
    name, trials = "kill-test", 8
    study = search.open_study(LAB, postgres, name, "random")
    victim = multiprocessing.get_context("spawn").Process(target=_one_worker, args=(postgres, name))
    victim.start()
    deadline = time.time() + 180

    def beating() -> bool:  # running long enough to have written a heartbeat (a trial without one is never stale)
        running = study.get_trials(deepcopy=False, states=(RUNNING,))
        return any(time.time() - t.datetime_start.timestamp() > search.HEARTBEAT_SECONDS + 0.5 for t in running)

    while not beating():
        assert time.time() < deadline and victim.is_alive(), "the first worker never started a trial"
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)  # mid-trial: its trial stays RUNNING, its heartbeat stops
    victim.join()
    killed = study.get_trials(deepcopy=False, states=(RUNNING,))[0]

    proc = cli(
        "sweep",
        "01",
        "--storage",
        postgres,
        "--study",
        name,
        "--sampler",
        "random",
        "--trials",
        str(trials),
        "--workers",
        "2",
        "--profile",
        "smoke",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    all_trials = study.get_trials(deepcopy=False)
    numbers = [t.number for t in all_trials]
    assert sorted(numbers) == list(range(len(numbers))), "every trial is recorded once"
    assert search.finished(study) >= trials and not study.get_trials(deepcopy=False, states=(RUNNING,))
    dead = study.trials[killed.number]  # as stored now: every parameter it drew before the kill
    assert dead.state == FAIL, "the dead worker's trial is marked failed"
    retried = [t for t in all_trials if t.system_attrs.get("failed_trial") == killed.number]
    # killed mid-trial, it may have drawn only some parameters: the retry reuses every one it drew
    assert len(retried) == 1 and dead.params.items() <= retried[0].params.items(), (
        f"the dead worker's trial is run again with the parameters it drew: {dead.params} -> {retried[0].params}"
    )
    assert retried[0].state in search.FINISHED


def test_a_sqlite_study_resumes_and_is_never_overwritten(tmp_path):
    from helpers import config, runtime

    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    cfg = config.resolve("13_hparam_search", "smoke", epochs=1)
    objective = search.objective(LAB, cfg, runtime.pick_device("cpu"))
    first = search.open_study(LAB, storage, "resume", "random")
    search.optimize(first, objective, 3)
    before = [(t.number, t.value, t.params) for t in first.trials]
    again = search.open_study(LAB, storage, "resume", "random")  # as a rerun of the lab does
    assert [(t.number, t.value, t.params) for t in again.trials] == before, "the finished trials are kept"
    search.optimize(again, objective, 5)
    assert search.finished(again) == 5 and [(t.number, t.value, t.params) for t in again.trials[:3]] == before


def test_bad_input_gets_clear_errors(tmp_path):
    storage = f"sqlite:///{tmp_path / 'studies.db'}"
    with pytest.raises(LabError, match="has no search space. Sweepable: 01_sanity_checks, 07_vit"):
        search.open_study("05_regularization", storage)
    with pytest.raises(LabError, match=r"Unknown parameter\(s\) dropuot in the search space"):
        search.open_study(LAB, storage, space={"dropuot": search.Param("float", 0, 0.5)})
    with pytest.raises(LabError, match="Unknown sampler 'grid'"):
        search.open_study(LAB, storage, sampler="grid")
    search.open_study(LAB, storage, "shared")
    with pytest.raises(LabError, match="was created for lab '01_sanity_checks', not '07_vit'"):
        search.open_study("07_vit", storage, "shared")
    with pytest.raises(LabError, match="Cannot open the study storage postgresql://labs:\\*\\*\\*@127.0.0.1"):
        search.open_study(LAB, f"postgresql://labs:secret@127.0.0.1:{_free_port()}/none")
    proc = cli("sweep", "99", "--storage", storage)
    assert proc.returncode == 2 and "Sweepable" in proc.stderr and "Traceback" not in proc.stderr
    proc = cli("sweep", "01", "--storage", storage, "--trials", "0")
    assert proc.returncode == 2 and "at least 1" in proc.stderr


def test_a_retry_queued_after_the_budget_is_met_still_runs(tmp_path):
    """A dead worker's retry can be queued when the other workers have already met the budget:
    optimize() runs it anyway, with the parameters the dead trial drew, and only it."""
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}", direction="maximize")
    seen = []

    def objective(trial: optuna.Trial) -> float:
        seen.append(trial.suggest_float("x", 0.0, 1.0))
        return seen[-1]

    search.optimize(study, objective, trials=3)
    assert search.finished(study) == 3 and len(seen) == 3
    study.enqueue_trial({"x": 0.25})  # what the stale-trial callback leaves: a WAITING trial
    search.optimize(study, objective, trials=3)
    assert seen[3:] == [0.25] and search.finished(study) == 4
    search.optimize(study, objective, trials=3)  # nothing queued and the budget met: nothing runs
    assert len(seen) == 4


def test_the_tu_wien_cnn_is_swept_over_the_reports_settings_and_learns(tmp_path):
    from helpers import config, runtime

    space = search.space_for("tu_wien_cnn")
    assert space["batch_size"].choices == (128, 256, 512) and space["dropout"].choices == (0.3, 0.5, 0.7)
    cfg = config.resolve("13_hparam_search", "smoke", epochs=1)
    study = search.open_study("tu_wien_cnn", f"sqlite:///{tmp_path / 'studies.db'}", "cnn", "random")
    search.optimize(study, search.objective("tu_wien_cnn", cfg, runtime.pick_device("cpu")), 3)
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(done) == 3 and max(t.value for t in done) > 0.3, "a CNN trial should learn far above chance (10%)"
    by_dropout = search.per_value(study, "dropout")
    assert by_dropout["trials"].sum() == 3 and set(by_dropout.index) <= {0.3, 0.5, 0.7}
    assert by_dropout["best"].max() == pytest.approx(study.best_value, abs=1e-4)
