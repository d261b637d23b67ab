"""Command line: `python -m helpers COMMAND ...` (see `python -m helpers -h`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from helpers.errors import LabError


def parse_value(text: str):
    """`3` -> 3, `0.1` -> 0.1, `true` -> True, `null` -> None, anything else stays a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def cmd_run(args) -> int:
    from helpers import runner

    params = {}
    for item in args.param:
        if "=" not in item:
            raise LabError(f"-p takes NAME=VALUE, got {item!r} (e.g. -p epochs=3).")
        key, value = item.split("=", 1)
        params[key.strip()] = parse_value(value)
    results = runner.run(args.labs, profile=args.profile, out=args.out, params=params,
                         timeout=args.timeout, verbose=args.verbose)  # fmt: skip
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers", description="The image-classification labs.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="execute lab notebooks with papermill")
    p.add_argument("labs", nargs="*", help="lab numbers, names or notebook paths (default: every lab)")
    p.add_argument("--profile", default="auto", help="smoke, quick, full or auto (default)")
    p.add_argument("--out", default="executed", help="folder for executed notebooks and results")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="a notebook parameter")
    p.add_argument("--timeout", type=float, default=1800, help="seconds per notebook (default 1800)")
    p.add_argument("-v", "--verbose", action="store_true", help="stream the cells' output")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("data", help="show, fetch or import a dataset")
    p.add_argument("action", choices=["info", "fetch", "import"])
    p.add_argument("name", help="cifar10, fashion-mnist, synthetic, folder:PATH, or an import name")
    p.add_argument("path", nargs="?", help="for import: an image-folder tree (train/, test/) or a .tar.gz of one")
    p.add_argument("--data-dir", help="default: $LABS_DATA_DIR or <repo>/data")
    p.set_defaults(func=cmd_data)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except LabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
