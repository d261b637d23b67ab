"""Every lab runs on every device, checked on a CPU-only machine.

Design. A CPU run cannot fail the way a GPU run does: every tensor lives in the same memory.
So the labs run with `device="cpu-strict"` (a papermill parameter, like `profile="smoke"`):
`helpers.runtime.pick_device("cpu-strict")` returns the CPU device `cpu:0` and installs
`helpers.course.devicecheck.StrictDevice`, a `TorchFunctionMode` that sees every torch op called from
Python and keeps the books a GPU would keep. Tensors made with `device=dev`, moved with
`.to(dev)` / `model.to(dev)`, or computed from such tensors are tagged "on the lab's device";
`.cpu()` gives an untagged alias; `x.device` answers `cpu:0` for tagged tensors, so code that
follows `x.device` behaves as on CUDA. The mode raises `DeviceMismatch`, naming the op and both
tensors, where CUDA or MPS would raise:
- an op mixing a tagged tensor with an untagged tensor of 1+ dimensions (a module on the device
  fed a CPU batch, `torch.cat` of both, a CPU tensor indexed by device indices); 0-dim CPU
  tensors and `copy_`/`.to` across devices are allowed, as on CUDA;
- `.numpy()` / `np.asarray` of a tagged tensor (CUDA and MPS);
- float64 on the device (MPS has none); `runtime.has_float64(dev)` is False, so helpers take
  their MPS path.
Cost: a few microseconds per op; the labs run at smoke size, in the suite's one smoke run of
every lab (tests/lab_run.py), which the other tests read too.
`test_every_lab_runs_under_the_strict_device` runs every lab that way; the tests before it show
the check fails on planted mismatches (in-process and through a notebook), and passes correct code.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from lab_run import smoke_output, status
from torch import nn

from helpers import runtime
from helpers.course import devicecheck, runner
from helpers.course.devicecheck import DeviceMismatch
from helpers.models.simple import SimpleNN

LABS = [p.stem for p in runner.list_labs()]


@pytest.fixture
def dev():
    """The strict device, with the mode on for this test only."""
    device = runtime.pick_device("cpu-strict")
    try:
        yield device
    finally:
        devicecheck.disable()


def test_planted_module_input_mismatch_is_caught(dev):
    model = SimpleNN(10, 1).to(dev)
    with pytest.raises(DeviceMismatch, match=r"conv2d mixes .*shape \(8, 1, 5, 5\) on the lab's device.*on the CPU"):
        model(torch.randn(2, 1, 32, 32))  # the batch was never moved: fails on CUDA
    assert model(torch.randn(2, 1, 32, 32).to(dev)).device == dev


def test_planted_module_left_on_cpu_is_caught(dev):
    x = torch.randn(2, 4, device=dev)
    with pytest.raises(DeviceMismatch, match="linear mixes"):
        nn.Linear(4, 3)(x)  # lab 08's whitening bug: the module stayed on the CPU


def test_planted_float64_on_device_is_caught(dev):
    with pytest.raises(DeviceMismatch, match="MPS"):
        torch.randn(3, device=dev).double()
    with pytest.raises(DeviceMismatch, match="MPS"):
        torch.zeros(3, dtype=torch.float64, device=dev)
    with pytest.raises(DeviceMismatch, match="MPS"):
        nn.Linear(2, 2).double().to(dev)
    assert torch.randn(3, device=dev).cpu().double().dtype == torch.float64  # float64 on the CPU is fine


def test_planted_numpy_of_device_tensor_is_caught(dev):
    y = torch.randn(3, device=dev)
    with pytest.raises(DeviceMismatch, match="cpu"):
        y.numpy()
    with pytest.raises(DeviceMismatch):
        np.asarray(y)
    assert y.cpu().numpy().shape == (3,)


def test_correct_device_code_passes(dev):
    """What a GPU allows, the check allows: CPU scalars, CPU indices, x.device, copies, optimizers, .grad."""
    model = SimpleNN(10, 1).to(dev)
    x, y = torch.randn(8, 1, 32, 32).to(dev), torch.randint(0, 10, (8,), device=dev)
    assert x.device == dev and next(model.parameters()).device == dev
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        loss = nn.functional.cross_entropy(model(x), y) * torch.tensor(1.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert devicecheck.on_device(model.conv1.weight.grad)
    assert x[torch.tensor([0, 2])].shape[0] == 2 and torch.arange(3, device=x.device).device == dev
    model.load_state_dict({k: v.cpu() for k, v in model.state_dict().items()})  # copy_ across devices
    assert loss.item() > 0 and not devicecheck.on_device(x.cpu())
    twin = copy.deepcopy(model)  # a deep copy stays where its original is, as on CUDA
    assert twin(x).shape == (8, 10) and not devicecheck.on_device(copy.deepcopy(SimpleNN(10, 1)).conv1.weight)


def test_helpers_pass_under_the_strict_device(dev, fmnist):
    """The helpers a lab calls (Loader, fit, evaluate, the whitening init) raise nothing under the check."""
    from helpers.loader import Augment, Loader
    from helpers.models.fastnet import FastNet, init_whitening
    from helpers.training import evaluate, fit

    small = fmnist.train.subset(torch.arange(256))
    train = Loader(small, batch_size=64, shuffle=True, augment=Augment(4, flip=True), device=dev)
    model = SimpleNN(10, 1).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = fit(model, train, train, epochs=1, optimizer=opt, progress=False)
    assert history.status == "ok" and 0 <= evaluate(model, train)["top1"] <= 1
    net = FastNet(10, 1, widths=(8, 8, 8)).to(dev)
    init_whitening(net.whiten, train.normalize(train.images[:64]))  # float64 work goes to the CPU
    assert devicecheck.on_device(net.whiten.weight)


def test_unknown_device_names_the_strict_one():
    with pytest.raises(runtime.LabError, match="cpu-strict"):
        runtime.pick_device("gpu")


PLANTED = [
    ("parameters", 'device = "auto"\nprofile = "smoke"\nresults_dir = "."'),
    ("", "import torch\nfrom helpers import runtime\n\ndev = runtime.pick_device(device)"),
    ("", "model = torch.nn.Linear(4, 2).to(dev)\nlogits = model(torch.randn(3, 4))  # the input stays on the CPU"),
]


def planted_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for tag, source in PLANTED:
        cell = nbformat.v4.new_code_cell(source)
        if tag:
            cell.metadata["tags"] = [tag]
        nb.cells.append(cell)
    path = folder / "planted_mismatch.ipynb"
    nbformat.write(nb, path)
    return path


def test_planted_notebook_fails_under_the_strict_device_and_passes_on_the_cpu(tmp_path):
    """Through papermill, as the labs run: the mismatch passes on the plain CPU and fails under the check."""
    path = planted_notebook(tmp_path)
    params = {"profile": "smoke", "results_dir": str(tmp_path)}
    plain = runner.run_notebook(path, tmp_path / "cpu", {**params, "device": "cpu"}, timeout=300)
    assert plain.status == "ok", plain.error
    strict = runner.run_notebook(path, tmp_path / "strict", {**params, "device": "cpu-strict"}, timeout=300)
    assert strict.status == "failed" and "DeviceMismatch" in strict.error and "linear mixes" in strict.error, (
        strict.error
    )


@pytest.mark.parametrize("lab", LABS)
def test_every_lab_runs_under_the_strict_device(lab):
    """The suite's one smoke run of every lab (tests/lab_run.py) runs with device=cpu-strict."""
    out, proc = smoke_output()
    assert "device=cpu-strict" in " ".join(proc.args)
    assert status(proc, lab) == "ok", f"{lab} fails where a GPU would (device=cpu-strict):\n{proc.stdout}"
