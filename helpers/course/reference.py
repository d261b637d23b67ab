"""Reference runs: the measured results the course quotes, kept in the repository.

`python -m helpers reference LAB --profile P [--dataset D] [--seeds N]` runs the lab through the
runner once per seed (the notebook's `seed` parameter: 0, 1, ... N-1; it seeds the data split and
the lab's own runs) and writes `reference/<profile>-<dataset>/<lab>.json`:

- `runs`: each seed's results as the lab recorded them (`helpers.results`: metrics, the per-epoch
  history, the lab's own extras such as its seed tables), less the local paths;
- `metrics`: each headline metric over the seeds: values, mean, min, max and spread (half the
  range, as `helpers.experiments.seed_table` has it);
- `recipe`: the resolved recipe (`python -m helpers config LAB --profile P`), which a test holds
  equal to what the code resolves today, so a reference goes stale loudly;
- `seconds` per seed, `machine` (CPU model, GPU, cores, threads), `versions`, and `made`: the
  exact command, the git commit (and whether the tree had uncommitted changes), the date, a note.

Kilobytes each: metrics and histories only, never weights or images. A file is replaced by a new
run, never edited by hand. `compare.py` puts a run beside its reference; `tables.py` renders the
course's results tables from these files.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

from helpers.config import REPO, recipe_json, resolve
from helpers.course import runner
from helpers.course.untrusted import atomic_write_text
from helpers.errors import LabError
from helpers.references import REFERENCE_DIR, find, machine_line, path_for  # noqa: F401 (this module's API too)

DEFAULT_SEEDS = {"smoke": 2, "quick": 3, "full": 3}  # smoke: 2 keep it to seconds and still give a spread
LOCAL = ("data_dir", "results_dir")  # where files went on the machine that ran it: not part of the result
MAX_BYTES = 200_000  # a reference is kilobytes; more means something heavy was recorded


def load(path: Path) -> dict:
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "metrics" not in data or "lab" not in data:
        raise LabError(
            f"{path} is not a reference file (no 'lab' or 'metrics'); re-make it with "
            "`python -m helpers reference LAB --profile P`."
        )
    return data


def every(root: Path = REFERENCE_DIR) -> list[dict]:
    """Every reference file under `root`, sorted by lab, then profile and dataset."""
    found = [load(p) for p in sorted(Path(root).glob("*-*/[0-9][0-9]_*.json"))]
    return sorted(found, key=lambda r: (r["lab"], r["profile"], r["dataset"]))


def spread(values: list[float]) -> dict:
    """values, mean, min, max and spread (half the range) of one metric over seeds."""
    lo, hi = min(values), max(values)
    return {"values": values, "mean": sum(values) / len(values), "min": lo, "max": hi, "spread": (hi - lo) / 2}


def headline(results: dict) -> dict[str, float]:
    """A run's headline metrics: the finite numbers in its `metrics`."""
    metrics = results.get("metrics") or {}
    return {k: float(v) for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)}


def recipe_of(config: dict) -> dict:
    """The recipe part of a run's recorded config: what `helpers config` prints (no paths, device or seed)."""
    return {k: v for k, v in config.items() if k not in (*LOCAL, "device", "seed")}


