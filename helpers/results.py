"""Recording a lab's results: one JSON file per lab, one schema for every lab.

Introduced in lab 01: the last cell of every lab calls `record(...)`, which writes
`<results_dir>/<lab>.json`. The runner prints them as a table; the course report reads them.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import torch

from helpers import runtime
from helpers.config import LabConfig
from helpers.errors import LabError
from helpers.evaluation import builders
from helpers.models.simple import count_parameters

SCHEMA = (
    "lab",
    "profile",
    "dataset",
    "seed",
    "metrics",
    "epochs",
    "seconds_per_epoch",
    "train_seconds",
    "total_seconds",
    "params",
    "peak_memory_mib",
    "device",
    "versions",
    "config",
    "history",
    "status",
)


def record(
    cfg: LabConfig,
    *,
    metrics: dict[str, float],
    model: torch.nn.Module | None = None,
    history=None,
    train_seconds: float | None = None,
    device: torch.device | None = None,
    extra: dict | None = None,
) -> Path:
    """Write this lab's results to `<cfg.results_dir>/<cfg.lab>.json` and return the path.

    metrics: fractions, e.g. {"val_top1": 0.87, "test_top1": 0.86}; `val_top1` is required.
    train_seconds: the training's wall time; by default the sum of the history's epoch times.
    """
    if "val_top1" not in metrics:
        raise LabError(f"metrics must include 'val_top1'; got {sorted(metrics)}.")
    for key, value in metrics.items():
        if "top" in key and not 0.0 <= value <= 1.0:
            raise LabError(f"metric {key}={value} is not a fraction in [0, 1] (pass 0.87, not 87).")
    if train_seconds is None:  # the run's own epochs, where the lab timed nothing else
        train_seconds = sum(history["seconds"]) if history else math.nan
    device = device or (next(model.parameters()).device if model is not None else torch.device("cpu"))
    result = {
        "lab": cfg.lab,
        "profile": cfg.profile,
        "dataset": cfg.dataset,
        "seed": cfg.seed,
        "metrics": {k: float(v) for k, v in metrics.items()},
        "epochs": len(history) if history is not None else cfg.epochs,
        "seconds_per_epoch": round(sum(history["seconds"]) / len(history), 2) if history else None,
        "train_seconds": round(float(train_seconds), 2),
        "total_seconds": round(time.time() - cfg.started, 2),
        "params": count_parameters(model) if model is not None else None,
        "peak_memory_mib": round(runtime.peak_memory_mib(device), 1),
        "device": f"{device.type}: {runtime.device_name(device)}",
        "versions": runtime.versions(),
        "config": cfg.to_dict(),
        "history": history.rows if history is not None else [],
        "status": history.status if history is not None else "ok",
        **(extra or {}),
    }
    text = json.dumps(result, indent=1, default=str)
    return runtime.atomic_write(Path(cfg.results_dir) / f"{cfg.lab}.json", lambda tmp: Path(tmp).write_text(text))


def save_weights(cfg: LabConfig, model: torch.nn.Module, builder: str, **kwargs) -> Path:
    """Save a trained model as `<cfg.results_dir>/weights/<cfg.lab>.pt`, for later labs to evaluate.

    A checkpoint is weights *and* how to rebuild the network: `builder` names the constructor
    (`SimpleNN`, `resnet20`, `ViT`, `FastNet`: `helpers.evaluation.builders()`) and `kwargs`
    are its keyword arguments (plain numbers, strings, lists). The dataset and profile are stored
    too, so lab 10 only compares models trained on its own data. Tensors are saved on the CPU.
    """

    if builder not in builders():
        raise LabError(f"save_weights: unknown builder {builder!r}. Valid: {', '.join(builders())}.")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {
        "builder": builder,
        "kwargs": kwargs,
        "lab": cfg.lab,
        "dataset": cfg.dataset,
        "profile": cfg.profile,
        "model": state,
    }
    path = Path(cfg.results_dir) / "weights" / f"{cfg.lab}.pt"
    return runtime.atomic_write(path, lambda tmp: torch.save(payload, tmp))


def load(path: str | Path) -> dict:
    """Read one lab's results file."""
    return json.loads(Path(path).read_text())
