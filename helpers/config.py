"""Profiles and per-lab settings: one notebook, three sizes.

Introduced in lab 01. A lab calls `resolve("01_sanity_checks", profile=profile, ...)` with its
parameters cell's values and gets a `LabConfig`. A profile sets the defaults; an explicit
parameter (not None) overrides them. Unknown names are errors that list the valid ones.

- `smoke`: seconds on a CPU; a few thousand real images. Tests and CI.
- `quick`: minutes on a 2-core CPU, Fashion-MNIST. The default without a GPU.
- `full`: the published recipes on CIFAR-10. The default on a GPU.
- `auto`: `$LABS_PROFILE` if set, else `full` on CUDA, else `quick`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch

from helpers.errors import LabError, did_you_mean

PROFILES = ("smoke", "quick", "full")
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LabConfig:
    """Everything a lab's run depends on. Printed at the top of a lab; saved with its results."""

    lab: str
    profile: str
    dataset: str = "fashion-mnist"
    epochs: int = 2
    batch_size: int = 128
    lr: float = 0.01  # SGD, as in the Duke ECE 661 assignment
    momentum: float = 0.9
    weight_decay: float = 1e-4
    train_size: int | None = None  # None: the whole training split
    val_size: int = 10_000  # held out of the training set, seeded
    test_size: int | None = None  # None: the whole test set
    model: dict = field(default_factory=dict)  # model size for this profile, e.g. narrower on a CPU
    recipe: dict = field(default_factory=dict)  # the lab's own settings: schedules, variants, sweeps (per seed)
    seed: int = 0
    device: str = "auto"
    data_dir: Path = field(default_factory=lambda: default_dir("LABS_DATA_DIR", "data"))
    results_dir: Path = field(default_factory=lambda: default_dir("LABS_RESULTS_DIR", "results"))
    started: float = field(default_factory=time.time, repr=False, compare=False)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("started")
        return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


# Profile defaults, then per-lab changes. Why each value:
PROFILE_DEFAULTS: dict[str, dict] = {
    # a few thousand real images, so a smoke run still learns far above chance in seconds
    "smoke": dict(train_size=4000, val_size=1000, test_size=1000, epochs=2, batch_size=64),
    # all of Fashion-MNIST (50k/10k/10k): minutes per lab on 2 cores
    "quick": dict(val_size=10_000, epochs=5),
    # CIFAR-10 split 40k/10k/10k as in the TU Wien assignment
    "full": dict(dataset="cifar10", val_size=10_000, epochs=30),
}

