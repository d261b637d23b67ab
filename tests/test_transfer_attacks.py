"""helpers/transfer.py and helpers/attacks.py (labs 11 and 12): weights, freezing, attacks."""

from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers import attacks, transfer
from helpers.data import synthetic
from helpers.errors import LabError
from helpers.loader import Loader
from helpers.models.smallcnn import SmallCNN


def net_and_batch(seed=0):
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 4))
    return net, torch.rand(32, 3, 2, 2), torch.randint(0, 4, (32,))


def loss(net, x, y):
    with torch.no_grad():
        return F.cross_entropy(net(x), y).item()


def test_fgsm_at_eps_zero_changes_nothing():
    net, x, y = net_and_batch()
    assert torch.equal(attacks.fgsm(net, x, y, 0.0), x)
    assert torch.equal(attacks.pgd(net, x, y, 0.0, 0.01, 3), x)


@pytest.mark.parametrize("eps", [0.01, 0.05, 0.2])
def test_fgsm_raises_the_loss_and_stays_in_the_ball_and_the_pixel_range(eps):
    net, x, y = net_and_batch(1)
    x0 = x.clone()
    adv = attacks.fgsm(net, x, y, eps)
    assert torch.equal(x, x0), "the input is left alone"
    assert (adv - x).abs().max() <= eps + 1e-6
    assert adv.min() >= 0 and adv.max() <= 1
    assert loss(net, adv, y) > loss(net, x, y)
    assert not adv.requires_grad and all(p.grad is None for p in net.parameters())


def test_pgd_stays_projected_and_beats_fgsm():
    net, x, y = net_and_batch(2)
    eps = 0.1
    adv = attacks.pgd(net, x, y, eps, alpha=0.05, steps=10, random_start=False)  # far out without projection
    assert (adv - x).abs().max() <= eps + 1e-6 and adv.min() >= 0 and adv.max() <= 1
    assert loss(net, adv, y) >= loss(net, attacks.fgsm(net, x, y, eps), y) - 1e-6


def test_pgd_random_start_is_uniform_in_the_ball_and_the_pixel_range():
    net, x, y = net_and_batch(4)
    torch.manual_seed(0)
    start = attacks.pgd(net, x, y, 0.1, alpha=0.05, steps=0)  # no steps: the random start itself
    moved = (start - x).abs()
    assert moved.max() <= 0.1 + 1e-6 and start.min() >= 0 and start.max() <= 1
    inner = (x > 0.1) & (x < 0.9)  # where the clamp cannot act: |u| is uniform on [0, eps], mean eps / 2
    assert moved[inner].mean().item() == pytest.approx(0.05, abs=0.01)
    assert torch.equal(attacks.pgd(net, x, y, 0.1, 0.05, 0, random_start=False), x)
    adv = attacks.pgd(net, x, y, 0.1, alpha=0.04, steps=10, restarts=3)
    assert (adv - x).abs().max() <= 0.1 + 1e-6 and adv.min() >= 0 and adv.max() <= 1


def test_restarts_keep_per_image_the_run_that_fools_the_model():
    """A model fooled only by the second of two runs: the restarts keep those images from that run."""
    net, x, y = net_and_batch(5)
    runs = iter([x.clone(), torch.zeros_like(x)])  # run 1 changes nothing; run 2 gives a constant image

    def attack(model, xb, yb, eps):
        return next(runs)

    with torch.no_grad():
        pred_zero = net(torch.zeros_like(x)).argmax(1)
        clean_ok = net(x).argmax(1) == y
    adv = attacks.with_restarts(attack, 2)(net, x, y, 0.1)
    fooled_by_second = clean_ok & (pred_zero != y)
    assert fooled_by_second.any() and (~fooled_by_second).any(), "the toy case needs both kinds of image"
    assert torch.equal(adv[fooled_by_second], torch.zeros_like(x)[fooled_by_second])
    assert torch.equal(adv[~clean_ok], x[~clean_ok]), "images the first run already fooled keep that run"


