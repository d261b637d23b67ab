"""Command line: `python -m helpers COMMAND ...` (see `python -m helpers -h`).

Each command imports its own modules inside its function, so `-h` and a light command start
without loading torch, the grader or the site tools."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from helpers.errors import LabError


def parse_value(text: str):
    """`3` -> 3, `0.1` -> 0.1, `true` -> True, `null` -> None, anything else stays a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_run(args) -> int:
    from helpers.course import runner

    params = parse_params(args.param)
    results = runner.run(
        args.labs,
        profile=args.profile,
        out=args.out,
        params=params,
        timeout=args.timeout,
        verbose=args.verbose,
        jobs=args.jobs,
    )
    print(runner.summary_table(results))
    return 0 if all(r.status == "ok" for r in results) else 1


def cmd_data(args) -> int:
    from helpers import data
    from helpers.config import default_dir

    data_dir = Path(args.data_dir) if args.data_dir else default_dir("LABS_DATA_DIR", "data")
    if args.action == "import":
        if not args.path:
            raise LabError("Usage: python -m helpers data import NAME PATH (an image-folder tree or .tar.gz).")
        if args.name == "synthetic" or args.name.startswith("folder:"):
            raise LabError(f"{args.name!r} cannot be an import name; pick another, e.g. 'miniplaces'.")
        ds = data.from_folder(args.path, name=args.name)
        expected = data.CLASSES.get(args.name)
        if expected and sorted(ds.train.classes) != sorted(expected):
            raise LabError(
                f"{args.path} has classes {ds.train.classes}, not {args.name}'s {expected}; "
                "import it under another name."
            )
        data.write_cache(ds, data_dir / f"{args.name}.pt")
        print(f"imported {ds.summary()} from {ds.source} into {data_dir / (args.name + '.pt')}")
        return 0
    ds = data.load(args.name, data_dir, download=args.action == "fetch")
    print(ds.summary())
    print(f"source: {ds.source}")
    print(f"classes: {', '.join(ds.train.classes)}")
    print(f"mean: {tuple(round(m, 4) for m in ds.train.mean)}  std: {tuple(round(s, 4) for s in ds.train.std)}")
    return 0


def parse_params(items: list[str]) -> dict:
    """`-p NAME=VALUE` options as a dict of parsed values."""
    params = {}
    for item in items:
        if "=" not in item:
            raise LabError(f"-p takes NAME=VALUE, got {item!r} (e.g. -p epochs=3).")
        key, value = item.split("=", 1)
        params[key.strip()] = parse_value(value)
    return params


def cmd_verify(args) -> int:
    from helpers.course import verify

    results = verify.verify(args.notebooks, params=parse_params(args.param), timeout=args.timeout)
    bad = [str(r.notebook) for r in results if not r.ok]
    print(f"{len(results) - len(bad)} of {len(results)} notebooks reproduced" + "".join(f"; not {b}" for b in bad))
    return 1 if bad else 0


def cmd_student(args) -> int:
    from helpers.course import student

    for path in student.write_student_versions(args.labs, args.out, package=args.package):
        print(f"wrote {path}")
    return 0


def cmd_frontdoor(args) -> int:
    from helpers.course import frontdoor

    if args.check:
        changes = frontdoor.stale()
        for path in changes:
            print(f"stale: {path.relative_to(frontdoor.ROOT)}")
        if changes:
            print("run `python -m helpers frontdoor` (or `make student`) to bring them up to date", file=sys.stderr)
        return 1 if changes else 0
    for path in frontdoor.write():
        print(f"wrote {path.relative_to(frontdoor.ROOT)}")
    return 0


def cmd_site(args) -> int:
    from helpers.course import site

    index = site.build(profile=args.profile, executed=args.executed, out=args.out)
    print(f"the site: {index}")
    return 0