def cpu_model() -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what the platform module knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine(threads: int | None) -> dict:
    """The machine the runs were made on: CPU model, cores, the kernels' CPU threads, GPU."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "threads": threads or torch.get_num_threads(),
        "gpu": gpu,
        "platform": f"{platform.system()} {platform.machine()}",
    }


def git_state() -> dict:
    """The commit the runs were made from, and whether the code (helpers/, labs/) had uncommitted changes."""

    def git(*args) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    changed = git("status", "--porcelain", "--untracked-files=no", "--", "helpers", "labs")
    return {"commit": git("rev-parse", "HEAD") or "unknown", "uncommitted_changes": bool(changed)}


def make(
    lab: str,
    profile: str,
    *,
    dataset: str | None = None,
    seeds: int | None = None,
    params: dict | None = None,
    root: Path = REFERENCE_DIR,
    note: str = "",
    command: str | None = None,
    timeout: float | None = None,
    parallel: bool = False,
) -> Path:
    """Run `lab` in `profile` once per seed and write its reference file; returns the file's path.

    params: other notebook parameters (e.g. device); they are part of the setting and are recorded.
    parallel: run the seeds at once (each kernel with torch's default threads, as one at a time:
    the same numbers, and the seconds then measure runs that shared the machine).
    A seed that fails stops it with the lab's error: a reference holds complete runs only."""

    (notebook,) = runner.find_labs([lab])
    lab = notebook.stem
    profile = resolve(lab, profile).profile
    n = DEFAULT_SEEDS[profile] if seeds is None else seeds
    if n < 1:
        raise LabError(f"--seeds {n}: give how many seeds to run (1 or more; 2+ gives a spread).")
    params = dict(params or {})
    for name in ("seed", "profile", "results_dir"):
        if name in params:
            raise LabError(f"-p {name}=... is set by the reference itself; leave it out.")
    if dataset:
        params["dataset"] = dataset
    code = git_state()  # the code the runs start from (another change may land while they run)
    with tempfile.TemporaryDirectory(prefix="labs-reference-") as tmp:

        def one(seed: int) -> runner.RunResult:
            (result,) = runner.run(
                [lab], profile=profile, out=Path(tmp) / f"seed{seed}", params={**params, "seed": seed}, timeout=timeout
            )
            return result

        # at once: each kernel still runs torch's default threads, so the numbers are those of one at a time
        with ThreadPoolExecutor(max_workers=n if parallel else 1) as pool:
            results = list(pool.map(one, range(n)))
    for seed, result in enumerate(results):
        if result.status != "ok" or not result.results:
            why = result.error or result.status
            raise LabError(
                f"{lab} (seed {seed}) did not finish: {why}; see `python -m helpers run {lab} "
                f"--profile {profile} -p seed={seed}`. No reference written."
            )
    runs = [{**r.results, "config": {k: v for k, v in r.results["config"].items() if k not in LOCAL}} for r in results]
    seconds = [round(r.seconds, 1) for r in results]
    first = runs[0]
    metrics = {
        key: spread([headline(r)[key] for r in runs])
        for key in headline(first)
        if all(key in headline(r) for r in runs)
    }
    ref = {
        "lab": lab,
        "profile": profile,
        "dataset": first["dataset"],
        "seeds": list(range(n)),
        "params": params,
        "metrics": metrics,
        "recipe": recipe_of(first["config"]),
        "seconds": seconds,
        "machine": machine(None),
        "versions": first.get("versions", {}),
        "made": {
            "command": command or default_command(lab, profile, dataset, seeds, params),
            **code,
            "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seeds_at_once": n if parallel else 1,
            "note": note,
        },
        "runs": runs,
    }
    text = json.dumps(ref, indent=1, default=str) + "\n"
    if len(text) > MAX_BYTES:
        raise LabError(
            f"{lab}'s reference would be {len(text) // 1000} kB (limit {MAX_BYTES // 1000} kB): "
            "its results hold something heavy (images? weights?); record metrics only."
        )
    path = path_for(lab, profile, first["dataset"], root)
    path.parent.mkdir(parents=True, exist_ok=True)

    return atomic_write_text(path, text)


def default_command(lab: str, profile: str, dataset: str | None, seeds: int | None, params: dict) -> str:
    parts = ["python", "-m", "helpers", "reference", lab, "--profile", profile]
    parts += ["--dataset", dataset] if dataset else []
    parts += ["--seeds", str(seeds)] if seeds is not None else []
    for key, value in params.items():
        if key != "dataset":
            parts += ["-p", f"{key}={json.dumps(value) if not isinstance(value, str) else value}"]
    return shlex.join(parts)


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed, for the record: `python -m helpers ARGS`."""
    return shlex.join(["python", "-m", "helpers", *(sys.argv[1:] if argv is None else argv)])


def seeds_at_once(ref: dict) -> int:
    """How many seeds ran at once when the reference was made (references made before this was
    recorded say it in their command: `--parallel` ran them all at once)."""
    made = ref.get("made", {})
    if "seeds_at_once" in made:
        return int(made["seeds_at_once"])
    return len(ref.get("seeds", [])) if "--parallel" in str(made.get("command", "")) else 1


def minutes_per_run(ref: dict) -> float | None:
    """Wall-clock minutes of one run of the lab, the mean over the reference's seeds; None if untimed."""
    seconds = ref.get("seconds") or []
    return sum(seconds) / len(seconds) / 60 if seconds else None


def stale(ref: dict) -> str | None:
    """Why a reference no longer matches the code's recipe, or None when it does."""
    today = recipe_json(ref["lab"], ref["profile"], dataset=ref["dataset"])
    recorded = ref["recipe"]
    if recorded == today:
        return None
    keys = sorted(k for k in set(today) | set(recorded) if today.get(k) != recorded.get(k))
    diffs = "; ".join(f"{k}: recorded {recorded.get(k)!r}, today {today.get(k)!r}" for k in keys)
    return (
        f"{ref['lab']} {ref['profile']}-{ref['dataset']}: the reference's recipe differs from what "
        f"`python -m helpers config {ref['lab'][:2]} --profile {ref['profile']}` resolves today ({diffs}); "
        f"re-make it: {ref['made']['command']}"
    )
