"""The benchmarks run and print their JSON (small sizes; timing ratios are reported, never asserted; op counts are)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from lab_run import REPO


def run(script: str, *args: str) -> dict:
    proc = subprocess.run([sys.executable, f"benchmarks/{script}", *args], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_loader_benchmark(fmnist):
    result = run("loader.py", "--images", "2000")
    assert result["loader_images_per_s"] > 0 and result["ratio"] > 0 and "cpu" in result["machine"]
    assert set(result["dataloader_pil_images_per_s"]) >= {"workers=0"}


@pytest.mark.full_tier("times matrix products and training steps for a while, by design")
def test_train_step_benchmark():
    result = run("train_step.py", "--steps", "2", "--batch-size", "16", "--repeats", "2", "--warmup", "0.1")
    assert abs(result["train_gflop_per_image"] - 0.2433) < 0.01  # 3 x ResNet-20's ~41M multiply-adds x 2
    assert result["matmul_gflops"] == max(max(v) for v in result["matmul_gflops_by_size"].values())
    low, high = result["fraction_spread"]
    assert 0 < low <= high == result["fraction_of_matmul"]
    assert all(len(v) == 2 for v in result["images_per_s"].values())


def test_fit_overhead_benchmark(fmnist):
    result = run("fit_overhead.py", "--images", "512", "--repeats", "1")
    assert result["steps"] == 4 and len(result["bare_seconds"]) == len(result["fit_seconds"]) == 1
    assert result["overhead"] > -1 and "cpu" in result["machine"]
    low, high = result["paired_overhead_range"]
    assert low <= result["paired_overhead_median"] <= high
    assert 0 < result["bookkeeping_step_ms"] and 0 < result["bookkeeping_overhead"] < 1  # a fraction of a step


@pytest.mark.full_tier("three runs of the benchmark's command line, each importing torch")
def test_fastnet_vs_airbench_needs_airbench(tmp_path):
    """Without airbench94's script the benchmark says where to get it; a changed script is named, not run."""
    script = [sys.executable, "benchmarks/fastnet_vs_airbench.py"]
    proc = subprocess.run(script, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "git clone https://github.com/KellerJordan/cifar10-airbench" in proc.stderr
    proc = subprocess.run([*script, str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "No airbench94 script" in proc.stderr and "Traceback" not in proc.stderr
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "airbench94.py").write_text("net = net.half().cuda()\n")
    proc = subprocess.run([*script, str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode != 0 and "has changed: expected `map_location=torch.device(gpu)`" in proc.stderr


def test_fastnet_compile_needs_a_steady_state_epoch():
    """The compiled run's first epoch is its compilation: one epoch would leave no steady state to compare.
    (The benchmark itself is not run here: Inductor builds its C++ kernels for minutes on a small CPU.)"""
    proc = subprocess.run(
        [sys.executable, "benchmarks/fastnet_compile.py", "--epochs", "1"], cwd=REPO, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "--epochs must be at least 2" in proc.stderr


# Ops per training step as `python benchmarks/fastnet_ops.py cifar10-airbench` counts them (torch 2.14 on
# the CPU, 48 steps per epoch, epoch 4 of 5): airbench94's own script (KellerJordan/cifar10-airbench at
# commit f1c599c, legacy/airbench94.py) 205.21; lab 08's train_fastnet 260.12 before the per-epoch crop and
# the leaner tally, 208.67 after, 205.67 with the loss as the mean of per-example losses, 204.67 with the
# training history's top-1 only (argmax, not top-5). Its script is not in this repository and the tests run
# offline, so the numbers are committed; with AIRBENCH_PATH set to a checkout airbench's is counted live too.
AIRBENCH94_OPS_PER_STEP = 205.21
OURS_OPS_PER_STEP = 204.67  # below airbench's: our mean costs a div in backward, its train accuracy select/slice


def test_fastnet_ops_per_step_do_not_grow():
    """Lab 08's training step dispatches no more aten ops than counted (each one a kernel launch on a GPU)."""
    airbench = os.environ.get("AIRBENCH_PATH")
    result = run("fastnet_ops.py", *([airbench] if airbench else []))
    ours = result["ours"]
    assert ours["steps"] == 48 and ours["ops_per_step"] == round(ours["ops"] / 48, 2)
    assert ours["per_epoch"][3] == ours["ops"] and len(ours["per_epoch"]) == 5
    assert {"convolution", "convolution_backward", "argmax"} <= set(ours["by_op"]) and "topk" not in ours["by_op"]
    assert ours["ops_per_step"] <= OURS_OPS_PER_STEP <= AIRBENCH94_OPS_PER_STEP, ours["by_op"]
    if airbench:
        assert result["airbench94"]["ops_per_step"] == AIRBENCH94_OPS_PER_STEP, result["airbench94"]["by_op"]
