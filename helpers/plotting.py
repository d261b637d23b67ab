"""Plots: training curves and image grids. Each function returns its figure.

Introduced in lab 01. Works inline in Jupyter and headless (papermill, CI): matplotlib picks
a non-interactive backend when there is no display.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch


def plot_history(*histories, labels=None, title: str | None = None):
    """Loss and top-1 accuracy per epoch, train (dashed) vs val (solid), for one or more runs."""
    labels = labels or [None] * len(histories)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (hist, label) in enumerate(zip(histories, labels, strict=True)):
        color = f"C{i}"
        name = f"{label} " if label else ""
        epochs = hist["epoch"]
        for ax, key in ((ax_loss, "loss"), (ax_acc, "top1")):
            ax.plot(epochs, hist[f"train_{key}"], "--", color=color, label=f"{name}train")
            ax.plot(epochs, hist[f"val_{key}"], "-", color=color, label=f"{name}val")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="top-1 accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_images(images: torch.Tensor, labels=None, classes=None, ncols: int = 8, title: str | None = None):
    """A grid of uint8 (N, C, H, W) images with their class names."""
    images = images.detach().cpu()
    n = len(images)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.4 * ncols, 1.6 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = images[i].permute(1, 2, 0)  # (H, W, C)
        ax.imshow(img.squeeze(-1), cmap="gray" if img.shape[-1] == 1 else None, vmin=0, vmax=255)
        if labels is not None:
            label = int(labels[i])
            ax.set_title(classes[label] if classes else str(label), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
