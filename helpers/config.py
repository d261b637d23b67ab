"""Profiles: one notebook, three sizes. Each lab's settings are its class in helpers/settings.py.

Introduced in lab 01. A lab calls `setup("01_sanity_checks", profile, ...)` with its parameters
cell's values and gets its config (a frozen dataclass). The profile changes the lab's defaults (its
full recipe); an explicit parameter (not None) overrides them. Unknown names are errors that list the
valid ones.

- `smoke`: seconds on a CPU; a few thousand real images. Tests and CI.
- `quick`: minutes on a 2-core CPU, Fashion-MNIST. The default without a GPU.
- `full`: the published recipes on CIFAR-10. The default on a GPU.
- `auto`: `$LABS_PROFILE` if set, else `full` on CUDA, else `quick`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
from pathlib import Path

import torch

from helpers import catalog, runtime
from helpers.errors import LabError, did_you_mean
from helpers.settings import IN_CHECKOUT, LABS, PROFILE_DEFAULTS, REPO, LabConfig, Recipe, default_dir, user_dir

__all__ = ["IN_CHECKOUT", "REPO", "LabConfig", "default_dir", "recipe_json", "resolve", "setup", "user_dir"]

PROFILES = ("smoke", "quick", "full")
LAB_NAMES = tuple(LABS)


def resolve_profile(profile: str | None = "auto") -> str:
    """`auto` becomes `$LABS_PROFILE`, else `full` on CUDA, else `quick`."""
    name = (profile or "auto").strip().lower()
    if name == "auto":
        name = os.environ.get("LABS_PROFILE", "").strip().lower()
        if name and name not in PROFILES:
            raise LabError(
                f"LABS_PROFILE={name!r} is not a profile. Valid: {', '.join(PROFILES)}." + did_you_mean(name, PROFILES)
            )
        name = name or ("full" if torch.cuda.is_available() else "quick")
    if name not in PROFILES:
        raise LabError(
            f"Unknown profile {profile!r}. Valid: {', '.join(PROFILES)} or auto." + did_you_mean(name, PROFILES)
        )
    return name


def resolve(lab: str, profile: str | None = "auto", **overrides) -> LabConfig:
    """The settings of `lab` in `profile`, with every non-None override applied.

    The lab's class (helpers/settings.py) holds its full recipe; the profile's changes come next,
    then the overrides. `recipe` may be given as a dict of changes to the lab's recipe. A name the lab
    does not have is an error that lists the ones it has."""
    if lab not in LABS:
        raise LabError(f"Unknown lab {lab!r}. Known labs: {', '.join(LABS)}." + did_you_mean(lab, LABS))
    name, cls = resolve_profile(profile), LABS[lab]
    valid = [f.name for f in dataclasses.fields(cls) if f.name not in ("lab", "profile", "started")]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise LabError(
            f"{lab} has no setting {', '.join(map(repr, unknown))}. Valid: {', '.join(valid)}."
            + did_you_mean(unknown[0], valid)
        )
    settings = {**PROFILE_DEFAULTS[name], **cls.PROFILES.get(name, {})}
    given = {k: v for k, v in overrides.items() if v is not None}
    recipe = _recipe(cls, settings.pop("recipe", {}), lab, name)
    if "recipe" in given:
        recipe = (
            given.pop("recipe")
            if isinstance(given["recipe"], Recipe)
            else _recipe(cls, given.pop("recipe"), lab, name, recipe)
        )
    settings.update(given)
    for key in ("data_dir", "results_dir"):
        if key in settings:
            settings[key] = Path(settings[key])
    return cls(lab=lab, profile=name, recipe=recipe, **settings)


def _recipe(cls: type[LabConfig], changes: dict, lab: str, profile: str, base: Recipe | None = None) -> Recipe:
    """The lab's recipe with `changes`; a name it does not have is an error."""
    base = base if base is not None else cls.__dataclass_fields__["recipe"].default_factory()
    unknown = sorted(set(changes) - set(base.keys()))
    if unknown:
        raise LabError(
            f"{lab}'s recipe has no setting {', '.join(map(repr, unknown))} ({profile}). "
            f"Valid: {', '.join(base.keys())}." + did_you_mean(unknown[0], base.keys())
        )
    return dataclasses.replace(base, **copy.deepcopy(changes))


def recipe_json(lab: str, profile: str | None = "auto", **overrides) -> dict:
    """A lab's resolved settings as plain JSON (`python -m helpers config LAB --profile P`).

    Everything the run depends on except where files go: so a recipe can be checked against
    its seed without opening the code.
    """
    cfg = resolve(lab, profile, **overrides).to_dict()
    for key in ("data_dir", "results_dir", "device", "seed"):
        cfg.pop(key, None)
    return json.loads(json.dumps(cfg, default=list))  # tuples become lists, as JSON has them


def setup(lab: str, profile: str | None = "auto", **params) -> tuple[LabConfig, torch.device]:
    """What the first code cell of every lab does: resolve the config, pick the device, seed
    everything, ask for deterministic kernels, and print one line on each."""

    cfg = resolve(lab, profile, **params)
    device = runtime.pick_device(cfg.device)
    print(catalog.banner(lab, profile, cfg.profile, device.type))
    runtime.seed_everything(cfg.seed)
    runtime.set_deterministic()
    print(runtime.describe(device))
    lr = f", lr {cfg.lr}" if hasattr(cfg, "lr") else ""
    print(f"{lab} | profile {cfg.profile}: {cfg.dataset}, {cfg.epochs} epochs, batch {cfg.batch_size}{lr}")
    return cfg, device
