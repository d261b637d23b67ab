"""Property-based fuzzing of the grader: whatever a submission holds, the run ends with one row per file.

Mutations of a real executed notebook and its results file (tests/tiny_lab.py): a value anywhere
replaced by one of another type (huge numbers, inf and NaN, odd unicode, lone surrogates, nested
containers), keys deleted or added, the file cut short or not text at all. Graded in-process, no
kernel. `GRADER_FUZZ_EXAMPLES=5000 pytest tests/test_grading_fuzz.py` runs more than the default.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import tempfile
from pathlib import Path

import tiny_lab
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.course import grading

EXAMPLES = int(os.environ.get("GRADER_FUZZ_EXAMPLES", "300"))
STATUSES = {"graded", "unknown lab", "corrupt", "not a notebook", "no notebooks", "refused", "hidden"}

odd_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "\ud800",
            "\u202e=cmd|' /C calc'!A0",
            '=HYPERLINK("x")',
            "<script>x</script>",
            "\r\n\t",
            "🙂" * 50,
            "x" * 100_000,
            "NaN",
            "### BEGIN SOLUTION",
            "results written to a.json",
        ]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([0, -1, 2**63, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3), max_leaves=6
)


def locations(tree, path=()):
    """Every (container path, key) in a JSON tree."""
    found = []
    items = tree.items() if isinstance(tree, dict) else enumerate(tree) if isinstance(tree, list) else []
    for key, value in items:
        found.append((path, key))
        found += locations(value, (*path, key))
    return found


def at(tree, path):
    for key in path:
        tree = tree[key]
    return tree


@st.composite
def mutated(draw, original):
    """A JSON tree with 1 to 3 changes: a value replaced, a key deleted, or a key added."""
    tree = copy.deepcopy(original)
    for _ in range(draw(st.integers(1, 3))):
        spots = locations(tree)
        if not spots:
            break
        path, key = draw(st.sampled_from(spots))
        parent, how = at(tree, path), draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if how == "replace":
            parent[key] = draw(values)
        elif how == "delete":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(odd_text)] = draw(values)
        else:
            parent.insert(key, draw(values))
    return tree


def as_file(draw, tree) -> bytes:
    """The tree as a file: JSON (sometimes cut short), or now and then not UTF-8 at all."""
    text = json.dumps(tree).encode("utf-8", "surrogatepass")
    how = draw(st.sampled_from(["whole"] * 8 + ["cut", "latin-1"]))
    if how == "cut":
        return text[: draw(st.integers(0, len(text)))]
    return text.replace(b"{", b"{\xff", 1) if how == "latin-1" else text


NOTEBOOK, RESULTS = tiny_lab.run_json()


@settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_grader_always_finishes_with_one_row_per_file(data):
    notebook = as_file(data.draw, data.draw(mutated(NOTEBOOK)))
    results = as_file(data.draw, data.draw(mutated(RESULTS)))
    with tempfile.TemporaryDirectory(prefix="grader-fuzz-") as tmp:
        subs = Path(tmp) / "subs"
        for student, nb, res in (("a", notebook, None), ("b", None, results), ("c", notebook, results)):
            (subs / student).mkdir(parents=True)
            (subs / student / "01_tiny.ipynb").write_bytes(nb or json.dumps(NOTEBOOK).encode())
            (subs / student / "01_tiny.json").write_bytes(res or json.dumps(RESULTS).encode())
        grades, out = grading.grade_folder(subs, Path(tmp) / "out", labs_dir=tiny_lab.executed() / "labs")
        with open(out / "grades.csv", encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        assert sorted((r["student"], r["file"]) for r in rows) == [(s, "01_tiny.ipynb") for s in "abc"]
        assert {r["status"] for r in rows} <= STATUSES
        assert {p.name for p in out.glob("*.html")} == {"a.html", "b.html", "c.html"}
        assert rows[1]["status"] == "graded", "a malformed results file never spoils its notebook's row"
