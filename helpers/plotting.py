"""Plots: training curves and image grids. Each function returns its figure.

Introduced in lab 01. Works inline in Jupyter and headless (papermill, CI): matplotlib picks
a non-interactive backend when there is no display.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch

from helpers import schedules
from helpers.schedules import values


def plot_history(*histories, labels=None, title: str | None = None, mark_lr_changes: bool = False):
    """Loss and top-1 accuracy per epoch, train (dashed) vs val (solid), for one or more runs.

    mark_lr_changes: a dotted vertical line where the first run's learning rate changed (lab 06).
    """
    labels = labels or [None] * len(histories)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (hist, label) in enumerate(zip(histories, labels, strict=True)):
        color = f"C{i}"
        name = f"{label} " if label else ""
        epochs = hist["epoch"]
        for ax, key in ((ax_loss, "loss"), (ax_acc, "top1")):
            ax.plot(epochs, hist[f"train_{key}"], "--", color=color, label=f"{name}train")
            ax.plot(epochs, hist[f"val_{key}"], "-", color=color, label=f"{name}val")
    if mark_lr_changes and histories:
        lrs = histories[0]["lr"]
        for epoch, before, after in zip(histories[0]["epoch"][1:], lrs, lrs[1:], strict=False):
            if not math.isclose(before, after, rel_tol=1e-3) and after < 0.5 * before:
                for ax in (ax_loss, ax_acc):
                    ax.axvline(epoch - 0.5, color="gray", linestyle=":", linewidth=1)
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
        ax.imshow(img.squeeze(-1).numpy(), cmap="gray" if img.shape[-1] == 1 else None, vmin=0, vmax=255)
        if labels is not None:
            label = int(labels[i])
            ax.set_title(classes[label] if classes else str(label), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_schedules(
    schedules: dict,
    steps: int,
    base: float = 1.0,
    steps_per_epoch: int | None = None,
    ylabel: str = "learning rate",
    ax=None,
    title: str | None = None,
):
    """Each schedule's value over `steps` optimizer steps (lab 02); x in epochs if given."""

    fig, ax = _figure(ax, figsize=(7, 3.5))
    scale = steps_per_epoch or 1
    for name, schedule in schedules.items():
        ax.plot([s / scale for s in range(steps)], values(schedule, steps, base), label=name)
    ax.set(xlabel="epoch" if steps_per_epoch else "optimizer step", ylabel=ylabel, title=title or f"{ylabel} schedules")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_runs(histories: dict, key: str = "val_top1", ax=None, title: str | None = None):
    """One column (e.g. val_top1) of several runs against epochs, one line per run (labs 02-05).

    A diverged run is drawn up to where it stopped and marked "diverged" in the legend.
    """
    fig, ax = _figure(ax, figsize=(7, 4))
    for name, hist in histories.items():
        label = f"{name} (diverged)" if hist.diverged else str(name)
        if len(hist):
            ax.plot(hist["epoch"], hist[key], marker="o", markersize=3, label=label)
        else:
            ax.plot([], [], label=label)  # stopped in its first epoch: in the legend, nothing to draw
    ax.set(xlabel="epoch", ylabel=key.replace("_", " "), title=title or f"{key.replace('_', ' ')} per epoch")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_seed_means(table, xlabel: str, title: str, ax=None):
    """Each setting's mean over seeds with its range (min to max) as an error bar, one row per
    setting: a `seed_table` drawn (labs 02-04). Settings whose bars overlap do not differ."""
    fig, ax = _figure(ax, figsize=(7, 0.5 * len(table) + 1.6))
    rows = range(len(table))
    err = [table["mean"] - table["min"], table["max"] - table["mean"]]
    ax.errorbar(table["mean"], rows, xerr=err, fmt="o", capsize=4)
    ax.set(yticks=rows, yticklabels=[str(i) for i in table.index], xlabel=xlabel, ylabel="setting", title=title)
    ax.invert_yaxis()  # the first setting on top, as in the printed table
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def weight_histograms(
    models: dict,
    bins: int = 100,
    range_: tuple[float, float] | None = None,
    ax=None,
    title: str = "weights (not biases) of each model",
):
    """Histograms of all weights (not biases) of several models on one axis (lab 05)."""
    fig, ax = _figure(ax, figsize=(7, 4))
    for name, model in models.items():
        w = torch.cat([p.detach().flatten().cpu() for n, p in model.named_parameters() if p.dim() > 1])
        ax.hist(w.numpy(), bins=bins, range=range_, histtype="step", linewidth=1.5, label=name)
    ax.set(xlabel="weight value", ylabel="number of weights (log scale)", yscale="log", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_confusion(
    matrix: torch.Tensor, classes: list[str], ax=None, normalize: bool = True, title: str = "confusion matrix"
):
    """A confusion matrix (rows: true class, columns: predicted) with class names."""
    fig, ax = _figure(ax, figsize=(6.5, 5.5))
    m = matrix.double()
    if normalize:
        m = m / m.sum(dim=1, keepdim=True).clamp(min=1)
    im = ax.imshow(m.numpy(), cmap="Blues")
    ax.set_xticks(range(len(classes)), classes, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(im, ax=ax, label="share of the true class" if normalize else "images")
    fig.tight_layout()
    return fig


def _figure(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(figsize=figsize)


def schedule_explorer(steps_per_epoch: int = 100, base_lr: float = 0.05):
    """Sliders (schedule, epochs, warm-up, decay) that redraw a learning-rate schedule (lab 02).

    Returns an ipywidgets `interactive`; display it as a cell's last expression. Run headless
    (papermill, CI) it draws once with the defaults and waits for nothing.
    """
    import ipywidgets as widgets

    def draw(kind: str, epochs: int, warmup_epochs: int, gamma: float):
        total, warmup = epochs * steps_per_epoch, min(warmup_epochs, epochs - 1) * steps_per_epoch
        chosen = {
            "step decay (every 10 epochs)": schedules.StepDecay(every=10 * steps_per_epoch, gamma=gamma),
            "exponential (per epoch)": schedules.Exponential(gamma ** (1 / steps_per_epoch)),
            "warm-up + cosine": schedules.WarmupCosine(total=total, warmup=warmup),
            "warm-up + linear": schedules.WarmupLinear(total=total, warmup=warmup),
        }[kind]
        plot_schedules({kind: chosen}, total, base=base_lr, steps_per_epoch=steps_per_epoch)
        plt.show()

    return widgets.interactive(
        draw,
        kind=["step decay (every 10 epochs)", "exponential (per epoch)", "warm-up + cosine", "warm-up + linear"],
        epochs=widgets.IntSlider(value=30, min=2, max=200),
        warmup_epochs=widgets.IntSlider(value=2, min=0, max=20),
        gamma=widgets.FloatSlider(value=0.9, min=0.5, max=0.99, step=0.01),
    )


def plot_attention(
    images: torch.Tensor,
    maps: list[torch.Tensor],
    blocks: list[int],
    query: int | None = None,
    classes=None,
    labels=None,
    kinds=None,
):
    """Where one query patch looks, per block: attention weights (averaged over heads) as heat maps
    over each image (lab 07), on one colour scale with its colour bar.

    images: (B, C, H, W) uint8; maps: per block (B, heads, N, N); query: a token index (default: centre);
    kinds: each block's kind ("local" or "global", indexed like `maps`), named in the panel titles.
    """
    n_img = len(images)
    grid = int(math.isqrt(maps[0].shape[-1]))
    query = grid * (grid // 2) + grid // 2 if query is None else query
    fig, axes = plt.subplots(
        n_img,
        len(blocks) + 1,
        figsize=(1.8 * (len(blocks) + 1) + 0.8, 1.9 * n_img),
        squeeze=False,
        layout="constrained",
    )
    vmax = max(float(maps[b][:n_img].mean(1)[:, query].max()) for b in blocks)
    for i in range(n_img):
        img = images[i].detach().cpu().permute(1, 2, 0).squeeze(-1).numpy()
        axes[i, 0].imshow(img, cmap="gray" if img.ndim == 2 else None)
        axes[i, 0].set_title(classes[int(labels[i])] if classes is not None else "image", fontsize=8)
        for j, b in enumerate(blocks, start=1):
            weights = maps[b][i].mean(0)[query].view(grid, grid).cpu().numpy()  # (grid, grid)
            axes[i, j].imshow(img, cmap="gray" if img.ndim == 2 else None, alpha=0.35)
            h, w = img.shape[:2]
            heat = axes[i, j].imshow(
                weights, cmap="magma", alpha=0.65, extent=(-0.5, w - 0.5, h - 0.5, -0.5), vmin=0, vmax=vmax
            )
            qy, qx = divmod(query, grid)
            axes[i, j].scatter([(qx + 0.5) * w / grid - 0.5], [(qy + 0.5) * h / grid - 0.5], c="cyan", s=12)
            axes[i, j].set_title(block_title(b, kinds), fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    fig.colorbar(heat, ax=axes[:, 1:].ravel().tolist(), shrink=0.6, label="attention weight (mean over heads)")
    fig.suptitle("where the centre patch (cyan) attends", fontsize=9)
    return fig


def block_title(block: int, kinds=None) -> str:
    """'block 2 (local)': a block's number, with its kind when `kinds` (one per block) is given."""
    return f"block {block}" + (f" ({kinds[block]})" if kinds is not None else "")


# ---------------------------------------------------------------- evaluating a classifier (lab 10)


def plot_confusion_heatmap(
    matrix: torch.Tensor, classes: list[str], normalize: bool = True, ax=None, title: str | None = None
):
    """A confusion matrix (rows: true, columns: predicted) as a seaborn heatmap; normalized, each
    row is the share of that true class's images given each prediction (lab 10)."""
    import seaborn as sns

    fig, ax = _figure(ax, figsize=(7.5, 6))
    m = matrix.detach().cpu().double()
    if normalize:
        m = m / m.sum(dim=1, keepdim=True).clamp(min=1)
    sns.heatmap(
        m.numpy(),
        annot=True,
        fmt=".2f" if normalize else "d",
        cmap="Blues",
        ax=ax,
        cbar=True,
        xticklabels=classes,
        yticklabels=classes,
        annot_kws={"fontsize": 7},
        vmin=0,
    )
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    ax.collections[0].colorbar.set_label("share of the true class" if normalize else "images")
    ax.tick_params(axis="x", rotation=60, labelsize=8)
    ax.tick_params(axis="y", rotation=0, labelsize=8)
    fig.tight_layout()
    return fig


def plot_roc(curves: dict, classes: list[str], ax=None, title: str | None = None):
    """One-vs-rest ROC curves, one per class, with its AUC in the legend (lab 10)."""
    fig, ax = _figure(ax, figsize=(6.5, 5.5))
    for c, (fpr, tpr, auc) in curves.items():
        ax.plot(fpr, tpr, linewidth=1.2, label=f"{classes[c]} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], ":", color="gray", label="chance (AUC 0.5)")
    ax.set(xlabel="false-positive rate", ylabel="true-positive rate", title=title or "one-vs-rest ROC")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def plot_reliability(bins, ece: float | None = None, ax=None, title: str | None = None):
    """A reliability diagram from `helpers.evaluation.calibration_bins`: accuracy per confidence
    bin against the diagonal of perfect calibration, with each bin's share of images (lab 10)."""
    fig, ax = _figure(ax, figsize=(5.5, 5))
    full = bins[bins["count"] > 0]
    width = float(bins["hi"].iloc[0] - bins["lo"].iloc[0])
    ax.bar(
        full["lo"],
        full["accuracy"],
        width=width,
        align="edge",
        edgecolor="k",
        alpha=0.7,
        label="accuracy of the bin's images",
    )
    ax.plot([0, 1], [0, 1], "--", color="gray", label="perfect calibration")
    ax.plot(full["confidence"], full["accuracy"], "o", color="C3", markersize=3, label="(mean confidence, accuracy)")
    share = full["count"] / full["count"].sum()
    ax.bar(
        full["lo"],
        share,
        width=width,
        align="edge",
        color="C2",
        alpha=0.4,
        label="share of all images in the bin (not an accuracy)",
    )
    name = f" — ECE {ece:.3f}" if ece is not None else ""
    ax.set(
        xlabel="confidence (top probability)",
        ylabel="accuracy (blue) · share of images (green)",
        xlim=(0, 1),
        ylim=(0, 1),
        title=(title or "reliability diagram") + name,
    )
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def show_gallery(images: torch.Tensor, titles: list[str], ncols: int = 8, title: str | None = None):
    """A grid of uint8 (N, C, H, W) images, each with its own caption (lab 10)."""
    images = images.detach().cpu()
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.7 * ncols, 1.9 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            img = images[i].permute(1, 2, 0).squeeze(-1).numpy()  # (H, W[, C])
            ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
            ax.set_title(titles[i], fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_early_stopping(history, best_epoch: int, stopped_epoch: int, title: str | None = None):
    """`plot_history` with a line where training stopped and one at the epoch whose weights were
    saved and restored (lab 10)."""
    fig = plot_history(history, title=title)
    for ax in fig.axes:
        ax.axvline(best_epoch, color="C2", linestyle="--", linewidth=1.2, label=f"best, restored (epoch {best_epoch})")
        ax.axvline(stopped_epoch, color="C3", linestyle=":", linewidth=1.5, label=f"stopped (epoch {stopped_epoch})")
        ax.legend(fontsize=8)
    return fig