def test_normalize_inside_the_model_equals_normalizing_the_input():
    ds = synthetic(n_train=64, n_test=16)
    net = SmallCNN(num_classes=10, in_channels=3).eval()
    model = attacks.normalized(net, ds.train).eval()
    x = ds.train.images[:8].float() / 255
    mean, std = torch.tensor(ds.train.mean).view(1, -1, 1, 1), torch.tensor(ds.train.std).view(1, -1, 1, 1)
    assert torch.allclose(model(x), net((x - mean) / std), atol=1e-5)
    batch, _ = next(iter(Loader(attacks.unit_range(ds.train), batch_size=8)))
    assert torch.allclose(batch, x) and batch.min() >= 0 and batch.max() <= 1


def test_accuracy_under_attack_at_zero_is_clean_accuracy_and_falls_with_eps():
    net, x, y = net_and_batch(3)
    batches = [(x[:16], y[:16]), (x[16:], y[16:])]
    with torch.no_grad():
        clean = (net(x).argmax(1) == y).float().mean().item()
    accs = attacks.accuracy_under_attack(net, batches, attacks.fgsm, [0.0, 0.5])
    assert accs[0.0] == pytest.approx(clean) and accs[0.5] <= accs[0.0]


def test_freezing_leaves_frozen_weights_unchanged_after_a_step():
    torch.manual_seed(0)
    model = SmallCNN(num_classes=3, in_channels=1, widths=(4, 6, 8))
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith("fc.")
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9, weight_decay=1e-2)
    for _ in range(2):
        opt.zero_grad()
        F.cross_entropy(model(torch.randn(4, 1, 8, 8)), torch.randint(0, 3, (4,))).backward()
        opt.step()
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name]) != name.startswith("fc."), name


def test_resnet18_without_its_weights_names_the_file_the_checksum_and_the_folder(tmp_path):
    with pytest.raises(LabError) as err:
        transfer.resnet18(num_classes=10, hub_dir=tmp_path, download=False)
    message = str(err.value)
    assert "resnet18-f37072fd.pth" in message and "f37072fd" in message and "SHA-256" in message
    assert str(tmp_path / "checkpoints") in message and "random weights" in message


def test_a_failed_download_is_a_clear_error_too(tmp_path):
    with pytest.raises(LabError, match=r"Could not download.*weights-0123abcd\.pth"):
        transfer.load_checkpoint("file:///nonexistent/weights-0123abcd.pth", hub_dir=tmp_path, download=True)
    assert not (tmp_path / "checkpoints" / "weights-0123abcd.pth").exists(), "no partial file is left behind"


def test_checkpoint_is_loaded_when_its_checksum_matches_and_refused_when_not(tmp_path):
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    state = {"w": torch.arange(5.0)}
    torch.save(state, folder / "tmp.pth")
    digest = hashlib.sha256((folder / "tmp.pth").read_bytes()).hexdigest()[:8]
    (folder / "tmp.pth").rename(folder / f"tiny-{digest}.pth")
    loaded = transfer.load_checkpoint(f"https://example.org/tiny-{digest}.pth", hub_dir=tmp_path, download=False)
    assert torch.equal(loaded["w"], state["w"])
    (folder / "tiny-00000000.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(LabError, match="corrupt.*00000000"):
        transfer.load_checkpoint("https://example.org/tiny-00000000.pth", hub_dir=tmp_path, download=False)


def test_resnet18_from_scratch_has_the_new_head_and_takes_grey_images():
    model = transfer.resnet18(num_classes=5, in_channels=1, pretrained=False).eval()
    assert model.fc.out_features == 5 and model(torch.randn(2, 1, 32, 32)).shape == (2, 5)


def test_class_halves_relabel_and_per_class_subsets_are_seeded():
    ds = synthetic(n_train=400, n_test=50)
    first, second = transfer.class_halves(ds.train, [0, 1, 2, 3, 4])
    assert len(first) + len(second) == len(ds.train)
    assert set(first.labels.tolist()) <= set(range(5)) and set(second.labels.tolist()) <= set(range(5))
    assert second.classes == ds.train.classes[5:]
    a, b = transfer.per_class_subset(second, 3, seed=1), transfer.per_class_subset(second, 3, seed=1)
    assert torch.equal(a.images, b.images) and torch.bincount(a.labels, minlength=5).tolist() == [3] * 5
    with pytest.raises(LabError, match="fewer than"):
        transfer.per_class_subset(second, 10_000)
