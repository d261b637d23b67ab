"""Profiles, per-lab settings, seeding, devices and timers."""

from __future__ import annotations

import pytest
import torch

from helpers import config, runtime
from helpers.errors import LabError

LAB = "01_sanity_checks"


def test_profiles_set_sizes_and_overrides_win(monkeypatch):
    monkeypatch.delenv("LABS_PROFILE", raising=False)
    smoke = config.resolve(LAB, "smoke")
    quick = config.resolve(LAB, "quick")
    full = config.resolve(LAB, "full")
    assert smoke.train_size and smoke.train_size < 10_000 and quick.train_size is None
    assert (smoke.dataset, quick.dataset, full.dataset) == ("fashion-mnist", "fashion-mnist", "cifar10")
    assert full.epochs == 30  # the Duke report's run
    custom = config.resolve(LAB, "quick", epochs=1, dataset="cifar10", batch_size=None)
    assert (custom.epochs, custom.dataset, custom.batch_size) == (1, "cifar10", quick.batch_size)


def test_auto_profile(monkeypatch):
    monkeypatch.delenv("LABS_PROFILE", raising=False)
    expected = "full" if torch.cuda.is_available() else "quick"
    assert config.resolve(LAB).profile == expected
    monkeypatch.setenv("LABS_PROFILE", "smoke")
    assert config.resolve(LAB, "auto").profile == "smoke"
    assert config.resolve(LAB, "quick").profile == "quick"  # an explicit profile beats the variable
    monkeypatch.setenv("LABS_PROFILE", "tiny")
    with pytest.raises(LabError, match="LABS_PROFILE='tiny'.*smoke, quick, full"):
        config.resolve(LAB)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(LabError, match=r"Unknown profile 'quik'.*smoke, quick, full.*Did you mean 'quick'"):
        config.resolve(LAB, "quik")
    with pytest.raises(LabError, match=r"Unknown setting\(s\) epoch .*Valid: dataset, epochs.*Did you mean 'epochs'"):
        config.resolve(LAB, "smoke", epoch=3)
    with pytest.raises(LabError, match="Known labs: 01_sanity_checks"):
        config.resolve("01_sanity", "smoke")


def test_paths_default_to_the_repository_or_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("LABS_DATA_DIR", raising=False)
    assert config.resolve(LAB, "smoke").data_dir == config.REPO / "data"
    monkeypatch.setenv("LABS_DATA_DIR", str(tmp_path))
    assert config.resolve(LAB, "smoke").data_dir == tmp_path
    assert config.resolve(LAB, "smoke", results_dir=str(tmp_path / "r")).results_dir == tmp_path / "r"


def test_config_serializes():
    d = config.resolve(LAB, "smoke").to_dict()
    assert d["lab"] == LAB and isinstance(d["data_dir"], str) and "started" not in d


def test_seed_everything_reproduces():
    runtime.seed_everything(123)
    a = torch.randn(5), torch.randint(0, 100, (3,))
    runtime.seed_everything(123)
    b = torch.randn(5), torch.randint(0, 100, (3,))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    with pytest.raises(LabError, match="non-negative integer"):
        runtime.seed_everything(-1)


def test_pick_device():
    assert runtime.pick_device("auto").type == runtime.available_devices()[0]
    assert runtime.pick_device("cpu") == torch.device("cpu")
    with pytest.raises(LabError, match="Unknown device 'tpu'. Valid: auto, cpu, cuda, mps"):
        runtime.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(LabError, match="not available on this machine; available: .*cpu"):
            runtime.pick_device("cuda")


def test_describe_and_versions():
    line = runtime.describe(torch.device("cpu"))
    assert torch.__version__ in line and "device cpu" in line and "\n" not in line
    assert set(runtime.versions()) >= {"python", "torch", "torchvision"}


def test_timer_and_peak_memory():
    with runtime.timed() as t:
        sum(range(100_000))
    assert t.seconds > 0
    assert runtime.peak_memory_mib(torch.device("cpu")) > 10