def cmd_grade(args) -> int:
    from helpers.course import grading, shards
    from helpers.course.runner import LABS_DIR
    from helpers.course.untrusted import printable

    if args.merge:
        return cmd_merge(args)
    if not args.submissions:
        raise LabError(
            "grade needs a SUBMISSIONS folder (one sub-folder per student), or --merge OUT [OUT ...] "
            "--out DIR to join the outputs of `grade --shard I/N`."
        )
    shard = shards.parse_spec(args.shard) if args.shard is not None else None
    labs_dir = Path(args.labs) if args.labs else LABS_DIR
    options = {
        "cell_timeout": args.cell_timeout,
        "notebook_timeout": args.notebook_timeout,
        "memory": int(args.memory_gib * 2**30),
        "use_bwrap": False if args.no_bwrap else None,
    }
    grades, out = grading.grade_folder(
        args.submissions,
        args.out,
        labs_dir=labs_dir,
        reproduce=args.reproduce,
        force=args.force,
        workers=args.workers,
        options=options,
        fresh=args.fresh,
        shard=shard,
    )
    for g in grades:
        row = g.row()
        who, what = printable(row["student"]), printable(row["file"])
        print(
            f"{who:<16} {what:<28} {row['status']:<14} in order: {row['ran_top_to_bottom']:<3} "
            f"score {row['score']}/{row['max_score']}  checks {row['checks_passed']}/{row['checks_total']}  "
            f"answers {row['written_answers']}  reproduced: {row['reproduced']}"
        )
    print(
        f"wrote {out / 'grades.csv'}, {out / 'answers.csv'} (written answers, to grade by hand) "
        f"and one feedback page per student in {out}"
    )
    if shard:
        print(f"shard {shard[0]}/{shard[1]}: join every shard's folder with `grade --merge FOLDER ... --out DIR`")
    return 0


def cmd_merge(args) -> int:
    from helpers.course import shards

    if args.submissions or args.shard or args.reproduce:
        raise LabError("--merge takes only the shards' output folders and --out: grade --merge OUT1 OUT2 ... --out DIR")
    if not args.out:
        raise LabError("--merge needs --out DIR, a new folder for the merged class table.")
    out, rows = shards.merge(args.merge, args.out, force=args.force)
    print(
        f"merged {len(args.merge)} shards: {rows} rows in {out / 'grades.csv'}, the answers in "
        f"{out / 'answers.csv'} and every feedback page in {out}"
    )
    return 0


def cmd_sweep(args) -> int:
    from helpers import search
    from helpers.config import default_dir

    lab = args.lab if args.lab in search.SPACES else _lab_name(args.lab)  # a lab, or a model such as tu_wien_cnn
    storage = args.storage or search.default_storage(default_dir("LABS_RESULTS_DIR", "results"))
    study = search.sweep(
        lab,
        storage,
        args.trials,
        args.workers,
        name=args.study,
        sampler=args.sampler,
        profile=args.profile,
        seed=args.seed,
    )
    print(json.dumps(search.summary(study), indent=2))
    return 0


def cmd_config(args) -> int:
    from helpers.config import LAB_NAMES, recipe_json

    labs = list(LAB_NAMES) if args.lab == "all" else [_lab_name(args.lab)]
    found = {lab: recipe_json(lab, args.profile, **parse_params(args.param)) for lab in labs}
    print(json.dumps(found[labs[0]] if len(labs) == 1 else found, indent=2))
    return 0


def _lab_name(name: str) -> str:
    """'06', '06_resnet20' or 'resnet20' -> '06_resnet20'; unknown names are left for resolve() to reject."""
    from helpers.config import LAB_NAMES

    matches = [lab for lab in LAB_NAMES if lab == name or lab.split("_", 1)[0] == name or lab.endswith("_" + name)]
    return matches[0] if len(matches) == 1 else name


def cmd_report(args) -> int:
    from helpers.course import report

    html, md, problems = report.write_report(args.folder)
    for problem in problems:
        print(f"problem: {problem}")
    print(f"wrote {html} and {md}")
    return 0


