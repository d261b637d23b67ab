"""Grading a class on many machines: `grade SUBMISSIONS --shard I/N` on each, then `grade --merge`.

    python -m helpers grade SUBMISSIONS --shard 2/4 --out grades-2     # on machine 2 of 4
    python -m helpers grade --merge grades-1 grades-2 grades-3 grades-4 --out grades

Which shard grades a file: the students of the submissions folder (as `grading.submissions`
lists them; the loose files in it count as one student, `(no folder)`) in the sorted order of
their feedback pages' names, dealt out in turn: the k-th (from 0) goes to shard k mod N + 1.
Every file, malformed ones included, belongs to its student, so it lands in exactly one shard;
a student's files stay together, so their feedback page is whole and a results file is read with
its notebook. Students whose feedback pages would have the same name (folder names differing
only in unusual characters) count as one. Sorted order rather than a hash: the shards differ by
at most one student (an array job lasts as long as its slowest shard), and every machine that
lists the same folder deals the same shards.

Each shard's folder holds what an unsharded run writes for its students (grades.csv,
answers.csv, feedback pages) and `shard.json`: the shard, the whole folder's listing, and which
file each CSV row is about. The merge checks that every shard listed the same folder, that no
file was graded twice and none left out (naming it), and writes the one table an unsharded run
writes: the same columns, the same rows in the same order, byte for byte.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

from helpers.course.feedback import page_name
from helpers.course.untrusted import atomic_write_text
from helpers.errors import LabError

MANIFEST = "shard.json"
SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
USAGE = "--shard takes I/N: the I-th of N shards, 1 <= I <= N (e.g. --shard 2/4 for the second of four)"


def parse_spec(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4); anything else is an error saying what is valid."""
    found = SPEC.fullmatch(str(text))
    if not found:
        raise LabError(f"{USAGE}, got {text!r}.")
    i, n = int(found[1]), int(found[2])
    if n < 1:
        raise LabError(f"{USAGE}; N must be at least 1, got {text!r}.")
    if not 1 <= i <= n:
        raise LabError(f"{USAGE}; with N = {n}, I is one of 1..{n}, got {text!r}.")
    return i, n


def key(root: Path, path: Path) -> str:
    """A submitted entry's name relative to the submissions folder ('alice/01_sanity_checks.ipynb')."""
    return path.relative_to(root).as_posix()


def _unit(student: str) -> str:

    return page_name(student)  # students whose pages would share a name stay in one shard


def shard_of(entries: list[tuple[str, Path, str]], n: int) -> dict[str, int]:
    """{student: the shard (1..n) that grades all of their files}."""
    units = sorted({_unit(student) for student, _, _ in entries})
    dealt = {unit: k % n + 1 for k, unit in enumerate(units)}
    return {student: dealt[_unit(student)] for student, _, _ in entries}


def select(entries: list[tuple[str, Path, str]], shard: tuple[int, int]) -> list[tuple[str, Path, str]]:
    """The entries of `grading.submissions(root)` that shard (i, n) grades, in the same order."""
    i, n = shard
    if not (n >= 1 and 1 <= i <= n):
        raise LabError(f"{USAGE}, got {i}/{n}.")
    shards = shard_of(entries, n)
    return [e for e in entries if shards[e[0]] == i]


def write_manifest(
    out: Path, root: Path, shard: tuple[int, int], entries, rows: list[str], answers: list[str], pages: list[Path]
) -> Path:
    """out/shard.json: the shard, the whole folder's listing, and the file of each grades.csv and answers.csv row."""

    i, n = shard
    mine = {key(root, p) for student, p, _ in select(entries, shard)}
    manifest = {
        "shard": f"{i}/{n}",
        "submissions": str(root.resolve()),
        "listing": [key(root, p) for _, p, _ in entries],  # every entry of the folder, in grading order
        "graded": [k for k in (key(root, p) for _, p, _ in entries) if k in mine],
        "rows": rows,  # grades.csv's rows, each the entry it is about
        "answers": answers,  # answers.csv's rows, likewise
        "pages": sorted(p.name for p in pages),
    }
    return atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=1))


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise LabError(f"{path} is missing: that shard's grading did not finish; run its --shard again.")
    with open(path, encoding="utf-8", newline="") as f:
        records = list(csv.reader(f))
    if not records:
        raise LabError(f"{path} is empty: that shard's grading did not finish; run its --shard again.")
    return records[0], records[1:]


