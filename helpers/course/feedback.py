"""One plain, self-contained HTML feedback page per student (`python -m helpers grade`).

Everything a submission contains is untrusted text: every value is escaped before it is
written, and the page loads nothing from anywhere else.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from helpers.course.untrusted import atomic_write_text

STYLE = """body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;line-height:1.4}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;
vertical-align:top}pre{background:#f6f6f6;padding:.5em;overflow-x:auto;margin:0}
.passed,.yes{color:#176f2c}.failed,.no,.missing,.edited,.corrupt,.refused,.not-answered{color:#b00020;font-weight:bold}"""


def page_name(student: str) -> str:
    """The file name of a student's page: their folder name with anything unusual replaced."""
    return (re.sub(r"[^\w.-]+", "_", student).strip("._") or "student") + ".html"


def _status(text: str) -> str:
    css = re.sub(r"\W+", "-", text.lower())
    return f'<span class="{escape(css)}">{escape(text)}</span>'


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _lines(lines: list[str]) -> str:
    return f"<pre>{escape(chr(10).join(lines))}</pre>" if lines else ""


def _section(grade) -> str:
    """The part of a page about one submitted file."""
    parts = [
        f"<h2>{escape(grade.file)}</h2>",
        f"<p>Lab: {escape(grade.lab or '-')} &middot; status: {_status(grade.status)}</p>",
    ]
    if grade.status in ("corrupt", "not a notebook", "no notebooks", "refused", "hidden"):
        return "\n".join(parts + [f"<p>{escape(p)}</p>" for p in grade.problems])
    ran = "yes" if grade.ran_in_order else "no"
    parts.append(f"<h3>Ran top to bottom, in order, without error: {_status(ran)}</h3>")
    if grade.problems:
        parts.append("<ul>" + "".join(f"<li>{escape(p)}</li>" for p in grade.problems) + "</ul>")
    if grade.checks:
        row = grade.row()
        rows = "".join(
            f"<tr><td>{escape(c.label)}</td><td>{'demonstration' if c.demonstration else _num(c.points)}"
            f"</td><td>{_status(c.status)}</td><td>{_lines(c.detail)}</td></tr>"
            for c in grade.checks
        )
        parts.append(
            f"<h3>Score: {escape(str(row['score']))} of {escape(str(row['max_score']))} points "
            f"({row['checks_passed']} of {row['checks_total']} graded checks passed)</h3>"
            "<p>Demonstrations check what the course's helpers produced; they earn no points.</p>"
            "<table><tr><th>cell</th><th>points</th><th>result</th><th>details</th></tr>"
            f"{rows}</table>"
        )
    if grade.answers:
        rows = "".join(
            f"<tr><td>{escape(a.question)}</td><td>{_num(a.points)}</td>"
            f"<td>{_lines(a.text.splitlines()) if a.answered else _status('not answered')}</td></tr>"
            for a in grade.answers
        )
        parts.append(
            "<h3>Written answers (graded by hand)</h3>"
            f"<table><tr><th>question</th><th>points</th><th>answer</th></tr>{rows}</table>"
        )
    results = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in grade.results.items())
    parts.append(f"<h3>Recorded results</h3><table>{results}</table>" if results else "<h3>No recorded results</h3>")
    if grade.reproduced != "-":
        parts.append(f"<h3>Reproduced by re-running it: {_status(grade.reproduced)}</h3>")
        parts.append(_lines(grade.reproduce_detail))
    if grade.notes:
        parts.append("<p>Notes:</p><ul>" + "".join(f"<li>{escape(n)}</li>" for n in grade.notes) + "</ul>")
    return "\n".join(parts)


def student_page(student: str, grades: list) -> str:
    """A whole HTML page for one student's files."""
    body = "\n".join(_section(g) for g in grades)
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Feedback: {escape(student)}'
        f"</title><style>{STYLE}</style></head><body>\n<h1>Feedback for {escape(student)}</h1>\n{body}\n"
        "</body></html>\n"
    )


def write_feedback(grades: list, out: Path) -> list[Path]:
    """Write out/<student>.html for every student in `grades`."""
    by_student: dict[str, list] = {}
    for g in grades:
        by_student.setdefault(g.student, []).append(g)
    written: list[Path] = []
    for student, theirs in by_student.items():
        path = out / page_name(student)
        if path in written:  # two folder names that differ only in unusual characters
            path = path.with_name(f"{path.stem}-{len(written)}.html")
        atomic_write_text(path, student_page(student, theirs))
        written.append(path)
    return written
