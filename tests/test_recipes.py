"""The full profile is the sources' recipe, and `python -m helpers config` works.

Each tests/recipes/labNN.py holds `EXPECTED = {"full": {"dotted.path": value, ...}}`: the seed's
hyperparameters, each with a comment citing the seed. One subprocess prints every lab's resolved
config (`python -m helpers config all --profile P`); every dotted path must resolve to the seed's
value (floats within a relative tolerance of 1e-6, lists element by element).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
from pathlib import Path

import pytest
from lab_run import cli

RECIPES = Path(__file__).resolve().parent / "recipes"
FILES = sorted(RECIPES.glob("lab[0-9][0-9].py"))
MISSING = object()


def expected(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"recipes_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.EXPECTED


@functools.cache
def configs(profile: str) -> dict:
    """Every lab's resolved config in `profile`, from one `python -m helpers config all`."""
    proc = cli("config", "all", "--profile", profile)
    assert proc.returncode == 0, f"`python -m helpers config all --profile {profile}` failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def lookup(config, dotted: str):
    """`recipe.duke.milestones` -> config["recipe"]["duke"]["milestones"]; a number indexes a list."""
    node = config
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return MISSING
    return node


def same(a, b) -> bool:
    """Equal, with floats compared to a relative tolerance; tuples and lists alike."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def lab_key(found: dict, number: str) -> str | None:
    return next((lab for lab in found if lab.split("_", 1)[0] == number), None)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_full_profile_is_the_seed_recipe(path):
    table = expected(path)
    problems = []
    for profile, keys in table.items():
        found = configs(profile)
        lab = lab_key(found, path.stem.removeprefix("lab"))
        assert lab, f"{path.name}: no lab {path.stem[3:]} in `python -m helpers config all` ({', '.join(found)})"
        for key, seed_value in keys.items():
            ours = lookup(found[lab], key)
            if ours is MISSING:
                problems.append(f"{lab} [{profile}] {key}: the seed has {seed_value!r}; not in the config")
            elif not same(ours, seed_value):
                problems.append(f"{lab} [{profile}] {key}: the seed has {seed_value!r}; configured {ours!r}")
    assert not problems, "recipes differ from the seeds (tests/recipes/" + path.name + "):\n" + "\n".join(problems)


def test_lookup_and_compare():
    config = {"lr": 0.1, "recipe": {"duke": {"milestones": [50, 100, 150]}, "flag": True}}
    assert lookup(config, "recipe.duke.milestones") == [50, 100, 150]
    assert lookup(config, "recipe.duke.milestones.1") == 100
    assert lookup(config, "recipe.he") is MISSING and lookup(config, "lr.x") is MISSING
    assert same(0.1, 0.1 + 1e-12) and not same(0.1, 0.11) and same((1, 2), [1, 2]) and not same(True, 1)


def test_config_prints_one_lab_as_json():
    proc = cli("config", "06", "--profile", "full")
    assert proc.returncode == 0, proc.stderr
    config = json.loads(proc.stdout)
    assert config["lab"] == "06_resnet20" and config["profile"] == "full"
    assert isinstance(config["recipe"], dict) and "epochs" in config


def test_config_all_covers_every_lab():
    from helpers.config import LAB_NAMES

    assert set(configs("full")) == set(LAB_NAMES)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["config", "99", "--profile", "full"], "Unknown lab"),
        (["config", "06", "--profile", "fulll"], "Unknown profile"),
    ],
    ids=["unknown-lab", "unknown-profile"],
)
def test_config_errors_are_clear(args, says):
    proc = cli(*args)
    assert proc.returncode == 2, f"exit {proc.returncode}: {proc.stderr}"
    assert says in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout == ""
