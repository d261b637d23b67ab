"""Metrics: top-k accuracy, per-class accuracy, confusion matrix.

Top-k is introduced in lab 01 (`evaluate` reports top-1 and top-5); per-class accuracy and
the confusion matrix, after the TU Wien report, where a lab looks at which classes get confused.
"""

from __future__ import annotations

import torch


def topk_correct(logits: torch.Tensor, labels: torch.Tensor, ks=(1, 5)) -> dict[int, int]:
    """How many rows have their label among the k largest logits, for each k (capped at C)."""
    kmax = min(max(ks), logits.shape[1])
    top = logits.topk(kmax, dim=1).indices  # (B, kmax)
    hit = top == labels[:, None]  # (B, kmax)
    return {k: int(hit[:, : min(k, kmax)].any(dim=1).sum()) for k in ks}


def topk_hits(logits: torch.Tensor, labels: torch.Tensor, ks=(1, 5)) -> torch.Tensor:
    """`topk_correct` as one int64 tensor on the logits' device, one count per k: no read-back
    to the host, so a training loop can add it up every step and read it once per epoch."""
    kmax = min(max(ks), logits.shape[1])
    hit = logits.topk(kmax, dim=1).indices == labels[:, None]  # (B, kmax)
    return torch.stack([hit[:, : min(k, kmax)].any(dim=1).sum() for k in ks])


def accuracy(logits: torch.Tensor, labels: torch.Tensor, k: int = 1) -> float:
    """Top-k accuracy as a fraction."""
    return topk_correct(logits, labels, (k,))[k] / len(labels)


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C, C) counts: row = true class, column = predicted class."""
    index = labels.long() * num_classes + preds.long()
    return torch.bincount(index.cpu(), minlength=num_classes**2).view(num_classes, num_classes)


def per_class_accuracy(preds: torch.Tensor, labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(C,) fraction correct within each true class (NaN for a class with no samples)."""
    cm = confusion_matrix(preds, labels, num_classes).double()
    return cm.diagonal() / cm.sum(dim=1)
