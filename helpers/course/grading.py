"""Grading executed notebooks without trusting them: `python -m helpers grade DIR`.

DIR holds one sub-folder per student with their executed notebooks (and, if they have them,
the `<lab>.json` results the labs wrote). For each notebook the grader reports, from the file
alone:

- whether it ran top to bottom: every non-empty code cell executed, execution counts strictly
  increasing, no error output;
- which check cells passed: the lab's check cells (code cells outside solution markers that
  `assert`), found in the submission by aligning its code cells with the lab's source in
  labs/ (matched by file name); a check cell that was executed without error passed, one whose
  source differs from the lab's is flagged as edited, naming it;
- the score: the points of the graded check cells that passed (each carries its points in
  nbgrader's metadata); check cells tagged `demonstration` check what the helpers produced and
  are listed, never counted;
- the written answers, listed in `answers.csv` and the feedback pages for grading by hand;
- the recorded results (accuracy, epochs, time) from the results file next to the notebook;
- with `--reproduce`, whether re-running it in isolation, with the lab's check cells restored,
  passes the checks and reproduces its checked cells and printed metrics (`helpers.course.reproduce`).

It writes `grades.csv` (one row per student and file) and one HTML feedback page per student.
A corrupt file or a file that is not a notebook gets a row saying so; it never stops the run.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from helpers.course import cells, evidence, shards, tamper, untrusted
from helpers.course import reproduce as rerun
from helpers.course.feedback import write_feedback
from helpers.course.runner import LABS_DIR, list_labs
from helpers.course.student import MARKDOWN_STUB
from helpers.course.untrusted import clip
from helpers.errors import LabError

COLUMNS = (
    "student",
    "file",
    "lab",
    "status",
    "ran_top_to_bottom",
    "score",
    "max_score",
    "checks_passed",
    "checks_total",
    "failed_checks",
    "edited_checks",
    "demonstrations",
    "written_answers",
    "profile",
    "val_top1",
    "test_top1",
    "epochs",
    "seconds",
    "reproduced",
    "problems",
)
ANSWER_COLUMNS = ("student", "file", "lab", "question", "points", "answer")
NO_FOLDER = "(no folder)"  # the student of a file lying directly in DIR
RESULT_KEYS = ("profile", "val_top1", "test_top1", "epochs", "seconds")


@dataclass
class Check:
    """One of the lab's check cells, as found in a submission."""

    label: str
    status: str  # passed, failed, not run, edited, missing
    detail: list[str] = field(default_factory=list)
    points: float = 0.0  # what it is worth when it passes; 0 for a demonstration
    demonstration: bool = False  # checks what the helpers produced: shown, never counted
    lab_index: int = -1  # the check cell's index in the lab


@dataclass
class Answer:
    """A written answer, listed for grading by hand."""

    question: str  # the question's id (nbgrader's grade_id) or the cell it follows
    points: float
    text: str  # what the student wrote; '' when left as YOUR ANSWER HERE or missing

    @property
    def answered(self) -> bool:
        return bool(self.text.strip())


