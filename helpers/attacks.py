"""Adversarial examples (lab 12): attacks in pixel space, accuracy under attack, adversarial training.

Images here are floats in [0, 1] (`pixel_loaders`), and normalization is the model's first layer
(`Normalize`). So an attack's budget `eps` is in pixel units (8/255: one 8-level change of a
0..255 pixel), the L-inf ball is the same for every channel, and the valid range is simply
[0, 1]: an adversarial image is clamped there. (Attacking the normalized tensor instead, the ball
would be eps / std per channel and the valid range [-mean / std, (1 - mean) / std].)

`fgsm` and `pgd` are the references lab 12's students write themselves. `pgd` starts from a random
point of the ball by default and can restart (`restarts`), as an evaluation attack should: a single
run from x itself can miss adversarial examples and so overstate robustness.
"""

from __future__ import annotations

import dataclasses

import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import Split, load_splits
from helpers.loader import Loader
from helpers.training import progress_bar


class Normalize(nn.Module):
    """(x - mean) / std per channel, as a layer: the model then takes images in [0, 1]."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def normalized(net: nn.Module, split: Split) -> nn.Sequential:
    """`net` behind a `Normalize` with `split`'s statistics: a model of images in [0, 1]."""
    return nn.Sequential(Normalize(split.mean, split.std), net)


def unit_range(split: Split) -> Split:
    """The same images, with mean 0 and std 1 so that a Loader yields them as x / 255 in [0, 1]."""
    c = len(split.mean)
    return dataclasses.replace(split, mean=(0.0,) * c, std=(1.0,) * c)


def pixel_loaders(cfg, device, eval_batch_size: int = 500) -> tuple:
    """(dataset, train, val, test): Loaders of images in [0, 1], split as `cfg` says."""

    ds, train, val, test = load_splits(cfg)
    return (
        ds,
        Loader(unit_range(train), batch_size=cfg.batch_size, shuffle=True, device=device, seed=cfg.seed),
        Loader(unit_range(val), batch_size=eval_batch_size, device=device),
        Loader(unit_range(test), batch_size=eval_batch_size, device=device),
    )


def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """d loss / d x of the mean cross-entropy, leaving the parameters' .grad alone."""
    x = x.detach().clone().requires_grad_(True)
    loss = F.cross_entropy(model(x), y)
    return torch.autograd.grad(loss, x)[0]


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """Fast gradient sign method (Goodfellow et al. 2015): one step of eps along the loss
    gradient's sign, clamped to the valid range [0, 1]."""
    return (x + eps * input_gradient(model, x, y).sign()).clamp(0, 1).detach()


def uniform_start(x: torch.Tensor, eps: float) -> torch.Tensor:
    """x plus noise drawn uniformly from the L-inf ball of radius eps, clamped to the valid range [0, 1]
    (Madry et al. 2018 start every PGD run at such a point)."""
    return (x.detach() + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    eps: float,
    alpha: float,
    steps: int,
    random_start: bool = True,
    restarts: int = 1,
) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018), L-inf: `steps` signed steps of `alpha`, each
    projected back into the eps-ball around x and clamped to [0, 1].

    random_start: start from a uniform point of the ball (clamped to [0, 1]) rather than x itself, as
    Madry et al. do; from x, the first gradient can be uninformative (a flat or masked loss at x).
    restarts: run that many times from fresh random starts and keep, per image, the first run that
    fools the model (else the last): one run can miss an adversarial example that another finds.
    """
    x = x.detach()
    best = None
    for run in range(max(1, restarts)):
        x_adv = uniform_start(x, eps) if random_start else x.clone()
        for _ in range(steps):
            x_adv = x_adv + alpha * input_gradient(model, x_adv, y).sign()
            x_adv = torch.min(torch.max(x_adv, x - eps), x + eps).clamp(0, 1)
        if best is None:
            best = x_adv
        else:
            best = keep_fooling(model, best, x_adv, y)
        if run + 1 < restarts and not random_start:
            break  # from x, every run is the same
    return best.detach()


def keep_fooling(model: nn.Module, best: torch.Tensor, new: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per image, `best` where it already fools the model, else `new`: the worst case over attack runs."""
    with torch.no_grad():
        fooled = model(best).argmax(dim=1) != y
    return torch.where(fooled.view(-1, *([1] * (best.dim() - 1))), best, new)


def with_restarts(attack, restarts: int):
    """`attack(model, x, y, eps)` run `restarts` times (each with its own random start, if it has one),
    keeping per image the first run that fools the model: a stronger evaluation than a single run."""

    def attack_with_restarts(model, x, y, eps):
        best = attack(model, x, y, eps)
        for _ in range(restarts - 1):
            best = keep_fooling(model, best, attack(model, x, y, eps), y)
        return best

    return attack_with_restarts


def accuracy_under_attack(
    model: nn.Module, loader, attack, eps_list, max_images: int | None = None, desc: str | None = None
) -> dict:
    """{eps: accuracy on `loader`'s images attacked with `attack(model, x, y, eps)`}; eval mode.

    With `desc`, a progress bar counts the attacked batches (over every eps) under that name.
    """

    was_training = model.training
    model.eval()
    per_eps = len(loader)
    if max_images is not None and getattr(loader, "batch_size", None):
        per_eps = min(per_eps, -(-max_images // loader.batch_size))
    bar = progress_bar(per_eps * len(eps_list), desc or "", disable=desc is None)
    out = {}
    for eps in eps_list:
        correct, seen = 0, 0
        for x, y in loader:
            x_adv = attack(model, x, y, eps) if eps > 0 else x
            with torch.no_grad():
                correct += (model(x_adv).argmax(dim=1) == y).sum().item()
            seen += len(y)
            bar.update()
            if max_images is not None and seen >= max_images:
                break
        out[float(eps)] = correct / seen
    bar.close()
    model.train(was_training)
    return out


class AdversarialBatches:
    """A loader whose batches are replaced by `attack(model, x, y)`, made with the model in eval mode
    (so the attack's forward passes leave BatchNorm's statistics alone): adversarial training with `fit`."""

    def __init__(self, loader, model: nn.Module, attack):
        self.loader, self.model, self.attack = loader, model, attack
        self.classes = loader.classes

    def __len__(self) -> int:
        return len(self.loader)

    def __iter__(self):
        for x, y in self.loader:
            was_training = self.model.training
            self.model.eval()
            x_adv = self.attack(self.model, x, y)
            self.model.train(was_training)
            yield x_adv, y