def _csv_text(header: list[str], records: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # the dialect of grading's csv.DictWriter: the same bytes it wrote
    writer.writerow(header)
    writer.writerows(records)
    return buffer.getvalue()


def read_shard(folder: Path) -> dict:
    """A shard's manifest and its CSV rows, checked against each other."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        i, n = parse_spec(manifest["shard"])
        listing, graded = list(manifest["listing"]), list(manifest["graded"])
        row_keys, answer_keys, pages = list(manifest["rows"]), list(manifest["answers"]), list(manifest["pages"])
    except FileNotFoundError:
        raise LabError(
            f"{folder} has no {MANIFEST}: --merge takes the --out folders of `grade --shard I/N` runs."
        ) from None
    except (ValueError, KeyError, TypeError, LabError) as err:
        raise LabError(f"{folder / MANIFEST} is unreadable ({err}); grade that shard again.") from None
    header, rows = _read_csv(folder / "grades.csv")
    answer_header, answers = _read_csv(folder / "answers.csv")
    for name, records, keys in (("grades.csv", rows, row_keys), ("answers.csv", answers, answer_keys)):
        if len(records) != len(keys):
            raise LabError(
                f"{folder / name} has {len(records)} rows, its {MANIFEST} {len(keys)}: it was changed "
                "after grading; grade that shard again."
            )
    return {
        "folder": folder,
        "shard": (i, n),
        "listing": listing,
        "graded": graded,
        "header": header,
        "rows": list(zip(row_keys, rows, strict=True)),
        "answer_header": answer_header,
        "answers": list(zip(answer_keys, answers, strict=True)),
        "pages": pages,
    }


def _label(shard: dict) -> str:
    return f"{shard['folder']} (shard {shard['shard'][0]}/{shard['shard'][1]})"


def check_complete(shards: list[dict]) -> None:
    """The shards list one folder, and together grade each of its files exactly once; else an error naming them."""
    first = shards[0]
    for other in shards[1:]:
        if other["shard"][1] != first["shard"][1]:
            raise LabError(
                f"{_label(first)} and {_label(other)} split the class into different numbers of shards; "
                "merge shards of one split (the same N)."
            )
        if other["listing"] != first["listing"]:
            extra = sorted(set(other["listing"]) ^ set(first["listing"]))
            which = f"{extra[0]} is in one listing and not the other" if extra else "their files are in another order"
            raise LabError(
                f"{_label(first)} and {_label(other)} graded different submissions folders, or the "
                f"folder changed between them ({which}): grade all shards from one copy."
            )
    where: dict[str, list[dict]] = {}
    for shard in shards:
        for name in shard["graded"]:
            where.setdefault(name, []).append(shard)
    for name, found in where.items():
        if len(found) > 1:
            raise LabError(
                f"{name} was graded in more than one shard: {', '.join(map(_label, found))}; give each "
                "shard's output once."
            )
    missing = [name for name in first["listing"] if name not in where]
    if missing:
        n = first["shard"][1]
        absent = sorted(set(range(1, n + 1)) - {s["shard"][0] for s in shards})
        more = f" and {len(missing) - 1} more files" if len(missing) > 1 else ""
        hint = f"shards {', '.join(f'{i}/{n}' for i in absent)} are not given" if absent else "a shard is incomplete"
        raise LabError(f"{missing[0]}{more} graded in no shard ({hint}): grade them with --shard and merge again.")


def merge(folders: list[str | Path], out: str | Path, force: bool = False) -> tuple[Path, int]:
    """Join `grade --shard` outputs into one class table in `out`; (out, the number of rows)."""

    if not folders:
        raise LabError("--merge takes the output folders of every shard (`grade --shard I/N --out FOLDER`).")
    shards = [read_shard(Path(f)) for f in folders]
    check_complete(shards)
    out = Path(out)
    if any(out.resolve() == s["folder"].resolve() for s in shards):
        raise LabError(f"--out {out} is one of the shards' folders: name a new folder for the merged table.")
    if out.exists() and not out.is_dir():
        raise LabError(f"--out {out} is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise LabError(f"--out {out} already holds files: name a new folder, or pass --force to overwrite them.")
    for shard in shards[1:]:
        if (shard["header"], shard["answer_header"]) != (shards[0]["header"], shards[0]["answer_header"]):
            raise LabError(
                f"{_label(shard)} has other CSV columns than {_label(shards[0])}: grade every shard with "
                "the same version of the grader."
            )
    rows, answers = {}, {}
    for shard in shards:
        for name, record in shard["rows"]:
            rows.setdefault(name, []).append(record)
        for name, record in shard["answers"]:
            answers.setdefault(name, []).append(record)
    order = shards[0]["listing"]  # the order an unsharded run grades in
    grades = [r for name in order for r in rows.get(name, [])]
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "grades.csv", _csv_text(shards[0]["header"], grades))
    atomic_write_text(
        out / "answers.csv", _csv_text(shards[0]["answer_header"], [a for name in order for a in answers.get(name, [])])
    )
    copied: dict[str, dict] = {}
    for shard in shards:
        for page in shard["pages"]:
            if Path(page).name != page or not page.endswith(".html"):
                raise LabError(f"{shard['folder'] / MANIFEST} names {page!r} as a page; grade that shard again.")
            if page in copied:
                raise LabError(
                    f"feedback page {page} is in {_label(copied[page])} and {_label(shard)}; "
                    "grade every shard from one copy of the folder."
                )
            copied[page] = shard
            shutil.copyfile(shard["folder"] / page, out / page)
    return out, len(grades)