@dataclass
class Grade:
    """Everything the grader found about one submitted file."""

    student: str
    file: str
    status: str = "graded"  # graded, unknown lab, corrupt, not a notebook, no notebooks
    lab: str = ""
    ran_in_order: bool | None = None
    problems: list[str] = field(default_factory=list)  # why it did not run top to bottom
    checks: list[Check] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    results: dict = field(default_factory=dict)
    reproduced: str = "-"  # yes, no, or - (not checked)
    reproduce_detail: list[str] = field(default_factory=list)
    isolation: str = ""  # how a reproduction was isolated (bubblewrap, process)
    sources: tuple = field(default=(), repr=False, compare=False)  # (submission, lab) notebooks, in memory
    notes: list[str] = field(default_factory=list)

    @property
    def graded_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.demonstration]

    @property
    def score(self) -> float:
        """Points of the graded checks that passed, as the lab wrote them (an edited check earns none)."""
        return sum(c.points for c in self.graded_checks if c.status == "passed")

    def row(self) -> dict:
        graded, demos = self.graded_checks, [c for c in self.checks if c.demonstration]
        failed = "; ".join(c.label for c in graded if c.status in ("failed", "not run", "missing", "withheld"))
        edited = "; ".join(c.label for c in self.checks if c.status == "edited")
        yes_no = {True: "yes", False: "no", None: "-"}[self.ran_in_order]
        demo = f"{sum(c.status == 'passed' for c in demos)}/{len(demos)}" if demos else "-"
        answers = f"{sum(a.answered for a in self.answers)}/{len(self.answers)} answered" if self.answers else "-"
        return {
            "student": self.student,
            "file": self.file,
            "lab": self.lab or "-",
            "status": self.status,
            "ran_top_to_bottom": yes_no,
            "score": _points(self.score) if self.lab else "-",
            "max_score": _points(sum(c.points for c in graded)) if self.lab else "-",
            "checks_passed": sum(c.status == "passed" for c in graded),
            "checks_total": len(graded),
            "failed_checks": failed,
            "edited_checks": edited,
            "demonstrations": demo,
            "written_answers": answers,
            **{k: self.results.get(k, "-") for k in RESULT_KEYS},
            "reproduced": self.reproduced,
            "problems": "; ".join(self.problems + self.notes),
        }


def _points(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 2)


def execution_problems(nb) -> list[str]:
    """Why a notebook did not run top to bottom in order without error; [] when it did."""
    problems, unrun, last = [], [], 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        for err in cells.error_outputs(cell):
            problems.append(f"{cells.describe_cell(i, cell)} raised {err.get('ename')}: {err.get('evalue', '')[:200]}")
        count = cell.get("execution_count")
        if count is None:
            unrun.append(cells.describe_cell(i, cell))
        elif count <= last:
            problems.append(f"{cells.describe_cell(i, cell)} was run before a cell above it (In [{last}])")
        last = max(last, count or 0)
    if any("before a cell above it" in p for p in problems):
        problems.append("cells were run out of order: restart the kernel and run all cells, top to bottom")
    if unrun:
        more = f" and {len(unrun) - 1} more code cells after it" if len(unrun) > 1 else ""
        problems.append(f"{unrun[0]}{more} not run")
    return problems


def grade_checks(lab_nb, sub_nb) -> list[Check]:
    """The status of each of the lab's check cells in a submission."""
    pairs, checks = cells.match_cells(lab_nb, sub_nb), []
    for i, lab_cell in enumerate(lab_nb.cells):
        if not cells.is_check_cell(lab_cell):
            continue
        worth = {"points": cells.points(lab_cell), "demonstration": cells.is_demonstration(lab_cell), "lab_index": i}
        if i not in pairs:
            label = f"lab cell {i} (`{cells.snippet(lab_cell.source)}`)"
            checks.append(Check(label, "missing", ["no cell like it in the notebook: deleted or rewritten"], **worth))
            continue
        cell = sub_nb.cells[pairs[i]]
        label, errors = cells.describe_cell(pairs[i], cell), cells.error_outputs(cell)
        ran = "not run" if cell.get("execution_count") is None else "failed" if errors else "passed"
        detail = [f"{e.get('ename')}: {e.get('evalue', '')[:300]}" for e in errors]
        if cells.normalized(cell.source) != cells.normalized(lab_cell.source):
            was, now = cells.normalized(lab_cell.source).splitlines(), cells.normalized(cell.source).splitlines()
            diff = difflib.unified_diff(was, now, "lab", "submitted", lineterm="")
            checks.append(Check(label, "edited", [f"edited check cell ({ran} as edited)", *list(diff)[2:]], **worth))
        else:
            checks.append(Check(label, ran, detail, **worth))
    return checks


def written_answers(lab_nb, sub_nb) -> list[Answer]:
    """The student's answer to each of the lab's written questions, found by cell id (grading by hand).

    An answer cell still reading `YOUR ANSWER HERE`, or gone, is listed as unanswered.
    """

    by_id = {c.get("id"): c for c in sub_nb.cells if c.get("cell_type") == "markdown" and c.get("id")}
    found = []
    for i, cell in enumerate(lab_nb.cells):
        if not cells.is_written_answer(cell):
            continue
        name = str(cells.nbgrader(cell).get("grade_id") or f"cell {i}")
        source = by_id.get(cell.get("id"), {}).get("source", "")
        text = source if isinstance(source, str) else ""
        text = "" if text.strip() in ("", *MARKDOWN_STUB) or cells.has_solution({"source": text}) else text.strip()
        found.append(Answer(name, cells.points(cell), text))
    return found