LAB_SETTINGS: dict[str, dict[str, dict]] = {
    # Duke ECE 661 lab 1: SimpleNN, SGD 0.01, momentum 0.9, 30 epochs on CIFAR-10
    "01_sanity_checks": {
        "smoke": dict(epochs=3, lr=0.05),
        "quick": dict(epochs=8, lr=0.05),
        "full": dict(epochs=30, lr=0.01),
    },
    # four schedules, each a full run: fewer epochs per run in quick
    "02_lr_schedules": {
        "smoke": dict(epochs=3, lr=0.05),
        "quick": dict(epochs=5, lr=0.05),
        "full": dict(epochs=30, lr=0.01),
    },
    # three runs (none, p=0.5, p=1); augmentation pays off over longer runs than quick affords
    "03_augmentation": {
        "smoke": dict(epochs=3, lr=0.05),
        "quick": dict(epochs=6, lr=0.05),
        "full": dict(epochs=30, lr=0.01),
    },
    # the report's experiment: lr 0.1, with and without BatchNorm
    "04_batchnorm_swish": {
        "smoke": dict(epochs=3, lr=0.1),
        "quick": dict(epochs=4, lr=0.1),
        "full": dict(epochs=30, lr=0.1),
    },
    # 13 runs (6 learning rates, 5 L2 strengths, L1, dropout): a 20k-image training set in quick
    "05_regularization": {
        "smoke": dict(epochs=2, train_size=2000, lr=0.05),
        "quick": dict(epochs=4, train_size=20_000, lr=0.05),
        "full": dict(epochs=20, lr=0.05),
    },
    # He et al.: SGD 0.1, momentum 0.9, wd 1e-4, batch 128, 200 epochs; two runs (option A and B)
    "06_resnet20": {
        "smoke": dict(epochs=2, train_size=2000, lr=0.1),
        "quick": dict(epochs=3, train_size=30_000, lr=0.1),
        "full": dict(epochs=200, lr=0.1, val_size=5000),
    },
    # UW-Madison SimpleViT settings (AdamW) vs TU Wien's; on the CPU a narrower ViT with 8x8 patches (16 tokens)
    "07_vit": {
        "smoke": dict(epochs=3, model=dict(dim=64, depth=4, num_heads=2, patch_size=8, window_size=2)),
        "quick": dict(epochs=5, model=dict(dim=64, depth=4, num_heads=2, patch_size=8, window_size=2)),
        "full": dict(epochs=90, batch_size=256),
    },
    # airbench94's recipe; on the CPU a narrower net, a smaller batch and fewer epochs
    "08_fast_cifar": {
        "smoke": dict(epochs=2, train_size=4000, batch_size=128, model=dict(widths=(16, 32, 32))),
        "quick": dict(epochs=5, batch_size=256, model=dict(widths=(16, 32, 32))),
        "full": dict(epochs=10, batch_size=1024, model=dict(widths=(64, 256, 256))),
    },
}


def default_dir(env: str, name: str) -> Path:
    """`$env` if set, else `<repo>/<name>`: the same place whatever the notebook's cwd."""
    return Path(os.environ.get(env) or REPO / name)


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
    """The settings of `lab` in `profile`, with every non-None override applied."""
    if lab not in LAB_SETTINGS:
        raise LabError(f"Unknown lab {lab!r}. Known labs: {', '.join(LAB_SETTINGS)}." + did_you_mean(lab, LAB_SETTINGS))
    name = resolve_profile(profile)
    valid = [f.name for f in dataclasses.fields(LabConfig) if f.name not in ("lab", "profile", "started")]
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise LabError(
            f"Unknown setting(s) {', '.join(unknown)} for {lab}. Valid: {', '.join(valid)}."
            + did_you_mean(unknown[0], valid)
        )
    settings = {**PROFILE_DEFAULTS[name], **LAB_SETTINGS[lab].get(name, {})}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("data_dir", "results_dir"):
        if key in settings:
            settings[key] = Path(settings[key])
    return LabConfig(lab=lab, profile=name, **settings)


def setup(lab: str, profile: str | None = "auto", **params) -> tuple[LabConfig, torch.device]:
    """What the first code cell of every lab does: resolve the config, pick the device, seed
    everything, ask for deterministic kernels, and print one line on each."""
    from helpers import runtime

    cfg = resolve(lab, profile, **params)
    device = runtime.pick_device(cfg.device)
    runtime.seed_everything(cfg.seed)
    runtime.set_deterministic()
    print(runtime.describe(device))
    print(f"{lab} | profile {cfg.profile}: {cfg.dataset}, {cfg.epochs} epochs, batch {cfg.batch_size}, lr {cfg.lr}")
    return cfg, device
def recipe_json(lab: str, profile: str | None = "auto", **overrides) -> dict:
    """A lab's resolved settings as plain JSON (`python -m helpers config LAB --profile P`).

    Everything the run depends on except where files go: so a recipe can be checked against
    its seed without opening the code.
    """
    cfg = resolve(lab, profile, **overrides).to_dict()
    for key in ("data_dir", "results_dir", "device", "seed"):
        cfg.pop(key, None)
    return json.loads(json.dumps(cfg, default=list))  # tuples become lists, as JSON has them


