"""Every lab, executed in the smoke profile through the runner, on real Fashion-MNIST.

Each lab's own check cells are its assertions (a failing check fails the run); here the runner's
verdict and each lab's recorded results are checked: far above chance, complete, consistent.
"""

from __future__ import annotations

import json

import pytest
from lab_run import smoke_output, status

from helpers.course.runner import list_labs
from helpers.results import SCHEMA

LABS = [p.stem for p in list_labs()]


@pytest.mark.parametrize("lab", LABS)
def test_lab_runs_in_smoke_and_records_its_results(lab):
    out, proc = smoke_output()
    assert status(proc, lab) == "ok", proc.stdout
    result = json.loads((out / f"{lab}.json").read_text())
    assert set(SCHEMA) <= set(result) and result["lab"] == lab and result["profile"] == "smoke"
    metrics = result["metrics"]
    assert metrics["val_top1"] > 0.5, f"{lab}: 10 classes, chance is 0.10"
    assert all(0 <= v <= 1 for k, v in metrics.items() if "top" in k)
    assert result["params"] > 0 and result["train_seconds"] > 0 and result["peak_memory_mib"] > 0


def test_lab05_records_the_diverged_run_and_l1_sparsity():
    out, _ = smoke_output()
    result = json.loads((out / "05_regularization.json").read_text())
    status = {run["run"]: run["status"] for run in result["runs"]}
    assert status["lr=1"] == "diverged" and status["lr=0.05"] == "ok"
    assert result["near_zero"]["l1"] > result["near_zero"]["l2"]


def test_lab03_measures_both_pipelines():
    out, _ = smoke_output()
    speeds = json.loads((out / "03_augmentation.json").read_text())["images_per_second"]
    assert speeds["pil"] > 0 and speeds["loader"] > 0  # the ratio is reported, not asserted: machines are noisy
