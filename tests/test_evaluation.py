"""Unit tests of labs 09-10's helpers: evaluation metrics, early stopping, the conv measurements, SimpleNet."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers import evaluation
from helpers.conv import measure_layer, saved_tensor_bytes
from helpers.early_stopping import EarlyStopping, fit_early_stopping
from helpers.errors import LabError
from helpers.models.simplenet import CustomNet, SimpleNet, count_convs
from helpers.training import History


def scores(n=4000, classes=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=g)
    return labels, torch.rand(n, classes, generator=g).softmax(dim=1)


def test_auc_of_a_perfect_scorer_is_one_and_of_a_random_one_about_half():
    labels, random_probs = scores()
    perfect = torch.nn.functional.one_hot(labels, 5).double() * 0.9 + 0.02
    for c, (fpr, tpr, auc) in evaluation.roc_curves(perfect, labels).items():
        assert auc == pytest.approx(1.0), c
        assert fpr[0] == 0 and tpr[-1] == 1
    aucs = [a for _, _, a in evaluation.roc_curves(random_probs, labels).values()]
    assert len(aucs) == 5 and all(abs(a - 0.5) < 0.05 for a in aucs)


def test_roc_leaves_out_a_class_without_positives():
    labels, probs = scores()
    labels[labels == 4] = 0
    assert set(evaluation.roc_curves(probs, labels)) == {0, 1, 2, 3}


def test_ece_of_a_calibrated_predictor_is_near_zero_and_of_an_overconfident_one_large():
    g = torch.Generator().manual_seed(1)
    n = 20000
    probs = (2 * torch.randn(n, 4, generator=g)).softmax(dim=1)
    labels = torch.multinomial(probs, 1, generator=g).squeeze(1)  # labels drawn from the predicted probabilities
    # calibrated in every class, so also in its top probability
    assert evaluation.expected_calibration_error(probs, labels, 10) < 0.02
    sharp = (20 * torch.log(probs)).softmax(dim=1)  # same argmax, far more confident
    assert evaluation.expected_calibration_error(sharp, labels, 10) > 0.1


def test_calibration_bins_count_every_image_once_and_put_edges_in_the_lower_bin():
    probs = torch.tensor([[0.5, 0.5], [0.6, 0.4], [1.0, 0.0], [0.55, 0.45]])
    bins = evaluation.calibration_bins(probs, torch.tensor([0, 0, 1, 0]), n_bins=10)
    assert bins["count"].sum() == 4
    assert bins.loc[4, "count"] == 1  # 0.5 falls in (0.4, 0.5]
    assert bins.loc[5, "count"] == 2  # 0.55 and 0.6 in (0.5, 0.6]
    assert bins.loc[9, "accuracy"] == 0.0 and bins.loc[9, "confidence"] == 1.0
    assert math.isnan(bins.loc[0, "accuracy"])


def test_most_confused_reads_off_diagonal_cells_largest_first():
    m = torch.tensor([[50, 9, 1], [2, 40, 0], [0, 7, 30]])
    pairs = evaluation.most_confused(m, ["a", "b", "c"], k=2)
    assert list(zip(pairs["true"], pairs["predicted"], pairs["count"], strict=True)) == [("a", "b", 9), ("c", "b", 7)]
    assert pairs["share of true class"].iloc[0] == pytest.approx(9 / 60)


def test_highest_loss_finds_the_confidently_wrong_example():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0], [0.1, 0.0], [9.0, 0.0]])
    index, losses = evaluation.highest_loss(logits, torch.tensor([0, 1, 0, 1]), k=2)
    assert index.tolist() == [3, 2] and losses[0] > losses[1]


def history(values):
    return History(rows=[{"epoch": i + 1, "val_top1": v} for i, v in enumerate(values)])


def test_early_stopping_counts_epochs_since_the_first_best():
    stop = EarlyStopping(patience=2)
    assert not stop.should_stop(history([]))
    assert not stop.should_stop(history([0.5, 0.6, 0.55]))
    assert stop.should_stop(history([0.5, 0.6, 0.55, 0.6]))  # a tie is not an improvement
    assert stop.epochs_since_best(history([0.5, 0.7])) == 0


class Batches(list):
    """A loader: a list of batches with `classes`, as fit needs."""

    classes = [str(i) for i in range(3)]


def test_fit_early_stopping_stops_and_restores_the_best_weights(tmp_path):
    torch.manual_seed(0)
    x = torch.randn(60, 4)
    y = torch.randint(0, 3, (60,))  # random labels: the validation accuracy wanders
    train, val = Batches([(x[:30], y[:30])]), Batches([(x[30:], y[30:])])
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    hist, info = fit_early_stopping(
        model, train, val, max_epochs=30, patience=2, checkpoint_dir=tmp_path / "ck", optimizer=opt, verbose=False
    )
    assert info["best_epoch"] == hist.best()["epoch"]
    assert info["stopped_epoch"] == len(hist)
    if info["early_stopped"]:
        assert info["stopped_epoch"] - info["best_epoch"] == 2
    with torch.no_grad():
        restored = (model(x[30:]).argmax(1) == y[30:]).float().mean().item()
    assert restored == pytest.approx(hist.best()["val_top1"])


def test_saved_tensor_bytes_sees_the_unfolded_matrix():
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, requires_grad=True)

    def unfold_conv(x, w):
        cols = nn.functional.unfold(x, 3, padding=1)  # (2, 27, 64)
        return w.reshape(4, -1) @ cols

    _, mine = saved_tensor_bytes(unfold_conv, x, w)
    _, theirs = saved_tensor_bytes(lambda x, w: nn.functional.conv2d(x, w, padding=1), x, w)
    assert mine >= 2 * 27 * 64 * 4  # the columns are kept for backward
    assert theirs == x.numel() * 4 + w.numel() * 4  # nn.Conv2d keeps its input and weight


def test_measure_layer_reports_every_column_and_nan_peak_on_the_cpu():
    row = measure_layer(nn.Conv2d(2, 2, 3, padding=1), torch.randn(2, 2, 8, 8), repeats=1)
    assert row["forward ms"] > 0 and row["fwd+bwd ms"] > 0 and row["saved for backward MiB"] > 0
    assert math.isnan(row["peak extra MiB"])


def test_simplenet_has_7_convs_and_customnet_19_and_both_classify():
    x = torch.randn(3, 1, 32, 32)
    for model, convs in ((SimpleNet(10, 1, widths=(4, 8, 16)), 7), (CustomNet(10, 1, widths=(4, 8, 16)), 19)):
        assert count_convs(model) == convs
        assert model.eval()(x).shape == (3, 10)


def test_saved_models_rebuild_what_labs_06_to_08_save_and_skip_the_rest(tmp_path, capsys):
    """save_weights stores weights and how to rebuild them; saved_models gives back the same functions."""
    from helpers.config import LabConfig
    from helpers.models.fastnet import FastNet
    from helpers.models.resnet import resnet20
    from helpers.models.vit import ViT
    from helpers.results import save_weights

    torch.manual_seed(0)
    made = {
        "06_resnet20": (resnet20(num_classes=10, in_channels=1, shortcut="A"), "resnet20", {"shortcut": "A"}),
        "07_vit": (
            ViT(10, 1, patch_size=8, dim=16, depth=1, num_heads=2),
            "ViT",
            {"patch_size": 8, "dim": 16, "depth": 1, "num_heads": 2},
        ),
        "08_fast_cifar": (FastNet(10, 1, widths=(8, 16, 16)), "FastNet", {"widths": [8, 16, 16]}),
    }
    for lab, (model, builder, kwargs) in made.items():
        model.train()(torch.randn(8, 1, 32, 32))  # move the BatchNorm statistics off their defaults
        cfg = LabConfig(lab=lab, profile="quick", dataset="fashion-mnist", results_dir=tmp_path)
        save_weights(cfg, model, builder, num_classes=10, in_channels=1, **kwargs)
    other = LabConfig(lab="01_sanity_checks", profile="quick", dataset="cifar10", results_dir=tmp_path)
    save_weights(other, nn.Linear(2, 2), "SimpleNN")  # another dataset: left out, not loaded
    with pytest.raises(LabError, match="unknown builder 'simplenn'. Valid: SimpleNN"):
        save_weights(other, nn.Linear(2, 2), "simplenn")
    (tmp_path / "weights" / "zz_damaged.pt").write_bytes(b"not a checkpoint")

    loaded = evaluation.saved_models(tmp_path, "fashion-mnist")
    assert sorted(loaded) == ["ResNet-20 (lab 06, quick)", "ViT (lab 07, quick)", "fast net (lab 08, quick)"]
    x = torch.randn(4, 1, 32, 32)
    for (model, builder, _), name in zip(made.values(), ["ResNet-20", "ViT", "fast net"], strict=True):
        rebuilt = next(m for k, m in loaded.items() if k.startswith(name))
        assert not rebuilt.training
        with torch.no_grad():
            assert torch.allclose(rebuilt(x), model.eval()(x), atol=1e-6), builder
    assert "skipped zz_damaged.pt" in capsys.readouterr().out