def _number(value):
    """A number from an untrusted file, rounded for the table; anything else is '-'."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return "-"
    return value if isinstance(value, int) else round(value, 4)


def results_files(path: Path, nb) -> list[Path]:
    """The results files a notebook names (`results written to X.json`), its own name first."""
    names = [path.with_suffix(".json").name]
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            names += [Path(p).name for p in re.findall(r"results written to (\S+\.json)", out.get("text", ""))]
    return [path.parent / n for n in dict.fromkeys(names) if os.path.lexists(path.parent / n)]


def recorded_results(path: Path, nb) -> tuple[dict, list[str], dict]:
    """(profile, accuracy, epochs and seconds for the table; notes; the results file's metrics)."""
    found = results_files(path, nb)
    meta = nb.metadata.get("papermill", {})
    duration = meta.get("duration") if isinstance(meta, dict) else None
    results = {"seconds": _number(duration)} if duration is not None else {}
    if not found:
        return results, [f"no results file ({path.with_suffix('.json').name}) next to the notebook"], {}
    try:
        data = untrusted.read_results(found[0])
    except LabError as err:
        return results, [f"results file {found[0].name} is unusable: {err}"], {}
    lab = clip(repr(data.get("lab")), 60)
    notes = [] if data.get("lab") == path.stem else [f"{found[0].name} is the results of lab {lab}"]
    metrics = data.get("metrics")
    if not isinstance(metrics, dict):
        notes.append(f"{found[0].name}: its metrics are a {type(metrics).__name__}, not an object; no metrics read")
        metrics = {}
    results.update(
        profile=clip(data.get("profile", "-"), 40),
        val_top1=_number(metrics.get("val_top1")),
        test_top1=_number(metrics.get("test_top1")),
        epochs=_number(data.get("epochs")),
    )
    results["seconds"] = _number(data.get("total_seconds", duration))
    return results, notes, metrics


def lab_for(path: Path, labs: list[Path]) -> Path | None:
    """The lab a submission belongs to: the same file name stem, else the one lab with its number."""
    exact = [lab for lab in labs if lab.stem == path.stem]
    if exact:
        return exact[0]
    number = re.match(r"\d\d(?=_|$)", path.stem)
    same_number = [lab for lab in labs if number and lab.stem.startswith(number.group() + "_")]
    return same_number[0] if len(same_number) == 1 else None


def load_labs(labs_dir: Path = LABS_DIR) -> dict[Path, object]:
    """Every lab notebook in labs_dir, read once, before any submission is opened (held in memory)."""
    labs_dir = Path(labs_dir)
    found = list_labs(labs_dir) if labs_dir.is_dir() else []
    if not found:
        raise LabError(
            f"No lab notebooks (NN_name.ipynb) in {labs_dir}: --labs must name the folder of the lab "
            "sources (default: the repository's labs/)."
        )
    return {lab: cells.read_notebook(lab) for lab in found}


def grade_notebook(
    path: Path,
    student: str,
    labs_dir: Path = LABS_DIR,
    reproduce: bool = False,
    root: Path | None = None,
    labs: dict | None = None,
) -> Grade:
    """Grade one submitted file; every problem is recorded in the Grade, none is raised."""

    grade = Grade(student, str(path.relative_to(root) if root else path.name))
    try:
        nb = untrusted.read_submission(path)
    except LabError as err:
        grade.status, grade.problems = "corrupt", [str(err).replace(f"{path}: ", "")]
        return grade
    labs = load_labs(labs_dir) if labs is None else labs
    grade.problems = execution_problems(nb)
    grade.ran_in_order = not grade.problems
    grade.results, grade.notes, metrics = recorded_results(path, nb)
    grade.notes += evidence.printed_disagreements(metrics, nb)
    lab = lab_for(path, list(labs))
    if lab is None:
        grade.status = "unknown lab"
        grade.notes.append(f"no lab in {labs_dir} matches {path.name}; check cells not graded")
    else:
        grade.lab, lab_nb = lab.stem, labs[lab]
        grade.checks = grade_checks(lab_nb, nb)
        grade.answers = written_answers(lab_nb, nb)
        grade.notes += evidence.added_before_checks(lab_nb, nb, cells.match_cells(lab_nb, nb))
        grade.notes += tamper.scan(lab_nb, nb) + _contradicted(path, nb, grade)
        grade.sources = (nb, lab_nb)
    if reproduce and grade.sources:
        rerun.apply(grade, rerun.reproduce(*grade.sources))
    return grade


def _contradicted(path: Path, nb, grade: Grade) -> list[str]:
    """A note when the results file records a model at chance while every graded check passed."""
    found = results_files(path, nb)
    passed = bool(grade.graded_checks) and all(c.status == "passed" for c in grade.graded_checks)
    try:
        return tamper.contradicting_results(untrusted.read_results(found[0]), passed) if found and passed else []
    except LabError:
        return []  # an unusable results file is named by recorded_results


def _student_entries(student: str, folder: Path) -> list[tuple[str, Path, str]]:
    """(student, path, kind) for the files in one student's folder, links never followed."""
    found, hidden = [], []
    for top, dirs, files in os.walk(folder, followlinks=False):
        here = Path(top)
        for name in sorted(dirs):
            if (here / name).is_symlink():
                found.append((student, here / name, "link"))
            elif name.startswith("."):
                hidden.append(here / name)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            kind = "link" if path.is_symlink() else "file" if path.is_file() else "special"
            if name.startswith(".") and kind != "link":
                hidden.append(path)
            else:
                found.append((student, path, kind))
    if not found:
        found.append((student, folder, "hidden only" if hidden else "empty"))
    return found


def submissions(root: Path) -> list[tuple[str, Path, str]]:
    """(student, path, kind) for every entry under root/<student>/: kind is file, link, special (not a
    regular file), hidden (a hidden entry in root), empty or hidden only (a folder without a file to grade)."""
    found = []
    for entry in sorted(root.iterdir()):
        if entry.is_symlink():
            found.append((entry.name if entry.is_dir() else NO_FOLDER, entry, "link"))
        elif entry.name.startswith("."):
            found.append((entry.name, entry, "hidden"))
        elif entry.is_dir():
            found += _student_entries(entry.name, entry)
        else:
            found.append((NO_FOLDER, entry, "file" if entry.is_file() else "special"))
    return found


WHY_NOT_GRADED = {
    "link": ("refused", "a symbolic link: links are refused, never followed; submit the file itself"),
    "special": ("refused", "not a regular file (a device, pipe or socket); not read"),
    "hidden": ("hidden", "a hidden entry (its name starts with '.'): not graded; rename it to grade it"),
    "empty": ("no notebooks", "the folder is empty"),
    "hidden only": ("no notebooks", "only hidden files (such as .ipynb_checkpoints/): the notebook itself is missing"),
}


def grade_entry(
    student: str, path: Path, kind: str, root: Path, labs: dict, labs_dir: Path, reproduce: bool
) -> Grade | None:
    """The row of one entry of the submissions folder; None for a lab's results file (read with its notebook)."""
    home = root if student == NO_FOLDER or kind == "hidden" or path.parent == root else root / student
    rel = str(path.relative_to(home)) if path != home else path.name
    if kind in WHY_NOT_GRADED:
        status, why = WHY_NOT_GRADED[kind]
        return Grade(student, rel, status=status, problems=[why])
    if path.suffix == ".ipynb":
        return grade_notebook(path, student, labs_dir, reproduce, home, labs)
    if path.suffix == ".json" and path.with_suffix(".ipynb").exists():
        return None
    return Grade(student, rel, status="not a notebook", problems=["not a .ipynb notebook; not graded"])


def output_folder(root: Path, out: str | Path | None, force: bool) -> Path:
    """Where to write: --out (refused inside the submissions, or when it holds files and not --force),
    or SUBMISSIONS-grades, SUBMISSIONS-grades-2, ...: a new folder for each run."""
    if out is None:
        out = root.parent / f"{root.name}-grades"
        n = 1
        while out.exists() and (not out.is_dir() or any(out.iterdir())):
            n += 1
            out = root.parent / f"{root.name}-grades-{n}"
        return out
    out = Path(out)
    resolved, inside = out.resolve(), root.resolve()
    if resolved == inside or inside in resolved.parents:
        raise LabError(
            f"--out {out} is inside the submissions folder {root}: it would be graded next time. "
            "Name a folder outside it."
        )
    if out.exists() and not out.is_dir():
        raise LabError(f"--out {out} is a file, not a folder.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise LabError(
            f"--out {out} already holds files (an earlier run?): name a new folder, or pass --force "
            "to overwrite its grades."
        )
    return out


def guarded(student: str, path: Path, grade) -> Grade | None:
    """Run `grade()`; whatever one file holds, it ends as a row and the run goes on."""
    try:
        return grade()
    except Exception as err:  # noqa: BLE001 - the per-file guard: one submission never stops the class
        return Grade(
            student,
            path.name,
            status="corrupt",
            problems=[f"the grader could not read it ({type(err).__name__}: {clip(err, 200)})"],
        )


def grade_folder(
    root: str | Path,
    out: str | Path | None = None,
    labs_dir: Path = LABS_DIR,
    reproduce: bool = False,
    force: bool = False,
    workers: int = 1,
    options: dict | None = None,
    fresh: bool = False,
    shard: tuple[int, int] | None = None,
) -> tuple[list[Grade], Path]:
    """Grade every student's files; write out/grades.csv, out/answers.csv and out/<student>.html.

    Everything that can be wrong with the command (the folders) is an error before any file is read.
    With `reproduce`, every graded notebook is then re-run (`helpers.course.reproduce`), `workers` at a
    time; `options` are its limits (cell_timeout, notebook_timeout, memory, use_bwrap). Outcomes are
    kept in `.SUBMISSIONS-reproduced/` beside the submissions folder, so a rerun re-executes only
    the notebooks that changed (`fresh`: re-execute all). With `shard` (i, n): only the students of
    shard i of n (`helpers.course.shards`), and out/shard.json for `grade --merge`.
    """

    root = Path(root)
    if not root.is_dir():
        raise LabError(f"{root} is not a folder; expected one sub-folder of executed notebooks per student.")
    labs_dir = Path(labs_dir)
    labs = load_labs(labs_dir)
    if shard and out is None:
        out = root.parent / f"{root.name}-grades-shard-{shard[0]}-of-{shard[1]}"
    out = output_folder(root, out, force)
    grades, keys = [], []
    entries = submissions(root)
    for student, path, kind in shards.select(entries, shard) if shard else entries:
        if kind == "file" and path.suffix == ".ipynb":
            print(f"grading {untrusted.printable(student)}: {untrusted.printable(path.name)} ...", flush=True)
        found = guarded(
            student, path, lambda s=student, p=path, k=kind: grade_entry(s, p, k, root, labs, labs_dir, False)
        )
        if found is not None:
            grades.append(found)
            keys.append(shards.key(root, path))
    if reproduce:
        cache = None if fresh else root.parent / f".{root.name}-reproduced"
        rerun.reproduce_all([g for g in grades if g.sources], workers, cache=cache, **(options or {}))
    out.mkdir(parents=True, exist_ok=True)
    untrusted.write_csv(out / "grades.csv", COLUMNS, [g.row() for g in grades])
    answers = [
        {
            "student": g.student,
            "file": g.file,
            "lab": g.lab,
            "question": a.question,
            "points": _points(a.points),
            "answer": a.text,
        }
        for g in grades
        for a in g.answers
    ]
    untrusted.write_csv(out / "answers.csv", ANSWER_COLUMNS, answers)  # the written answers, to grade by hand
    pages = write_feedback(grades, out)
    if shard:
        answer_keys = [k for g, k in zip(grades, keys, strict=True) for _ in g.answers]
        shards.write_manifest(out, root, shard, entries, keys, answer_keys, pages)
    return grades, out
