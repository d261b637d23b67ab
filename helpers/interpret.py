"""What a network looks at (lab 12): saliency and Grad-CAM with Captum, attention heads and rollout.

Attribution is Captum's (PyTorch's interpretability library), not hand-written: `saliency` is
|d logit / d pixel| (Simonyan et al. 2014), `grad_cam` the class-weighted activation map of a conv
layer (Selvaraju et al. 2017), upsampled to the image. The ViT's attention weights come from
`ViT.attention_maps` (helpers/models/vit.py); attention rollout is lab 12's exercise.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from helpers.plotting import block_title


def saliency(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Captum's Saliency: max over channels of |d logit[target] / d x|, (B, H, W)."""
    from captum.attr import Saliency

    model.eval()
    x = x.detach().clone().requires_grad_(True)  # Captum warns otherwise
    return Saliency(model).attribute(x, target=target, abs=True).amax(dim=1).detach()


def grad_cam(model: nn.Module, layer: nn.Module, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Captum's LayerGradCam on `layer`, ReLU'd and upsampled to the input's size: (B, H, W)."""
    from captum.attr import LayerAttribution, LayerGradCam

    model.eval()
    cam = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)  # (B, 1, h, w)
    return LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")[:, 0].detach()


def _image(x: torch.Tensor):
    img = x.detach().cpu().permute(1, 2, 0).squeeze(-1).clamp(0, 1).numpy()
    return img, ("gray" if img.ndim == 2 else None)


def plot_attributions(
    images: torch.Tensor,
    maps: dict,
    titles: list[str] | None = None,
    title: str = "attribution maps (each scaled to its image's largest value)",
):
    """One row per image in [0, 1]: the image, then each map of `maps` ({name: (B, H, W)}) over it.

    Each map is divided by its own largest value, so that maps of different kinds and images share
    one colour bar from 0 to 1 per column: compare where a map is high, not its raw size."""
    n, cols = len(images), len(maps) + 1
    fig, axes = plt.subplots(n, cols, figsize=(1.9 * cols, 1.9 * n + 0.9), squeeze=False, layout="constrained")
    for i in range(n):
        img, cmap = _image(images[i])
        axes[i, 0].imshow(img, cmap=cmap)
        axes[i, 0].set_title(titles[i] if titles else "image", fontsize=8)
        for j, (name, m) in enumerate(maps.items(), start=1):
            heat = m[i].detach().cpu().float()
            heat = heat / heat.max().clamp(min=1e-12)
            axes[i, j].imshow(img, cmap=cmap, alpha=0.4)
            shown = axes[i, j].imshow(heat.numpy(), cmap="magma", alpha=0.6, vmin=0, vmax=1)
            axes[i, j].set_title(name, fontsize=8)
    for ax in axes.flat:
        ax.axis("off")
    for j, name in enumerate(maps, start=1):
        fig.colorbar(shown, ax=axes[:, j].tolist(), location="bottom", shrink=0.8, label=f"{name}\n(÷ image max)")
    fig.suptitle(title, fontsize=9)
    return fig


def plot_heads(image: torch.Tensor, maps: list[torch.Tensor], blocks: list[int], query: int | None = None, kinds=None):
    """Where one query patch looks in every head (columns) of several blocks (rows), for one image.

    maps: per block (B, heads, N, N), as `ViT.attention_maps` returns them; image 0 is shown.
    kinds: each block's kind ("local" or "global", indexed like `maps`), named in the panel titles."""

    heads, n = maps[0].shape[1], maps[0].shape[-1]
    grid = math.isqrt(n)
    query = grid * (grid // 2) + grid // 2 if query is None else query
    img, cmap = _image(image)
    h, w = img.shape[:2]
    fig, axes = plt.subplots(
        len(blocks), heads, figsize=(1.9 * heads + 1.0, 1.9 * len(blocks) + 0.4), squeeze=False, layout="constrained"
    )
    vmax = max(float(maps[b][0, :, query].max()) for b in blocks)
    for r, b in enumerate(blocks):
        for c in range(heads):
            ax = axes[r, c]
            ax.imshow(img, cmap=cmap, alpha=0.35)
            heat = ax.imshow(
                maps[b][0, c, query].view(grid, grid).cpu().numpy(),
                cmap="magma",
                alpha=0.65,
                extent=(-0.5, w - 0.5, h - 0.5, -0.5),
                vmin=0,
                vmax=vmax,
            )
            ax.set_title(f"{block_title(b, kinds)}, head {c}", fontsize=8)
            ax.axis("off")
    fig.colorbar(heat, ax=axes.ravel().tolist(), shrink=0.7, label="attention weight")
    fig.suptitle("where the centre patch attends, per head", fontsize=9)
    return fig


def patch_map(weights: torch.Tensor) -> torch.Tensor:
    """(B, N) weights over a square patch grid as (B, grid, grid)."""
    grid = math.isqrt(weights.shape[-1])
    return weights.reshape(len(weights), grid, grid)


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(B, h, w) -> (B, H, W), nearest: each patch's value over its pixels."""
    return torch.nn.functional.interpolate(maps[:, None].float(), size=size, mode="nearest")[:, 0]


def plot_adversarial(clean: torch.Tensor, adv: torch.Tensor, clean_pred, adv_pred, labels, classes, eps: float):
    """Three rows: the clean images, the attacked ones, and their difference (scaled to be seen),
    each titled with the model's prediction (and the true class on top)."""
    n = len(clean)
    fig, axes = plt.subplots(3, n, figsize=(1.6 * n, 5.4), squeeze=False)
    for i in range(n):
        top = f"true {classes[int(labels[i])]}\npred {classes[int(clean_pred[i])]}"
        for r, (x, title) in enumerate(((clean[i], top), (adv[i], f"pred {classes[int(adv_pred[i])]}"))):
            img, cmap = _image(x)
            axes[r, i].imshow(img, cmap=cmap, vmin=0, vmax=1)
            axes[r, i].set_title(title, fontsize=7, color="black" if r == 0 or adv_pred[i] == labels[i] else "red")
        diff, cmap = _image((adv[i] - clean[i]) / (2 * eps) + 0.5)
        axes[2, i].imshow(diff, cmap=cmap or "gray", vmin=0, vmax=1)
        axes[2, i].set_title(f"difference (±{eps:g})", fontsize=7)
    for ax in axes.flat:
        ax.axis("off")
    fig.suptitle(
        f"clean (top), attacked at eps = {eps:g} (middle), and the change (bottom: black -eps, white +eps)", fontsize=8
    )
    fig.tight_layout()
    return fig


def plot_eps_curves(curves, title: str = "accuracy under attack"):
    """Accuracy against eps, one line per (model, attack); curves: a DataFrame with those columns."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for (model, attack), rows in curves.groupby(["model", "attack"], sort=False):
        ax.plot(
            rows["eps"], rows["accuracy"], marker="o", ls="-" if attack == "PGD" else "--", label=f"{model}, {attack}"
        )
    ax.set(xlabel="eps (pixel units, images in [0, 1])", ylabel="test accuracy", title=title, ylim=(0, 1))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
