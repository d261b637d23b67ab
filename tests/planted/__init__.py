"""Planted wrong answers: realistic mistakes that every exercise's checks must catch.

One module per lab, `tests/planted/labNN.py`, holds `PLANTED = {exercise cell id: [Planted, ...]}`.
tests/test_exercises.py runs each lab's exercise with each planted answer (and left undone) and
asserts that one of the exercise's graded check cells fails; the students never see this folder.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Planted:
    """A wrong answer: the exercise cell's solution with the exact text `old` replaced by `new`."""

    why: str  # the mistake, as a student would make it: "never calls optimizer.zero_grad"
    old: str
    new: str

    def apply(self, source: str) -> str:
        if self.old not in source:
            raise AssertionError(f"planted answer {self.why!r}: {self.old!r} is not in the exercise cell's source")
        return source.replace(self.old, self.new)


def for_lab(lab: str) -> dict[str, list[Planted]]:
    """The planted answers of lab `NN_name` ({} when its module does not exist yet)."""
    try:
        module = importlib.import_module(f"planted.lab{lab[:2]}")
    except ModuleNotFoundError:
        return {}
    return module.PLANTED