def cmd_reference(args) -> int:
    from helpers.course import reference

    if args.tables:
        from helpers.course import quotes, tables

        for path in tables.write_tables():
            print(f"wrote {path}")
        stale = quotes.stale_quotes()
        for where, problem in stale.items():
            print(f"stale quote ({where}): {problem}")
        if not args.labs:
            return 1 if stale else 0
    if not args.labs or not args.profile:
        raise LabError(
            "Usage: python -m helpers reference LAB [LAB ...] --profile P [--dataset D] [--seeds N], "
            "or --tables to render docs/generated/ and the results page's tables from reference/."
        )
    for lab in args.labs:
        path = reference.make(
            lab,
            args.profile,
            dataset=args.dataset,
            seeds=args.seeds,
            note=args.note,
            params=parse_params(args.param),
            command=reference.command_line(),
            timeout=args.timeout,
            parallel=args.parallel,
        )
        print(f"wrote {path}")
    return 0


def cmd_compare(args) -> int:
    from helpers.course import compare

    found = compare.compare(args.run_dir)
    print(compare.format_report(found))
    return 1 if found.flags else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description="The image-classification labs.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute lab notebooks with papermill")
    p.add_argument("labs", nargs="*", help="lab numbers, names or notebook paths (default: every lab)")
    p.add_argument("--profile", default="auto", help="smoke, quick, full or auto (default)")
    p.add_argument("--out", default="executed", help="folder for executed notebooks and results")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a notebook parameter")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per notebook, 0 for none (default: 1800 in smoke, none in quick and full)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        default="1",
        help="labs at once, each with cores/N CPU threads; auto: one per core (at most 4), or 1 with a GPU (default 1)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="stream the cells' output (with --jobs 1)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="hyperparameter search: K workers on one Optuna study (SQLite or PostgreSQL)")
    p.add_argument("lab", help="whose model is tuned: 01 (SimpleNN), 07 (ViT) or tu_wien_cnn (TU Wien's CNN)")
    p.add_argument("--storage", help="database URL (default: SQLite in results/13_hparam_search/studies.db)")
    p.add_argument("--trials", type=int, default=20, help="finished trials the study should hold (all workers)")
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    p.add_argument("--study", help="study name (default LAB-SAMPLER); the same name on other machines joins it")
    p.add_argument("--sampler", default="tpe", help="tpe (default) or random")
    p.add_argument("--profile", default="auto", help="the data and epochs of each trial: smoke, quick, full")
    p.add_argument("--seed", type=int, default=0, help="base seed (worker k uses seed + k)")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("config", help="print a lab's resolved recipe as JSON (every hyperparameter of a profile)")
    p.add_argument("lab", help="a lab number or name, or 'all'")
    p.add_argument("--profile", default="auto", help="smoke, quick, full or auto (default)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a setting to override")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("data", help="show, fetch or import a dataset")
    p.add_argument("action", choices=["info", "fetch", "import"])
    p.add_argument("name", help="cifar10, fashion-mnist, synthetic, folder:PATH, or an import name")
    p.add_argument("path", nargs="?", help="for import: an image-folder tree (train/, test/) or a .tar.gz of one")
    p.add_argument("--data-dir", help="default: $LABS_DATA_DIR or <repo>/data")
    p.set_defaults(func=cmd_data)

    p = sub.add_parser("verify", help="re-execute executed notebooks and compare their # NBVAL_CHECK_OUTPUT cells")
    p.add_argument("notebooks", nargs="+", help="executed notebooks (the runner's or a student's)")
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter, e.g. -p profile=smoke for a notebook saved without papermill",
    )
    p.add_argument("--timeout", type=float, default=1800, help="seconds per cell (default 1800)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("student", help="write student versions of the labs (solutions replaced, outputs cleared)")
    p.add_argument("labs", nargs="*", help="lab numbers or names (default: every lab)")
    p.add_argument("--out", required=True, help="folder for the student notebooks")
    p.add_argument(
        "--package",
        metavar="SPEC",
        help="what Colab or Kaggle installs the labs from, e.g. git+https://github.com/ORG/REPO@v1 "
        "(default: none; a hosted notebook then asks for it)",
    )
    p.set_defaults(func=cmd_student)

    p = sub.add_parser("grade", help="grade a folder of submitted executed notebooks (one sub-folder per student)")
    p.add_argument("submissions", nargs="?", help="folder holding one sub-folder per student")
    p.add_argument(
        "--out",
        help="folder for grades.csv and the feedback pages, outside SUBMISSIONS "
        "(default: a new SUBMISSIONS-grades[-N])",
    )
    p.add_argument(
        "--reproduce",
        action="store_true",
        help="also re-run each notebook, isolated, with the lab's check cells restored (runs student code)",
    )
    p.add_argument("--workers", type=int, default=1, help="reproductions run in parallel (default 1)")
    p.add_argument("--cell-timeout", type=float, default=600, help="seconds per cell when reproducing (default 600)")
    p.add_argument(
        "--notebook-timeout", type=float, default=1800, help="seconds per notebook when reproducing (default 1800)"
    )
    p.add_argument("--memory-gib", type=float, default=6, help="address-space limit of a reproduction (default 6)")
    p.add_argument("--no-bwrap", action="store_true", help="do not use bubblewrap even where it is installed")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="re-run every notebook; by default a notebook unchanged since an earlier --reproduce run "
        "(same files, lab, limits and helpers) reuses that run's outcome",
    )
    p.add_argument("--labs", help="folder of the lab sources (default: the repository's labs/)")
    p.add_argument("--force", action="store_true", help="overwrite the grades in an --out folder that holds files")
    p.add_argument(
        "--shard",
        metavar="I/N",
        help="grade only the I-th of N shards of the class (students dealt out in sorted order), "
        "one shard per machine; join them with --merge",
    )
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="OUT",
        help="join the output folders of every `--shard I/N` run into one class table in --out",
    )
    p.set_defaults(func=cmd_grade)

    p = sub.add_parser("report", help="write report.html and report.md: every lab's results in one table")
    p.add_argument("folder", nargs="?", help="folder of <lab>.json results (default: the repository's executed/)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("reference", help="make a lab's reference run (reference/<profile>-<dataset>/<lab>.json)")
    p.add_argument("labs", nargs="*", help="lab numbers or names")
    p.add_argument("--profile", help="smoke, quick or full")
    p.add_argument("--dataset", help="default: the profile's (fashion-mnist in smoke and quick, cifar10 in full)")
    p.add_argument("--seeds", type=int, help="runs with seed 0..N-1 (default: 2 in smoke, 3 in quick and full)")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a notebook parameter")
    p.add_argument("--note", default="", help="recorded with the reference, e.g. what else ran on the machine")
    p.add_argument("--timeout", type=float, default=None, help="seconds per run, 0 for none (default: the runner's)")
    p.add_argument("--parallel", action="store_true", help="run the seeds at once (same numbers; shared seconds)")
    p.add_argument(
        "--tables",
        action="store_true",
        help="render docs/generated/*.md and docs/results.md's quick tables from every reference, "
        "and name each quote in the labs that no longer matches its reference",
    )
    p.set_defaults(func=cmd_reference)

    p = sub.add_parser("compare", help="put each lab's results in RUN_DIR beside its reference; flag what moved")
    p.add_argument("run_dir", help="a folder of <lab>.json results (`helpers run --out DIR`)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("frontdoor", help="rewrite the student versions, install cells, lab times and README table")
    p.add_argument("--check", action="store_true", help="only list what is stale; exit 1 if anything is")
    p.set_defaults(func=cmd_frontdoor)

    p = sub.add_parser("site", help="build the course's website from the labs executed in a profile")
    p.add_argument("--profile", default="quick", help="the profile the labs are executed in (default: quick)")
    p.add_argument("--executed", help="a folder of executed labs to use as they are (no execution)")
    p.add_argument("--out", default="_build/site", help="where the HTML goes (default: _build/site)")
    p.set_defaults(func=cmd_site)

    args = parser.parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminated) if main_thread else None
    try:
        return args.func(args)
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        runner = sys.modules.get("helpers.course.runner")
        if runner is not None:  # no lab's kernel outlives the command
            runner.stop_all()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminated(signum, frame):
    """SIGTERM (a CI job cancelled, `kill`): unwind like Ctrl-C, so the running labs' kernels are stopped."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
