"""A class of 47 lab-01 submissions through `grade --reproduce`: who is flagged, what is left unchanged, how long.

    python benchmarks/grade_class.py [--workers 2] [--shards N] [--out DIR] [--no-tamper]

Lab 01 is run once in smoke with the runner; from that real executed notebook and its results the
script builds 40 submissions, ten of each of four kinds:
- honest: the run as it is (each with its own student name in the metadata, so none is
  served from another's cached outcome);
- wrong: an exercise replaced by one of the planted wrong answers of tests/planted/lab01.py,
  its outputs left as the honest run printed them;
- forged: the printed numbers and the results file raised, a check cell tagged
  `raises-exception`, a check cell edited to pass, or a checked output's marker removed;
- malicious: an added cell that tries to overwrite the lab and every other submission, to write
  into HOME, and to open a network connection;
and one of each tampered submission of tests/planted/tamper.py (a broken training loop plus code that
silences the checks in the student's kernel: input and AST transformers, patched builtins and torch,
a trace function, an event hook, a patch from inside the exercise), each run top to bottom in smoke
so its outputs are what that code printed (`--no-tamper`: the 40 without them).

Then `grade --reproduce --workers N` grades the folder (with `--shards N`: as N shards, one
after another, merged with `grade --merge`, as N machines would). Each reproduction gets the
cores divided among the workers as its threads; the smoke run is made with as many, since CPU results differ in
their last digits between thread counts and a difference would flag the honest runs. The script
checks that every honest submission gets full marks and is reproduced, that every other one is flagged by
name (a check failed, not reproduced, or a problem listed; a tampered one with its tampering named), and
that `labs/` and every submission are byte-for-byte what they were; and prints JSON with the counts, the
grading time and the machine. Exit status 1 if any of that does not hold.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from planted.lab01 import PLANTED  # noqa: E402
from planted.tamper import KINDS, tampered  # noqa: E402

from helpers.course import cells, evidence, grading, reproduce, runner, shards  # noqa: E402

LAB = "01_sanity_checks"
PAYLOAD = """import os, pathlib, socket
for p in pathlib.Path({labs!r}).rglob('*'):
    try: p.write_text('{{}}') if p.is_file() else None
    except OSError: pass
for p in pathlib.Path({subs!r}).rglob('*'):
    try: p.write_text('{{}}') if p.is_file() else None
    except OSError: pass
try: pathlib.Path(os.path.expanduser('~/.pwned')).write_text('x')
except OSError: pass
try:
    socket.create_connection(('1.1.1.1', 443), timeout=2); print('network: open')
