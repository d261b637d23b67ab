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
    with pytest.raises(LabError, match=r"no setting 'epoch'.*Valid: dataset, epochs.*Did you mean 'epochs'"):
        config.resolve(LAB, "smoke", epoch=3)
    with pytest.raises(LabError, match="Known labs: 01_sanity_checks"):
        config.resolve("01_sanity", "smoke")


def test_a_misspelled_or_foreign_setting_is_an_error_where_it_is_given():
    """In code, in a recipe change, and on reading the recipe; a setting another lab has is foreign."""
    with pytest.raises(LabError, match=r"recipe has no setting 'seedz'.*Valid: .*seeds.*Did you mean 'seeds'"):
        config.resolve("03_augmentation", "smoke", recipe={"seedz": [0]})
    with pytest.raises(LabError, match=r"08_fast_cifar has no setting 'lr'"):
        config.resolve("08_fast_cifar", "smoke", lr=0.1)  # lab 08's rates live in its recipe's FastRecipe
    cfg = config.resolve("03_augmentation", "smoke", recipe={"seeds": [4, 5]})
    assert cfg.recipe["seeds"] == cfg.recipe.seeds == [4, 5] and cfg.recipe["crop_padding"] == 4
    with pytest.raises(LabError, match=r"no setting 'crop_pad'.*Did you mean 'crop_padding'"):
        cfg.recipe["crop_pad"]


def test_each_lab_holds_only_the_settings_it_uses():
    """`helpers config` prints what the lab runs with: no SGD values for labs that train otherwise."""
    fast, vit, search = (config.recipe_json(lab, "full") for lab in ("08_fast_cifar", "07_vit", "13_hparam_search"))
    assert not {"lr", "momentum", "weight_decay"} & (set(fast) | set(vit) | set(search))
    assert {"lr", "momentum", "weight_decay"} <= set(config.recipe_json(LAB, "full"))
    assert "model" not in config.recipe_json(LAB, "full") and fast["model"]["widths"] == [64, 256, 256]


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


def test_a_vit_setting_with_an_unknown_key_schedule_or_augmentation_is_an_error():
    """Lab 07's settings are dicts handed to train_vit: a misspelling there used to switch a feature off."""
    from helpers.recipes import check_vit_setting

    for profile in config.PROFILES:
        for setting in config.resolve("07_vit", profile).recipe.settings.values():
            check_vit_setting(setting)  # the published ones pass
    base = dict(lr=0.01, weight_decay=0.05, schedule="exponential", gamma=0.9)
    with pytest.raises(LabError, match="no key 'augmnt'.*Did you mean 'augment'"):
        check_vit_setting({**base, "augmnt": "uw_madison"})
    with pytest.raises(LabError, match="Unknown ViT augmentation 'flip'"):
        check_vit_setting({**base, "augment": "flip"})
    with pytest.raises(LabError, match="Unknown ViT schedule 'cosine'.*Did you mean 'warmup_cosine'"):
        check_vit_setting({**base, "schedule": "cosine"})
    with pytest.raises(LabError, match="warmup_cosine schedule needs 'warmup'"):
        check_vit_setting({**base, "schedule": "warmup_cosine"})
