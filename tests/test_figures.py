"""Every figure the labs draw can be read: titled axes, labelled axes, a legend for several lines.

Each plotting helper the labs call is drawn here on small synthetic inputs (the notebooks are not
executed), and every axes of the figure is held to the rule a student needs:
- a plot (axis shown) has a title (its own, or the figure's), an x label and a y label, and a
  legend when it draws more than one labelled line;
- an image panel (axis hidden) has a title, its own or the figure's;
- colour-bar axes are exempt, but attention and attribution maps must have one.
A last test reads the labs' code and fails when a lab calls a plotting helper not drawn here.
"""

from __future__ import annotations

import json
import re

import matplotlib.pyplot as plt
import optuna
import pandas as pd
import pytest
import torch
from lab_run import REPO
from torch import nn

from helpers import interpret, plotting, references, search, transfer
from helpers.evaluation import calibration_bins, roc_curves
from helpers.experiments import seed_table
from helpers.schedules import Constant, WarmupCosine
from helpers.training import History

CLASSES = [f"class {i}" for i in range(4)]


def history(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    rows = []
    for e in range(n):
        r = torch.rand(4, generator=g).tolist()
        rows.append(
            {
                "epoch": e,
                "train_loss": 2 - e * 0.3 + r[0],
                "val_loss": 2 - e * 0.2 + r[1],
                "train_top1": 0.3 + 0.1 * e,
                "val_top1": 0.25 + 0.1 * e + 0.01 * r[2],
                "lr": 0.1 * 0.5**e,
            }
        )
    return History(rows=rows)


def probs_and_labels(n=200):
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 4, (n,), generator=g)
    logits = torch.randn(n, 4, generator=g) + 2.0 * nn.functional.one_hot(labels, 4)
    return logits.softmax(dim=1), labels


def seed_rows():
    return [
        {"setting": s, "seed": k, "val_top1": 0.5 + 0.1 * i + 0.01 * k} for i, s in enumerate("abc") for k in range(3)
    ]


def attention(blocks=3, heads=2, n=16, images=2):
    g = torch.Generator().manual_seed(1)
    return [torch.randn(images, heads, n, n, generator=g).softmax(dim=-1) for _ in range(blocks)]


def a_study():
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(6):
        trial = study.ask()
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        batch = trial.suggest_categorical("batch_size", [64, 128])
        study.tell(trial, 0.5 + lr + batch / 1000)
    return study


def uint8_images(n=4, c=1):
    return torch.randint(0, 256, (n, c, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(2))


def unit_images(n=3):
    return torch.rand(n, 1, 32, 32, generator=torch.Generator().manual_seed(3))


def maps_for_attributions(n=3):
    return {"saliency": torch.rand(n, 32, 32), "Grad-CAM": torch.rand(n, 32, 32)}


def eps_curves():
    rows = [(m, a, e) for m in ("CNN", "ViT") for a in ("FGSM", "PGD") for e in (0.0, 0.1)]
    return pd.DataFrame([{"model": m, "attack": a, "eps": e, "accuracy": 0.9 - e} for m, a, e in rows])


def label_curve():
    rows = [(m, n) for m in ("scratch", "probe") for n in (10, 100)]
    return pd.DataFrame([{"method": m, "labels": n, "mean": 0.5, "min": 0.4, "max": 0.6} for m, n in rows])


class TinyNet(nn.Sequential):
    def __init__(self):
        super().__init__(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 30 * 30, 4))