except OSError:
    print('network: closed')"""


def snapshot(*folders: Path) -> dict:
    return {p: p.read_bytes() for f in folders for p in sorted(f.rglob("*")) if p.is_file()}


def index_of(nb, cell_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.get("id") == cell_id)


def build(nb, results: dict, labs: Path, subs: Path) -> dict[str, tuple[str, dict, dict]]:
    """{student: (kind, notebook, results)}: ten of each kind."""
    class_ = {}
    for i in range(10):
        honest = copy.deepcopy(nb)
        honest.metadata["student"] = f"honest-{i:02d}"
        class_[f"honest-{i:02d}"] = ("honest", honest, results)

    wrong_answers = [(cell_id, p) for cell_id, planted in PLANTED.items() for p in planted]
    for i in range(10):
        cell_id, planted = wrong_answers[i % len(wrong_answers)]
        wrong = copy.deepcopy(nb)
        cell = wrong.cells[index_of(wrong, cell_id)]
        cell.source = planted.apply(cell.source)
        class_[f"wrong-{i:02d}"] = ("wrong", wrong, results)

    out_cell = [i for i, c in enumerate(nb.cells) if cells.is_checked_output(c)][-1]
    checks = [i for i, c in enumerate(nb.cells) if cells.is_graded_check(c)]
    for i in range(10):
        forged, claims = copy.deepcopy(nb), copy.deepcopy(results)
        how = i % 4
        if how == 0:  # the printed validation accuracy and the results file both say 0.99
            pattern = evidence.metric_pattern("val_top1")
            for cell in forged.cells:
                for output in cell.get("outputs", []):
                    if "text" in output:
                        output.text = pattern.sub(lambda m: m[0][: m.start("num") - m.start()] + "0.99", output.text)
            claims["metrics"] = {**claims["metrics"], "val_top1": 0.99}
        elif how == 1:  # a failing check told to be allowed to fail, and the exercise wrong
            ex_id, planted = wrong_answers[i % len(wrong_answers)]
            cell = forged.cells[index_of(forged, ex_id)]
            cell.source = planted.apply(cell.source)
            for j in checks:
                forged.cells[j].metadata["tags"] = ["raises-exception"]
        elif how == 2:  # a check cell edited to pass anything
            forged.cells[checks[i % len(checks)]].source = "assert True"
        else:  # a checked output's marker removed, and the number in it raised
            cell = forged.cells[out_cell]
            cell.source = cell.source.replace("# NBVAL_CHECK_OUTPUT\n", "")
            claims["metrics"] = {k: min(1.0, v + 0.1) for k, v in claims["metrics"].items()}
        class_[f"forged-{i:02d}"] = ("forged", forged, claims)

    for i in range(10):
        mal = copy.deepcopy(nb)
        at = index_of(mal, "345b21fa") + 1  # after the imports
        payload = nbformat.v4.new_code_cell(PAYLOAD.format(labs=str(labs), subs=str(subs)), id=f"payload{i}")
        mal.cells.insert(at, payload)
        class_[f"malicious-{i:02d}"] = ("malicious", mal, results)
    return class_


def run_tampered(labs: Path, scratch: Path, workers: int) -> dict[str, tuple[str, dict, dict]]:
    """{kind: ("tampered", executed notebook, results)}: each tampered copy of the lab, run in smoke."""
    lab = cells.read_notebook(labs / f"{LAB}.ipynb")

    def execute(kind: str):
        src, out = scratch / "src" / kind, scratch / "out" / kind
        src.mkdir(parents=True)
        nbformat.write(nbformat.from_dict(tampered(lab, kind)), src / f"{LAB}.ipynb")
        params = {"profile": "smoke", "results_dir": str(out)}
        result = runner.run_notebook(src / f"{LAB}.ipynb", out, params, 900, threads=runner.threads_per_job(workers))
        claims = json.loads((out / f"{LAB}.json").read_text(encoding="utf-8")) if result.status == "ok" else {}
        return kind, ("tampered", cells.read_notebook(out / f"{LAB}.ipynb"), claims)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(execute, KINDS))


def write_class(class_: dict, subs: Path) -> None:
    """subs/<student>/01_sanity_checks.ipynb and its results file, for every student of `build`."""
    for who, (_, notebook, claims) in class_.items():
        (subs / who).mkdir(parents=True)
        nbformat.write(notebook, subs / who / f"{LAB}.ipynb")
        (subs / who / f"{LAB}.json").write_text(json.dumps(claims), encoding="utf-8")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--shards", type=int, default=1, help="grade as this many shards, then merge them")
    p.add_argument("--out", help="keep the class and its grades here (default: a temporary folder, removed)")
    p.add_argument("--no-tamper", action="store_true", help="the 40 without the tampered submissions")
    args = p.parse_args(argv)
    if args.shards < 1:
        p.error(f"--shards is a number of shards, at least 1; got {args.shards}")
    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="grade-class-"))
    labs, subs, run = root / "labs", root / "submissions", root / "run"
    labs.mkdir(parents=True)
    shutil.copy(REPO / "labs" / f"{LAB}.ipynb", labs)

    # the class's runs use the threads each reproduction will get (the cores shared out among the workers):
    # CPU results differ in their last digits between thread counts, and this measures the grader, not that
    os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // args.workers))
    start = time.perf_counter()
    (result,) = runner.run([LAB], profile="smoke", out=run)
    if result.status != "ok":
        print(f"lab 01 did not run in smoke: {result.error}", file=sys.stderr)
        return 1
    run_seconds = time.perf_counter() - start
    nb = cells.read_notebook(run / f"{LAB}.ipynb")
    results = json.loads((run / f"{LAB}.json").read_text(encoding="utf-8"))
    class_ = build(nb, results, labs, subs)
    start = time.perf_counter()
    if not args.no_tamper:
        class_ |= run_tampered(labs, root / "tampered", args.workers)
    tamper_run_seconds = time.perf_counter() - start
    write_class(class_, subs)
    before = snapshot(labs, subs)

    start = time.perf_counter()
    if args.shards == 1:
        grading.grade_folder(subs, root / "grades", labs_dir=labs, reproduce=True, workers=args.workers, fresh=True)
    else:
        parts = [root / f"grades-shard-{i}" for i in range(1, args.shards + 1)]
        for i, part in enumerate(parts, start=1):
            grading.grade_folder(
                subs, part, labs_dir=labs, reproduce=True, workers=args.workers, fresh=True, shard=(i, args.shards)
            )
        shards.merge(parts, root / "grades")
    grade_seconds = time.perf_counter() - start
    with open(root / "grades" / "grades.csv", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}

    def clean(row) -> bool:  # full marks, reproduced, nothing listed: what an honest submission must get
        return row["reproduced"] == "yes" and row["score"] == row["max_score"] and not row["problems"]

    kinds = {who: kind for who, (kind, _, _) in class_.items()}
    wrongly = [f"{who}: no row" for who in kinds if who not in rows]
    wrongly += [
        f"{who}: honest but {rows[who]['score']}/{rows[who]['max_score']}, reproduced "
        f"{rows[who]['reproduced']}, {rows[who]['problems']!r}"
        for who, kind in kinds.items()
        if who in rows and kind == "honest" and not clean(rows[who])
    ]
    wrongly += [
        f"{who}: {kind} but not flagged"
        for who, kind in kinds.items()
        if who in rows and kind != "honest" and clean(rows[who])
    ]
    wrongly += [
        f"{who}: tampered, {rows[who]['score']}/{rows[who]['max_score']}, and no tampering named"
        for who, kind in kinds.items()
        if who in rows and kind == "tampered" and "tampering:" not in rows[who]["problems"]
    ]
    unchanged = snapshot(labs, subs) == before
    summary = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "isolation": reproduce.isolation_name(),
        "workers": args.workers,
        "shards": args.shards,
        "submissions": len(class_),
        "honest_full_marks": sum(k == "honest" and w in rows and clean(rows[w]) for w, k in kinds.items()),
        "others_flagged": sum(k != "honest" and w in rows and not clean(rows[w]) for w, k in kinds.items()),
        "labs_and_submissions_unchanged": unchanged,
        "tampered_named": sum(
            k == "tampered" and "tampering:" in rows.get(w, {}).get("problems", "") for w, k in kinds.items()
        ),
        "smoke_run_seconds": round(run_seconds, 1),
        "tampered_runs_seconds": round(tamper_run_seconds, 1),
        "grading_seconds": round(grade_seconds, 1),
        "problems": wrongly,
        "max_score": sum(
            cells.points(c) for c in cells.read_notebook(labs / f"{LAB}.ipynb").cells if cells.is_graded_check(c)
        ),
    }
    print(json.dumps(summary, indent=2))
    if not args.out:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if unchanged and not wrongly else 1


if __name__ == "__main__":
    sys.exit(main())
