"""Evaluating a trained classifier on the test set (lab 10, after the TU Wien report).

Beyond one accuracy number: which classes get confused with which (`most_confused`), how well
the scores rank each class against the rest (`roc_curves`: one-vs-rest ROC and AUC, with
scikit-learn), which test images the model gets most wrong (`highest_loss`), and whether its
confidence means what it says (`calibration_bins`, `expected_calibration_error`). Also: the
models earlier labs left behind (`saved_models`, `recorded_results`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score, roc_curve

from helpers.models.fastnet import FastNet
from helpers.models.resnet import resnet20
from helpers.models.simple import SimpleNN
from helpers.models.vit import ViT


def most_confused(matrix: torch.Tensor, classes: list[str], k: int = 5) -> pd.DataFrame:
    """The k largest off-diagonal cells of a confusion matrix (rows true, columns predicted):
    true class, predicted class, count, and that count as a share of the true class's images."""
    m = matrix.detach().cpu().double().clone()
    totals = m.sum(dim=1)
    m.fill_diagonal_(-1)
    values, index = m.flatten().topk(min(k, m.numel() - len(m)))
    rows = []
    for v, i in zip(values.tolist(), index.tolist(), strict=True):
        t, p = divmod(i, m.shape[1])
        rows.append(
            {
                "true": classes[t],
                "predicted": classes[p],
                "count": int(v),
                "share of true class": v / totals[t].item() if totals[t] > 0 else math.nan,
            }
        )
    return pd.DataFrame(rows)


def roc_curves(probs: torch.Tensor, labels: torch.Tensor) -> dict[int, tuple]:
    """One-vs-rest ROC per class: {class: (false-positive rates, true-positive rates, AUC)}.

    probs: (N, C) softmax outputs; a class without both positives and negatives is left out.
    """
    p, y = probs.detach().cpu().double().numpy(), labels.detach().cpu().numpy()
    curves = {}
    for c in range(p.shape[1]):
        positive = y == c
        if positive.all() or not positive.any():
            continue
        fpr, tpr, _ = roc_curve(positive, p[:, c])
        curves[c] = (fpr, tpr, float(roc_auc_score(positive, p[:, c])))
    return curves


def highest_loss(logits: torch.Tensor, labels: torch.Tensor, k: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """(indices, losses) of the k examples with the largest cross-entropy, largest first."""
    losses = F.cross_entropy(logits.float(), labels, reduction="none")
    top = losses.topk(min(k, len(losses)))
    return top.indices, top.values


def calibration_bins(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> pd.DataFrame:
    """Confidence (the top probability) in `n_bins` equal bins (lo, hi]: per bin its count, mean
    confidence and accuracy. A calibrated model has accuracy = confidence in every bin."""
    conf, pred = probs.detach().float().max(dim=1)
    correct = (pred == labels).float()
    index = (conf * n_bins).ceil().long().clamp(1, n_bins) - 1  # bin i holds (i/n, (i+1)/n]
    rows = []
    for b in range(n_bins):
        inside = index == b
        n = int(inside.sum())
        rows.append(
            {
                "lo": b / n_bins,
                "hi": (b + 1) / n_bins,
                "count": n,
                "confidence": conf[inside].mean().item() if n else math.nan,
                "accuracy": correct[inside].mean().item() if n else math.nan,
            }
        )
    return pd.DataFrame(rows)


def expected_calibration_error(probs: torch.Tensor, labels: torch.Tensor, n_bins: int = 15) -> float:
    """ECE (Naeini et al. 2015; Guo et al. 2017 for neural networks): sum over bins of
    (bin's share of the images) x |accuracy - confidence|."""
    bins = calibration_bins(probs, labels, n_bins)
    full = bins[bins["count"] > 0]
    return float((full["count"] / full["count"].sum() * (full["accuracy"] - full["confidence"]).abs()).sum())


# ---------------------------------------------------------------- models earlier labs left behind


def builders() -> dict:
    """The constructors a saved model names (`helpers.results.save_weights`), by name."""

    return {"SimpleNN": SimpleNN, "resnet20": resnet20, "ViT": ViT, "FastNet": FastNet}


def recorded_results(
    results_dir: str | Path, labs=("01_sanity_checks", "06_resnet20", "07_vit", "08_fast_cifar")
) -> pd.DataFrame:
    """What earlier labs recorded in `results_dir/<lab>.json` (no weights: numbers only)."""
    rows = []
    for lab in labs:
        path = Path(results_dir) / f"{lab}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        metrics = result.get("metrics", {})
        rows.append(
            {
                "lab": lab,
                "model": result.get("model", ""),
                "profile": result.get("profile"),
                "dataset": result.get("dataset"),
                "val_top1": metrics.get("val_top1", math.nan),
                "test_top1": metrics.get("test_top1", math.nan),
                "params": result.get("params"),
            }
        )
    return pd.DataFrame(rows)


def saved_models(results_dir: str | Path, dataset: str) -> dict:
    """{name: model} for every model an earlier lab saved in `results_dir/weights/` (with
    `helpers.results.save_weights`) and trained on `dataset`; rebuilt, loaded on the CPU, in eval mode.

    Files are read with `torch.load(weights_only=True)`: tensors and plain values, never code. A
    file that does not load (another version's layer names, a damaged file) is skipped with a
    printed reason rather than stopping the lab.
    """
    constructors, found = builders(), {}
    for path in sorted(Path(results_dir, "weights").glob("*.pt")):
        try:
            saved = torch.load(path, weights_only=True, map_location="cpu")
            if saved.get("dataset") != dataset:
                continue
            model = constructors[saved["builder"]](**saved["kwargs"])
            model.load_state_dict(saved["model"])
        except Exception as e:  # noqa: BLE001 - any unreadable file: say which and go on
            print(f"skipped {path.name}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        name = {"resnet20": "ResNet-20", "FastNet": "fast net"}.get(saved["builder"], saved["builder"])
        found[f"{name} (lab {saved['lab'][:2]}, {saved['profile']})"] = model.eval()
    return found