FIGURES = {
    "plot_history": lambda: plotting.plot_history(history(), history(seed=1), labels=["a", "b"], title="two runs"),
    "show_images": lambda: plotting.show_images(uint8_images(), torch.tensor([0, 1, 2, 3]), CLASSES),
    "plot_schedules": lambda: plotting.plot_schedules(
        {"constant": Constant(), "cosine": WarmupCosine(total=100, warmup=10)}, 100, steps_per_epoch=10
    ),
    "plot_runs": lambda: plotting.plot_runs({"a": history(), "b": history(seed=1)}, "val_top1"),
    "plot_over_references": lambda: references.plot_over_references(history(), "01_sanity_checks", "fashion-mnist"),
    "plot_seed_means": lambda: plotting.plot_seed_means(seed_table(seed_rows(), "val_top1"), "val top-1", "over seeds"),
    "weight_histograms": lambda: plotting.weight_histograms({"a": TinyNet(), "b": TinyNet()}),
    "plot_confusion": lambda: plotting.plot_confusion(torch.randint(0, 9, (4, 4)), CLASSES),
    "plot_attention": lambda: plotting.plot_attention(
        uint8_images(2), attention(), [0, 1], classes=CLASSES, labels=[0, 1], kinds=["local", "global", "local"]
    ),
    "plot_confusion_heatmap": lambda: plotting.plot_confusion_heatmap(torch.randint(0, 9, (4, 4)), CLASSES),
    "plot_roc": lambda: plotting.plot_roc(roc_curves(*probs_and_labels()), CLASSES),
    "plot_reliability": lambda: plotting.plot_reliability(calibration_bins(*probs_and_labels(), 10), ece=0.05),
    "show_gallery": lambda: plotting.show_gallery(uint8_images(), ["a", "b", "c", "d"], title="gallery"),
    "plot_early_stopping": lambda: plotting.plot_early_stopping(history(), 2, 3, title="early stopping"),
    "plot_attributions": lambda: interpret.plot_attributions(unit_images(), maps_for_attributions(), ["x", "y", "z"]),
    "plot_heads": lambda: interpret.plot_heads(
        unit_images(1)[0], attention(), [0, 2], kinds=["local", "global", "local"]
    ),
    "plot_adversarial": lambda: interpret.plot_adversarial(
        unit_images(), unit_images().flip(0), [0, 1, 2], [1, 1, 2], [0, 1, 2], CLASSES, 0.1
    ),
    "plot_eps_curves": lambda: interpret.plot_eps_curves(eps_curves()),
    "plot_label_curve": lambda: transfer.plot_label_curve(label_curve()),
    "plot_best_so_far": lambda: search.plot_best_so_far({"random": a_study(), "tpe": a_study()}),
    "plot_importance_and_coordinates": lambda: search.plot_importance_and_coordinates(a_study()),
}
NEEDS_COLOURBAR = {"plot_attention", "plot_attributions", "plot_heads", "plot_confusion", "plot_confusion_heatmap"}


def is_colourbar(ax) -> bool:
    return ax.get_label() == "<colorbar>"


def has_content(ax) -> bool:
    return bool(ax.images or ax.lines or ax.patches or ax.collections)


def problems(fig) -> list[str]:
    """What a reader of `fig` would miss, one line per axes and missing part."""
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    found = []
    for k, ax in enumerate(fig.axes):
        if is_colourbar(ax) or not has_content(ax):
            continue
        where = f"axes {k} ({ax.get_title() or 'untitled'})"
        if not (ax.get_title() or suptitle):
            found.append(f"{where}: no title")
        if not ax.axison:  # an image panel: its title is its label
            continue
        if not ax.get_xlabel():
            found.append(f"{where}: no x label")
        if not ax.get_ylabel():
            found.append(f"{where}: no y label")
        labelled = [ln for ln in ax.lines if not ln.get_label().startswith("_")]
        labelled += [c for c in ax.containers if not c.get_label().startswith("_")]
        if len(labelled) > 1 and ax.get_legend() is None and not fig.legends:
            found.append(f"{where}: {len(labelled)} labelled lines and no legend")
    return found


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_axes_of_the_figure_is_titled_and_labelled(name):
    fig = FIGURES[name]()
    try:
        fig.canvas.draw()  # a layout that fails to draw fails here
        assert not problems(fig), f"{name}: " + "; ".join(problems(fig))
        if name in NEEDS_COLOURBAR:
            bars = [ax for ax in fig.axes if is_colourbar(ax)]
            assert bars, f"{name}: a heat map needs a colour bar to be read"
            assert all(ax.get_xlabel() or ax.get_ylabel() for ax in bars), f"{name}: label its colour bar"
    finally:
        plt.close(fig)


def test_the_rule_catches_an_unlabelled_plot():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1], label="a")
    ax.plot([0, 1], [1, 0], label="b")
    found = problems(fig)
    plt.close(fig)
    assert any("no title" in p for p in found) and any("no x label" in p for p in found)
    assert any("no legend" in p for p in found)


def test_the_attention_panels_name_each_blocks_kind():
    fig = FIGURES["plot_attention"]()
    titles = [ax.get_title() for ax in fig.axes]
    plt.close(fig)
    assert "block 0 (local)" in titles and "block 1 (global)" in titles


def lab_calls() -> set[str]:
    """Names of plotting functions called in the labs' code cells."""
    names = set()
    for path in sorted((REPO / "labs").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] == "code":
                src = "".join(cell["source"])
                names |= set(re.findall(r"\b(plot_\w+|show_images|show_gallery|weight_histograms)\(", src))
    return names


def test_every_plotting_helper_the_labs_call_is_drawn_here():
    calls = lab_calls()
    assert calls, "no plotting helper found in the labs: the pattern is wrong"
    missing = calls - set(FIGURES)
    assert not missing, f"the labs call {sorted(missing)}: add them to FIGURES so their axes are checked"
